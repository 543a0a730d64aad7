"""Which assumptions of two SIE scenarios differ, grouped the way a reader thinks of them."""

from __future__ import annotations

from asara.analysis.shapley import Bound, Document, OutputExplanation, explain
from asara.models.sie.parameters import EXPLANATION_GROUPS
from asara.scenarios.loader import read_document, validate_document
from asara.scenarios.sie import SieScenario

SIE_GROUPS: dict[str, list[str]] = {**EXPLANATION_GROUPS, "correlations": ["correlations"]}
"""Group label -> the scenario keys (or whole sections) whose changes are attributed together: the
declared settings' groups (``asara.models.sie.parameters``), plus the correlations between inputs."""


# What the cells measure must agree between A and B; it is not an assumption to attribute.
SIE_MEASURED = ("cells",)


def bind_document(document: Document) -> Bound:
    """A scenario document as the model, distributions and copula that ``explain`` evaluates."""
    scenario = validate_document(SieScenario, document)
    return Bound(scenario.model(), scenario.distributions(), scenario.copula())


def explain_scenarios(
    a: str, b: str, samples: int, seed: int, overrides_b: list[str] | None = None
) -> tuple[list[str], list[OutputExplanation], SieScenario, SieScenario]:
    """Shapley attribution of scenario B minus scenario A (presets or TOML paths) for every cell."""
    from asara.scenarios.loader import apply_overrides

    document_a = validate_document(SieScenario, read_document("sie", a)).to_document()
    document_b = validate_document(SieScenario, apply_overrides(read_document("sie", b), overrides_b or []))
    document_b_resolved = document_b.to_document()
    for key in ("name", "description"):
        document_b_resolved[key] = document_a[key]
    changes, explanations = explain(
        document_a, document_b_resolved, SIE_GROUPS, bind_document, samples, seed, measured=SIE_MEASURED
    )
    return changes, explanations, validate_document(SieScenario, document_a), document_b
