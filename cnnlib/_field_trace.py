"""Receptive fields through branched networks: follow the maps of one forward pass.

:func:`cnnlib.shapes.receptive_field` walks a chain of layers by arithmetic alone. A network
whose modules branch and merge (a Fire module's two expand branches, an inception module's four,
a residual block's shortcut) is run once instead, on a zero image: every map that a known layer
produces carries its geometry (size, field, jump, start); an operation outside the layers passes
it on (an activation, a reshape that keeps the map), and an operation that merges maps (``cat``,
``+``, ``*``) gives the union of their fields: the largest path through the branches.

:func:`trace_maps` is the walk itself, for any value a map can carry whose first entry is the
map's size: :func:`trace_fields` runs it with the geometry above, and
:func:`cnnlib.inner.receptive_field_box` with the input rows and columns each row and column of a
map depends on.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ._modes import eval_mode

__all__ = ["trace_fields", "trace_maps", "union"]

_MERGES = {"cat": "Concatenate", "concat": "Concatenate", "concatenate": "Concatenate", "add": "Add",
           "__add__": "Add", "__radd__": "Add", "__iadd__": "Add", "add_": "Add", "mul": "Multiply",
           "__mul__": "Multiply", "__rmul__": "Multiply", "__imul__": "Multiply", "mul_": "Multiply"}


class _Stop(Exception):
    """The maps have ended (a flatten, a dense layer, a global pooling): every later unit sees the whole input."""


def union(geometries, where: str):
    """The geometry of a map that merges maps of these geometries: the union of their fields.

    >>> union([((4, 4), (3, 3), (1, 1), (1.0, 1.0)), ((4, 4), (5, 5), (1, 1), (1.0, 1.0))], "block")
    ((4, 4), (5, 5), (1, 1), (1.0, 1.0))
    """
    sizes = {g[0] for g in geometries}
    jumps = {g[2] for g in geometries}
    if len(sizes) > 1 or len(jumps) > 1:
        raise ValueError(f"receptive_field cannot merge the maps at {where}: their sizes {sorted(sizes)} or jumps "
                         f"{sorted(jumps)} differ")
    size, jump = geometries[0][0], geometries[0][2]
    field, start = [], []
    for axis in range(2):
        lo = min(g[3][axis] - (g[1][axis] - 1) / 2 for g in geometries)
        hi = max(g[3][axis] + (g[1][axis] - 1) / 2 for g in geometries)
        field.append(int(round(hi - lo)) + 1)
        start.append((lo + hi) / 2)
    return size, tuple(field), jump, tuple(start)


def trace_fields(model: nn.Module, input_shape, start, rows, through):
    """Append to ``rows`` (a ``ReceptiveFields`` holding the input row) one row per layer call and one
    per merge of maps, in the order of one forward pass of ``model`` on a zero image."""
    from .shapes import FieldRow

    def add_row(name, kind, geometry):
        rows.append(FieldRow(len(rows), name, kind, *geometry))

    trace_maps(model, input_shape, start, through, union, add_row)
    return rows


def trace_maps(model: nn.Module, input_shape, start, through, merge, on_map=None, stop_at=None):
    """Run ``model`` once on a zero image and follow a value along its maps.

    Parameters
    ----------
    model : torch.nn.Module
    input_shape : tuple (C, H, W) or (H, W)
    start : tuple
        The input map's value; its first entry is the map's size ``(H, W)``, and so is every value's.
    through : callable ``(layer, name, value) -> value or None``
        The value of a leaf's output from its input's; ``None`` ends the maps (a flatten, a dense
        layer, a global pooling: every later unit sees the whole input).
    merge : callable ``(values, where) -> value``
        The value of a map that merges maps (``cat``, ``+``, ``*``) with these different values.
    on_map : callable ``(name, kind, value)``, optional
        Told of every leaf's output and every merge, in the order they run.
    stop_at : str, optional
        A module's name (``''``: the model): stop when it returns.

    Returns
    -------
    The value of the output of ``stop_at`` (``None`` when the maps ended before it, or without
    ``stop_at``).
    """
    names = {id(m): name for name, m in model.named_modules()}
    leaf_ids = {id(m) for m in model.modules() if not list(m.children())}
    maps = {}  # id(tensor) -> (tensor, value); the tensor is kept so that its id stays its own
    inside, pending = [], {}  # modules being run; the value each running leaf will produce
    in_leaf = [0]  # how many leaves are running (their inner operations are theirs, not followed)
    found_at_stop = []
    on_map = on_map or (lambda name, kind, value: None)

    def before(module, args):
        inside.append(names.get(id(module), type(module).__name__))
        if id(module) in leaf_ids:
            in_leaf[0] += 1
            found = maps.get(id(args[0])) if args and isinstance(args[0], torch.Tensor) else None
            if found is not None:
                value = through(module, inside[-1], found[1])
                if value is None:
                    raise _Stop
                pending[id(module)] = value

    def after(module, args, output):
        name = inside.pop()
        in_leaf[0] -= id(module) in leaf_ids
        value = pending.pop(id(module), None)
        if value is not None and isinstance(output, torch.Tensor):
            if tuple(output.shape[-2:]) != value[0]:
                raise ValueError(f"receptive_field: layer {name} ({type(module).__name__}) gives maps of size "
                                 f"{tuple(output.shape[-2:])}, not the {value[0]} its geometry predicts")
            maps[id(output)] = (output, value)
            on_map(name, type(module).__name__, value)
        if stop_at is not None and name == stop_at and id(module) in names:
            found_at_stop.append(maps.get(id(output), (None, None))[1] if isinstance(output, torch.Tensor) else None)
            raise _Stop

    class Follow(TorchFunctionMode):
        """Pass values on through the operations run outside the layers."""

        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if not in_leaf[0]:
                _follow(func, args, kwargs or {}, out)
            return out

    def _follow(func, args, kwargs, out):
        found = [maps[id(t)][1] for t in _tensors(args) + _tensors(kwargs.values()) if id(t) in maps]
        outs = [t for t in (out if isinstance(out, (tuple, list)) else [out]) if isinstance(t, torch.Tensor)]
        if not found or not outs:
            return
        fname = getattr(func, "__name__", str(func))
        where = f"{inside[-1]!r}" if inside else "the model's forward"
        for t in outs:
            if t.ndim < 3 or (tuple(t.shape[-2:]) == (1, 1) and any(g[0] != (1, 1) for g in found)):
                raise _Stop  # flattened, or a global pooling written in forward: a unit sees the whole input
            if any(tuple(t.shape[-2:]) != g[0] for g in found):
                raise TypeError(f"receptive_field cannot follow {fname} in {where}: it changes the size of the maps "
                                f"({sorted({g[0] for g in found})} to {tuple(t.shape[-2:])}) outside a layer it knows "
                                "(Conv2d, MaxPool2d, AvgPool2d)")
        distinct = list(dict.fromkeys(found))
        value = distinct[0] if len(distinct) == 1 else merge(distinct, where)
        if len(distinct) > 1:
            on_map(inside[-1] if inside else "", _MERGES.get(fname, fname), value)
        for t in outs:
            maps[id(t)] = (t, value)

    channels = input_shape[0] if len(input_shape) == 3 else next(
        (m.in_channels for m in model.modules() if isinstance(m, nn.Conv2d)), 1)
    param = next(model.parameters(), None)
    x = torch.zeros(1, channels, *start[0], device=param.device if param is not None else "cpu",
                    dtype=param.dtype if param is not None else torch.float32)
    maps[id(x)] = (x, start)
    handles = [m.register_forward_pre_hook(before) for m in model.modules()]
    handles += [m.register_forward_hook(after) for m in model.modules()]
    try:
        with eval_mode(model), torch.no_grad(), Follow():
            model(x)
    except _Stop:
        pass
    finally:
        for h in handles:
            h.remove()
    return found_at_stop[0] if found_at_stop else None


def _tensors(values) -> list:
    out = []
    for v in values:
        if isinstance(v, torch.Tensor):
            out.append(v)
        elif isinstance(v, (tuple, list)):
            out.extend(_tensors(v))
    return out
