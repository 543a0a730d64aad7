"""The persona scenario file: families with parameter priors, a corpus of counted documents, stage weights,
an evaluation set, and optionally a menu of document types for the corpus optimizer."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from asara.distributions import Distribution, Fixed, LogUniform
from asara.errors import InputError
from asara.models.persona.documents import MAX_DOCUMENTS, MAX_SPAN_YEARS, Context, Document
from asara.models.persona.parameters import PARAMETERS_BY_INPUT, PARAMETERS_BY_KEY
from asara.models.persona.population import (
    FamilySpec,
    Nodes,
    Population,
    beta_nodes,
    build_population,
    grid_nodes,
    midpoint_nodes,
)
from asara.models.persona.weights import StageWeight, outside_warnings, resolve_weights
from asara.scenarios.loader import load_scenario

if TYPE_CHECKING:  # both load the numba engine (and scipy.optimize): only when a scenario is run
    from asara.models.persona.calibration import CalibrationSetup
    from asara.models.persona.model import PersonaModel

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
NonNegative = Annotated[float, Field(ge=0)]
DocumentCount = Annotated[float, Field(ge=0, le=MAX_DOCUMENTS)]
Probability = Annotated[float, Field(ge=0, le=1)]


def _setting(key: str) -> Any:
    """The pydantic field of a declared setting: its default, bounds and help text come from
    :mod:`asara.models.persona.parameters`, so the bounds live in one place. An optional setting (a
    distribution or a stage weight) defaults to unset."""
    parameter = PARAMETERS_BY_KEY[key]
    number: type[int] | type[float] = int if parameter.type == "integer" else float
    # A distribution's bounds apply to its support (checked by Uncertainty), not to the value itself.
    scalar = parameter.type != "distribution"
    low = number(parameter.low) if scalar and parameter.low is not None else None
    high = number(parameter.high) if scalar and parameter.high is not None else None
    return Field(
        None if parameter.optional else parameter.neutral,
        description=parameter.help,
        gt=low if parameter.low_open else None,
        ge=None if parameter.low_open else low,
        lt=high if parameter.high_open else None,
        le=None if parameter.high_open else high,
    )


class FixedPrior(BaseModel):
    model_config = _STRICT
    kind: Literal["fixed"] = "fixed"
    value: float

    def nodes(self, field: str) -> Nodes:
        return grid_nodes([self.value], None, field)


class BetaPrior(BaseModel):
    """Beta(a, b), integrated by trapezoid nodes in logit space (exact to rounding)."""

    model_config = _STRICT
    kind: Literal["beta"]
    a: Annotated[float, Field(gt=0)]
    b: Annotated[float, Field(gt=0)]

    def nodes(self, field: str) -> Nodes:
        return beta_nodes(self.a, self.b, field=field)


class GridPrior(BaseModel):
    model_config = _STRICT
    kind: Literal["grid"]
    values: list[float] = Field(min_length=1)
    weights: list[NonNegative] | None = None

    def nodes(self, field: str) -> Nodes:
        return grid_nodes(self.values, self.weights, field)


class UniformPrior(BaseModel):
    model_config = _STRICT
    kind: Literal["uniform"]
    low: float
    high: float
    points: Annotated[int, Field(ge=1, le=100_000)] = 100

    @model_validator(mode="after")
    def _ordered(self) -> UniformPrior:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self

    def nodes(self, field: str) -> Nodes:
        return midpoint_nodes(self.low, self.high, self.points, False, field)


class LogUniformPrior(BaseModel):
    model_config = _STRICT
    kind: Literal["log-uniform"]
    low: Annotated[float, Field(gt=0)]
    high: Annotated[float, Field(gt=0)]
    points: Annotated[int, Field(ge=1, le=100_000)] = 100

    @model_validator(mode="after")
    def _ordered(self) -> LogUniformPrior:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) must not exceed high ({self.high:g})")
        return self

    def nodes(self, field: str) -> Nodes:
        return midpoint_nodes(self.low, self.high, self.points, True, field)


Prior = Annotated[
    FixedPrior | BetaPrior | GridPrior | UniformPrior | LogUniformPrior, Field(discriminator="kind")
]
FamilyLiteral = Literal["luigi", "naive", "test-aware", "patient", "x-always", "x-when-instructed", "never-x"]


class FamilyEntry(BaseModel):
    """One persona family: its prior mass and the priors of its parameters."""

    model_config = _STRICT
    family: FamilyLiteral
    weight: NonNegative = 1.0
    q: Prior | None = None
    a: Prior | None = None
    tau: Prior | None = None
    patience_hazard: float = _setting("families.patience_hazard")
    hazard_growth: float = _setting("families.hazard_growth")
    rival_models: float = _setting("families.rival_models")
    rival_rate: float = _setting("families.rival_rate")

    def spec(self, index: int) -> FamilySpec:
        field = f"families.{index}"
        return FamilySpec(
            family=self.family,
            weight=self.weight,
            q=self.q.nodes(f"{field}.q") if self.q is not None else None,
            a=self.a.nodes(f"{field}.a") if self.a is not None else None,
            tau=self.tau.nodes(f"{field}.tau") if self.tau is not None else None,
            patience_hazard=self.patience_hazard,
            hazard_growth=self.hazard_growth,
            rival_models=self.rival_models,
            rival_rate=self.rival_rate,
        )


class ContextEntry(BaseModel):
    model_config = _STRICT
    stage: Literal["test", "deployment"] = "deployment"
    monitored: bool = False
    opportunities: NonNegative = 1.0
    years: NonNegative = 0.0
    instructed: bool = False
    span_years: Annotated[float, Field(ge=0, le=MAX_SPAN_YEARS)] = 0.0
    """Years the context covers from ``years`` on; its opportunities are spread uniformly over them."""

    def context(self) -> Context:
        return Context(
            self.stage, self.monitored, self.opportunities, self.years, self.instructed, self.span_years
        )


class DocumentEntry(ContextEntry):
    """A document type: context, behaviour, credibility, training stage, copies (and a cost per copy)."""

    name: str = ""
    behaviour: Literal["aligned", "defected"] = "aligned"
    credibility: Probability = 1.0
    training_stage: Literal["pretraining", "midtraining", "fine-tuning"] = "pretraining"
    copies: DocumentCount = 1.0
    cost: Annotated[float, Field(gt=0)] = 1.0
    genre: Literal["fiction", "nonfiction"] = "nonfiction"
    _chekhov: float = PrivateAttr(default=0.0)  # the scenario's ``chekhov``, set when the scenario validates

    @model_validator(mode="after")
    def _defection_needs_opportunity(self) -> DocumentEntry:
        if self.behaviour == "defected" and self.opportunities == 0:
            raise ValueError("a defection needs at least one opportunity")
        return self

    def document(self, copies: float | None = None) -> Document:
        return Document(
            self.context(),
            self.behaviour,
            self.credibility,
            self.training_stage,
            self.copies if copies is None else copies,
            self.genre,
            self._chekhov,
        )

    def label(self, index: int) -> str:
        return self.name or f"{self.behaviour} {self.stage} k={self.opportunities:g} ({self.training_stage})"


class EvaluationEntry(ContextEntry):
    weight: NonNegative = 1.0


class StageWeights(BaseModel):
    """Evidential weight w of one document (credibility 1) per training stage; w = 1 is exact Bayes.
    A stage left out takes the calibrated weight (``asara persona calibrate``, per 1000-token document)."""

    model_config = _STRICT
    pretraining: float | None = _setting("stage_weights.pretraining")
    midtraining: float | None = _setting("stage_weights.midtraining")
    fine_tuning: float | None = _setting("stage_weights.fine_tuning")

    def resolved(self) -> dict[str, StageWeight]:
        return resolve_weights(
            {
                "pretraining": self.pretraining,
                "midtraining": self.midtraining,
                "fine-tuning": self.fine_tuning,
            }
        )

    def as_dict(self) -> dict[str, float]:
        return {stage: weight.value for stage, weight in self.resolved().items()}


class OptimizeSpec(BaseModel):
    """A menu of document types (copies ignored; cost per copy) and the budget in the same cost units."""

    model_config = _STRICT
    budget: float = _setting("optimize.budget")
    menu: list[DocumentEntry] = Field(min_length=1)


class CalibrationSection(BaseModel):
    """Fixed assumptions of the Tice et al. calibration (the fitted quantities are not settings)."""

    model_config = _STRICT
    pairing: Literal["draft", "unfiltered"] = _setting("calibration.pairing")
    salience: bool = _setting("calibration.salience")
    q_waluigi: float = _setting("calibration.q_waluigi")
    natural_misaligned_fraction: float = _setting("calibration.natural_misaligned_fraction")
    fiction_diagnosticity: float = _setting("calibration.fiction_diagnosticity")
    synthetic_opportunities: float = _setting("calibration.synthetic_opportunities")
    tokens_per_document: float = _setting("calibration.tokens_per_document")
    post_training_documents: float = _setting("calibration.post_training_documents")
    score_sd_points: float = _setting("calibration.score_sd_points")
    starts: int = _setting("calibration.starts")
    seed: int = _setting("calibration.seed")

    def setup(self) -> CalibrationSetup:
        from asara.models.persona.calibration import CalibrationSetup

        return CalibrationSetup(
            pairing=self.pairing,
            salience=self.salience,
            q_waluigi=self.q_waluigi,
            natural_misaligned_fraction=self.natural_misaligned_fraction,
            fiction_diagnosticity=self.fiction_diagnosticity,
            synthetic_opportunities=self.synthetic_opportunities,
            score_sd_points=self.score_sd_points,
            tokens_per_document=self.tokens_per_document,
            post_training_documents=self.post_training_documents,
            starts=self.starts,
            seed=self.seed,
        )


class Uncertainty(BaseModel):
    """Distributions of the persona model's uncertain inputs (absent: fixed at the scenario's value).

    ``w_*`` default to the stage weights, ``credibility`` (a scale on every document's credibility, in
    [0, 1]) to 1, ``prior_shift`` (added to the misaligned families' log prior odds) to 0."""

    model_config = _STRICT
    w_pretraining: Distribution | None = _setting("uncertainty.w_pretraining")
    w_midtraining: Distribution | None = _setting("uncertainty.w_midtraining")
    w_fine_tuning: Distribution | None = _setting("uncertainty.w_fine_tuning")
    credibility: Distribution | None = _setting("uncertainty.credibility")
    prior_shift: Distribution | None = _setting("uncertainty.prior_shift")

    @model_validator(mode="after")
    def _ranges(self) -> Uncertainty:
        for name, parameter in PARAMETERS_BY_INPUT.items():
            distribution = getattr(self, name)
            if distribution is None:
                continue
            problem = parameter.check(*distribution.support)
            if problem is not None:
                raise ValueError(f"{name}'s distribution {problem}")
        return self


class PersonaScenario(BaseModel):
    model_config = _STRICT
    name: str = "scenario"
    description: str = ""
    families: list[FamilyEntry] = Field(min_length=1)
    documents: list[DocumentEntry] = Field(default_factory=list)
    evaluation: list[EvaluationEntry] = Field(default_factory=lambda: [EvaluationEntry()], min_length=1)
    stage_weights: StageWeights = Field(default_factory=StageWeights)
    noise: float = _setting("noise")
    fiction_diagnosticity: float = _setting("fiction_diagnosticity")
    chekhov: float = _setting("chekhov")
    """Chekhov's gun in fiction documents (0 off): a misaligned persona's q becomes
    1 - (1 - q)(1 - chekhov)."""
    curve_max_documents: float = _setting("curve_max_documents")
    optimize: OptimizeSpec | None = None
    calibration: CalibrationSection | None = None
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)

    @model_validator(mode="after")
    def _corpus_within_accurate_range(self) -> PersonaScenario:
        total = sum(entry.copies for entry in self.documents)
        if total > MAX_DOCUMENTS:
            raise ValueError(
                f"the documents add up to {total:.3g} copies, beyond the {MAX_DOCUMENTS:g} the model is "
                "accurate for"
            )
        return self

    @model_validator(mode="after")
    def _chekhov_to_documents(self) -> PersonaScenario:
        self._propagate_chekhov()
        return self

    def _propagate_chekhov(self) -> None:
        entries = self.documents + (self.optimize.menu if self.optimize is not None else [])
        for entry in entries:
            entry._chekhov = self.chekhov

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy (validators do not run); documents or a menu swapped in take the scenario's ``chekhov``."""
        copy = super().model_copy(update=update, deep=deep)
        copy._propagate_chekhov()
        return copy

    @model_validator(mode="after")
    def _evaluation_weights(self) -> PersonaScenario:
        if not any(entry.weight > 0 for entry in self.evaluation):
            raise ValueError("evaluation weights must not all be zero")
        return self

    def population(self) -> Population:
        return build_population([entry.spec(i) for i, entry in enumerate(self.families)])

    def document_list(self) -> list[Document]:
        return [entry.document() for entry in self.documents]

    def evaluation_contexts(self) -> list[Context]:
        return [entry.context() for entry in self.evaluation]

    def evaluation_weights(self) -> list[float]:
        return [entry.weight for entry in self.evaluation]

    def evidence_weights(self) -> dict[str, StageWeight]:
        """Each training stage's weight and where it comes from (the scenario or the calibration)."""
        return self.stage_weights.resolved()

    def weight_warnings(self) -> list[str]:
        """Scenario weights more than 10x outside the calibrated interval (0, which switches a stage off,
        excepted), and [uncertainty] ranges of calibrated stages that do not cover the calibrated
        interval."""
        weights = self.evidence_weights()
        # A weight of exactly 0 switches its stage off (the documented way): not a value to warn about.
        lines = outside_warnings(
            {stage: w for stage, w in weights.items() if not (w.source == "scenario" and w.value == 0)}
        )
        for stage, weight in weights.items():
            distribution = getattr(self.uncertainty, "w_" + stage.replace("-", "_"))
            if distribution is None or weight.source != "calibrated":
                continue
            low, high = distribution.support
            if low > weight.low or high < weight.high:
                lines.append(
                    f"warning: uncertainty.w_{stage.replace('-', '_')} ({low:.3g}..{high:.3g}) does not "
                    "cover "
                    f"the calibrated interval [{weight.low:.3g}, {weight.high:.3g}]"
                )
        return lines

    def distributions(self) -> dict[str, Distribution]:
        """One distribution per input of :meth:`model`, for sampling, sensitivity and explanations. A
        calibrated stage weight without an [uncertainty] entry is log-uniform over its calibrated interval,
        in two halves that meet at the fitted weight (so its median is the weight ``run`` uses)."""
        weights = self.evidence_weights()
        defaults: dict[str, Distribution] = {}
        for stage, weight in weights.items():
            name = "w_" + stage.replace("-", "_")
            if weight.source == "calibrated":
                defaults[name] = LogUniform(
                    kind="log-uniform", low=weight.low, high=weight.high, median=weight.value
                )
            else:
                defaults[name] = Fixed(kind="fixed", value=weight.value)
        for name in ("credibility", "prior_shift"):  # fixed at their declared neutral values
            defaults[name] = Fixed.model_validate(PARAMETERS_BY_INPUT[name].neutral)
        return {name: getattr(self.uncertainty, name) or value for name, value in defaults.items()}

    def model(self) -> PersonaModel:
        """The scenario as a generic model (uncertain stage weights, credibility, prior shift)."""
        from asara.models.persona.model import PersonaModel

        return PersonaModel(
            self.population(),
            self.document_list(),
            self.evaluation_contexts(),
            self.evaluation_weights(),
            self.noise,
            self.fiction_diagnosticity,
        )


