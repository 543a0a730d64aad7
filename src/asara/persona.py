"""The persona model as a library user sees it: load a scenario, run it, plan documents, explain a change.

One entry point per analysis; the CLI (``asara persona ...``) and the web page only parse their input,
call one of these and format what it returns. Each result's ``to_dict()`` is the JSON ``--json`` prints.

>>> from asara import persona
>>> result = persona.run("production-stories")
>>> round(result.result.posterior_misaligned, 3)  # doctest: +SKIP
0.012
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asara.errors import InputError
from asara.models.persona.outputs import OUTPUTS
from asara.scenarios import persona as persona_scenarios
from asara.scenarios.persona import PersonaScenario

if TYPE_CHECKING:  # the engine compiles with numba (about a second): each entry point imports what it runs
    from asara.analysis.sensitivity import SensitivityResult
    from asara.analysis.shapley import OutputExplanation
    from asara.analysis.tornado import Tornado
    from asara.models.persona.analysis import RunResult
    from asara.models.persona.calibration import CalibrationResult, CalibrationSetup
    from asara.models.persona.engine import CurvePoint
    from asara.models.persona.model import PersonaModel
    from asara.models.persona.optimize import OptimizeResult
    from asara.models.persona.plan import PlanResult

__all__ = [
    "OUTPUT_LABELS",
    "Calibration",
    "Decay",
    "Explanation",
    "Optimum",
    "PersonaRun",
    "PersonaScenario",
    "Plan",
    "Sensitivity",
    "TornadoResult",
    "calibrate",
    "decay",
    "evidence_weights_record",
    "explain",
    "load",
    "optimize",
    "plan",
    "run",
    "run_result",
    "sensitivity",
    "tornado",
]

ScenarioSource = PersonaScenario | str | Path
"""A scenario object, a preset name or a TOML path."""

OUTPUT_LABELS = {output.name: output.label for output in OUTPUTS}
"""Plain names of the outputs that ``explain``, ``sensitivity`` and ``tornado`` report."""

MAX_EXPLAIN_SAMPLES = 1_000_000
DEFAULT_SENSITIVITY_SAMPLES = (512, 50)
"""Sobol' base points and Morris trajectories when not told: each persona evaluation weighs every
persona, so a smaller design than the SIE model's keeps the default to seconds."""
DEFAULT_TORNADO_SAMPLES = 2_000


def load(
    source: ScenarioSource, overrides: Sequence[str] = (), *, warn: Callable[[str], None] | None = None
) -> PersonaScenario:
    """A scenario object, preset name or TOML path, with ``key=value`` overrides applied, validated.

    With ``warn``, also build its persona set (so that a bad file gets its one error) and pass ``warn``
    each line saying where the scenario's evidence weights leave the calibrated intervals."""
    if isinstance(source, PersonaScenario):
        scenario = source
        if overrides:
            from asara.scenarios.loader import apply_overrides, validate_document

            document = apply_overrides(source.model_dump(mode="json"), overrides)
            scenario = validate_document(PersonaScenario, document)
    else:
        scenario = persona_scenarios.load(str(source), tuple(overrides))
    if warn is not None:
        scenario.population()
        for line in scenario.weight_warnings():
            warn(line)
    return scenario


def evidence_weights_record(scenario: PersonaScenario) -> dict[str, dict[str, Any]]:
    """{stage: {value, source, interval}}: the weights this run used and whether the calibration or the
    scenario set them (the interval is the calibrated one, or the scenario's single value)."""
    return {stage: weight.to_dict() for stage, weight in scenario.evidence_weights().items()}


# ------------------------------------------------------------------------------------------------ run


@dataclass(frozen=True)
class PersonaRun:
    """Posterior family shares, the decay curve, half-life, residual and predicted misbehaviour."""

    scenario: PersonaScenario
    result: RunResult

    def to_dict(self) -> dict[str, Any]:
        """What ``asara persona run --json`` prints (and ``run.json`` holds)."""
        return {
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            **self.result.to_dict(),
            "evidence_weights": evidence_weights_record(self.scenario),
        }


def run(
    scenario: ScenarioSource, overrides: Sequence[str] = (), *, out_dir: Path | None = None
) -> PersonaRun:
    """Analyze a scenario; with ``out_dir``, also write ``out_dir/run.json`` (the record of
    :meth:`PersonaRun.to_dict`)."""
    loaded = load(scenario, overrides)
    result = PersonaRun(loaded, run_result(loaded))
    if out_dir is not None:
        from asara.io.atomic import write_json

        write_json(out_dir / "run.json", result.to_dict())
    return result


