"""One entry point per model and analysis (``asara.sie``, ``asara.persona``): each is callable from the
library, and what the CLI prints with ``--json`` is exactly the entry point's ``to_dict()``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from asara import persona, sie
from asara.cli.main import app
from asara.errors import InputError
from asara.scenarios.loader import read_document
from tests.fresh_python import fresh_python

runner = CliRunner()


def cli_json(*args: str) -> Any:
    """What ``asara ARGS --json`` prints on stdout, parsed (warnings go to stderr)."""
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def as_json(value: Any) -> Any:
    """A result as the CLI prints it: through JSON (tuples become lists; floats round-trip exactly)."""
    return json.loads(json.dumps(value, allow_nan=False))


# ------------------------------------------------------------------------------------------------ SIE


def test_sie_run_matches_the_cli() -> None:
    summary = sie.run("paper-baseline", 4096, 5)
    assert summary.samples == 4096
    assert cli_json("sie", "run", "paper-baseline", "-n", "4096", "-s", "5") == as_json(summary.to_dict())


def test_sie_run_takes_an_object_a_preset_or_a_path_with_overrides(tmp_path: Path) -> None:
    import tomli_w

    path = tmp_path / "baseline.toml"
    path.write_text(tomli_w.dumps(read_document("sie", "paper-baseline")), encoding="utf-8")
    overrides = ["inputs.returns.high=3"]
    by_name = sie.run("paper-baseline", 2048, 1, overrides=overrides).to_dict()
    by_path = sie.run(path, 2048, 1, overrides=overrides).to_dict()
    by_object = sie.run(sie.load("paper-baseline", overrides), 2048, 1).to_dict()
    unchanged = sie.run("paper-baseline", 2048, 1).to_dict()
    assert by_name["cells"] == by_path["cells"] == by_object["cells"]
    assert by_name["cells"] != unchanged["cells"]  # the override reached the run
    cli = cli_json("sie", "run", "paper-baseline", "-n", "2048", "-s", "1", "--set", overrides[0])
    assert cli == as_json(by_name)


def test_sie_run_default_samples_depend_on_target_se() -> None:
    assert sie.run("paper-baseline", seed=2, target_se=0.02).samples < sie.MAX_TARGET_SAMPLES
    with pytest.raises(InputError, match="between 1"):
        sie.run("paper-baseline", 0)


def test_sie_convergence_matches_the_cli() -> None:
    result = sie.convergence("paper-baseline", 5000, 2)
    points = next(iter(result.outputs.values()))
    assert [p.samples for p in points] == [1024, 2048, 4096, 5000]
    assert set(result.labels) == set(result.outputs)
    assert cli_json("sie", "convergence", "paper-baseline", "-n", "5000", "-s", "2") == as_json(
        result.to_dict()
    )


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_sie_sensitivity_matches_the_cli(method: str) -> None:
    samples = 64 if method == "sobol" else 8
    result = sie.sensitivity("paper-baseline", method, samples, 1)
    assert result.result.method == method
    record = result.to_record()
    assert record["outputs"] == result.to_dict() and set(record["labels"]) == set(result.to_dict())
    cli = cli_json("sie", "sensitivity", "paper-baseline", "--method", method, "-n", str(samples), "-s", "1")
    assert cli == as_json(result.to_dict())


def test_sie_sensitivity_refuses_bad_arguments() -> None:
    with pytest.raises(InputError, match="'sobol' or 'morris'"):
        sie.sensitivity("paper-baseline", "anova", 64)
    with pytest.raises(InputError, match="between 2"):
        sie.sensitivity("paper-baseline", "sobol", 1)


def test_sie_sweep_matches_the_cli() -> None:
    grid = ["inputs.returns.high=3,4"]
    result = sie.sweep("paper-baseline", grid, 2048, 3, workers=1)
    assert [point.values for point in result.points] == [(3,), (4,)]
    point = sie.run("paper-baseline", 2048, 3, overrides=["inputs.returns.high=4"])
    assert result.summaries[1].to_dict()["cells"] == point.to_dict()["cells"]  # each point is sie.run
    cli = cli_json("sie", "sweep", "paper-baseline", "--grid", grid[0], "-n", "2048", "-s", "3", "-w", "1")
    assert cli == as_json(result.to_dict())


def test_sie_explain_matches_the_cli() -> None:
    result = sie.explain("paper-baseline", "paper-retraining", 500, 4)
    assert result.changes == sie.explanation_changes("paper-baseline", "paper-retraining") == ["retraining"]
    for explanation in result.explanations:  # the attributions add up to the total change
        total = sum(a.value for a in explanation.attributions)
        assert total == pytest.approx(explanation.total_change, abs=1e-12)
    assert result.to_record()["outputs"] == result.to_dict()
    cli = cli_json("sie", "explain", "paper-baseline", "paper-retraining", "-n", "500", "-s", "4")
    assert cli == as_json(result.to_dict())


def test_sie_explain_takes_scenario_objects_and_reports_progress() -> None:
    calls: list[tuple[int, int]] = []
    baseline, changed = sie.load("paper-baseline"), sie.load("paper-retraining")
    result = sie.explain(baseline, changed, 300, 1, on_progress=lambda *progress: calls.append(progress))
    assert result.to_dict() == sie.explain("paper-baseline", "paper-retraining", 300, 1).to_dict()
    assert calls and all(total == 2 ** len(result.changes) for _, total in calls)


def test_sie_tornado_matches_the_cli() -> None:
    result = sie.tornado("paper-baseline")
    assert result.indicators == tuple(sie.load("paper-baseline").model().output_names)
    assert set(result.result.bars) <= set(sie.output_labels(result.scenario))
    assert cli_json("sie", "tornado", "paper-baseline") == as_json(result.to_dict())
    with pytest.raises(InputError, match="only with --others sampled"):
        sie.tornado("paper-baseline", samples=100)


def test_sie_trajectory_matches_the_cli() -> None:
    run = sie.trajectory("paper-baseline", 8.0, 1.2, 11.0, 0.3)
    record = run.to_dict()
    assert record["doublings"] == len(record["times_months"]) - 1 and record["compression"]
    flags = ["--speedup", "8", "--returns", "1.2", "--limit-years", "11", "--parallel-penalty", "0.3"]
    assert cli_json("sie", "trajectory", "paper-baseline", *flags) == as_json(record)
    with pytest.raises(InputError, match="positive"):
        sie.trajectory("paper-baseline", -1.0, 1.2, 11.0, 0.3)


def test_sie_explain_sample_matches_the_cli() -> None:
    result = sie.explain_sample("paper-baseline", 3, 1, {"returns": 0.8})
    assert result.to_dict()["inputs"]["returns"] == 0.8
    cli = cli_json(
        "sie", "explain-sample", "paper-baseline", "--sample", "3", "-s", "1", "--input", "returns=0.8"
    )
    assert cli == as_json(result.to_dict())
    with pytest.raises(InputError, match="non-negative"):
        sie.explain_sample("paper-baseline", 3, -1)


def test_sie_paired_and_the_web_answers_are_the_entry_points() -> None:
    from fastapi.testclient import TestClient

    from asara.web.app import create_app

    paired = sie.paired("paper-baseline", "paper-retraining", 4096, 2)
    assert [cell.key for cell in paired.cells] == list(sie.cell_titles(paired.scenario))
    explanation = sie.explain("paper-baseline", "paper-retraining", 300, 2)
    sensitivity = sie.sensitivity("paper-baseline", "morris", 4, 2)
    with TestClient(create_app()) as client:
        body = {"reference": "paper-baseline", "scenario": "paper-retraining", "samples": 4096, "seed": 2}
        assert client.post("/api/sie/paired", json=body).json() == as_json(paired.to_dict())
        body = {"baseline": "paper-baseline", "scenario": "paper-retraining", "samples": 300, "seed": 2}
        assert client.post("/api/sie/explain", json=body).json() == as_json(explanation.to_record())
        body = {"scenario": "paper-baseline", "method": "morris", "samples": 4, "seed": 2}
        answer = client.post("/api/sie/sensitivity", json=body).json()
        assert answer.pop("input_labels").keys() == set(sie.load("paper-baseline").input_names())
        assert answer == as_json(sensitivity.to_record())
        answer = client.post("/api/persona/run", json={"scenario": "production-stories"}).json()
        assert answer == as_json(persona.run("production-stories").to_dict())


# -------------------------------------------------------------------------------------------- persona


def test_persona_run_matches_the_cli(tmp_path: Path) -> None:
    result = persona.run("production-stories", out_dir=tmp_path)
    record = as_json(result.to_dict())
    assert record["scenario"] == "production-stories"
    assert json.loads((tmp_path / "run.json").read_text(encoding="utf-8")) == record
    assert cli_json("persona", "run", "production-stories") == record


def test_persona_plan_matches_the_cli() -> None:
    # the residual objective: the cheapest to plan (one copy of each kind decides it)
    result = persona.plan("production-stories", 0.05, "residual")
    assert result.result.kinds and result.to_dict()["objective"] == "residual"
    cli = cli_json("persona", "plan", "production-stories", "--objective", "residual")
    assert cli == as_json(result.to_dict())
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        persona.plan("production-stories", 2.0)


def test_persona_load_warns_through_the_callback() -> None:
    lines: list[str] = []
    loaded = persona.load("production-stories", ["noise=0.02"], warn=lines.append)
    assert loaded.noise == 0.02
    assert lines == loaded.weight_warnings()


def test_persona_decay_and_optimize_are_callable() -> None:
    rows = persona.decay("beta:1,1", 1.0, 1e4).to_list()
    assert [row["documents"] for row in rows] == [1.0, 10.0, 100.0, 1000.0, 10000.0]
    assert rows[-1]["odds_ratio"] < rows[0]["odds_ratio"]
    optimum = persona.optimize("production-stories").to_dict()
    rate = optimum["misbehaviour_rate"]
    assert optimum["scenario"] == "production-stories" and rate["after"] <= rate["before"]


def test_persona_calibrate_is_callable() -> None:
    fitted = persona.calibrate(compare=False)
    record = fitted.to_dict()
    assert record["comparison"] == [] and fitted.setup == fitted.result.setup
    with pytest.raises(InputError, match="no \\[calibration\\] section"):
        persona.calibrate("production-stories")


def test_persona_analyses_are_callable() -> None:
    explanation = persona.explain("production-stories", "inoculation", 20, 1)
    assert set(explanation.to_dict()) == set(persona.OUTPUT_LABELS)
    sensitivity = persona.sensitivity("production-stories", "morris", 4, 1).to_dict()
    assert set(sensitivity) == set(persona.OUTPUT_LABELS)
    tornado = persona.tornado("production-stories").to_dict()
    assert tornado["scenario"] == "production-stories" and tornado["outputs"]
    fixed = [f"stage_weights.{stage}=1e-6" for stage in ("pretraining", "midtraining", "fine_tuning")]
    with pytest.raises(InputError, match="no \\[uncertainty\\] section"):
        persona.tornado("naive-decay", overrides=fixed)


# ----------------------------------------------------------------------------------------- layering


def test_the_entry_points_load_neither_cli_nor_web() -> None:
    code = (
        "import sys\n"
        "import asara.sie, asara.persona\n"
        "print(sorted(m for m in sys.modules if m.startswith(('asara.cli', 'asara.web'))))\n"
    )
    result = fresh_python(code, check=True)
    assert result.stdout.strip() == "[]"
