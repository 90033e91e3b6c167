"""pytest configuration shared by tests/ and the doctests of cnnlib/.

Hypothesis' per-example deadline (200 ms by default) is a timing, and timings belong in bench/,
not in tests: on a loaded 2-core machine a first example that imports or warms up a kernel can
take longer and fail a correct test. The profile below turns the deadline off.
"""
from hypothesis import settings

settings.register_profile("cnnbook", deadline=None)
settings.load_profile("cnnbook")
