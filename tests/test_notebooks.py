"""The notebooks are committed clean and follow the book's conventions."""
import json
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]
ids = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", []))
    return found


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_committed_without_outputs(path):
    dirty = [i for i, c in enumerate(_cells(path)) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs or execution counts; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_first_cell_is_the_colab_bootstrap(path):
    first = _cells(path)[0]
    source = "".join(first["source"])
    assert first["cell_type"] == "code" and "import cnnlib" in source and "pip install" in source, (
        f"{path.name}: the first cell must install cnnlib when it is missing (see CONTRIBUTING.md)")
    assert "remove-cell" in first.get("metadata", {}).get("tags", []), f"{path.name}: tag the bootstrap cell remove-cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_opens_with_title_and_learning_goals(path):
    markdown = [c for c in _cells(path) if c["cell_type"] == "markdown"]
    assert markdown and "".join(markdown[0]["source"]).lstrip().startswith("# "), f"{path.name}: start with a '# ' title"
    opening = "".join("".join(c["source"]) for c in markdown[:2]).lower()
    assert "learn" in opening, f"{path.name}: say what the reader will learn at the top"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_ends_with_exercises(path):
    text = "".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
    assert "exercise-start" in text, f"{path.name}: every page ends with exercises"


def test_every_notebook_is_in_the_toc():
    listed = set(_toc_files())
    missing = [str(p.relative_to(ROOT).with_suffix("")) for p in NOTEBOOKS if str(p.relative_to(ROOT).with_suffix("")) not in listed]
    assert not missing, f"notebooks missing from _toc.yml: {missing}"


def test_every_toc_page_exists():
    missing = [f for f in _toc_files() if not any((ROOT / (f + ext)).exists() for ext in (".ipynb", ".md"))]
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"


def _equation_tags():
    """(chapter equation number, page) for every \\tag{6.k} in the book's sources."""
    import re

    tags = []
    sources = NOTEBOOKS + [ROOT / (f + ".md") for f in _toc_files() if (ROOT / (f + ".md")).exists()]
    for path in sources:
        if path.suffix == ".ipynb":
            text = "".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
        else:
            text = path.read_text()
        tags += [(int(k), path.name) for k in re.findall(r"\\tag\{6\.(\d+)\}", text)]
    return tags


def test_chapter_equations_are_tagged_once_each():
    """(6.1)-(6.26) (Sections 6.2-6.4) each carry their chapter number on exactly one page, with a target."""
    tags = _equation_tags()
    numbers = [k for k, _ in tags]
    duplicated = sorted({(k, p) for k, p in tags if numbers.count(k) > 1})
    assert not duplicated, f"equations tagged more than once: {duplicated}"
    last = 28 if any("6-6" in f for f in _toc_files()) else 26
    missing = sorted(set(range(1, last + 1)) - set(numbers))
    assert not missing, f"chapter equations (6.k) not tagged anywhere: {missing}"
    text = "".join(p.read_text() for p in NOTEBOOKS)
    untargeted = [k for k in numbers if f"(eq-6-{k})=" not in text]
    assert not untargeted, f"tagged equations without a '(eq-6-k)=' target: {untargeted}"
