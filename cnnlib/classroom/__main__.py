"""``python -m cnnlib.classroom``: see :func:`cnnlib.classroom.main`."""
import sys

from .cli import main

sys.exit(main())