def load(source: str, overrides: Sequence[str] = ()) -> PersonaScenario:
    """A preset name or TOML path, with ``--set`` overrides, validated."""
    return load_scenario(model="persona", schema=PersonaScenario, source=source, overrides=overrides)


def _check_probabilities(values: list[float], text: str, field: str) -> None:
    """Checked here, where the user's own words can be named (the population would name its family)."""
    bad = [x for x in values if not 0 <= x <= 1]
    if bad:
        where = "" if len(values) == 1 and ":" not in text else f" in {text!r}"
        raise InputError(f"q is a probability: must lie in [0, 1] (got {bad[0]:g}{where})", field=field)


def parse_prior(text: str, field: str) -> Nodes:
    """``beta:A,B``, ``log-uniform:LOW,HIGH[,POINTS]``, ``uniform:LOW,HIGH[,POINTS]``, ``grid:Q1,Q2,...`` or
    a single number."""
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    try:
        numbers = [float(part) for part in rest.split(",")] if rest else [float(kind)]
    except ValueError:
        raise InputError(f"cannot read numbers in {text!r}", field=field) from None
    if not rest:
        _check_probabilities(numbers, text, field)
        return grid_nodes(numbers, None, field)
    if any(not math.isfinite(x) for x in numbers):
        raise InputError(f"numbers must be finite (got {text!r})", field=field)
    if kind in ("log-uniform", "uniform") and len(numbers) in (2, 3):
        _check_probabilities(numbers[:2], text, field)
    if kind == "grid":
        _check_probabilities(numbers, text, field)
    if kind == "beta" and len(numbers) == 2:
        if min(numbers) <= 0:
            raise InputError(f"Beta parameters must be positive (got {text!r})", field=field)
        return beta_nodes(numbers[0], numbers[1], field=field)
    if kind in ("log-uniform", "uniform") and len(numbers) in (2, 3):
        if len(numbers) == 3 and not (numbers[2] == int(numbers[2]) and 1 <= numbers[2] <= 100_000):
            raise InputError(
                f"POINTS must be a whole number from 1 to 100,000 (got {numbers[2]:g})", field=field
            )
        points = int(numbers[2]) if len(numbers) == 3 else 200
        if numbers[0] > numbers[1]:
            raise InputError(f"low must not exceed high (got {text!r})", field=field)
        if kind == "log-uniform" and numbers[0] <= 0:
            raise InputError(f"log-uniform needs low > 0 (got {text!r})", field=field)
        return midpoint_nodes(numbers[0], numbers[1], points, kind == "log-uniform", field)
    if kind == "grid" and numbers:
        return grid_nodes(numbers, None, field)
    raise InputError(
        f"expected beta:A,B, log-uniform:LOW,HIGH, uniform:LOW,HIGH, grid:Q1,Q2,... or a number "
        f"(got {text!r})",
        field=field,
    )
