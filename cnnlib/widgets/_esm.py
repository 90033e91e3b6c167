"""The explorers' ES modules, as anywidget receives them.

Each explorer's front-end is one self-contained ES module (the offline book cannot import
from a CDN, and anywidget ships one module per widget), so the helpers every explorer needs
(``el``, ``frame``) live once in ``cnnlib/widgets/widget_kit.js`` and are put in front of
each module here (a module too long for one file is split into parts, put together here in
order). Each module lies next to the Python of its explorer.
"""
import pathlib

STATIC = pathlib.Path(__file__).resolve().parent


def esm_source(*names: str) -> str:
    """The ES module for ``cnnlib/widgets/<name>``: ``widget_kit.js`` followed by that file (or by
    several files, in order, for an explorer whose module is split into parts).

    Examples
    --------
    >>> source = esm_source("flip_slide.js")
    >>> "function frame(" in source and "export default" in source
    True
    """
    if not names:
        raise TypeError("esm_source needs at least one file name, got none")
    parts = ["widget_kit.js", *names]
    return "\n".join((STATIC / name).read_text(encoding="utf-8") for name in parts)