def point_inputs(scenario: PersonaScenario, *, before: bool = False) -> dict[str, float]:
    """The scenario's own value of each input of :meth:`PersonaScenario.model`: its stage weights (zero
    ``before`` training on the corpus), full credibility, no shift of the prior."""
    weights = scenario.stage_weights.as_dict()
    values = {"w_" + stage.replace("-", "_"): 0.0 if before else weight for stage, weight in weights.items()}
    return {**values, "credibility": 1.0, "prior_shift": 0.0}


def run_result(scenario: PersonaScenario) -> RunResult:
    """The analysis of a validated scenario (what :func:`run` wraps). The model's declared outputs
    (misaligned share, predicted misbehaviour rate) come from the model itself at the scenario's own
    inputs, before and after the corpus (the run is a model at fixed inputs, not a Monte Carlo); the family
    shares, decay curve, half-life and residual mass come from the analytic posterior."""
    from dataclasses import replace

    from asara.models.base import evaluate_point
    from asara.models.persona.analysis import analyze

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


# ---------------------------------------------------------------------------------------------- decay


@dataclass(frozen=True)
class Decay:
    """The naive Waluigi's odds ratio and half-life as clean deployment documents accumulate."""

    q_prior: str
    opportunities: float
    points: list[CurvePoint]

    def to_list(self) -> list[dict[str, Any]]:
        """What ``asara persona decay --json`` prints: one object per document count."""
        from asara.models.persona.analysis import finite_or_none

        return [
            {
                "documents": p.documents,
                "odds_ratio": finite_or_none(p.odds_ratio),
                "half_life": finite_or_none(p.half_life),
                "misaligned_share": p.misaligned_share,
            }
            for p in self.points
        ]


def decay(q_prior: str = "beta:1,1", opportunities: float = 1.0, documents: float = 1e9) -> Decay:
    """Naive-Waluigi odds ratio (posterior odds / prior odds) and half-life at N = 1, 10, ..., ``documents``
    for ``q_prior`` (``beta:A,B``, ``log-uniform:LOW,HIGH[,POINTS]``, ``uniform:...``, ``grid:...`` or one
    q) and ``opportunities`` per clean deployment document."""
    from asara.models.persona import engine
    from asara.models.persona.documents import Context, Document, check_opportunity_range, tabulate
    from asara.models.persona.population import FamilySpec, build_population

    if not (math.isfinite(opportunities) and opportunities >= 0):
        raise InputError(f"must be a non-negative count (got {opportunities})", field="opportunities")
    check_document_count(documents, "documents")
    nodes = persona_scenarios.parse_prior(q_prior, "q-prior")
    population = build_population([FamilySpec("luigi", 1.0), FamilySpec("naive", 1.0, q=nodes)])
    table = tabulate([Document(Context(opportunities=opportunities))])
    check_opportunity_range(table, documents, "opportunities")
    s = engine.evidence(population, table)[:, 0]
    return Decay(q_prior, opportunities, engine.curve(population, s, engine.decade_counts(documents)))


def check_document_count(value: float, field: str) -> float:
    from asara.models.persona.documents import MAX_DOCUMENTS

    if not (math.isfinite(value) and 1 <= value <= MAX_DOCUMENTS):
        raise InputError(f"must be between 1 and {MAX_DOCUMENTS:g} (got {value:g})", field=field)
    return value


# ------------------------------------------------------------------------------------------ calibrate


@dataclass(frozen=True)
class Calibration:
    """The fit to Tice et al.'s six scores, and (if asked) both pairings with and without salience."""

    setup: CalibrationSetup
    result: CalibrationResult
    variants: list[CalibrationResult]

    def to_dict(self) -> dict[str, Any]:
        """What ``asara persona calibrate --json`` prints."""
        record = self.result.to_dict()
        record["comparison"] = [variant_summary(v) for v in self.variants]
        return record


def variant_summary(result: CalibrationResult) -> dict[str, Any]:
    """One fitted variant (pairing, salience) in a line: its error and its key predictions."""
    by = {(c.name, c.stage): c.predicted for c in [*result.conditions, *result.held_out]}
    return {
        "pairing": result.setup.pairing,
        "salience": result.setup.salience,
        "rms_error_points": result.rms_points,
        "misalignment_upsampled_post": by[("misalignment-upsampled", "post-trained")],
        "unfiltered_post": by[("unfiltered", "post-trained")],
        "post_training_ordering_reproduced": result.ordering_reproduced,
        "filtered_post_predicted": by[("filtered", "post-trained")],
        "parameters": result.parameters,
    }


