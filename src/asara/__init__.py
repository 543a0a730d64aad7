"""asara: quantitative models of AI progress and AI safety, with honest Monte Carlo error bars."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("asara")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
