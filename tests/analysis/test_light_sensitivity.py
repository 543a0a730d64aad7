"""The numpy Sobol' sequence, Saltelli and Morris designs and estimators give SALib's and scipy's results bit
for bit (SALib and scipy.stats are the oracles, imported here only), and sensitivity runs without loading
SALib, pandas or scipy.stats."""

from __future__ import annotations

import importlib.resources
import json
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from SALib.analyze import morris as salib_morris_analyze  # the oracles: SALib is a dev dependency
from SALib.analyze import sobol as salib_sobol_analyze
from SALib.sample import morris as salib_morris_sample
from SALib.sample import sobol as salib_sobol_sample
from scipy import stats
from scipy.special import ndtri
from scipy.stats import qmc
from scipy.stats._sobol import _cscramble, _initialize_v

from asara import sie
from asara.analysis import sensitivity
from asara.analysis.morris_method import grid_step, morris_statistics, morris_trajectories
from asara.analysis.saltelli import saltelli_design, sobol_indices
from asara.analysis.sobol_sequence import (
    BITS,
    EMBEDDED_DIMENSIONS,
    JOE_KUO,
    direction_numbers,
    linear_matrix_scramble,
    sobol_points,
)
from asara.distributions import Distribution, Fixed, LogNormal, Uniform
from asara.models.base import Array, FloatArray, Model, headline_names
from asara.models.registry import Output
from tests.cli.test_extras import asara_core_only
from tests.fresh_python import fresh_python


def same_bits(mine: Any, theirs: Any) -> bool:
    """Equal shapes and identical float64 bit patterns (so -0.0 differs from 0.0)."""
    a, b = np.asarray(mine, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def scipy_sobol(dimensions: int, count: int, seed: int) -> FloatArray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "balance properties ... a power of 2"
        points: FloatArray = qmc.Sobol(dimensions, scramble=True, seed=seed).random(count)
    return points


def problem(dimensions: int) -> dict[str, Any]:
    return {
        "num_vars": dimensions,
        "names": [f"x{j}" for j in range(dimensions)],
        "bounds": [[0.0, 1.0]] * dimensions,
    }


def toy(x: FloatArray) -> FloatArray:
    """Nonlinear, with interactions, on the unit cube: every input matters differently."""
    weights = np.linspace(1.0, 0.1, x.shape[1])
    return np.sin(6 * x[:, 0]) + (x**2) @ weights + 3 * x[:, 0] * x[:, -1]


# --- Sobol' points ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dimensions", "count", "seed"),
    [
        *[(1, 8, 1), (1, 5, 2), (2, 16, 5), (6, 1000, 3), (13, 4096, 2**31 + 7), (80, 256, 7)],
        *[(80, 100, 11), (128, 64, 5), (129, 16, 3), (3, 1, 4), (3, 0, 4), (34, 1, 8)],
    ],
)
def test_sobol_points_are_scipys(dimensions: int, count: int, seed: int) -> None:
    assert same_bits(sobol_points(dimensions, count, seed), scipy_sobol(dimensions, count, seed))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, EMBEDDED_DIMENSIONS), st.integers(0, 300), st.integers(0, 2**32 - 1))
def test_sobol_points_are_scipys_for_any_shape_and_seed(dimensions: int, count: int, seed: int) -> None:
    assert same_bits(sobol_points(dimensions, count, seed), scipy_sobol(dimensions, count, seed))


def test_embedded_direction_numbers_are_scipys_file() -> None:
    source = importlib.resources.files("scipy.stats").joinpath("_sobol_direction_numbers.npz")
    with importlib.resources.as_file(source) as path, np.load(path) as table:
        polynomials, initial = table["poly"], table["vinit"]
    assert EMBEDDED_DIMENSIONS == len(JOE_KUO) >= 128
    for d, (polynomial, numbers) in enumerate(JOE_KUO):
        degree = int(polynomials[d]).bit_length() - 1
        assert polynomial == int(polynomials[d]) and len(numbers) == degree, d
        assert list(numbers) == [int(v) for v in initial[d, :degree]], d


