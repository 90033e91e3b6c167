"""Counting parameters and neurons, and the layer table of a network (Sections 6.3, 6.4, Table 6.1).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Eqs. (6.22), (6.23) and Table 6.1.
"""
from __future__ import annotations

from ._validation import pair, positive_int

__all__: list[str] = []

# --- Section 6.4 additions below (layer tables); Section 6.3 code goes above this line ---
