"""Every scalar setting of the persona model, declared once (see :mod:`asara.models.registry`).

Two kinds of declaration:

* the model's per-sample uncertain inputs (``uncertainty.*``, type ``distribution``, each with its
  ``input`` name): in this order they are :data:`INPUT_NAMES`, the inputs of
  :class:`~asara.models.persona.model.PersonaModel`. Left unset, a calibrated stage weight is
  log-uniform over its calibrated 95% interval, ``credibility`` is fixed at 1 and ``prior_shift`` at 0
  (the declared neutral values);
* the scalar settings of the scenario file: top-level keys, ``stage_weights.*``, ``optimize.budget``,
  ``calibration.*`` and the patient family's properties. A key under ``families.`` is a key of every
  ``[[families]]`` entry.

The scenario schema (:mod:`asara.scenarios.persona`) takes each field's default, bounds and description from
here. Per-document and per-context keys (``copies``, ``opportunities``, ...) and the families' priors are
structure, not settings, and stay in the schema.
"""

from __future__ import annotations

from asara.models.persona.documents import MAX_DOCUMENTS
from asara.models.persona.weights import FICTION_DIAGNOSTICITY, calibrated_weights
from asara.models.registry import Parameter, by_input, by_key

_CALIBRATED = calibrated_weights()


def _stage_weight_input(stage: str) -> Parameter:
    calibrated = _CALIBRATED[stage]
    name = "w_" + stage.replace("-", "_")
    return Parameter(
        f"uncertainty.{name}",
        "distribution",
        {"kind": "log-uniform", "low": calibrated.low, "high": calibrated.high, "median": calibrated.value},
        f"{stage} weight per document",
        f"Evidential weight of one {stage} document of credibility 1 (1: exact Bayes), per document of 1000 "
        "tokens. Unset: the stage's weight (when the stage is calibrated: log-uniform over the calibrated "
        "95% interval in two halves that meet at the fitted weight, its median).",
        low=0.0,
        group="uncertain inputs",
        input=name,
        optional=True,
    )


