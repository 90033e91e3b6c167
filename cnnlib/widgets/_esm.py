"""The explorers' ES modules, as anywidget receives them.

Each explorer's front-end is one self-contained ES module (the offline book cannot import
from a CDN, and anywidget ships one module per widget), so the helpers every explorer needs
(``el``, ``frame``) live once in ``cnnlib/widgets/widget_kit.js`` and are put in front of
each module here. Each module lies next to the Python of its explorer.
"""
import pathlib

STATIC = pathlib.Path(__file__).resolve().parent


def esm_source(name: str) -> str:
    """The ES module for ``cnnlib/widgets/<name>``: ``widget_kit.js`` followed by that file.

    Examples
    --------
    >>> source = esm_source("flip_slide.js")
    >>> "function frame(" in source and "export default" in source
    True
    """
    kit = (STATIC / "widget_kit.js").read_text(encoding="utf-8")
    return kit + "\n" + (STATIC / name).read_text(encoding="utf-8")
