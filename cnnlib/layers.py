"""Convolutional and pooling layers in NumPy, readable first (Sections 6.3, 6.4).

References
----------
B. Liquet, S. Moka and Y. Nazarathy, *Mathematical Engineering of Deep Learning*,
Chapter 6, Sections 6.3 (Eqs. (6.20), (6.21)) and 6.4 (pooling, Figure 6.11).
"""
from __future__ import annotations

import numpy as np

from ._validation import as_array, nonnegative_int, pair, positive_int

__all__: list[str] = []

# --- Section 6.4 additions below (pooling); Section 6.3 code goes above this line ---
