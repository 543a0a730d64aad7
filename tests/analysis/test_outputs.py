"""Declared outputs: every model names each per-sample output once (kind, label, unit), and the runner,
the summary, the Parquet columns, the sweep table and the report are read from the declarations.

The proof that they are generic: a test model that adds one made-up output (one declaration plus the
line of ``evaluate`` that computes it) sees it in the summary, ``samples.parquet``, the sweep table and
the HTML report, with no other edit."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from asara import sie
from asara.analysis.counterfactual import output_columns
from asara.analysis.outputs import OutputSummary, markdown_table
from asara.analysis.sweep import run_sweep
from asara.cli import sie_sweep
from asara.cli.main import app
from asara.models.base import (
    Array,
    FloatArray,
    Model,
    evaluate_point,
    headline_names,
    histogram_names,
    summed_names,
)
from asara.models.registry import Output
from asara.models.sie.engine import END_CEILING, END_REASONS
from asara.models.sie.model import SieModel, window_column
from asara.montecarlo import runner
from asara.montecarlo.executors import SerialExecutor
from asara.montecarlo.sampling import BLOCK_SIZE, sample_inputs
from asara.report import html
from asara.report import persona as persona_report
from asara.scenarios import persona
from asara.scenarios.loader import list_presets
from asara.scenarios.sie import SieScenario
from asara.web.app import WebSettings, create_app

SIE_PRESETS = [preset.name for preset in list_presets("sie")]
PERSONA_PRESETS = [preset.name for preset in list_presets("persona")]

MADE_UP = Output(
    "ended_at_ceiling",
    "indicator",
    "run reached its ceiling",
    help="1 when the run stopped because it reached the effective limit.",
)


@dataclass(frozen=True)
class CeilingModel(SieModel):
    """The SIE model plus one made-up output: a declaration and the line that computes it."""

    @property
    def outputs(self) -> tuple[Output, ...]:
        return (*super().outputs, MADE_UP)

    def evaluate(self, inputs: Mapping[str, FloatArray]) -> dict[str, Array]:
        outputs = super().evaluate(inputs)
        outputs["ended_at_ceiling"] = (outputs["end_reason"] == END_CEILING).astype(np.float64)
        return outputs


@pytest.fixture
def made_up_output(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    plain = SieScenario.model

    def model(self: SieScenario) -> SieModel:
        base = plain(self)
        return CeilingModel(**{f.name: getattr(base, f.name) for f in fields(base)})

    monkeypatch.setattr(SieScenario, "model", model)
    yield


def _check_values(output: Output, values: Array) -> None:
    values = np.asarray(values)
    assert values.ndim == 1
    if output.kind == "indicator":
        assert set(np.unique(values)) <= {0.0, 1.0}
    elif output.kind == "count":
        assert np.issubdtype(values.dtype, np.integer) and values.min() >= 0
    elif output.kind == "category":
        assert np.issubdtype(values.dtype, np.integer)
        assert values.min() >= 0 and values.max() < len(output.categories)
    else:
        assert np.issubdtype(values.dtype, np.floating) and np.all(np.isfinite(values))


def _assert_declared_is_evaluated(model: Model, inputs: Mapping[str, FloatArray]) -> None:
    evaluated = model.evaluate(inputs)
    names = [o.name for o in model.outputs]
    assert len(names) == len(set(names))
    assert set(evaluated) == set(names), "evaluate returns exactly the declared outputs"
    for output in model.outputs:
        assert output.label
        _check_values(output, evaluated[output.name])
        assert len(evaluated[output.name]) == len(next(iter(inputs.values())))


@pytest.mark.parametrize("preset", SIE_PRESETS)
def test_every_sie_output_is_declared_and_every_declaration_is_evaluated(preset: str) -> None:
    scenario = sie.load(preset)
    model = scenario.model()
    inputs = sample_inputs(scenario.distributions(), model.input_names, 3, 0, 512, scenario.copula())
    _assert_declared_is_evaluated(model, inputs)
    # The declarations say what the model is: the cells are its headline indicators, the windows and
    # doublings are counts, end_reason is a category with the engine's names, end_months is in months.
    kinds = {o.name: o.kind for o in model.outputs}
    assert model.output_names == tuple(cell.key for cell in model.cells)
    assert all(kinds[window_column(m)] == "count" for m in model.options.windows_months)
    assert kinds["doublings"] == "count" and kinds["end_months"] == "continuous"
    end_reason = next(o for o in model.outputs if o.name == "end_reason")
    assert end_reason.categories == tuple(END_REASONS[code] for code in sorted(END_REASONS))
    assert next(o for o in model.outputs if o.name == "end_months").unit == "months"
    assert [next(o for o in model.outputs if o.name == c.key).label for c in model.cells] == [
        c.title for c in model.cells
    ]


@pytest.mark.parametrize("preset", PERSONA_PRESETS)
def test_every_persona_output_is_declared_and_every_declaration_is_evaluated(preset: str) -> None:
    scenario = persona.load(preset)
    model = scenario.model()
    inputs = sample_inputs(scenario.distributions(), model.input_names, 3, 0, 64)
    _assert_declared_is_evaluated(model, inputs)
    assert model.output_names == ("misbehaviour_rate", "misaligned_share")
    assert {o.kind for o in model.outputs} == {"continuous"} and all(o.unit for o in model.outputs)


@pytest.mark.parametrize("preset", SIE_PRESETS)
def test_parquet_columns_keep_their_order(preset: str) -> None:
    # The order written before outputs were declared (run folders and readers depend on it).
    scenario = sie.load(preset)
    model = scenario.model()
    windows = [window_column(m) for m in model.options.windows_months]
    cells = [cell.key for cell in model.cells]
    expected = [*model.input_names, *windows, "doublings", "end_months", "end_reason", *cells]
    assert sie.sample_columns(scenario) == expected


def test_a_cell_listed_twice_is_one_output_and_still_two_rows() -> None:
    scenario = sie.load("paper-baseline", ["cells=[{years=3,months=12},{years=3,months=12}]"])
    assert scenario.model().output_names == ("p_3y_12mo",)
    summary = sie.run(scenario, 2048, seed=1, workers=1)
    assert [c.cell.key for c in summary.cells] == ["p_3y_12mo", "p_3y_12mo"]
    assert summary.cells[0].estimate == summary.cells[1].estimate == summary.output("p_3y_12mo").estimate


def test_kinds_choose_what_a_run_keeps() -> None:
    model = sie.load("paper-baseline").model()
    windows = tuple(window_column(m) for m in model.options.windows_months)
    assert histogram_names(model.outputs) == (*windows, "doublings", "end_reason")
    assert summed_names(model.outputs) == ("end_months", *model.output_names)
    # Counterfactuals and tornado bars show what they showed before: headlines, then integer outputs.
    assert output_columns(model) == (*model.output_names, *windows, "doublings", "end_reason")
    both = (Output("a", "indicator", "a"), Output("b", "continuous", "b"))
    assert headline_names(both) == ("a",) and headline_names(both[1:]) == ("b",)


def test_run_summaries_match_the_per_sample_outputs_at_any_chunking() -> None:
    scenario = sie.load("paper-baseline")
    model, distributions = scenario.model(), scenario.distributions()
    n = 5000
    direct = model.evaluate(sample_inputs(distributions, model.input_names, 9, 0, n))
    runs = [runner.run(model, distributions, n, 9, chunk_size=size) for size in (1024, 3000, 8192)]
    for run in runs:
        for name in histogram_names(model.outputs):
            expected = np.bincount(np.asarray(direct[name], dtype=np.int64))
            assert run.counts[name][: expected.size].tolist() == expected.tolist()
            assert not run.counts[name][expected.size :].any()
        for name in model.output_names:
            assert run.proportion(name).successes == int(direct[name].sum())
    # Continuous outputs: the mean and its standard error, the same for every chunking.
    values = np.asarray(direct["end_months"], dtype=np.float64)
    mean, error = runs[0].mean_and_error("end_months")
    assert mean == pytest.approx(float(values.mean()), rel=1e-12)
    for run in runs[1:]:
        other_mean, other_error = run.mean_and_error("end_months")
        assert other_mean == mean
        assert other_error == error or (math.isnan(other_error) and math.isnan(error))
    # A few runs overflow with end times near the float range: their squares overflow and leave the
    # error undefined; without them the error is numpy's.
    if np.all(np.isfinite(values * values)):
        assert error == pytest.approx(float(values.std(ddof=1)) / math.sqrt(n), rel=1e-6)
    else:
        assert math.isnan(error)


def test_continuous_summary_against_numpy() -> None:
    scenario = persona.load("production-stories")
    model, distributions = scenario.model(), scenario.distributions()
    n = 3000
    direct = model.evaluate(sample_inputs(distributions, model.input_names, 2, 0, n))
    run = runner.run(model, distributions, n, 2, chunk_size=1024)
    for output in model.outputs:
        found = OutputSummary.from_run(output, run)
        values = np.asarray(direct[output.name])
        assert found.mean == pytest.approx(float(values.mean()), rel=1e-12)
        assert found.standard_error == pytest.approx(float(values.std(ddof=1)) / math.sqrt(n), rel=1e-6)
        record = found.to_dict()
        assert record["name"] == output.name and record["unit"] == output.unit
        assert set(record["summary"]) == {"mean", "standard_error"}


def test_count_quantiles_from_the_exact_histogram() -> None:
    values = np.array([0, 0, 1, 3, 3, 3, 7, 9, 9, 12])
    output = Output("x", "count", "x")
    found = OutputSummary(
        output, values.size, mean=float(values.mean()), histogram=tuple(np.bincount(values))
    )
    for q in (0.1, 0.25, 0.5, 0.7, 0.95, 1.0):
        assert found.quantile(q) == int(np.quantile(values, q, method="inverted_cdf"))
    assert found.describe() == "mean 4.7; median 3; 95th percentile 12"
    reasons = Output("why", "category", "why", categories=("a", "b", "c"))
    assert (
        OutputSummary(reasons, 4, histogram=(3, 0, 1)).describe() == "a 3 (75.00%), b 0 (0.00%), c 1 (25.00%)"
    )


def test_a_summary_reads_back_from_its_record_and_says_what_is_not_finite() -> None:
    summary = sie.run("paper-baseline", 3000, seed=5, workers=1)
    for found in summary.outputs:
        back = OutputSummary.from_dict(json.loads(json.dumps(found.to_dict())))
        assert back.to_dict() == found.to_dict()
        assert (back.heading(), back.describe()) == (found.heading(), found.describe())
    ended = Output("t", "continuous", "ended", "months")
    assert OutputSummary(ended, 10, mean=2.5, standard_error=0.25).describe() == "mean 2.5 ± 0.25"
    overflowed = OutputSummary(ended, 10, mean=6.3e246, standard_error=None).describe()
    assert overflowed.startswith("mean 6.3e+246 (standard error not finite")
    assert OutputSummary(ended, 1, mean=3.0).describe() == "mean 3 (no standard error from one sample)"
    for mean in (math.inf, None):
        infinite = OutputSummary(ended, 10, mean=mean)
        assert infinite.describe().startswith("mean not finite")
        assert infinite.to_dict()["summary"] == {"mean": None, "standard_error": None}
    for text in ("nan", "inf", "null", "None"):
        assert text not in overflowed.lower().split()
    broken = {**ended.to_dict(), "samples": 0, "summary": {"mean": 1.0, "standard_error": None}}
    with pytest.raises(ValueError):
        OutputSummary.from_dict(broken)
    with pytest.raises(ValueError):
        OutputSummary.from_dict({**broken, "samples": 3, "kind": "histogram"})


def test_the_summary_keeps_every_key_and_lists_the_declarations() -> None:
    summary = sie.run("paper-baseline", 3000, seed=5, workers=1)
    record = summary.to_dict()
    assert list(record) == [
        "model", "scenario", "seed", "samples", "version", "cells", "overflowed_samples", "end_reasons",
        "years_compressed", "outputs",
    ]  # fmt: skip
    model = summary.scenario.model()
    assert [o["name"] for o in record["outputs"]] == [o.name for o in model.outputs]
    by_name = {o["name"]: o for o in record["outputs"]}
    assert by_name["end_reason"]["summary"]["counts"] == record["end_reasons"]
    for cell in record["cells"]:
        key = next(c.key for c in model.cells if (c.years, c.months) == (cell["years"], cell["months"]))
        shown = by_name[key]["summary"]
        assert shown["probability"] == cell["probability"] and shown["successes"] == cell["successes"]
    histogram = by_name["max_doublings_12mo"]["summary"]["histogram"]
    assert sum(histogram) == record["samples"]
    survival = np.cumsum(histogram[::-1])[::-1]
    compressed = record["years_compressed"]["12"]
    assert [p["probability"] for p in compressed] == [s / record["samples"] for s in survival[1:]]


def test_a_made_up_output_appears_everywhere_without_other_edits(
    made_up_output: None, tmp_path: Path
) -> None:
    scenario = sie.load("paper-baseline", ["horizon_months=24"])
    # Summary: the output with its probability; the oracle is the run's own count of end reasons.
    summary = sie.run(scenario, 4096, seed=3, executor=SerialExecutor(), out_dir=tmp_path / "run")
    found = summary.output("ended_at_ceiling")
    assert found.output == MADE_UP and found.estimate is not None
    assert found.estimate.successes == summary.end_reasons["ceiling"] > 0
    assert summary.to_dict()["outputs"][-1]["name"] == "ended_at_ceiling"
    # samples.parquet: a column of its own, after the cells, equal to end_reason == ceiling.
    assert sie.sample_columns(scenario)[-1] == "ended_at_ceiling"
    table = pq.read_table(tmp_path / "run" / "samples.parquet")
    assert table.column_names == sie.sample_columns(scenario)
    ceiling = table.column("end_reason").to_numpy() == END_CEILING
    assert table.column("ended_at_ceiling").to_numpy().tolist() == ceiling.astype(float).tolist()
    # Sweep: its estimate and standard error columns, and a header with its label.
    swept = run_sweep("paper-baseline", ["horizon_months=24,36"], samples=2048, seed=3)
    columns = swept.to_table().column_names
    assert "ended_at_ceiling" in columns and "ended_at_ceiling_se" in columns
    for k, point_summary in enumerate(swept.summaries):
        share = point_summary.end_reasons["ceiling"] / 2048
        assert swept.to_table().column("ended_at_ceiling")[k].as_py() == share
    console = Console(width=400, record=True)
    console.print(sie_sweep._sweep_table(swept, stacked=False))
    assert MADE_UP.label in console.export_text()
    # Report: a row with its label.
    report = html.Report(["paper-baseline"], [summary], 3, 4096, explain_samples=0, trajectory_count=1)
    assert MADE_UP.label in html.render(report)
    # CLI text: `sie run` prints its line after the end reasons; `sie summary` reads it back from run.json.
    args = ["sie", "run", "paper-baseline", "--set", "horizon_months=24", "-n", "4096", "--seed", "3"]
    result = CliRunner().invoke(app, [*args, "--workers", "1", "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    line = f"{MADE_UP.label}: {found.describe()}"
    assert line in result.output.splitlines()
    assert result.output.index("runs ended by") < result.output.index(line)
    stored = CliRunner().invoke(app, ["sie", "summary", str(tmp_path / "cli")])
    assert stored.exit_code == 0, stored.output
    assert f"| {MADE_UP.label} | {found.describe()} |" in stored.output.splitlines()
    # Web: the run answer lists it with the same summary as the library's.
    with TestClient(create_app(WebSettings(workers=1, max_samples=10_000))) as client:
        body = {"scenario": scenario.to_document(), "samples": 4096, "seed": 3}
        answer = client.post("/api/sie/run", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outputs"][-1] == found.to_dict()


def test_persona_run_reads_the_model_at_the_scenarios_inputs() -> None:
    for preset in PERSONA_PRESETS:
        scenario = persona.load(preset)
        result = persona_report.run_result(scenario)
        model = scenario.model()
        after = evaluate_point(model, persona_report.point_inputs(scenario))
        before = evaluate_point(model, persona_report.point_inputs(scenario, before=True))
        assert result.posterior_misaligned == after["misaligned_share"]
        assert result.posterior_misbehaviour == after["misbehaviour_rate"]
        assert result.prior_misaligned == before["misaligned_share"]
        assert result.prior_misbehaviour == before["misbehaviour_rate"]
        # The analytic posterior (the shares and the curve) agrees with the model.
        misaligned = sum(
            share for family, share in result.posterior_shares.items() if family in _misaligned(scenario)
        )
        assert misaligned == pytest.approx(after["misaligned_share"], rel=1e-9, abs=1e-15)


def _misaligned(scenario: persona.PersonaScenario) -> set[str]:
    population = scenario.population()
    bad = population.misaligned_mask()
    return {name for name in population.present_families() if bad[population.family_mask(name)].all()}


@pytest.mark.parametrize("samples", [1, 1023, 1024, 1025, 5 * 1024, 7 * 1024 + 3])
def test_block_sums_equal_each_block_summed_alone(samples: int) -> None:
    rng = np.random.default_rng(samples)
    values = {
        "indicator": (rng.random(samples) < 0.3).astype(np.float64),
        "wide": rng.standard_normal(samples) * 10.0 ** rng.uniform(-3, 200, samples),
        "strided": rng.random((samples, 3))[:, 1],
    }
    names = tuple(values)
    sums = runner.block_sums(values, names, samples)
    squares = runner.block_sums(values, names, samples, square=True)
    edges = [*range(0, samples, BLOCK_SIZE), samples]
    for j, name in enumerate(names):
        for b in range(len(edges) - 1):
            block = np.asarray(values[name][edges[b] : edges[b + 1]], dtype=np.float64)
            assert sums[b, j] == block.sum()
            with np.errstate(over="ignore"):
                assert squares[b, j] == (block * block).sum()


def test_the_docs_list_the_declared_outputs() -> None:
    root = Path(__file__).resolve().parents[2] / "docs"
    sie_doc = (root / "sie.md").read_text(encoding="utf-8")
    regenerate = (
        "docs/{doc} lists other outputs than the model declares; print the table with "
        "python -c 'from asara.analysis.outputs import markdown_table; from asara import {model}; "
        'print(markdown_table({model}.load("{preset}").model().outputs))\' and paste it in'
    )
    assert markdown_table(sie.load("paper-baseline").model().outputs) in sie_doc, regenerate.format(
        doc="sie.md", model="sie", preset="paper-baseline"
    )
    persona_doc = (root / "persona.md").read_text(encoding="utf-8")
    assert markdown_table(persona.load("naive-decay").model().outputs) in persona_doc, regenerate.format(
        doc="persona.md", model="persona", preset="naive-decay"
    )