def calibrate(
    scenario: ScenarioSource = "tice-calibration",
    pairing: str | None = None,
    salience: bool | None = None,
    compare: bool = True,
    *,
    overrides: Sequence[str] = (),
) -> Calibration:
    """Fit prior, per-document weights, noise and salience on Tice et al.'s six scores (the scenario's
    ``[calibration]`` section; ``pairing`` and ``salience`` override its choices); with ``compare``, also
    fit both pairings with and without salience."""
    from asara.models.persona import calibration

    loaded = load(scenario, overrides)
    if loaded.calibration is None:
        # The fit models Tice et al.'s experiment, not this scenario's families and documents.
        raise InputError(
            f"{loaded.name} has no [calibration] section; run `asara persona calibrate` without a scenario "
            "to fit tice-calibration",
            field="calibration",
        )
    setup = loaded.calibration.setup()
    if pairing is not None:
        if pairing not in calibration.PAIRINGS:
            raise InputError(f"must be draft or unfiltered (got {pairing!r})", field="pairing")
        setup = replace(setup, pairing=pairing)
    if salience is not None:
        setup = replace(setup, salience=salience)
    result = calibration.calibrate(setup)
    variants = calibration.compare(setup, result) if compare else []
    return Calibration(setup, result, variants)


# --------------------------------------------------------------------------------- optimize and plan


@dataclass(frozen=True)
class Optimum:
    """The mix of menu documents that most lowers predicted misbehaviour for a budget."""

    scenario: PersonaScenario
    budget: float
    result: OptimizeResult

    def to_dict(self) -> dict[str, Any]:
        """What ``asara persona optimize --json`` prints."""
        return {"scenario": self.scenario.name, **self.result.to_dict()}


def optimize(
    scenario: ScenarioSource, budget: float | None = None, *, overrides: Sequence[str] = ()
) -> Optimum:
    """Spend ``budget`` (default: the ``[optimize]`` section's) on the scenario's menu of documents."""
    from asara.models.persona.documents import MAX_DOCUMENTS
    from asara.models.persona.optimize import MenuItem, optimize_mix

    loaded = load(scenario, overrides)
    if loaded.optimize is None:
        raise InputError("this scenario has no [optimize] menu", field="optimize")
    spend = loaded.optimize.budget if budget is None else budget
    if not (math.isfinite(spend) and spend > 0):
        raise InputError(f"must be a positive number (got {spend})", field="budget")
    cheapest = min(entry.cost for entry in loaded.optimize.menu)
    if spend / cheapest > MAX_DOCUMENTS:
        raise InputError(
            f"buys up to {spend / cheapest:.3g} copies of one item, beyond the {MAX_DOCUMENTS:g} documents "
            "the model is accurate for",
            field="budget",
        )
    menu = [
        MenuItem(entry.label(i), entry.document(1.0), entry.cost)
        for i, entry in enumerate(loaded.optimize.menu)
    ]
    result = optimize_mix(
        loaded.population(),
        loaded.document_list(),
        menu,
        spend,
        loaded.stage_weights.as_dict(),
        loaded.evaluation_contexts(),
        loaded.evaluation_weights(),
        loaded.noise,
        loaded.fiction_diagnosticity,
    )
    return Optimum(loaded, spend, result)


@dataclass(frozen=True)
class Plan:
    """How many documents of each menu kind bring the objective below the target at least cost."""

    scenario: PersonaScenario
    target: float
    objective: str
    result: PlanResult

    def to_dict(self) -> dict[str, Any]:
        """What ``asara persona plan --json`` prints."""
        return {
            "scenario": self.scenario.name,
            **self.result.to_dict(),
            "evidence_weights": evidence_weights_record(self.scenario),
        }


def check_target(target: float) -> float:
    if not (math.isfinite(target) and 0 <= target <= 1):
        raise InputError(f"must lie in [0, 1] (got {target})", field="target")
    return target


def plan(
    scenario: ScenarioSource,
    target: float = 0.05,
    objective: str = "share",
    *,
    overrides: Sequence[str] = (),
) -> Plan:
    """``objective``: "share" (misaligned persona share), "residual" (the share no number of these
    documents removes) or "misbehaviour" (predicted on the evaluation set); intervals come from the
    evidence weights' uncertainty."""
    from asara.analysis.persona_plan import plan_scenario

    check_target(target)
    loaded = load(scenario, overrides)
    return Plan(loaded, target, objective, plan_scenario(loaded, target, objective))


