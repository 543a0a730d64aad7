"""Figures show the library's numbers: checked against per-sample data, closed forms and the input data."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from matplotlib.collections import LineCollection
from scipy import optimize

from asara import sie
from asara.errors import InputError
from asara.models.sie import trajectory
from asara.report import plots

SEED = 11
SAMPLES = 4000


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[sie.SieSummary, Any]:
    out = tmp_path_factory.mktemp("run")
    summary = sie.run("paper-baseline", SAMPLES, SEED, out_dir=out)
    return summary, pq.read_table(out / "samples.parquet")


def wilson_by_definition(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson interval as the set of p0 whose score test accepts: |phat - p0| <= z sqrt(p0 (1-p0) / n)."""
    phat = successes / n

    def gap(p0: float) -> float:
        return abs(phat - p0) - z * math.sqrt(p0 * (1 - p0) / n)

    # The two roots of the gap, one on each side of phat (at phat itself the gap is negative).
    low = 0.0 if successes == 0 else optimize.brentq(gap, 1e-15, min(phat, 1 - 1e-12), xtol=1e-14)
    high = 1.0 if successes == n else optimize.brentq(gap, max(phat, 1e-12), 1 - 1e-15, xtol=1e-14)
    return low, high


def test_compression_curve_matches_per_sample_counts(baseline_run: tuple[sie.SieSummary, Any]) -> None:
    summary, table = baseline_run
    s = summary.scenario.software_share
    for months in (12.0, 4.0):
        per_sample = table.column(f"max_doublings_{months:g}mo").to_numpy()
        years, probability, low, high = plots.compression_curve(summary, months)
        assert years[0] == 0 and probability[0] == 1
        for k in range(1, years.size):
            doublings = round(years[k] * 4 / s)
            successes = int((per_sample >= doublings).sum())
            assert probability[k] == successes / SAMPLES
            expected_low, expected_high = wilson_by_definition(successes, SAMPLES)
            assert low[k] == pytest.approx(expected_low, abs=1e-9)
            assert high[k] == pytest.approx(expected_high, abs=1e-9)
        assert np.all(np.diff(probability) <= 0)


def test_cdf_figure_draws_each_scenario_in_each_window(baseline_run: tuple[sie.SieSummary, Any]) -> None:
    summary, _ = baseline_run
    other = sie.run("paper-constant-r", SAMPLES, SEED)
    figure = plots.compression_cdf([summary, other])
    axes = figure.axes
    assert [a.get_title() for a in axes] == [
        "Years of progress compressed into 12 months",
        "Years of progress compressed into 4 months",
    ]
    for axis, months in zip(axes, (12.0, 4.0), strict=True):
        lines = [
            line for line in axis.get_lines() if line.get_label() in ("paper-baseline", "paper-constant-r")
        ]
        assert [line.get_label() for line in lines] == ["paper-baseline", "paper-constant-r"]
        for line, run in zip(lines, (summary, other), strict=True):
            years, probability, _, _ = plots.compression_curve(run, months)
            np.testing.assert_array_equal(line.get_xdata(), years)
            np.testing.assert_array_equal(line.get_ydata(), probability)
        assert len(axis.collections) == 2  # one error band per scenario


def test_cdf_rejects_a_missing_window(baseline_run: tuple[sie.SieSummary, Any]) -> None:
    summary, _ = baseline_run
    with pytest.raises(InputError, match="no 6-month window"):
        plots.compression_cdf([summary], windows=[6.0])
    with pytest.raises(InputError):
        plots.compression_cdf([])


def test_trajectories_are_the_runs_first_samples(baseline_run: tuple[sie.SieSummary, Any]) -> None:
    summary, table = baseline_run
    paths = plots.sample_trajectories(summary.scenario, 5, SEED)
    rows = table.slice(0, 5).to_pylist()
    for (inputs, path), row in zip(paths, rows, strict=True):
        for name in ("speedup", "returns", "limit_years", "parallel_penalty"):
            assert inputs[name] == row[name]
        # The path ends as the vectorized run recorded this sample.
        assert len(path.times) - 1 == row["doublings"]
        assert path.max_doublings[12.0] == row["max_doublings_12mo"]
        # N = (4 / s) * limit_years doublings to the ceiling.
        assert path.ceiling_doublings == pytest.approx(4 / 0.5 * row["limit_years"])


