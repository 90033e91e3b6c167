# The CNN Book: two commands.
#   make book   set up .venv from requirements.txt and build the executed book into _build/html
#   make test   set up .venv and run every test: unit, property-based and doctests, a clean
#               build that executes every notebook (warnings are errors), then the browser tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB     := $(BIN)/jupyter-book
export PYTHONHASHSEED := 0
# Keep BLAS and torch from fighting over the cores (see bench/README.md).
export OMP_NUM_THREADS ?= 1
# MPLBACKEND=Agg only for pytest: exported to the build, it would stop the notebooks' kernels
# from showing their figures inline (tests/browser checks that every figure is in the book).

.PHONY: book test unit build-clean browser env clean

env: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

book: $(STAMP)
	$(JB) build . -W -n --keep-going

unit: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -n 2 --ignore=tests/browser

build-clean: $(STAMP)
	rm -rf _build
	$(JB) build . -W -n --keep-going

# Browser tests drive Debian's chromium (never `playwright install`); install it when missing
# (needs root and the Debian mirror; without chromium the tests skip and say so).
# CNNBOOK_HTML=/path/to/_build/html points them at another build.
browser: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || true
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

test: unit build-clean browser

clean:
	rm -rf _build
