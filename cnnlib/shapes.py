"""Output sizes of convolutions with padding, stride and dilation, and receptive fields (Sections 6.3, 6.4).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Sections 6.3 (Eqs. (6.16)–(6.19)) and 6.4 (receptive fields).
"""
from __future__ import annotations

import numpy as np

from ._validation import as_array, nonnegative_int, pair, positive_int

__all__: list[str] = []

# --- Section 6.4 additions below (receptive fields); Section 6.3 code goes above this line ---