def test_trajectory_figure_marks_ceilings_and_horizon(baseline_run: tuple[sie.SieSummary, Any]) -> None:
    summary, _ = baseline_run
    figure = plots.trajectories(summary.scenario, 3, SEED)
    left, right = figure.axes
    paths = plots.sample_trajectories(summary.scenario, 3, SEED)
    steps = [line for line in left.get_lines() if line.get_drawstyle() == "steps-post"]
    assert len(steps) == 3
    for line, (inputs, _) in zip(steps, paths, strict=True):
        expected = trajectory(
            inputs["speedup"], inputs["returns"], inputs["limit_years"], inputs["parallel_penalty"]
        )
        np.testing.assert_allclose(line.get_xdata(), expected.times)
        np.testing.assert_array_equal(line.get_ydata(), np.arange(expected.times.size))
    horizontal = sorted(
        float(line.get_ydata()[0]) for line in left.get_lines() if line.get_linestyle() == ":"
    )
    assert horizontal == pytest.approx(sorted(8 * inputs["limit_years"] for inputs, _ in paths))
    vertical = [float(line.get_xdata()[0]) for line in right.get_lines() if line.get_linestyle() == "--"]
    assert vertical == [48.0]  # the horizon
    with pytest.raises(InputError):
        plots.trajectories(summary.scenario, 0, SEED)


def test_trajectory_axes_stop_at_the_horizon() -> None:
    # Seed 0's fifth run ends with a doubling of about two million months (r barely above 0 just below
    # its ceiling); the axes must still show the 48 months that matter.
    scenario = sie.load("paper-baseline")
    paths = plots.sample_trajectories(scenario, 8, 0)
    assert max(float(path.times[-1]) for _, path in paths) > 1e6
    figure = plots.trajectories(scenario, 8, 0)
    for axis in figure.axes:
        low, high = axis.get_xlim()
        assert -2.0 < low <= 0.0 and 48.0 < high < 52.0


def test_ramp_trajectories_mark_asara() -> None:
    scenario = sie.load("paper-gradual-boost")
    figure = plots.trajectories(scenario, 2, 3)
    left, _ = figure.axes
    vertical = sorted(float(line.get_xdata()[0]) for line in left.get_lines() if line.get_linestyle() == "--")
    assert vertical == [60.0, 60.0 + 48.0]  # ASARA after the 60-month ramp, then the horizon
    assert figure.get_suptitle() == ""  # one ASARA and one horizon for every run


def test_sampled_ramp_trajectories_mark_each_runs_asara_and_horizon() -> None:
    # extension-ramp samples the ramp's length, which ends at ASARA: each run has its own ASARA month
    # (not the median's 60) and horizon 48 months after it.
    scenario = sie.load("extension-ramp")
    paths = plots.sample_trajectories(scenario, 4, 0)
    lengths = [inputs["ramp_months"] for inputs, _ in paths]
    assert len(set(lengths)) == 4
    for (_, path), length in zip(paths, lengths, strict=True):
        assert path.asara_months == length and path.total_months == length + 48.0
    figure = plots.trajectories(scenario, 4, 0)
    for axis in figure.axes:
        circles = [float(line.get_xdata()[0]) for line in axis.get_lines() if line.get_marker() == "o"]
        assert circles == lengths
        dashed = [float(line.get_xdata()[0]) for line in axis.get_lines() if line.get_linestyle() == "--"]
        assert dashed == [length + 48.0 for length in lengths]  # no single ASARA line at 60
        assert axis.get_xlim()[1] == pytest.approx(1.06 * (max(lengths) + 48.0))
    assert "own ASARA month and horizon" in figure.get_suptitle()
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    for label, length in zip(labels, lengths, strict=True):
        assert label.endswith(f", ASARA at {length:.3g} mo")


SENSITIVITY = {
    "p_3y_12mo": [
        {
            "input": "speedup",
            "first": 0.21,
            "first_ci": [0.18, 0.25],
            "total": 0.30,
            "total_ci": [0.26, 0.33],
        },
        {
            "input": "returns",
            "first": 0.52,
            "first_ci": [0.47, 0.55],
            "total": 0.61,
            "total_ci": [0.58, 0.66],
        },
    ],
    "p_10y_4mo": [
        {"input": "speedup", "first": 0.05, "first_ci": [0.01, 0.08], "total": 0.12, "total_ci": [0.1, 0.15]},
        {"input": "returns", "first": 0.4, "first_ci": [0.35, 0.46], "total": 0.5, "total_ci": [0.45, 0.55]},
    ],
}


