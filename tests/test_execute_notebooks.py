"""scripts/execute_notebooks.py: the notebooks it runs in parallel are the ones the build then finds cached."""
import importlib.util
import pathlib
import sys

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "scripts" / "execute_notebooks.py")
execute_notebooks = importlib.util.module_from_spec(spec)
sys.modules["execute_notebooks"] = execute_notebooks  # its worker function is pickled by name
spec.loader.exec_module(execute_notebooks)


def _book(root: pathlib.Path, cells: dict[str, str]) -> None:
    (root / "ch").mkdir()
    (root / "_config.yml").write_text("title: t\nexecute:\n  execute_notebooks: cache\n  timeout: 60\n"
                                      "  allow_errors: false\n  run_in_temp: false\n")
    entries = "".join(f"  - file: ch/{name}\n" for name in cells)
    (root / "_toc.yml").write_text(f"format: jb-book\nroot: intro\nchapters:\n{entries}")
    (root / "intro.md").write_text("# t\n")
    for name, code in cells.items():
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), nbformat.v4.new_code_cell(code)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, root / "ch" / f"{name}.ipynb")


def test_toc_order_and_settings(tmp_path):
    _book(tmp_path, {"b": "1", "a": "2"})
    assert [p.name for p in execute_notebooks.toc_notebooks(tmp_path)] == ["b.ipynb", "a.ipynb"]
    assert execute_notebooks.execution_settings(tmp_path) == (60, False)


def test_runs_in_the_notebook_folder_caches_what_passed_and_reports_what_failed(tmp_path, capsys):
    _book(tmp_path, {"ok": "import os\nprint(os.getcwd())", "bad": "1 / 0"})
    status = execute_notebooks.main(["--root", str(tmp_path), "--jobs", "2"])
    out = capsys.readouterr().out
    assert status == 1 and "FAILED ch/bad.ipynb" in out and "ZeroDivisionError" in out

    from jupyter_cache import get_cache
    cache = get_cache(str(tmp_path / "_build" / ".jupyter_cache"))
    # what myst-nb does: read the notebook from disk and match it by code and metadata
    _, executed = cache.merge_match_into_notebook(nbformat.read(tmp_path / "ch" / "ok.ipynb", as_version=4))
    assert executed.cells[1].outputs[0]["text"].strip() == str((tmp_path / "ch").resolve())
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nbformat.read(tmp_path / "ch" / "bad.ipynb", as_version=4))

    # a second run finds ok.ipynb cached and runs only the one that failed
    execute_notebooks.main(["--root", str(tmp_path)])
    assert "1 of 2 notebooks already cached; running 1" in capsys.readouterr().out


def test_jobs_must_be_positive(tmp_path):
    _book(tmp_path, {"a": "1"})
    with pytest.raises(SystemExit):
        execute_notebooks.main(["--root", str(tmp_path), "--jobs", "0"])
