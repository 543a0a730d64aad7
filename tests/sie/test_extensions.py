"""The extensions: neutral settings are bit-identical to the paper, closed forms hold, bad input fails."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from asara.cli.main import app
from asara.models.sie import SieOptions, simulate, trajectory
from asara.montecarlo.sampling import sample_inputs
from asara.scenarios import sie as scenarios
from asara.scenarios.sie_extensions import EXTENSIONS

runner = CliRunner()


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["sie", "run", *args, "--json"])
    assert result.exit_code == 0, result.output
    record: dict[str, object] = json.loads(result.output)
    return record


@pytest.fixture(scope="module")
def baseline() -> dict[str, object]:
    return run_json("paper-baseline", "-n", "30000", "--seed", "8")


@pytest.mark.parametrize("extension", EXTENSIONS, ids=[e.name for e in EXTENSIONS])
def test_neutral_setting_is_bit_identical(extension: object, baseline: dict[str, object]) -> None:
    sets = [arg for item in extension.neutral for arg in ("--set", item)]  # type: ignore[attr-defined]
    neutral = run_json("paper-baseline", "-n", "30000", "--seed", "8", *sets)
    assert neutral == baseline


@pytest.mark.parametrize("extension", EXTENSIONS, ids=[e.name for e in EXTENSIONS])
def test_each_extension_preset_changes_results(extension: object, baseline: dict[str, object]) -> None:
    changed = run_json(extension.preset, "-n", "30000", "--seed", "8")  # type: ignore[attr-defined]
    assert changed["cells"] != baseline["cells"]


def test_extensions_command_lists_neutral_settings() -> None:
    result = runner.invoke(app, ["sie", "extensions", "--json"])
    records = json.loads(result.output)
    assert {r["name"] for r in records} == {
        "data",
        "ramp",
        "compute",
        "bottlenecks",
        "continual_learning",
        "correlations",
    }
    for record in records:
        assert {"name", "description", "neutral"} <= record.keys()
        assert all("=" in item for item in record["neutral"])


def paper_inputs(n: int, seed: int = 4) -> dict[str, np.ndarray]:
    scenario = scenarios.load("paper-baseline")
    return sample_inputs(scenario.distributions(), scenario.input_names(), seed, 0, n)


def test_neutral_per_sample_values_are_bit_identical() -> None:
    x = paper_inputs(20_000)
    core = [x[k] for k in ("speedup", "returns", "limit_years", "parallel_penalty")]
    plain = simulate(*core)
    ones = np.ones(20_000)
    neutral = simulate(
        *core,
        per_sample={"compute_growth_per_year": ones, "substitution_elasticity": ones, "data_share": 0 * ones},
    )
    np.testing.assert_array_equal(plain.max_doublings, neutral.max_doublings)
    np.testing.assert_array_equal(plain.end_months, neutral.end_months)


def test_retraining_fraction_one_equals_the_paper_retraining_variant() -> None:
    x = paper_inputs(20_000)
    core = [x[k] for k in ("speedup", "returns", "limit_years", "parallel_penalty")]
    options = SieOptions(retraining="paper")
    paper = simulate(*core, options=options)
    phi = simulate(*core, options=options, per_sample={"retraining_fraction": np.ones(20_000)})
    np.testing.assert_array_equal(paper.end_months, phi.end_months)
    continual = simulate(*core, options=options, per_sample={"retraining_fraction": np.zeros(20_000)})
    np.testing.assert_array_equal(continual.end_months, simulate(*core).end_months)


@pytest.mark.parametrize(("r", "growth", "gamma", "share"), [(0.6, 4.0, 0.0, 0.5), (0.3, 2.5, 0.5, 0.3)])
def test_balanced_growth_matches_closed_form(r: float, growth: float, gamma: float, share: float) -> None:
    """g_S = [r (1 + gamma) + r_comp] g_C / (1 - r), r_comp = r (1 - alpha) / alpha, for r < 1."""
    options = SieOptions(
        constant_r=True,
        horizon_months=2400.0,
        compute_growth_per_year=growth,
        compute_labour_exponent=gamma,
        labour_share=share,
    )
    path = trajectory(8.0, r, 1e6, 0.3, options)
    g_compute = math.log(growth) / 12.0
    r_comp = r * (1 - share) / share
    expected = (r * (1 + gamma) + r_comp) * g_compute / (1 - r)
    simulated = math.log(2.0) / path.doubling_months[-1]
    assert simulated == pytest.approx(expected, rel=1e-6)


def test_elasticity_near_one_matches_cobb_douglas() -> None:
    x = paper_inputs(5_000)
    core = [x[k] for k in ("speedup", "returns", "limit_years", "parallel_penalty")]
    growth = {"compute_growth_per_year": np.full(5_000, 3.0)}
    cobb_douglas = simulate(*core, per_sample=growth)
    ces = simulate(*core, per_sample={**growth, "substitution_elasticity": np.full(5_000, 1.0 + 1e-9)})
    finished = cobb_douglas.doublings > 0
    np.testing.assert_allclose(ces.end_months[finished], cobb_douglas.end_months[finished], rtol=1e-5)
    assert np.mean(ces.max_doublings == cobb_douglas.max_doublings) > 0.999


def test_ces_step_matches_fine_step_ode() -> None:
    """The step form multiplies successive doubling times by 2^x with x from the exact change of the CES
    research input over the doubling; a fine-step integration of d log2 S/dt = P0 R^lambda S^-beta gives the
    same ratios of successive doubling times to within a few percent."""
    p, r, share, sigma, f = 0.3, 1.5, 0.5, 0.5, 8.0
    rho = (sigma - 1) / sigma
    lam, beta = p / share, p / r
    options = SieOptions(
        constant_r=True, substitution_elasticity=sigma, labour_share=share, horizon_months=1e4
    )
    path = trajectory(f, r, 1e6, p, options)
    step_ratios = path.doubling_months[2:12] / path.doubling_months[1:11]

    def log2_research(s: np.ndarray) -> np.ndarray:
        return np.log2(share * 2.0 ** (rho * s) + (1 - share)) / rho

    s = np.linspace(0, 12, 1_200_001)
    pace = (f / 3.0) * 2.0 ** (lam * log2_research(s) - beta * s)  # doublings per month
    elapsed = np.concatenate(([0.0], np.cumsum(np.diff(s) / pace[:-1])))
    doubling_times = np.diff(np.interp(np.arange(13), s, elapsed))
    ode_ratios = doubling_times[1:11] / doubling_times[:10]
    np.testing.assert_allclose(step_ratios, ode_ratios, rtol=0.05)


def test_copula_gives_the_requested_rank_correlation() -> None:
    scenario = scenarios.load("extension-correlated-inputs")
    x = sample_inputs(scenario.distributions(), scenario.input_names(), 1, 0, 100_000, scenario.copula())
    rho = stats.spearmanr(x["returns"], x["parallel_penalty"]).statistic
    assert rho == pytest.approx(0.5, abs=0.01)
    assert abs(stats.spearmanr(x["returns"], x["speedup"]).statistic) < 0.01
    # the marginals are untouched
    assert x["returns"].min() >= 0.4 and x["returns"].max() <= 3.6


def test_uncertain_extension_parameter_becomes_an_input() -> None:
    scenario = scenarios.load("extension-ramp")
    assert scenario.input_names()[4:] == ("ramp_months", "ramp_start_speedup")
    summary = run_json("extension-ramp", "-n", "3000")
    assert summary["samples"] == 3000


BAD = {
    "not positive semi-definite": (
        [
            "--set",
            'correlations=[{inputs=["returns","parallel_penalty"],rank=0.9},'
            '{inputs=["returns","speedup"],rank=0.9},{inputs=["speedup","parallel_penalty"],rank=-0.9}]',
        ],
        "positive semi-definite",
    ),
    "unknown correlated input": (
        ["--set", 'correlations=[{inputs=["returns","colour"],rank=0.5}]'],
        "colour",
    ),
    "data share above one": (["--set", "data.share=1.5"], "data.share"),
    "negative labour share": (["--set", "compute.labour_share=-0.2"], "compute.labour_share"),
    "retraining fraction above one": (
        ["--set", "continual_learning.retraining_fraction=2"],
        "retraining_fraction",
    ),
    "ramp ends before it starts": (
        ["--set", "ramp.shape=linear", "--set", "ramp.months=-5"],
        "before it starts",
    ),
    "unknown ramp shape": (["--set", "ramp.shape=zigzag"], "ramp.shape"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_extension_input(case: str) -> None:
    args, fragment = BAD[case]
    result = subprocess.run(
        [sys.executable, "-m", "asara.cli.main", "sie", "run", "paper-baseline", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
