"""Defaults of a Monte Carlo run that the command line shows in its help before it loads the engine
(importing ``asara.montecarlo.runner`` loads NumPy and the compiled kernels: most of a second)."""

from __future__ import annotations

DEFAULT_CHUNK_SIZE = 65_536
"""Samples per chunk: the unit of work handed to a worker (``asara.montecarlo.runner`` uses the same)."""
