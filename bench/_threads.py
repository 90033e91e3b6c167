"""Thread pinning for the benchmarks. Import and call before NumPy or torch is imported: their
BLAS and OpenMP runtimes read these variables once, when they load."""
import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def pin_threads(n: int) -> None:
    """Set every thread-count variable to ``n``."""
    for var in THREAD_VARIABLES:
        os.environ[var] = str(n)
