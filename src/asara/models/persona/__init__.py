"""The persona model: Bayesian persona priors (Luigi and Waluigis) under alignment pretraining.

Pure numerical code: populations of personas, documents as counted context types, log-space updates over
sufficient statistics, half-lives, residual mass, misbehaviour rates, the corpus optimizer and the
calibration to Tice et al. Nothing here reads files or prints.
"""

from typing import Any

from asara.models.persona.documents import Context, Document
from asara.models.persona.population import FAMILIES, FamilySpec, Population, build_population


def __getattr__(name: str) -> Any:
    # The model module compiles the engine with numba (about a second): load it only when asked, so
    # that reading a scenario or starting the CLI does not pay for it.
    if name in ("INPUT_NAMES", "OUTPUT_NAMES", "PersonaModel"):
        from asara.models.persona import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FAMILIES",
    "INPUT_NAMES",
    "OUTPUT_NAMES",
    "Context",
    "Document",
    "FamilySpec",
    "PersonaModel",
    "Population",
    "build_population",
]
