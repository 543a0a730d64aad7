"""The persona scenario's [uncertainty] section: distributions for the model's inputs, so the generic
Monte Carlo, sensitivity and explanation code runs the persona model like any other."""

from __future__ import annotations

import numpy as np
import pytest

from asara.distributions import Fixed
from asara.errors import InputError
from asara.models.persona.model import INPUT_NAMES
from asara.montecarlo import runner
from asara.montecarlo.sampling import sample_inputs
from asara.scenarios import persona


def test_without_the_section_every_input_is_fixed_at_the_scenario_value() -> None:
    scenario = persona.load("naive-decay", ["stage_weights.pretraining=0.5"])
    distributions = scenario.distributions()
    assert set(distributions) == set(INPUT_NAMES) == set(scenario.model().input_names)
    assert distributions["w_pretraining"] == Fixed(kind="fixed", value=0.5)
    assert distributions["credibility"] == Fixed(kind="fixed", value=1.0)
    assert distributions["prior_shift"] == Fixed(kind="fixed", value=0.0)


def test_monte_carlo_mean_is_the_mean_of_per_sample_evaluations() -> None:
    scenario = persona.load("production-stories")
    model, distributions = scenario.model(), scenario.distributions()
    summary = runner.run(model, distributions, 3000, seed=2, chunk_size=1024)
    inputs = sample_inputs(distributions, model.input_names, 2, 0, 3000)
    direct = model.evaluate(inputs)
    for name in model.output_names:
        assert summary.mean(name) == pytest.approx(float(np.mean(direct[name])), rel=1e-12)
    assert 0 < summary.mean("misbehaviour_rate") < summary.mean("misaligned_share") < 1


@pytest.mark.parametrize(
    "override",
    [
        'uncertainty.credibility={kind="uniform",low=0.5,high=1.5}',
        'uncertainty.w_pretraining={kind="uniform",low=-1,high=1}',
        'uncertainty.nonsense={kind="fixed",value=1}',
    ],
)
def test_impossible_ranges_are_refused(override: str) -> None:
    with pytest.raises(InputError):
        persona.load("naive-decay", [override])