def test_direction_numbers_and_scramble_are_scipys_kernels() -> None:
    expected = np.zeros((EMBEDDED_DIMENSIONS, BITS), dtype=np.uint32)
    _initialize_v(expected, dim=EMBEDDED_DIMENSIONS, bits=BITS)
    mine = direction_numbers(EMBEDDED_DIMENSIONS)
    assert mine.dtype == np.uint32 and np.array_equal(mine, expected)
    lower = np.tril(
        np.random.default_rng(1).integers(2, size=(EMBEDDED_DIMENSIONS, BITS, BITS), dtype=np.uint32)
    )
    scrambled = linear_matrix_scramble(expected, lower)
    _cscramble(dim=EMBEDDED_DIMENSIONS, bits=BITS, ltm=lower, sv=expected)  # in place, on scipy's copy
    assert np.array_equal(scrambled, expected)


def test_sobol_points_refuse_what_scipy_refuses() -> None:
    with pytest.raises(ValueError, match="dimensions"):
        sobol_points(0, 4, 1)
    with pytest.raises(ValueError, match="count"):
        sobol_points(2, (1 << BITS) + 1, 1)
    with pytest.raises(ValueError, match="dimensions"):
        direction_numbers(EMBEDDED_DIMENSIONS + 1)


def test_the_normal_quantile_is_scipy_stats_norm_ppf() -> None:
    for level in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999):
        assert same_bits(ndtri(0.5 + level / 2), stats.norm.ppf(0.5 + level / 2))


# --- Saltelli design and estimators ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dimensions", "base", "seed"), [(1, 16, 3), (3, 64, 17), (7, 256, 12345), (20, 32, 99)]
)
def test_saltelli_design_and_indices_are_salibs(dimensions: int, base: int, seed: int) -> None:
    spec = problem(dimensions)
    theirs = salib_sobol_sample.sample(spec, base, calc_second_order=False, scramble=True, seed=seed)
    design = saltelli_design(dimensions, base, seed)
    assert same_bits(design, theirs)
    y = toy(design)
    reference = salib_sobol_analyze.analyze(
        spec, y, calc_second_order=False, num_resamples=50, conf_level=0.9, seed=seed + 1
    )
    mine = sobol_indices(y, dimensions, resamples=50, confidence=0.9, seed=seed + 1)
    assert same_bits(mine.first, reference["S1"]) and same_bits(mine.first_half_width, reference["S1_conf"])
    assert same_bits(mine.total, reference["ST"]) and same_bits(mine.total_half_width, reference["ST_conf"])


def test_saltelli_estimators_on_a_degenerate_output_are_salibs() -> None:
    # Output that depends on one input only and takes two values: resamples can be constant.
    dimensions, base, seed = 2, 4, 6
    spec = problem(dimensions)
    y = (saltelli_design(dimensions, base, seed)[:, 0] > 0.5).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = salib_sobol_analyze.analyze(spec, y, calc_second_order=False, num_resamples=30, seed=seed)
    mine = sobol_indices(y, dimensions, resamples=30, confidence=0.95, seed=seed)
    for key, field in (
        ("S1", "first"),
        ("S1_conf", "first_half_width"),
        ("ST", "total"),
        ("ST_conf", "total_half_width"),
    ):
        assert same_bits(getattr(mine, field), reference[key]), key


def test_saltelli_estimators_refuse_a_partial_design() -> None:
    with pytest.raises(ValueError, match="multiple of 5"):
        sobol_indices(np.ones(11), 3, resamples=10, confidence=0.95, seed=1)
    with pytest.raises(ValueError, match="confidence"):
        sobol_indices(np.arange(10.0), 3, resamples=10, confidence=1.0, seed=1)