def _bar_widths(axis: Any) -> list[float]:
    return [patch.get_width() for patch in axis.patches]


def test_sensitivity_bars_show_the_indices_and_intervals() -> None:
    figure = plots.sensitivity_bars(SENSITIVITY, {"p_3y_12mo": "three years"})
    first_axis = figure.axes[0]
    assert first_axis.get_title() == "three years"
    assert _bar_widths(first_axis) == [0.21, 0.52, 0.30, 0.61]
    # Error bars span exactly the intervals.
    segments = [
        seg
        for collection in first_axis.collections
        if isinstance(collection, LineCollection)
        for seg in collection.get_segments()
    ]
    spans = sorted((round(float(seg[0][0]), 9), round(float(seg[1][0]), 9)) for seg in segments)
    assert spans == sorted([(0.18, 0.25), (0.47, 0.55), (0.26, 0.33), (0.58, 0.66)])
    assert [t.get_text() for t in first_axis.get_yticklabels()] == ["speedup", "returns"]


def test_saved_json_panels_get_readable_titles_and_constant_outputs_a_note() -> None:
    # Saved JSON carries only column keys; a cell key becomes its title, other names stay.
    rows = SENSITIVITY["p_3y_12mo"]
    data = {"p_3y_12mo": rows, "p_3_33y_4mo": None, "max_doublings_12mo": rows}
    figure = plots.sensitivity_bars(data, title="run")
    titles = [axis.get_title() for axis in figure.axes if axis.get_visible()]
    assert titles == ["≥3 years in ≤12 months", "≥3.33 years in ≤4 months", "max_doublings_12mo"]
    constant = figure.axes[1]
    assert not constant.axison and "constant" in constant.texts[0].get_text()
    assert figure.get_suptitle() == "run"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "sensitivity"),
        ({"p": "x"}, "sensitivity.p"),
        ({"p": 3}, "sensitivity.p"),
        (
            {"p": [{"input": "x", "mu_star": 0.1, "mu_star_ci": [0, 0.2], "mu": 0.1, "sigma": 0}]},
            "sensitivity.p.0",
        ),
        ({"p": [{"first": 0.1}]}, "sensitivity.p.0"),
        ({"p": [{**SENSITIVITY["p_3y_12mo"][0], "first": math.nan}]}, "sensitivity.p.0.first"),
        ({"p": [{**SENSITIVITY["p_3y_12mo"][0], "total_ci": [0.1]}]}, "sensitivity.p.0.total_ci"),
    ],
)
def test_sensitivity_rejects_malformed_data(data: Any, field: str) -> None:
    with pytest.raises(InputError) as caught:
        plots.sensitivity_bars(data)
    assert caught.value.field == field


EXPLAIN = {
    "p_3y_12mo": {
        "baseline": 0.5,
        "changed": 0.62,
        "total_change": 0.12,
        "attributions": [
            {"change": "returns", "value": 0.2, "standard_error": 0.01},
            {"change": "ramp", "value": -0.08, "standard_error": 0.005},
        ],
    }
}


def test_waterfall_steps_add_up_from_baseline_to_changed() -> None:
    figure = plots.explanation_waterfall(EXPLAIN)
    (axis,) = [a for a in figure.axes if a.get_visible()]
    bars = axis.patches
    bottoms = [bar.get_y() for bar in bars]
    heights = [bar.get_height() for bar in bars]
    assert heights == pytest.approx([0.5, 0.2, -0.08, 0.62])
    assert bottoms == pytest.approx([0.0, 0.5, 0.7, 0.0])
    assert [t.get_text() for t in axis.get_xticklabels()] == ["baseline", "returns", "ramp", "changed"]
    whiskers = [c for c in axis.collections if isinstance(c, LineCollection)]
    half_widths = sorted(
        round(abs(float(seg[1][1] - seg[0][1])) / 2, 9) for c in whiskers for seg in c.get_segments()
    )
    assert half_widths == pytest.approx(sorted([1.96 * 0.01, 1.96 * 0.005]))


