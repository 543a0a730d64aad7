"""The calibrated evidential weights: one set from calibration to design.

The numbers are the default fit of :mod:`asara.models.persona.calibration` (draft pairing, salience on,
the fixed assumptions of :class:`~asara.models.persona.calibration.CalibrationSetup`), stored so that a
scenario run does not refit; ``tests/persona/test_weights.py`` refits and checks that they agree. They are
weights *per document of 1000 tokens* (the calibration's ``tokens_per_document``): a design document of
another length scales its ``copies`` accordingly. Midtraining is tied to pretraining per document (the
experiment cannot separate them: both stages carry AI documents in the same ratio in every condition),
and the update is order-free (log-odds add over documents), so stage order does not enter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from asara.models.persona.documents import TRAINING_STAGES

Source = Literal["calibrated", "scenario"]

TOKENS_PER_DOCUMENT = 1000.0
FICTION_DIAGNOSTICITY = 0.1
"""The calibration's assumption for genre diagnosticity (a fiction document carries this fraction of a
non-fiction one's evidence); not identified by the six published numbers, see docs/persona.md."""
PRIOR_WALUIGI_SHARE = 0.5592586977849242
PRIOR_WALUIGI_SHARE_INTERVAL = (0.0277, 0.647)
OUTSIDE_FACTOR = 10.0
"""A scenario weight more than this factor outside the calibrated interval gets a warning."""


@dataclass(frozen=True)
class StageWeight:
    """Evidential weight of one document in a training stage, with a 95% interval."""

    stage: str
    value: float
    low: float
    high: float
    source: Source = "calibrated"

    def to_dict(self) -> dict[str, object]:
        return {"value": self.value, "interval": [self.low, self.high], "source": self.source}


_PRETRAINING = (2.0327663384722786e-07, 1.211381741635357e-07, 9.26451312748415e-07)
_FINE_TUNING = (9.888027954573515e-06, 3.807520115027944e-06, 1.743589041130254e-05)
_CALIBRATED: dict[str, tuple[float, float, float]] = {
    "pretraining": _PRETRAINING,
    "midtraining": _PRETRAINING,
    "fine-tuning": _FINE_TUNING,
}


def calibrated_weights() -> dict[str, StageWeight]:
    """Calibrated evidential weight per training stage ("pretraining", "midtraining", "fine-tuning"):
    value and profile-likelihood 95% interval, per document of 1000 tokens."""
    return {stage: StageWeight(stage, *_CALIBRATED[stage]) for stage in TRAINING_STAGES}


def resolve_weights(scenario_weights: Mapping[str, float | None]) -> dict[str, StageWeight]:
    """Each stage's weight: the scenario's where it sets one, the calibrated one elsewhere."""
    calibrated = calibrated_weights()
    out: dict[str, StageWeight] = {}
    for stage in TRAINING_STAGES:
        value = scenario_weights.get(stage)
        base = calibrated[stage]
        if value is None:
            out[stage] = base
        else:
            out[stage] = StageWeight(stage, float(value), float(value), float(value), "scenario")
    return out


def outside_warnings(weights: Mapping[str, StageWeight]) -> list[str]:
    """One line per scenario-set weight more than 10x outside the calibrated interval."""
    calibrated = calibrated_weights()
    lines = []
    for stage, weight in weights.items():
        if weight.source != "scenario":
            continue
        ref = calibrated[stage]
        if weight.value > OUTSIDE_FACTOR * ref.high or weight.value < ref.low / OUTSIDE_FACTOR:
            factor = (
                weight.value / ref.high if weight.value > ref.high else ref.low / max(weight.value, 1e-300)
            )
            lines.append(
                f"warning: the scenario's {stage} weight {weight.value:.3g} is "
                f"{'above' if weight.value > ref.high else 'below'} the calibrated interval "
                f"[{ref.low:.3g}, {ref.high:.3g}] by a factor of {factor:.3g}"
            )
    return lines
