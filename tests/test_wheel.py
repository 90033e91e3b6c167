"""The package as a student gets it: a built wheel (not the editable install of this clone).

1. The wheel holds every module and static file of ``cnnlib/`` (so a new subpackage or data
   file cannot be left out of ``pip install`` again).
2. Outside the clone: a fresh venv in which the clone is not importable (its dependencies are
   the main venv's, seen through a folder of links that leaves out this clone's cnnlib), a
   working folder outside the clone, and sample pages run top to bottom with their setup cell
   pointed at the built wheel (``CNNBOOK_PIP_SOURCE``): the cell installs cnnlib, and the page
   prints what the book prints. ``-m "not wheel"`` deselects these locally; CI runs them.
"""
import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = "cnnlib"
#: Files of the package that are not shipped: bytecode and caches only.
NOT_SHIPPED = re.compile(r"(^|/)__pycache__/|\.py[co]$")

pytestmark = [pytest.mark.slow, pytest.mark.wheel, pytest.mark.xdist_group("wheel")]


def _package_files():
    """Files under cnnlib/ as git tracks them (every file on disk when there is no git)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", PACKAGE], cwd=ROOT, capture_output=True,
                                check=True).stdout.decode().split("\0")
        files = {f for f in listed if f and (ROOT / f).is_file()}  # a deleted, not yet committed file is gone
    except (OSError, subprocess.CalledProcessError):
        files = {p.relative_to(ROOT).as_posix() for p in (ROOT / PACKAGE).rglob("*") if p.is_file()}
    return {f for f in files if not NOT_SHIPPED.search(f)}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """cnnlib's wheel, built from a copy of the tree (a build in place would leave build/ behind)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / PACKAGE, src / PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(base / "dist"), str(src)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, f"pip wheel failed:\n{build.stdout[-2000:]}\n{build.stderr[-3000:]}"
    (path,) = (base / "dist").glob("cnnlib-*.whl")
    return path


def test_the_wheel_holds_every_module_and_static_file(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = {n for n in zf.namelist() if not n.endswith("/")}
    shipped = {n for n in names if n.startswith(PACKAGE + "/")}
    expected = _package_files()
    assert expected, "no package files found"
    assert not expected - shipped, f"left out of the wheel: {sorted(expected - shipped)}"
    assert any(n.endswith(".js") for n in shipped), "the widgets' JavaScript is missing"
    others = {n.split("/", 1)[0] for n in names} - {PACKAGE}
    assert len(others) == 1 and others.pop().endswith(".dist-info"), f"unexpected top-level entries: {sorted(names)}"
