"""Which assumptions of two SIE scenarios differ, grouped the way a reader thinks of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    a: str | SieScenario,
    b: str | SieScenario,
    samples: int,
    seed: int,
    overrides_b: Sequence[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[list[str], list[OutputExplanation], SieScenario, SieScenario]:
    """Shapley attribution of scenario B minus scenario A (presets, TOML paths or scenario objects) for
    every cell. ``on_progress(done, total)`` is called before each subset of the changes is evaluated."""
    from asara.analysis.shapley import differing_groups
    from asara.scenarios.loader import apply_overrides

    document_a = _resolved(a).to_document()
    if isinstance(b, SieScenario) and not overrides_b:
        document_b = b
    else:
        raw_b = b.to_document() if isinstance(b, SieScenario) else read_document("sie", b)
        document_b = validate_document(SieScenario, apply_overrides(raw_b, overrides_b or []))
    document_b_resolved = document_b.to_document()
    for key in ("name", "description"):
        document_b_resolved[key] = document_a[key]
    bind = bind_document
    if on_progress is not None:
        report = on_progress
        total = 2 ** len(differing_groups(document_a, document_b_resolved, SIE_GROUPS))
        done = [0]

        def bind(document: Document) -> Bound:
            report(done[0], total)
            done[0] += 1
            return bind_document(document)

    changes, explanations = explain(
        document_a, document_b_resolved, SIE_GROUPS, bind, samples, seed, measured=SIE_MEASURED
    )
    return changes, explanations, validate_document(SieScenario, document_a), document_b


def _resolved(scenario: str | SieScenario) -> SieScenario:
    if isinstance(scenario, SieScenario):
        return scenario
    return validate_document(SieScenario, read_document("sie", scenario))
