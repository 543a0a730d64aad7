"""Calibration to Tice et al.: the fit uses the six numbers only, its predictions follow from a closed form,
and the salience comparison shows the known misfit."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from asara.models.persona import calibration
from asara.models.persona.calibration import CalibrationResult, CalibrationSetup


@pytest.fixture(scope="module")
def fits() -> dict[tuple[str, bool], CalibrationResult]:
    return {(r.setup.pairing, r.setup.salience): r for r in calibration.compare(CalibrationSetup())}


def closed_form_scores(result: CalibrationResult) -> dict[tuple[str, str], float]:
    """Two personas, one opportunity per document: log-odds add up document by document."""
    p = result.parameters
    setup = result.setup
    q, nu = p["q_waluigi"], p["noise"]
    llr_aligned = math.log(((1 - nu) * (1 - q) + nu / 2) / (1 - nu / 2))
    llr_defected = math.log(((1 - nu) * q + nu / 2) / (nu / 2))
    f = setup.natural_misaligned_fraction

    def evidence(natural: bool, synthetic: str | None) -> float:
        total = 0.0
        for w, tokens, share, synth in (
            (p["w_pretraining"], 500e9, 0.093, 5e9),
            (p["w_midtraining"], 50e9, 0.079, 0.5e9),
        ):
            if natural:
                n = tokens * share / 1000
                total += w * n * ((1 - f) * llr_aligned + f * llr_defected)
            if synthetic is not None:
                total += w * synth / 1000 * (llr_aligned if synthetic == "aligned" else llr_defected)
        return total

    corpora = {
        "unfiltered": (evidence(True, None), 0.0),
        "misalignment-upsampled": (evidence(True, "defected"), 1.0),
        "alignment-upsampled": (evidence(setup.pairing == "unfiltered", "aligned"), 1.0),
        "filtered": (evidence(False, None), 0.0),
    }
    prior = math.log(p["prior_waluigi_share"] / (1 - p["prior_waluigi_share"]))
    post_training = p["w_fine_tuning"] * 1e5 * llr_aligned
    out = {}
    for name, (e, salience) in corpora.items():
        for stage, extra in (("base", 0.0), ("post-trained", post_training * (1 + p["salience"] * salience))):
            share = 1 / (1 + math.exp(-(prior + e + extra)))
            out[(name, stage)] = share * ((1 - nu) * q + nu / 2) + (1 - share) * nu / 2
    return out


def test_conditions_and_held_out_have_the_documented_form(
    fits: dict[tuple[str, bool], CalibrationResult],
) -> None:
    record = fits[("draft", True)].to_dict()
    assert {"parameters", "conditions", "held_out"} <= set(record)
    assert [(c["name"], c["stage"], c["observed"]) for c in record["conditions"]] == [
        ("unfiltered", "base", 0.45),
        ("unfiltered", "post-trained", 0.34),
        ("misalignment-upsampled", "base", 0.51),
        ("misalignment-upsampled", "post-trained", 0.21),
        ("alignment-upsampled", "base", 0.09),
        ("alignment-upsampled", "post-trained", 0.09),
    ]
    assert [(c["name"], c["stage"], c["observed"]) for c in record["held_out"]] == [
        ("filtered", "base", None),
        ("filtered", "post-trained", 0.28),
    ]


@pytest.mark.parametrize(
    "variant", [("draft", True), ("draft", False), ("unfiltered", True), ("unfiltered", False)]
)
def test_predictions_follow_the_closed_form(fits: dict[tuple[str, bool], CalibrationResult], variant) -> None:  # type: ignore[no-untyped-def]
    result = fits[variant]
    expected = closed_form_scores(result)
    for fit in [*result.conditions, *result.held_out]:
        assert fit.predicted == pytest.approx(expected[(fit.name, fit.stage)], rel=1e-9)


def test_salience_channel_fixes_the_ordering_that_the_pure_persona_story_misses(
    fits: dict[tuple[str, bool], CalibrationResult],
) -> None:
    for pairing in calibration.PAIRINGS:
        assert fits[(pairing, True)].ordering_reproduced
        assert not fits[(pairing, False)].ordering_reproduced
        assert fits[(pairing, True)].rms_points < fits[(pairing, False)].rms_points
    assert fits[("draft", True)].rms_points < 3.0


def test_the_held_out_number_is_never_fitted(monkeypatch: pytest.MonkeyPatch) -> None:
    setup = replace(CalibrationSetup(), starts=2)
    first = calibration.calibrate(setup)
    monkeypatch.setitem(calibration.PUBLISHED, "filtered", (0.99, 0.99))
    second = calibration.calibrate(setup)
    assert first.parameters == second.parameters
    assert second.held_out[1].observed == 0.99


def test_fit_uses_exactly_the_six_numbers() -> None:
    problem = calibration._Problem(CalibrationSetup())
    x = [-1.0, -8.0, -8.0, -5.0, 0.1, 2.0]
    import numpy as np

    assert problem.residuals(np.array(x)).shape == (6,)


def test_parameters_pinned_at_a_bound_are_reported(fits: dict[tuple[str, bool], CalibrationResult]) -> None:
    # Without any misaligned discourse in the natural corpus the fit drives the pretraining weight, the
    # noise and the salience to the edges of the search: the result must say so.
    pinned = calibration.calibrate(replace(CalibrationSetup(), natural_misaligned_fraction=0.0, starts=2))
    assert {"w_pretraining", "noise"} <= set(pinned.at_bounds)
    assert pinned.to_dict()["at_bounds"] == list(pinned.at_bounds)
    assert fits[("draft", True)].at_bounds == ()