# --- Morris ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dimensions", "trajectories", "levels", "seed"),
    [(1, 16, 4, 3), (3, 64, 4, 17), (7, 50, 6, 12345), (20, 32, 4, 99)],
)
def test_morris_trajectories_and_statistics_are_salibs(
    dimensions: int, trajectories: int, levels: int, seed: int
) -> None:
    spec = problem(dimensions)
    theirs = salib_morris_sample.sample(spec, trajectories, num_levels=levels, seed=seed)
    grid = morris_trajectories(dimensions, trajectories, levels, seed)
    assert same_bits(grid, theirs)
    y = toy(grid)
    reference = salib_morris_analyze.analyze(
        spec, grid, y, num_resamples=40, conf_level=0.9, num_levels=levels, seed=seed + 1
    )
    mine = morris_statistics(grid, y, levels, resamples=40, confidence=0.9, seed=seed + 1)
    assert same_bits(mine.mu, reference["mu"]) and same_bits(mine.mu_star, reference["mu_star"])
    assert same_bits(mine.sigma, reference["sigma"])
    assert same_bits(mine.mu_star_half_width, reference["mu_star_conf"])


def test_morris_refuses_odd_levels_and_partial_trajectories() -> None:
    with pytest.raises(ValueError, match="even"):
        morris_trajectories(2, 4, 3, 1)
    grid = morris_trajectories(2, 4, 4, 1)
    with pytest.raises(ValueError, match="whole trajectories"):
        morris_statistics(grid[:-1], np.ones(len(grid) - 1), 4, resamples=10, confidence=0.95, seed=1)
    assert grid_step(4) == 4 / 6


# --- asara.analysis.sensitivity against the SALib path it replaced ------------------------------------


class Toy:
    """Three varying inputs (uniform, uniform, lognormal), one fixed, and an output that does not vary."""

    input_names = ("a", "b", "c", "fixed")
    outputs = (Output("y", "continuous", "y"), Output("constant", "continuous", "constant"))
    output_names = headline_names(outputs)

    def evaluate(self, inputs: Mapping[str, FloatArray]) -> dict[str, Array]:
        a, b, c, fixed = (np.asarray(inputs[n]) for n in self.input_names)
        y = np.sin(a) + 7 * np.sin(b) ** 2 + 0.1 * c**4 * np.sin(a) + fixed
        return {"y": y, "constant": np.full(np.shape(a), 3.0)}


TOY_INPUTS: dict[str, Distribution] = {
    "a": Uniform(kind="uniform", low=-math.pi, high=math.pi),
    "b": Uniform(kind="uniform", low=-math.pi, high=math.pi),
    "c": LogNormal(kind="lognormal", low=0.5, high=2.0),
    "fixed": Fixed(kind="fixed", value=2.0),
}


def salib_outputs(
    model: Model, distributions: Mapping[str, Distribution], method: str, samples: int, seed: int
) -> dict[str, Any]:
    """What ``sensitivity.sobol`` / ``morris`` computed with SALib before: that code, kept as the oracle."""
    varying = sensitivity.varying_inputs(model, distributions)
    spec = problem(len(varying))
    design_seed, bootstrap_seed = sensitivity._seeds(seed, 2)
    outputs: dict[str, Any] = {}
    bootstrap = {"num_resamples": sensitivity.BOOTSTRAP_RESAMPLES, "conf_level": sensitivity.CONFIDENCE}
    if method == "sobol":
        base = 1 << math.ceil(math.log2(samples))
        unit = salib_sobol_sample.sample(spec, base, calc_second_order=False, scramble=True, seed=design_seed)
    else:
        grid = salib_morris_sample.sample(
            spec, samples, num_levels=sensitivity.MORRIS_LEVELS, seed=design_seed
        )
        unit = (grid * (sensitivity.MORRIS_LEVELS - 1) + 0.5) / sensitivity.MORRIS_LEVELS
    values = sensitivity._evaluate(model, distributions, varying, unit, model.output_names, None)
    for name, y in values.items():
        if float(np.std(y)) == 0.0:
            outputs[name] = None
        elif method == "sobol":
            s = salib_sobol_analyze.analyze(
                spec, y, calc_second_order=False, seed=bootstrap_seed, **bootstrap
            )
            outputs[name] = [
                {
                    "input": n,
                    "first": float(s["S1"][j]),
                    "first_ci": [float(s["S1"][j] - s["S1_conf"][j]), float(s["S1"][j] + s["S1_conf"][j])],
                    "total": float(s["ST"][j]),
                    "total_ci": [float(s["ST"][j] - s["ST_conf"][j]), float(s["ST"][j] + s["ST_conf"][j])],
                }
                for j, n in enumerate(varying)
            ]
        else:
            e = salib_morris_analyze.analyze(
                spec, grid, y, num_levels=sensitivity.MORRIS_LEVELS, seed=bootstrap_seed, **bootstrap
            )
            step = sensitivity.MORRIS_LEVELS / (2 * (sensitivity.MORRIS_LEVELS - 1))
            outputs[name] = [
                {
                    "input": n,
                    "mu_star": float(e["mu_star"][j]) * step,
                    "mu_star_ci": [
                        max(float(e["mu_star"][j] * step - e["mu_star_conf"][j] * step), 0.0),
                        float(e["mu_star"][j] * step + e["mu_star_conf"][j] * step),
                    ],
                    "mu": float(e["mu"][j]) * step,
                    "sigma": float(e["sigma"][j]) * step,
                }
                for j, n in enumerate(varying)
            ]
    return outputs


