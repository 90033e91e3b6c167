"""Binder and Colab set-ups work: a fresh environment built from binder/ runs a notebook,
and the Colab bootstrap cell (the first cell of every notebook) installs cnnlib.

Offline, the PyTorch CPU index cannot be reached: the venv gets ``torch==2.13.0`` (the pin of
requirements.txt, which the local wheel cache or PyPI provides) instead of the
``--extra-index-url``/``+cpu`` lines, and the bootstrap cell installs cnnlib from a copy of this
repository instead of ``git+https://github.com/...`` (``CNNBOOK_PIP_SOURCE``; tests/test_wheel.py
runs pages from the built wheel the same way). Everything else is exactly what Binder
and Colab run. Slow (a venv and a pip install): about a minute or two with a warm pip cache.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
REPO_URL = "git+https://github.com/the-cnn-book/cnn-book"

# One worker runs the module (make unit uses -n 2 --dist loadgroup): its fixture installs a whole venv,
# and two workers each built their own at once (285 s of setup each in the last run).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("binder")]


def _pins(path):
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def test_binder_requirements_pin_the_same_versions():
    """binder/requirements.txt = requirements.txt's pins, torch from the CPU index."""
    main, binder = _pins(ROOT / "requirements.txt"), _pins(BINDER / "requirements.txt")
    assert binder["torch"] == main["torch"] + "+cpu", binder["torch"]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in (BINDER / "requirements.txt").read_text()
    for name, version in binder.items():
        if name != "torch":
            assert main.get(name) == version, f"{name}: binder pins {version}, requirements.txt {main.get(name)}"
    assert os.access(BINDER / "postBuild", os.X_OK), "binder/postBuild must be executable"
    assert "pip install --no-deps -e ." in (BINDER / "postBuild").read_text()


def test_the_extras_pin_what_requirements_txt_pins():
    """pyproject's pretrained extra is pinned exactly (the weights are checked by SHA-256), as requirements.txt is."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pins = _pins(ROOT / "requirements.txt")
    for requirement in extras["pretrained"]:
        name, version = requirement.split("==")
        assert pins.get(name.lower()) == version, f"{requirement}: requirements.txt pins {pins.get(name.lower())}"
    named = set(re.search(r"\[(.*)\]", extras["all"][0]).group(1).split(","))
    assert named == set(extras) - {"all"}, f"'all' = {extras['all']}, extras {sorted(extras)}"


def test_every_notebook_bootstrap_points_at_the_repository():
    """The Colab cell installs from the repository named in _config.yml."""
    import yaml

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert REPO_URL == "git+" + url
    for nb in NOTEBOOKS:
        first = "".join(json.loads(nb.read_text())["cells"][0]["source"])
        assert REPO_URL in first and "import cnnlib" in first, f"{nb.name}: bootstrap cell {first!r}"


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory):
    """A venv with binder/requirements.txt (torch line made offline) and a copy of the repository."""
    base = tmp_path_factory.mktemp("binder")
    repo = base / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".venv", "_build", ".git", ".whl", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache", "data"))
    if (ROOT / "data").exists():  # small committed data, not caches
        shutil.copytree(ROOT / "data", repo / "data", ignore=shutil.ignore_patterns("cache", "mnist", "weights"))
    reqs = []
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        if line.startswith("--extra-index-url"):
            continue  # the PyTorch CPU index is out of reach offline
        reqs.append(re.sub(r"^torch==([0-9.]+)\+cpu", r"torch==\1", line))
    (base / "requirements-offline.txt").write_text("\n".join(reqs) + "\n")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    pip = subprocess.run([str(py), "-m", "pip", "install", "-q", "-r", str(base / "requirements-offline.txt"),
                          "nbclient", "nbformat"],  # nbclient: to run notebooks in this venv
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, f"pip install of binder/requirements.txt failed:\n{pip.stderr[-3000:]}"
    return {"python": py, "repo": repo, "base": base}


_RUN = textwrap.dedent("""
    import sys, nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(sys.argv[1], as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
    nbformat.write(nb, sys.argv[3])
""")


def _execute(env, notebook, cwd, out, **extra):
    environment = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONNOUSERSITE="1", **extra)
    environment.pop("PYTHONPATH", None)
    return subprocess.run([str(env["python"]), "-c", _RUN, str(notebook), str(cwd), str(out)],
                          capture_output=True, text=True, env=environment, timeout=900, cwd=cwd)


def _outputs(path):
    nb = json.loads(pathlib.Path(path).read_text())
    return "".join(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
                   for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))


def test_colab_bootstrap_installs_cnnlib(fresh_env):
    """Run the first cell of a real notebook in an environment without cnnlib: it installs it."""
    py = fresh_env["python"]
    missing = subprocess.run([str(py), "-c", "import cnnlib"], capture_output=True, cwd=fresh_env["base"])
    assert missing.returncode != 0, "the fresh venv already has cnnlib: nothing to test"
    import nbformat

    first = json.loads(NOTEBOOKS[0].read_text())["cells"][0]
    source = "".join(first["source"])
    assert REPO_URL in source
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(source),
        nbformat.v4.new_code_cell("import cnnlib, cnnlib.conv, cnnlib.exercises, cnnlib.widgets, cnnlib.models, cnnlib.train\n"
                                  "print('CNNLIB_AT', cnnlib.__file__)"),
    ])
    path = fresh_env["base"] / "bootstrap.ipynb"
    nbformat.write(nb, path)
    run = _execute(fresh_env, path, fresh_env["base"], fresh_env["base"] / "bootstrap-out.ipynb",
                   CNNBOOK_PIP_SOURCE=fresh_env["repo"].as_uri())  # offline stand-in for GitHub
    assert run.returncode == 0, run.stderr[-3000:]
    printed = _outputs(fresh_env["base"] / "bootstrap-out.ipynb")
    assert "CNNLIB_AT" in printed and str(fresh_env["base"] / "venv") in printed, printed


def test_binder_postbuild_then_a_notebook_runs(fresh_env):
    """postBuild in the repository, then a chapter notebook top to bottom in that environment."""
    repo, py = fresh_env["repo"], fresh_env["python"]
    env = dict(os.environ, PATH=f"{py.parent}{os.pathsep}{os.environ['PATH']}")
    subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, check=True, timeout=600)
    where = subprocess.run([str(py), "-c", "import cnnlib; print(cnnlib.__file__)"],
                           capture_output=True, text=True, check=True, cwd=fresh_env["base"]).stdout
    assert str(repo) in where, f"postBuild did not install the repository's cnnlib (editable): {where}"
    # The smallest chapter notebook keeps this test quick; all of them run in the book build.
    notebook = min(NOTEBOOKS, key=lambda p: p.stat().st_size)
    rel = notebook.relative_to(ROOT)
    run = _execute(fresh_env, repo / rel, (repo / rel).parent, fresh_env["base"] / "binder-out.ipynb")
    assert run.returncode == 0, f"{rel} failed in the Binder environment:\n{run.stderr[-3000:]}"