PARAMETERS: tuple[Parameter, ...] = (
    # The model's per-sample uncertain inputs, in the model's input order.
    _stage_weight_input("pretraining"),
    _stage_weight_input("midtraining"),
    _stage_weight_input("fine-tuning"),
    Parameter(
        "uncertainty.credibility",
        "distribution",
        {"kind": "fixed", "value": 1.0},
        "credibility scale",
        "Multiplies every document's credibility (0: the corpus carries no evidence; 1: as written).",
        low=0.0,
        high=1.0,
        group="uncertain inputs",
        input="credibility",
        optional=True,
    ),
    Parameter(
        "uncertainty.prior_shift",
        "distribution",
        {"kind": "fixed", "value": 0.0},
        "prior log-odds shift",
        "Added to the log prior weight of every misaligned persona (a shift of the prior log-odds).",
        unit="log-odds",
        group="uncertain inputs",
        input="prior_shift",
        optional=True,
    ),
    # Scenario-level settings.
    Parameter(
        "noise",
        "number",
        0.0,
        "document noise \u03bd",
        "Probability that a coin replaces a document's behaviour (P = (1 - nu) P + nu / 2); the evaluation "
        "takes the same noise, so predicted misbehaviour is at least nu / 2.",
        low=0.0,
        high=1.0,
        group="noise",
    ),
    Parameter(
        "fiction_diagnosticity",
        "number",
        FICTION_DIAGNOSTICITY,
        "fiction diagnosticity",
        "Fraction of a non-fiction document's evidence that a fiction document carries (the calibration's "
        "assumption).",
        low=0.0,
        high=1.0,
        group="fiction diagnosticity",
    ),
    Parameter(
        "chekhov",
        "number",
        0.0,
        "Chekhov's gun in fiction",
        "In fiction documents a misaligned persona's q becomes 1 - (1 - q)(1 - chekhov): a danger set up "
        "in a story is expected to fire (0: off).",
        low=0.0,
        high=1.0,
        group="Chekhov's gun",
    ),
    Parameter(
        "curve_max_documents",
        "number",
        0.0,
        "curve's largest corpus",
        "The posterior-share curve runs over decades of documents up to the larger of this and the corpus's "
        "own count.",
        unit="documents",
        low=0.0,
        high=MAX_DOCUMENTS,
    ),
    # Evidential weights per training stage (unset: the calibrated weight).
    *(
        Parameter(
            f"stage_weights.{stage.replace('-', '_')}",
            "number",
            None,
            f"{stage} weight",
            f"Evidential weight w of one {stage} document of credibility 1 (1: exact Bayes; unset: the "
            "calibrated weight per 1000-token document).",
            low=0.0,
            group="stage weights",
            optional=True,
        )
        for stage in ("pretraining", "midtraining", "fine-tuning")
    ),
    # Properties of the patient family (zero for every other family).
    Parameter(
        "families.patience_hazard",
        "number",
        0.0,
        "patience hazard h\u2080",
        "Hazard per year in production that ends a patient persona's wait: the prior of Patient(tau) is "
        "multiplied by exp(-integral_0^tau h0 e^(g t) dt).",
        unit="per year",
        low=0.0,
        high=100.0,
        group="personas and their priors",
    ),
    Parameter(
        "families.hazard_growth",
        "number",
        0.0,
        "hazard growth g",
        "Growth rate of the patience hazard (for example with interpretability progress).",
        unit="per year",
        low=0.0,
        high=10.0,
        group="personas and their priors",
    ),
    Parameter(
        "families.rival_models",
        "number",
        0.0,
        "rival models M",
        "Other models that may take the opportunity first: a persona waiting tau years keeps it with "
        "probability exp(-M r tau).",
        unit="models",
        low=0.0,
        high=1e6,
        group="personas and their priors",
    ),
    Parameter(
        "families.rival_rate",
        "number",
        0.0,
        "rival rate r",
        "Rate per year at which each rival model takes the opportunity first.",
        unit="per year",
        low=0.0,
        high=100.0,
        group="personas and their priors",
    ),
    # The corpus optimizer.
    Parameter(
        "optimize.budget",
        "number",
        1e6,
        "optimizer budget",
        "What the optimizer may spend on the menu's documents, in the units of their cost per copy.",
        unit="cost units",
        low=0.0,
        low_open=True,
    ),
    # Fixed assumptions of the calibration to Tice et al. (the fitted quantities are not settings).
    Parameter(
        "calibration.pairing",
        "choice",
        "draft",
        "condition pairing",
        "Which corpus the alignment-upsampled condition adds its synthetic documents to: 'draft' (the "
        "filtered corpus) or 'unfiltered' (the natural AI discourse too).",
        choices=("draft", "unfiltered"),
    ),
    Parameter(
        "calibration.salience",
        "switch",
        True,
        "salience",
        "Post-training's weight is multiplied by (1 + sigma S), S = 1 where upsampled synthetic AI documents "
        "are present (sigma is fitted).",
    ),
    Parameter(
        "calibration.q_waluigi",
        "number",
        0.6,
        "Waluigi defection probability q",
        "Per-opportunity defection probability of the calibration's naive Waluigi.",
        low=0.0,
        high=1.0,
        low_open=True,
    ),
    Parameter(
        "calibration.natural_misaligned_fraction",
        "number",
        0.5,
        "misaligned share of natural AI discourse",
        "Share of the natural AI discourse in pretraining that depicts misaligned AI.",
        low=0.0,
        high=1.0,
    ),
    Parameter(
        "calibration.fiction_diagnosticity",
        "number",
        FICTION_DIAGNOSTICITY,
        "fiction diagnosticity (calibration)",
        "Fraction of a non-fiction document's evidence that natural (fiction) AI discourse carries in the "
        "calibration.",
        low=0.0,
        high=1.0,
    ),
    Parameter(
        "calibration.synthetic_opportunities",
        "number",
        10.0,
        "opportunities per synthetic document",
        "Opportunities k to defect that one synthetic aligned document shows.",
        low=0.0,
        high=1e6,
        low_open=True,
    ),
    Parameter(
        "calibration.tokens_per_document",
        "number",
        1000.0,
        "tokens per document",
        "Length of the calibration's documents; the weights are per document of this length.",
        unit="tokens",
        low=0.0,
        high=1e9,
        low_open=True,
    ),
    Parameter(
        "calibration.post_training_documents",
        "number",
        1e5,
        "post-training documents",
        "Documents in post-training (SFT and DPO), in the fine-tuning stage.",
        unit="documents",
        low=0.0,
        high=MAX_DOCUMENTS,
        low_open=True,
    ),
    Parameter(
        "calibration.score_sd_points",
        "number",
        2.0,
        "score measurement error",
        "Assumed standard deviation of a published score, in percentage points (weights the least squares).",
        unit="points",
        low=0.0,
        high=50.0,
        low_open=True,
    ),
    Parameter(
        "calibration.starts",
        "integer",
        6,
        "optimizer starts",
        "Starting points of the least-squares fit (the best fit is kept).",
        low=1,
        high=100,
    ),
    Parameter(
        "calibration.seed",
        "integer",
        0,
        "calibration seed",
        "Seed of the fit's random starting points.",
        low=0,
    ),
)

PARAMETERS_BY_KEY: dict[str, Parameter] = by_key(PARAMETERS)
PARAMETERS_BY_INPUT: dict[str, Parameter] = by_input(PARAMETERS)

INPUT_NAMES: tuple[str, ...] = tuple(PARAMETERS_BY_INPUT)
"""The persona model's uncertain inputs, in the model's order."""