def same_records(mine: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Equal float for float, bit for bit: JSON writes each float's shortest round-tripping repr, -0.0
    included, so equal texts mean equal bits."""
    return json.dumps(mine, sort_keys=True) == json.dumps(theirs, sort_keys=True)


@pytest.mark.parametrize(
    ("method", "samples", "seed"),
    [("sobol", 256, 0), ("sobol", 100, 7), ("morris", 30, 0), ("morris", 12, 5)],
)
def test_sensitivity_gives_what_salib_gave_on_a_toy_model(method: str, samples: int, seed: int) -> None:
    run = sensitivity.sobol if method == "sobol" else sensitivity.morris
    result = run(Toy(), TOY_INPUTS, samples, seed)
    assert result.fixed_inputs == ("fixed",) and result.outputs["constant"] is None
    assert same_records(result.outputs_dict(), salib_outputs(Toy(), TOY_INPUTS, method, samples, seed))


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sensitivity_gives_what_salib_gave_on_the_sie_model(method: str) -> None:
    scenario = sie.load("paper-baseline")
    model, distributions = scenario.model(), scenario.distributions()
    samples = 64 if method == "sobol" else 20
    run = sensitivity.sobol if method == "sobol" else sensitivity.morris
    mine = run(model, distributions, samples, 3).outputs_dict()
    assert mine == salib_outputs(model, distributions, method, samples, 3)


def test_sensitivity_loads_neither_salib_nor_pandas_nor_scipy_stats() -> None:
    code = """
import json, sys
import numpy as np
from asara.analysis.sensitivity import morris, sobol
from asara.distributions import Uniform
from asara.models.base import headline_names
from asara.models.registry import Output

class Linear:
    input_names = ("a", "b")
    outputs = (Output("y", "continuous", "y"),)
    output_names = headline_names(outputs)

    def evaluate(self, inputs):
        return {"y": 2 * np.asarray(inputs["a"]) + np.asarray(inputs["b"]) ** 2}

inputs = {n: Uniform(kind="uniform", low=0, high=1) for n in Linear.input_names}
first = sobol(Linear(), inputs, 64, 1).outputs["y"][0].first
mu_star = morris(Linear(), inputs, 10, 1).outputs["y"][0].mu_star
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("SALib", "pandas") or m[:11] == "scipy.stats")
print(json.dumps({"loaded": loaded, "first": first, "mu_star": mu_star}))
"""
    result = fresh_python(code)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["loaded"] == []
    assert 0.5 < report["first"] < 1 and report["mu_star"] == pytest.approx(1.0)  # 2 x a step of 0.5


@pytest.mark.parametrize(
    "args",
    [
        ["sie", "sensitivity", "paper-baseline", "-n", "16", "--json"],
        ["persona", "sensitivity", "production-stories", "--method", "morris", "-n", "4", "--json"],
    ],
)
def test_sensitivity_commands_run_without_any_extra(args: list[str]) -> None:
    # SALib, pandas and every optional package refused, as after a bare ``pip install asara``.
    result = asara_core_only(*args)
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)  # one list of records per output
    assert any(isinstance(records, list) and records for records in outputs.values()), outputs