def test_waterfall_rejects_malformed_data() -> None:
    with pytest.raises(InputError) as caught:
        plots.explanation_waterfall({"p": {"baseline": 0.1, "changed": 0.2, "attributions": [{"value": 1}]}})
    assert caught.value.field == "explain.p.attributions.0"
    with pytest.raises(InputError):
        plots.explanation_waterfall({"p": {"baseline": "x", "changed": 0.2, "attributions": []}})


PERSONA = {
    "scenario": "toy",
    "documents": 1000.0,
    "half_life": 1001.0,
    "misaligned_share": {"prior": 0.5, "posterior": 0.001},
    "shares": {"prior": {"luigi": 0.5, "naive": 0.5}, "posterior": {"luigi": 0.999, "naive": 0.001}},
    "curve": [
        {"documents": 1.0, "misaligned_share": 0.33, "shares": {"luigi": 0.67, "naive": 0.33}},
        {"documents": 10.0, "misaligned_share": 0.08, "shares": {"luigi": 0.92, "naive": 0.08}},
        {"documents": 1000.0, "misaligned_share": 0.001, "shares": {"luigi": 0.999, "naive": 0.001}},
    ],
}


def test_persona_curve_on_a_log_axis_with_the_half_life() -> None:
    figure = plots.persona_curve(PERSONA)
    (axis,) = figure.axes
    assert axis.get_xscale() == "log"
    total = next(line for line in axis.get_lines() if line.get_label() == "misaligned (total)")
    np.testing.assert_array_equal(total.get_ydata(), [0.5, 0.33, 0.08, 0.001])
    # The corpus, then where its odds have halved again: the half-life counts further documents.
    vertical = [line for line in axis.get_lines() if line.get_linestyle() == ":"]
    assert [float(v.get_xdata()[0]) for v in vertical] == [1000.0, 2001.0]
    no_half_life = plots.persona_curve({**PERSONA, "half_life": None})
    assert len([line for line in no_half_life.axes[0].get_lines() if line.get_linestyle() == ":"]) == 1
    assert not [
        line for line in axis.get_lines() if line.get_linestyle() == "--" and line.get_label().startswith("_")
    ]
    floored = plots.persona_curve({**PERSONA, "residual": {"limit_share": 0.0455}})
    floors = [
        line
        for line in floored.axes[0].get_lines()
        if line.get_linestyle() == "--" and line.get_label().startswith("_")  # unlabelled: not a family
    ]
    assert [float(line.get_ydata()[0]) for line in floors] == [0.0455]
    with pytest.raises(InputError):
        plots.persona_curve({**PERSONA, "curve": []})


def test_persona_curve_from_a_real_run() -> None:
    from asara.report.persona import run_record

    record = run_record("naive-decay")
    figure = plots.persona_curve(record)
    total = next(line for line in figure.axes[0].get_lines() if line.get_label() == "misaligned (total)")
    assert list(total.get_ydata()[1:]) == [p["misaligned_share"] for p in record["curve"]]


def test_save_png_and_svg(tmp_path: Path) -> None:
    png = plots.save(plots.persona_curve(PERSONA), tmp_path / "a.png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    svg = plots.save(plots.persona_curve(PERSONA), tmp_path / "a.svg")
    assert "<svg" in svg.read_text(encoding="utf-8")
    with pytest.raises(InputError, match=r"\.png or \.svg"):
        plots.save(plots.persona_curve(PERSONA), tmp_path / "a.jpg")
    with pytest.raises(InputError, match="no such directory"):
        plots.save(plots.persona_curve(PERSONA), tmp_path / "missing" / "a.png")


def test_convergence_curves_plot_the_running_estimates_of_one_run() -> None:
    from asara.analysis.convergence import convergence
    from asara.montecarlo import runner

    scenario = sie.load("paper-baseline")
    result = runner.run(scenario.model(), scenario.distributions(), 5000, SEED)
    curves = convergence(result)
    record = {"scenario": "x", "outputs": {k: [p.to_dict() for p in v] for k, v in curves.items()}}
    figure = plots.convergence_curves(record)
    (axis,) = figure.axes
    assert axis.get_xscale() == "log" and len(axis.lines) == len(curves)
    for line, (name, points) in zip(axis.lines, curves.items(), strict=True):
        assert list(line.get_xdata()) == [p.samples for p in points]
        assert list(line.get_ydata()) == [p.estimate.probability for p in points]
        assert line.get_ydata()[-1] == result.proportion(name).probability
    with pytest.raises(InputError):
        plots.convergence_curves({"outputs": {}})
