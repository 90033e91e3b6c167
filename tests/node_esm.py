"""Run an explorer's ES module under Node.js, for the widget tests (no browser needed)."""
import json
import shutil
import subprocess

import pytest

from cnnlib.widgets._esm import esm_source


def run_esm(tmp_path, name, script):
    """Run ``script`` (JavaScript that prints one JSON value) with the module of
    ``cnnlib/widgets/<name>`` importable at the URL ``MODULE``; return the parsed JSON.

    The module is what the browser runs: ``widget_kit.js`` followed by ``<name>`` (a tuple of
    names: a module in several parts, put together in that order).
    Skips the calling test when Node.js is not installed.
    """
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    names = (name,) if isinstance(name, str) else tuple(name)
    module = tmp_path / (names[-1].removesuffix(".js") + ".mjs")
    module.write_text(esm_source(*names), encoding="utf-8")
    runner = tmp_path / "run.mjs"
    runner.write_text(script.replace("MODULE", json.dumps(module.as_uri())), encoding="utf-8")
    done = subprocess.run(["node", str(runner)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)
