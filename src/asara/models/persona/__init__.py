"""The persona model: Bayesian persona priors (Luigi and Waluigis) under alignment pretraining.

Pure numerical code: populations of personas, documents as counted context types, log-space updates over
sufficient statistics, half-lives, residual mass, misbehaviour rates, the corpus optimizer and the
calibration to Tice et al. Nothing here reads files or prints.
"""

from asara.models.persona.documents import Context, Document
from asara.models.persona.model import INPUT_NAMES, OUTPUT_NAMES, PersonaModel
from asara.models.persona.population import FAMILIES, FamilySpec, Population, build_population

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
