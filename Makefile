# The CNN Book: two commands.
#   make book   set up .venv from requirements.txt and build the executed book into _build/html
#   make test   set up .venv and run every test: unit, property-based and doctests, a clean
#               build that executes every notebook (warnings are errors), sample pages run from
#               the built wheel outside the clone (make wheel), then the browser tests
# The pins of requirements.txt need Python 3.11 or newer (numpy 2.4, scipy 1.17 and pandas 3.1
# have no release for 3.10, the python3 of Ubuntu 22.04). PYTHON defaults to the newest
# python3.13 / python3.12 / python3.11 / python3 on the PATH that is at least 3.11;
# `make PYTHON=/path/to/python3.12 book` picks one by hand.
PY_MIN := 3.11
PYTHON ?= $(or $(firstword $(foreach p,python3.13 python3.12 python3.11 python3,\
	$(if $(shell $(p) -c 'import sys; print(int(sys.version_info >= (3, 11)))' 2>/dev/null | grep -x 1),$(p)))),python3)
# On Linux, PyPI's torch is the CUDA build (~2.7 GB with its CUDA wheels). For the CPU build:
#   make book TORCH_INDEX=https://download.pytorch.org/whl/cpu   (installs torch from there first)
TORCH_INDEX ?=
TORCH_PIN := $(shell grep -m1 '^torch==' requirements.txt | cut -d' ' -f1)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB     := $(BIN)/jupyter-book
export PYTHONHASHSEED := 0
# Keep BLAS and torch from fighting over the cores (see bench/README.md).
export OMP_NUM_THREADS ?= 1
# MPLBACKEND=Agg only for pytest: exported to the build, it would stop the notebooks' kernels
# from showing their figures inline (tests/browser checks that every figure is in the book).

.PHONY: book test unit build-clean wheel browser env clean python-version

# Which Python the venv is (or would be) made with, and whether it is recent enough.
python-version:
	@py=$(BIN)/python; test -x $$py || py=$(PYTHON); echo "$$py: $$($$py -V 2>&1) (needs >= $(PY_MIN))"; \
	$$py -c 'import sys; sys.exit(sys.version_info < (3, 11))'

env: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@py=$(BIN)/python; test -x $$py || py=$(PYTHON); \
	$$py -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "The CNN Book needs Python >= $(PY_MIN) (3.11, 3.12 or 3.13); $$py is $$($$py -V 2>&1)."; \
	  echo "Install one (e.g. apt-get install python3.12 python3.12-venv, or pyenv) and run"; \
	  echo "  make PYTHON=python3.12 $(MAKECMDGOALS)   (after rm -rf $(VENV) if it was made with the old one)"; \
	  exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install -q $(TORCH_PIN) --index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# scripts/execute_notebooks.py first runs the notebooks that changed, as many at once as there
# are cores, into the build's execution cache; the build then finds them all cached (Jupyter
# Book 1.x alone runs them one after another). A notebook that fails is run again by the build,
# which reports it.
book: $(STAMP)
	-$(BIN)/python scripts/execute_notebooks.py
	$(JB) build . -W -n --keep-going

unit: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -n 2 --dist loadgroup --ignore=tests/browser -m "not wheel"

# The package as a student gets it (tests/test_wheel.py): the built wheel holds every file, and
# sample pages run from it in a venv without the clone, from a folder outside it. Runs after the
# book build, whose cached trained weights it copies (so 6.4.6 does not train LeNet-5 again).
wheel: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -p no:cacheprovider -m wheel tests/test_wheel.py --durations=0

build-clean: $(STAMP)
	rm -rf _build
	$(BIN)/python scripts/execute_notebooks.py
	$(JB) build . -W -n --keep-going

# Browser tests drive Debian's chromium (never `playwright install`); install it when missing
# (needs root and the Debian mirror; without chromium the tests skip and say so).
# CNNBOOK_HTML=/path/to/_build/html points them at another build.
browser: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || true
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup tests/browser

test: unit build-clean wheel browser

clean:
	rm -rf _build

# Classroom edition (cnnlib/classroom/, instructors.md): the student notebooks, solutions
# replaced by stubs, in _build/student/ (mirroring chapters/). Grade with
#   .venv/bin/python -m cnnlib.classroom grade PATH... --csv results.csv
.PHONY: student
student: $(STAMP)
	$(BIN)/python -m cnnlib.classroom student --out _build/student
