"""asara: quantitative models of AI progress and AI safety, with honest Monte Carlo error bars."""

# The one place the version is written: pyproject.toml reads it from here (hatch's version source).
# A literal rather than importlib.metadata, which takes a tenth of a second to load and read.
__version__ = "0.1.0"

__all__ = ["__version__"]
