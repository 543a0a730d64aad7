"""The persona model's run record (the JSON of ``asara persona run --json``) for figures and the web page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from asara.models.base import evaluate_point
from asara.models.persona.analysis import RunResult, analyze
from asara.scenarios import persona as scenarios
from asara.scenarios.persona import PersonaScenario


def point_inputs(scenario: PersonaScenario, *, before: bool = False) -> dict[str, float]:
    """The scenario's own value of each input of :meth:`PersonaScenario.model`: its stage weights (zero
    ``before`` training on the corpus), full credibility, no shift of the prior."""
    weights = scenario.stage_weights.as_dict()
    values = {"w_" + stage.replace("-", "_"): 0.0 if before else weight for stage, weight in weights.items()}
    return {**values, "credibility": 1.0, "prior_shift": 0.0}


def run_result(scenario: PersonaScenario) -> RunResult:
    """Analyze a validated persona scenario. The model's declared outputs (misaligned share, predicted
    misbehaviour rate) come from the model itself at the scenario's own inputs, before and after the
    corpus (the run is a model at fixed inputs, not a Monte Carlo); the family shares, decay curve,
    half-life and residual mass come from the analytic posterior."""
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
    model = scenario.model()
    prior = evaluate_point(model, point_inputs(scenario, before=True))
    posterior = evaluate_point(model, point_inputs(scenario))
    return replace(
        result,
        prior_misaligned=prior["misaligned_share"],
        posterior_misaligned=posterior["misaligned_share"],
        prior_misbehaviour=prior["misbehaviour_rate"],
        posterior_misbehaviour=posterior["misbehaviour_rate"],
    )


def run(scenario: PersonaScenario) -> dict[str, Any]:
    """Analyze a validated persona scenario: the same record as ``asara persona run --json``."""
    result = run_result(scenario)
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
