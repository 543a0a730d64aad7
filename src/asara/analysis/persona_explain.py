"""Which assumptions of two persona scenarios differ, grouped the way a reader thinks of them."""

from __future__ import annotations

from asara.analysis.shapley import Bound, Document, OutputExplanation, explain
from asara.models.persona.engine import memoized
from asara.models.persona.parameters import PARAMETERS
from asara.models.registry import explanation_groups
from asara.scenarios.loader import apply_overrides, read_document, validate_document
from asara.scenarios.persona import PersonaScenario

_STRUCTURE: dict[str, list[str]] = {
    "personas and their priors": ["families"],
    "training documents": ["documents"],
    "evaluation set": ["evaluation"],
    "stage weights": ["stage_weights"],
    "uncertain inputs": ["uncertainty"],
}
"""The scenario's lists and sections, each attributed as a whole (a family's settings with its family)."""

PERSONA_GROUPS: dict[str, list[str]] = {
    **_STRUCTURE,
    **explanation_groups([p for p in PARAMETERS if p.section is None]),
}
"""The structure, then every declared top-level setting that has an explanation group (the order fixes
which random numbers an input that only B has draws: new groups go last)."""


def _document(scenario: PersonaScenario) -> Document:
    return scenario.model_dump(mode="json")


def _bind(document: Document) -> Bound:
    scenario = validate_document(PersonaScenario, document)
    return Bound(scenario.model(), scenario.distributions())


def explain_personas(
    a: str | PersonaScenario,
    b: str | PersonaScenario,
    samples: int,
    seed: int,
    overrides_b: list[str] | None = None,
) -> tuple[list[str], list[OutputExplanation]]:
    """Shapley attribution of scenario B minus scenario A (presets, TOML paths or scenario objects) for
    every output."""
    document_a = _document(a if isinstance(a, PersonaScenario) else _read(a))
    if isinstance(b, PersonaScenario) and not overrides_b:
        document_b = _document(b)
    else:
        raw_b = _document(b) if isinstance(b, PersonaScenario) else read_document("persona", b)
        document_b = _document(validate_document(PersonaScenario, apply_overrides(raw_b, overrides_b or [])))
    with memoized():  # the subsets share personas, documents and evaluation sets in many combinations
        return explain(document_a, document_b, PERSONA_GROUPS, _bind, samples, seed)


def _read(source: str) -> PersonaScenario:
    return validate_document(PersonaScenario, read_document("persona", source))
