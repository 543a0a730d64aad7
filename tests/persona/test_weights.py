"""One set of evidence weights from calibration to design: the stored weights are the fit's, scenarios use
them (and their uncertainty) by default, and a scenario that leaves them far behind is warned."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asara.distributions import Fixed, LogUniform
from asara.models.persona import calibration
from asara.models.persona.weights import calibrated_weights, outside_warnings, resolve_weights
from asara.scenarios import persona
from asara.scenarios.loader import list_presets


def test_stored_weights_are_the_default_calibration() -> None:
    fit = calibration.calibrate(profile=False)
    stored = calibrated_weights()
    assert fit.intervals is not None
    for stage, name in (("pretraining", "w_pretraining"), ("midtraining", "w_pretraining"),
                        ("fine-tuning", "w_fine_tuning")):  # fmt: skip
        assert stored[stage].value == pytest.approx(fit.parameters[name], rel=1e-4)
        low, high = fit.intervals[name]
        assert stored[stage].low == pytest.approx(low, rel=2e-2)
        assert stored[stage].high == pytest.approx(high, rel=2e-2)
        assert stored[stage].low < stored[stage].value < stored[stage].high


@pytest.mark.parametrize("preset", sorted(p.name for p in list_presets("persona")))
def test_presets_use_the_calibrated_weights_and_cover_their_intervals(preset: str) -> None:
    scenario = persona.load(preset)
    assert {w.source for w in scenario.evidence_weights().values()} == {"calibrated"}
    assert scenario.weight_warnings() == []
    stored = calibrated_weights()
    for stage in ("pretraining", "midtraining", "fine-tuning"):
        low, high = scenario.distributions()["w_" + stage.replace("-", "_")].support
        assert low <= stored[stage].low and high >= stored[stage].high


def test_default_uncertainty_is_log_uniform_over_the_calibrated_interval() -> None:
    scenario = persona.load("naive-decay")
    pre = calibrated_weights()["pretraining"]
    default = scenario.distributions()["w_pretraining"]
    assert default == LogUniform(kind="log-uniform", low=pre.low, high=pre.high, median=pre.value)
    # centred on the fitted weight that `run` uses: half the samples on each side of it
    assert default.ppf(np.array([0.0, 0.5, 1.0])) == pytest.approx([pre.low, pre.value, pre.high], rel=1e-12)
    fixed = persona.load("naive-decay", ["stage_weights.pretraining=3e-7"])
    assert fixed.distributions()["w_pretraining"] == Fixed(kind="fixed", value=3e-7)


def test_warning_only_beyond_ten_times_the_interval() -> None:
    pre = calibrated_weights()["pretraining"]
    for value, warned in ((pre.high * 9.9, False), (pre.high * 10.1, True), (pre.low / 9.9, False),
                          (pre.low / 10.1, True), (0.0, True)):  # fmt: skip
        lines = outside_warnings(resolve_weights({"pretraining": value}))
        assert bool(lines) == warned, value
    narrow = persona.load(
        "naive-decay", ['uncertainty.w_pretraining={kind="log-uniform",low=1e-7,high=2e-7}']
    )
    assert any("does not cover" in line for line in narrow.weight_warnings())


def test_a_split_log_uniform_puts_half_its_mass_on_each_side_of_its_median() -> None:
    split = LogUniform(kind="log-uniform", low=1e-7, high=1e-5, median=2e-7)
    u = np.linspace(0, 1, 10_001)
    values = split.ppf(u)
    assert np.all(np.diff(values) > 0)  # a quantile function
    assert np.mean(values < 2e-7) == pytest.approx(0.5, abs=1e-4)
    assert split.ppf(np.array([0.25]))[0] == pytest.approx(math.sqrt(1e-7 * 2e-7))
    assert "median 2e-07" in split.describe()
    with pytest.raises(ValueError, match="median"):
        LogUniform(kind="log-uniform", low=1e-7, high=1e-5, median=1e-3)