# ------------------------------------------------------------------------------------------- analyses


@dataclass(frozen=True)
class Explanation:
    """The change from scenario A to B in each output, attributed to each changed group of assumptions."""

    changes: list[str]
    explanations: list[OutputExplanation]
    samples: int
    seed: int
    labels: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """What ``asara persona explain --json`` prints."""
        return {e.output: e.to_dict() for e in self.explanations}


def explain(
    baseline: ScenarioSource,
    changed: ScenarioSource,
    samples: int = 2_000,
    seed: int = 0,
    *,
    overrides: Sequence[str] = (),
) -> Explanation:
    """Exact Shapley attribution of B minus A (``overrides`` apply to B) in predicted misbehaviour and
    misaligned share, on common random numbers over ``samples`` draws of the ``[uncertainty]`` inputs."""
    from asara.analysis.persona_explain import explain_personas

    if not 2 <= samples <= MAX_EXPLAIN_SAMPLES:
        # Two draws at least: the standard errors need a spread.
        raise InputError(f"must be between 2 and {MAX_EXPLAIN_SAMPLES:,} (got {samples:,})", field="samples")
    if seed < 0:
        raise InputError(f"must be a non-negative integer (got {seed})", field="seed")
    changes, explanations = explain_personas(
        _as_source(baseline), _as_source(changed), samples, seed, list(overrides)
    )
    return Explanation(changes, explanations, samples, seed, dict(OUTPUT_LABELS))


def _as_source(scenario: ScenarioSource) -> PersonaScenario | str:
    return scenario if isinstance(scenario, PersonaScenario) else str(scenario)


def require_uncertainty(scenario: PersonaScenario, model: PersonaModel | None = None) -> PersonaModel:
    """The analyses' own "every input is fixed" check, with the hint a persona user needs; returns the
    scenario's model (``model`` if given: building one computes the evidence tables)."""
    from asara.analysis.sensitivity import varying_inputs

    model = scenario.model() if model is None else model
    if not varying_inputs(model, scenario.distributions()):
        raise InputError(
            f"{scenario.name} has no [uncertainty] section and sets every stage weight, so every input is "
            "fixed; add one to analyse it, or leave a stage weight to the calibration (production-stories "
            "declares credibility and prior_shift)",
            field="uncertainty",
        )
    return model


@dataclass(frozen=True)
class Sensitivity:
    """Sobol' indices or Morris effects of each output to each uncertain input."""

    scenario: PersonaScenario
    result: SensitivityResult

    def to_dict(self) -> dict[str, Any]:
        """What ``asara persona sensitivity --json`` prints."""
        return self.result.outputs_dict()


def sensitivity(
    scenario: ScenarioSource,
    method: str = "sobol",
    samples: int | None = None,
    seed: int = 0,
    *,
    overrides: Sequence[str] = (),
    on_progress: Callable[[int, int], None] | None = None,
) -> Sensitivity:
    """Which ``[uncertainty]`` input (stage weights, credibility, prior shift) drives each output:
    "sobol" (``samples`` base points, default 512) or "morris" (``samples`` trajectories, default 50)."""
    from asara.analysis.sensitivity import analyse

    loaded = load(scenario, overrides)
    model = require_uncertainty(loaded)
    result = analyse(
        model,
        loaded.distributions(),
        method,
        samples,
        seed,
        default_samples=DEFAULT_SENSITIVITY_SAMPLES,
        on_progress=on_progress,
    )
    return Sensitivity(loaded, result)


@dataclass(frozen=True)
class TornadoResult:
    """Each uncertain input at its 10th and 90th percentile, one at a time."""

    scenario: PersonaScenario
    result: Tornado

    def to_dict(self) -> dict[str, Any]:
        """What ``asara persona tornado --json`` prints."""
        return {"scenario": self.scenario.name, **self.result.to_dict()}


def tornado(
    scenario: ScenarioSource,
    others: str = "median",
    samples: int | None = None,
    seed: int | None = None,
    *,
    overrides: Sequence[str] = (),
) -> TornadoResult:
    """``others`` "median": one evaluation per bar end with the other inputs at their medians
    (``samples`` and ``seed`` must then be None); "sampled": the others drawn (default 2,000 samples)."""
    from asara.analysis.tornado import checked_tornado

    loaded = load(scenario, overrides)
    model = require_uncertainty(loaded)
    result = checked_tornado(
        model,
        loaded.distributions(),
        others,
        samples,
        seed,
        default_samples=DEFAULT_TORNADO_SAMPLES,
    )
    return TornadoResult(loaded, result)
