"""train.cached_fit's key for functions among the settings (a loss_fn) and for fit_fn."""
import json
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

from cnnlib import train
from cnnlib.train.cache import callable_key, setting_key

SCRIPT = textwrap.dedent("""
    import json, sys, torch
    from torch import nn
    from cnnlib.train.cache import callable_key
    keys = {}
    for setting in sys.argv[1:]:
        gamma, weight = map(float, setting.split(","))
        namespace = {"nn": nn, "torch": torch, "GAMMA": gamma, "WEIGHTS": torch.tensor([1.0, weight])}
        exec(
            "def part(out, target):\\n"
            "    return nn.functional.cross_entropy(out, target, weight=WEIGHTS)\\n"
            "def loss(out, target, scale=GAMMA):\\n"
            "    return scale * part(out, target)\\n",
            namespace)
        keys[setting] = callable_key(namespace["loss"])
    print(json.dumps(keys))
""")
SETTINGS = ("20,2", "5,2", "20,3")


def _keys_in_fresh_interpreter():
    done = subprocess.run([sys.executable, "-c", SCRIPT, *SETTINGS], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def two_runs():
    """The keys of the same notebook-like functions in two fresh interpreters."""
    return _keys_in_fresh_interpreter(), _keys_in_fresh_interpreter()


def test_a_notebook_function_keys_the_same_in_two_interpreters(two_runs):
    first, second = two_runs
    assert first == second  # repr() would differ (the address); the key must not


@pytest.mark.parametrize("setting", ["5,2", "20,3"])
def test_a_changed_constant_or_tensor_it_reads_changes_the_key(two_runs, setting):
    first, _ = two_runs
    assert first[setting] != first["20,2"]


def test_closures_defaults_and_partials_enter_the_key():
    import functools

    def make(scale):
        return lambda out, target: scale * nn.functional.mse_loss(out, target)

    assert callable_key(make(1.0)) == callable_key(make(1.0))
    assert callable_key(make(1.0)) != callable_key(make(2.0))
    scaled = functools.partial(nn.functional.mse_loss, reduction="sum")
    assert callable_key(scaled) != callable_key(functools.partial(nn.functional.mse_loss, reduction="mean"))
    assert callable_key(nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0]))) != \
        callable_key(nn.CrossEntropyLoss(weight=torch.tensor([1.0, 3.0])))


def test_plain_settings_keep_their_repr_and_unkeyable_objects_are_refused():
    assert setting_key(3e-3) == "0.003" and setting_key("adamw") == "'adamw'"
    with pytest.raises(TypeError, match="momentum=<object object at 0x"):
        setting_key(object(), "momentum")


def _data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(32, 2, generator=g)
    return X, (X[:, 0] > 0).long()


CALLS = []  # a list the training function appends to: state, not part of the key


def my_fit(model, train_data, val_data=None, *, device=None, epochs=1, **kw):
    CALLS.append(epochs)
    return train.fit(model, train_data, val_data, device=device, epochs=epochs, progress=False, **kw)


def test_fit_fn_is_called_and_keyed(tmp_path):
    calls = CALLS
    calls.clear()

    kwargs = dict(name="fn", root=tmp_path, epochs=1, device="cpu", verbose=False)
    torch.manual_seed(0)
    train.cached_fit(nn.Linear(2, 2), _data(), fit_fn=my_fit, **kwargs)
    torch.manual_seed(0)
    train.cached_fit(nn.Linear(2, 2), _data(), fit_fn=my_fit, **kwargs)  # loaded
    assert calls == [1]
    torch.manual_seed(0)
    train.cached_fit(nn.Linear(2, 2), _data(), **dict(kwargs, progress=False))  # plain fit: another entry
    assert len(list(tmp_path.glob("weights/fn-*.pt"))) == 2


def test_a_loss_function_no_longer_retrains_every_run(tmp_path):
    def loss(out, target):
        return nn.functional.cross_entropy(out, target)

    kwargs = dict(name="loss", root=tmp_path, epochs=1, device="cpu", verbose=False, progress=False, loss_fn=loss)
    torch.manual_seed(0)
    train.cached_fit(nn.Linear(2, 2), _data(), **kwargs)
    torch.manual_seed(0)
    train.cached_fit(nn.Linear(2, 2), _data(), **kwargs)
    assert len(list(tmp_path.glob("weights/loss-*.pt"))) == 1


def test_wrapped_functions_key_by_what_they_wrap():
    """functools.lru_cache's wrapper has no code and a repr with an address: key by __wrapped__."""
    import functools

    @functools.lru_cache(maxsize=None)
    def grid(n):
        return torch.arange(n)

    @functools.lru_cache(maxsize=None)
    def other(n):
        return torch.arange(n) + 1

    assert " at 0x" not in callable_key(grid)
    assert callable_key(grid) == callable_key(grid)
    assert callable_key(grid) != callable_key(other)


def test_a_docstring_edit_keeps_the_key_a_constant_edit_does_not():
    def loss(out, target):
        """First wording."""
        return 2.0 * nn.functional.mse_loss(out, target)

    def reworded(out, target):
        """Second wording, longer."""
        return 2.0 * nn.functional.mse_loss(out, target)

    def rescaled(out, target):
        """First wording."""
        return 3.0 * nn.functional.mse_loss(out, target)

    import json

    def body(fn):  # the key without the function's name
        return json.loads(callable_key(fn))[1:]

    assert body(loss) == body(reworded)
    assert body(loss) != body(rescaled)
