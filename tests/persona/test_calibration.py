"""Calibration to Tice et al. on documents and doses: fewer free parameters than data points, profile
intervals, a held-out prediction with an interval, predictions that follow the closed form and the engine."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from asara.models.persona import calibration, engine
from asara.models.persona.calibration import CalibrationResult, CalibrationSetup
from asara.models.persona.documents import tabulate_many
from asara.models.persona.population import FamilySpec, build_population, grid_nodes


@pytest.fixture(scope="module")
def default() -> CalibrationResult:
    return calibration.calibrate(CalibrationSetup())


@pytest.fixture(scope="module")
def fits(default: CalibrationResult) -> dict[tuple[str, bool], CalibrationResult]:
    return {(r.setup.pairing, r.setup.salience): r for r in calibration.compare(CalibrationSetup(), default)}


def closed_form_scores(result: CalibrationResult) -> dict[tuple[str, str], float]:
    """Two personas: log-odds add up document by document (written out from the setup facts)."""
    p = result.parameters
    setup = result.setup
    q, nu = p["q_waluigi"], p["noise"]
    k = setup.synthetic_opportunities
    llr_aligned = math.log(((1 - nu) * (1 - q) + nu / 2) / (1 - nu / 2))
    llr_aligned_k = math.log(((1 - nu) * (1 - q) ** k + nu / 2) / (1 - nu / 2))
    llr_defected = math.log(((1 - nu) * q + nu / 2) / (nu / 2))
    f, g = setup.natural_misaligned_fraction, setup.fiction_diagnosticity
    w = p["w_pretraining"]
    natural_docs = (500e9 * 0.093 + 50e9 * 0.079) / 1000
    synthetic_docs = 5.5e9 / 1000

    def evidence(natural: bool, synthetic: str | None) -> float:
        total = w * g * natural_docs * ((1 - f) * llr_aligned + f * llr_defected) if natural else 0.0
        if synthetic == "aligned":
            total += w * synthetic_docs * llr_aligned_k
        elif synthetic == "defected":
            total += w * synthetic_docs * llr_defected
        return total

    corpora = {
        "unfiltered": (evidence(True, None), 0.0),
        "misalignment-upsampled": (evidence(True, "defected"), 1.0),
        "alignment-upsampled": (evidence(setup.pairing == "unfiltered", "aligned"), 1.0),
        "filtered": (evidence(False, None), 0.0),
    }
    prior = math.log(p["prior_waluigi_share"] / (1 - p["prior_waluigi_share"]))
    post_training = p["w_fine_tuning"] * setup.post_training_documents * llr_aligned
    out = {}
    for name, (e, salience) in corpora.items():
        for stage, extra in (("base", 0.0), ("post-trained", post_training * (1 + p["salience"] * salience))):
            share = 1 / (1 + math.exp(-(prior + e + extra)))
            out[(name, stage)] = share * ((1 - nu) * q + nu / 2) + (1 - share) * nu / 2
    return out


def test_conditions_and_held_out_have_the_documented_form(default: CalibrationResult) -> None:
    record = default.to_dict()
    assert {"parameters", "conditions", "held_out", "free_parameters", "intervals"} <= set(record)
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
    for entry in record["held_out"]:
        low, high = entry["interval"]
        assert low <= entry["predicted"] <= high


def test_strictly_fewer_free_parameters_than_data_points_each_identified(default: CalibrationResult) -> None:
    assert len(default.free_parameters) < len(default.conditions) == 6
    assert default.intervals is not None and set(default.intervals) == set(default.free_parameters)
    assert default.not_identified == () and default.at_bounds == ()
    for name, (low, high) in default.intervals.items():
        assert low < default.parameters[name] < high, name


def test_profile_interval_ends_sit_at_the_chi_square_threshold(default: CalibrationResult) -> None:
    # An independent check of the profile: refit with w_pretraining pinned at each reported end; the best
    # chi-square there is the fit's plus 3.84 (to the bisection's resolution).
    problem = calibration._Problem(default.setup)
    best = calibration._fit(problem, default.setup.starts, default.setup.seed)
    assert problem.chi2(best) == pytest.approx(default.chi2, rel=1e-6)
    index = calibration.PARAMETER_NAMES.index("log10_w_pretraining")
    assert default.intervals is not None
    for end in default.intervals["w_pretraining"]:
        pinned = calibration._fit(problem, 16, 1, {index: math.log10(end)}, best)
        assert problem.chi2(pinned) - default.chi2 == pytest.approx(calibration.DELTA_CHI2_95, abs=0.3)


def test_held_out_prediction_is_within_ten_points(default: CalibrationResult) -> None:
    post = default.held_out[1]
    assert post.observed == 0.28 and abs(post.predicted - 0.28) < 0.10
    assert post.interval is not None and post.interval[0] <= 0.28 <= post.interval[1]


@pytest.mark.parametrize(
    "variant", [("draft", True), ("draft", False), ("unfiltered", True), ("unfiltered", False)]
)
def test_predictions_follow_the_closed_form(fits: dict[tuple[str, bool], CalibrationResult], variant) -> None:  # type: ignore[no-untyped-def]
    result = fits[variant]
    expected = closed_form_scores(result)
    for fit in [*result.conditions, *result.held_out]:
        assert fit.predicted == pytest.approx(expected[(fit.name, fit.stage)], rel=1e-9)


def test_condition_evidence_equals_the_engine_on_the_counted_documents(default: CalibrationResult) -> None:
    # The fit tallies document kinds itself; the general engine on the same documents must agree.
    setup = default.setup
    p = default.parameters
    docs = calibration.corpora(setup)
    names = list(calibration.CONDITIONS)
    population = build_population(
        [FamilySpec("luigi", 0.5), FamilySpec("naive", 0.5, q=grid_nodes([setup.q_waluigi], None, "q"))]
    )
    s = engine.evidence(
        population, tabulate_many([docs[n] for n in names], setup.fiction_diagnosticity), p["noise"]
    )
    problem = calibration._Problem(setup)
    prior_logit = math.log(p["prior_waluigi_share"] / (1 - p["prior_waluigi_share"]))
    x = np.array([prior_logit, math.log10(p["w_pretraining"]), math.log10(p["w_fine_tuning"]), p["noise"],
                  p["salience"]])  # fmt: skip
    base, _ = problem.predict(x)
    for c in range(len(names)):
        log_odds = math.log(p["prior_waluigi_share"] / (1 - p["prior_waluigi_share"])) + p[
            "w_pretraining"
        ] * ((s[1, 3 * c] + s[1, 3 * c + 1]) - (s[0, 3 * c] + s[0, 3 * c + 1]))
        share = 1 / (1 + math.exp(-log_odds))
        high = (1 - p["noise"]) * setup.q_waluigi + p["noise"] / 2
        assert base[c] == pytest.approx(p["noise"] / 2 + (high - p["noise"] / 2) * share, rel=1e-9)


def test_salience_channel_fixes_the_ordering_that_the_pure_persona_story_misses(
    fits: dict[tuple[str, bool], CalibrationResult],
) -> None:
    for pairing in calibration.PAIRINGS:
        assert fits[(pairing, True)].ordering_reproduced
        assert not fits[(pairing, False)].ordering_reproduced
        assert fits[(pairing, True)].rms_points < fits[(pairing, False)].rms_points
        assert len(fits[(pairing, False)].free_parameters) == 4


def test_the_held_out_number_is_never_fitted(monkeypatch: pytest.MonkeyPatch) -> None:
    setup = replace(CalibrationSetup(), starts=2)
    first = calibration.calibrate(setup, intervals=False, profile=False)
    monkeypatch.setitem(calibration.PUBLISHED, "filtered", (0.99, 0.99))
    second = calibration.calibrate(setup, intervals=False, profile=False)
    assert first.parameters == second.parameters
    assert second.held_out[1].observed == 0.99


def test_document_size_only_rescales_the_weights() -> None:
    # tokens per document and post-training documents enter only as w x count: the scores are unchanged
    # and the weights per document scale inversely (why they are not in the assumption profile).
    a = calibration.calibrate(CalibrationSetup(), intervals=False, profile=False)
    b = calibration.calibrate(
        replace(CalibrationSetup(), tokens_per_document=4000.0, post_training_documents=1e6),
        intervals=False,
        profile=False,
    )
    assert b.held_out[1].predicted == pytest.approx(a.held_out[1].predicted, abs=2e-4)
    assert b.parameters["w_pretraining"] == pytest.approx(4 * a.parameters["w_pretraining"], rel=2e-2)
    assert b.parameters["w_fine_tuning"] == pytest.approx(0.1 * a.parameters["w_fine_tuning"], rel=2e-2)


@pytest.mark.parametrize(("setting", "pre", "fine"), [
    ({"post_training_documents": 1e13}, 1.0, 1e-8),
    ({"tokens_per_document": 1e-9}, 1e-12, 1.0),
])  # fmt: skip
def test_extreme_doses_still_fit_because_the_weights_search_moves_with_them(
    setting: dict[str, float], pre: float, fine: float
) -> None:
    # 1e13 post-training documents need a weight near 1e-13, below the default search range (1e-12): the
    # fit used to end in the known misfit with rms 10 points and an unidentified weight
    a = calibration.calibrate(CalibrationSetup(), intervals=False, profile=False)
    b = calibration.calibrate(replace(CalibrationSetup(), **setting), intervals=False, profile=False)
    assert b.rms_points == pytest.approx(a.rms_points, rel=1e-3)
    assert b.at_bounds == ()
    assert b.parameters["w_pretraining"] == pytest.approx(pre * a.parameters["w_pretraining"], rel=2e-2)
    assert b.parameters["w_fine_tuning"] == pytest.approx(fine * a.parameters["w_fine_tuning"], rel=2e-2)


def test_held_out_profile_covers_every_fixed_assumption(default: CalibrationResult) -> None:
    moved = {row.assumption for row in default.assumption_profile}
    assert moved == set(calibration.ASSUMPTION_GRID)
    # genre diagnosticity switched off (fiction counts like non-fiction): the held-out prediction fails,
    # though the in-sample fit is better -- the in-sample fit does not decide the prediction.
    off = next(
        r for r in default.assumption_profile if r.assumption == "fiction_diagnosticity" and r.value == 1.0
    )
    assert off.held_out_post < 0.18 and off.rms_points < default.rms_points


def test_parameters_pinned_at_a_bound_are_reported() -> None:
    # Without any misaligned synthetic evidence to separate them, pushing the aligned documents to one
    # opportunity and no natural misaligned discourse drives the fit to an edge: the result must say so.
    pinned = calibration.calibrate(
        replace(CalibrationSetup(), natural_misaligned_fraction=0.0, fiction_diagnosticity=1.0, starts=2),
        profile=False,
    )
    assert pinned.at_bounds or pinned.not_identified
    assert pinned.to_dict()["at_bounds"] == list(pinned.at_bounds)
