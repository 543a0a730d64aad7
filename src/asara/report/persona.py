"""The persona model's run record (the JSON of ``asara persona run --json``) for figures and the web page."""

from __future__ import annotations

from typing import Any

from asara.models.persona.analysis import analyze
from asara.scenarios import persona as scenarios
from asara.scenarios.persona import PersonaScenario


def run(scenario: PersonaScenario) -> dict[str, Any]:
    """Analyze a validated persona scenario: the same record as ``asara persona run --json``."""
    result = analyze(
        scenario.population(),
        scenario.document_list(),
        scenario.stage_weights.as_dict(),
        scenario.evaluation_contexts(),
        scenario.evaluation_weights(),
        scenario.noise,
        scenario.curve_max_documents,
        scenario.fiction_diagnosticity,
    )
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        **result.to_dict(),
        "evidence_weights": evidence_weights_record(scenario),
    }


def evidence_weights_record(scenario: PersonaScenario) -> dict[str, dict[str, Any]]:
    """{stage: {value, source, interval}}: the weights this run used and whether the calibration or the
    scenario set them (the interval is the calibrated one, or the scenario's single value)."""
    return {stage: weight.to_dict() for stage, weight in scenario.evidence_weights().items()}


def run_record(source: str) -> dict[str, Any]:
    """A preset name or TOML path, analyzed."""
    return run(scenarios.load(source))
