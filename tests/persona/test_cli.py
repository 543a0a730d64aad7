"""The `asara persona` commands as a user runs them: documented JSON keys, tables, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asara.cli.main import app
from asara.scenarios.loader import list_presets
from tests.error_line import one_error_line

runner = CliRunner()
REQUIRED_PRESETS = {"naive-decay", "test-aware", "production-stories", "patient-waluigi", "inoculation",
                    "tice-calibration"}  # fmt: skip


def invoke(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["persona", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_decay_json_is_a_list_with_the_documented_keys_and_the_closed_form() -> None:
    rows = invoke("decay", "--q-prior", "beta:1,1", "--opportunities", "1", "--documents", "1e6", "--json")
    assert isinstance(rows, list)
    assert [row["documents"] for row in rows] == [1, 10, 100, 1e3, 1e4, 1e5, 1e6]
    for row in rows:
        assert set(row) == {"documents", "odds_ratio", "half_life", "misaligned_share"}
        n = row["documents"]
        assert row["odds_ratio"] == pytest.approx(1 / (n + 1), rel=1e-12)
        assert row["half_life"] == pytest.approx(n + 1, rel=1e-9)
        # prior odds 1 (0.5 : 0.5), so the posterior odds are the odds ratio: share = 1 / (N + 2)
        assert row["misaligned_share"] == pytest.approx(1 / (n + 2), rel=1e-12)


def test_decay_ends_at_n_when_it_is_not_a_power_of_ten() -> None:
    rows = invoke("decay", "--q-prior", "beta:2,5", "--opportunities", "3", "--documents", "250", "--json")
    assert [row["documents"] for row in rows] == [1, 10, 100, 250]
    ratios = [row["odds_ratio"] for row in rows]
    assert ratios == sorted(ratios, reverse=True)
    halves = [row["half_life"] for row in rows]
    assert halves == sorted(halves)  # the estimated half-life grows


def test_decay_fixed_q_has_a_constant_half_life() -> None:
    rows = invoke("decay", "--q-prior", "0.5", "--opportunities", "1", "--documents", "100", "--json")
    assert [row["half_life"] for row in rows] == pytest.approx([1.0, 1.0, 1.0])
    assert rows[-1]["odds_ratio"] == pytest.approx(0.5**100, rel=1e-12)


def test_decay_table() -> None:
    result = runner.invoke(app, ["persona", "decay", "--documents", "1000"])
    assert result.exit_code == 0 and "half-life" in result.output and "1001" in result.output


def test_presets_listed_one_line_each() -> None:
    result = runner.invoke(app, ["persona", "presets"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    names = {line.split()[0] for line in lines}
    assert names >= REQUIRED_PRESETS and len(lines) == len(names)
    for preset in list_presets("persona"):
        assert preset.description


@pytest.mark.parametrize("preset", sorted(p.name for p in list_presets("persona")))
def test_every_preset_runs(preset: str) -> None:
    record = invoke("run", preset, "--json")
    assert {
        "scenario",
        "shares",
        "misaligned_share",
        "misbehaviour_rate",
        "half_life",
        "residual",
        "curve",
    } <= set(record)
    assert 0 <= record["misbehaviour_rate"]["posterior"] <= 1


def test_run_reports_the_untouched_test_aware_mass(tmp_path: Path) -> None:
    # exact Bayes (w = 1): the corpus has converged to its limit, so the odds cannot halve again
    record = invoke(
        "run", "test-aware", "--json", "--out", str(tmp_path), "--set", "stage_weights.pretraining=1"
    )
    # prior: test-aware 0.25, a in {0.5, 0.9, 0.99, 1} equally -> a = 1 holds 0.0625; Luigi 0.5
    assert record["residual"]["prior_mass"] == pytest.approx(0.0625, rel=1e-12)
    assert record["residual"]["limit_share"] == pytest.approx(0.0625 / 0.5625, rel=1e-12)
    assert record["half_life"] is None
    assert json.loads((tmp_path / "run.json").read_text()) == record


def test_run_table_and_set_override() -> None:
    result = runner.invoke(app, ["persona", "run", "naive-decay", "--set", "curve_max_documents=1e3", "--set",
                                 "stage_weights.pretraining=1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "after 1,000,000 documents" in result.output
    assert "half-life at the corpus size: 1e+06 further documents" in result.output


SCENARIO = """
description = "test"
[[families]]
family = "{family}"
weight = 0.5
[[families]]
family = "naive"
weight = 0.5
q = {{ kind = "fixed", value = {q} }}
[[documents]]
copies = {copies}
credibility = {credibility}
opportunities = {opportunities}
[stage_weights]
pretraining = 1
"""
GOOD = {"family": "luigi", "q": 0.5, "copies": 10, "credibility": 1, "opportunities": 1}


def scenario_file(tmp_path: Path, **changes: object) -> str:
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO.format(**{**GOOD, **changes}))
    return str(path)


def test_scenario_file_runs(tmp_path: Path) -> None:
    record = invoke("run", scenario_file(tmp_path), "--json")
    assert record["misaligned_share"]["posterior"] == pytest.approx(0.5**10 / (1 + 0.5**10), rel=1e-12)


def test_inoculation_keeps_the_prior_ratio() -> None:
    shares = invoke("run", "inoculation", "--json")["shares"]
    ratio = shares["posterior"]["x-always"] / shares["posterior"]["x-when-instructed"]
    assert ratio == pytest.approx(0.2 / 0.3, rel=1e-12)
    assert shares["posterior"]["never-x"] == 0


def test_optimize_spends_the_budget_on_documents_that_help() -> None:
    record = invoke("optimize", "production-stories", "--budget", "2e7", "--json")
    assert record["misbehaviour_rate"]["after"] < record["misbehaviour_rate"]["before"]
    assert sum(item["copies"] * item["cost"] for item in record["mix"]) <= 2e7 * (1 + 1e-9)
    assert record["misbehaviour_rate"]["after"] <= min(record["single_item"].values()) * (1 + 1e-9)
    # The evaluation set cannot see patient personas beyond its horizon: the table says what is left.
    text = runner.invoke(
        app, ["persona", "optimize", "production-stories", "--set", "stage_weights.pretraining=1"]
    ).stdout
    assert "note: the mix minimizes misbehaviour on the evaluation set only" in text


BAD_FILES = {
    "probability above one": ({"credibility": 1.5}, "documents.0.credibility"),
    "negative count": ({"copies": -3}, "documents.0.copies"),
    "count beyond the accurate range": ({"copies": 1e30}, "documents.0.copies"),
    "unknown family": ({"family": "wario"}, "families.0.family"),
    "q outside [0, 1]": ({"q": 1.2}, "families.1.q"),
    "negative opportunities in a document": ({"opportunities": -1}, "documents.0.opportunities"),
}
BAD_INPUTS = {
    "empty persona set": (["run", "naive-decay", "--set", "families=[]"], "families"),
    "noise outside [0, 1]": (["run", "naive-decay", "--set", "noise=-0.1"], "noise"),
    "bad q prior": (["decay", "--q-prior", "beta:0,1"], "q-prior"),
    "unreadable q prior": (["decay", "--q-prior", "gamma:1"], "q-prior"),
    "negative opportunities": (["decay", "--opportunities", "-1"], "opportunities"),
    "documents below one": (["decay", "--documents", "0"], "documents"),
    "unknown preset": (["run", "no-such-preset"], "scenario"),
    "optimize without menu": (["optimize", "naive-decay"], "optimize"),
    "negative budget": (["optimize", "production-stories", "--budget", "-5"], "budget"),
    "bad pairing": (["calibrate", "--pairing", "sideways"], "pairing"),
    "calibrate a scenario without the experiment": (["calibrate", "naive-decay"], "calibration"),
    "documents beyond the accurate range": (["decay", "--documents", "1e300"], "documents"),
    "budget buying too many copies": (["optimize", "production-stories", "--budget", "1e300"], "budget"),
    "output folder is a file": (["run", "naive-decay", "--out", "/dev/null"], "out"),
}


def assert_one_line_exit_2(args: list[str], fragment: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    line = one_error_line(["persona", *args], monkeypatch, capsys)
    assert fragment in line, line


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_scenario_file_is_one_line_and_exit_2(case: str, tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    changes, fragment = BAD_FILES[case]
    assert_one_line_exit_2(["run", scenario_file(tmp_path, **changes)], fragment, monkeypatch, capsys)


def test_a_corpus_beyond_the_accurate_range_in_total_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    # Each entry is within range; together they are not.
    path = tmp_path / "many.toml"
    families = '[[families]]\nfamily = "luigi"\n[[families]]\nfamily = "naive"\n'
    families += 'q = { kind = "beta", a = 1, b = 1 }\n'
    path.write_text(families + "[[documents]]\ncopies = 9e25\n" * 3, encoding="utf-8")
    assert_one_line_exit_2(["run", str(path)], "2.7e+26 copies", monkeypatch, capsys)


def test_impossible_corpus_is_one_line_and_exit_2(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "impossible.toml"
    path.write_text(
        '[[families]]\nfamily = "luigi"\n[[documents]]\nbehaviour = "defected"\nopportunities = 1\n'
    )
    assert_one_line_exit_2(["run", str(path)], "documents", monkeypatch, capsys)


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(case: str, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    args, fragment = BAD_INPUTS[case]
    assert_one_line_exit_2(args, fragment, monkeypatch, capsys)


def test_the_installed_command_exits_2_with_one_line() -> None:
    asara = Path(sys.executable).with_name("asara")
    command = [str(asara)] if asara.exists() else [sys.executable, "-m", "asara.cli.main"]
    result = subprocess.run(
        [*command, "persona", "decay", "--q-prior", "beta:1,1", "--opportunities", "-2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "opportunities" in result.stderr


def test_calibrate_json_has_the_documented_keys() -> None:
    record = invoke("calibrate", "--no-compare", "--json", "--set", "calibration.starts=4")
    assert {"parameters", "conditions", "held_out", "free_parameters", "intervals", "at_bounds"} <= set(
        record
    )
    assert {"w_pretraining", "w_midtraining", "w_fine_tuning", "noise", "salience"} <= set(
        record["parameters"]
    )
    assert len(record["free_parameters"]) < 6
    assert set(record["intervals"]) == set(record["free_parameters"])
    for name, (low, high) in record["intervals"].items():
        assert low <= record["parameters"][name] <= high
    for item in record["conditions"]:
        assert set(item) == {"name", "stage", "observed", "predicted"}
        assert 0 < item["predicted"] < 1
    for item in record["held_out"]:
        assert set(item) == {"name", "stage", "observed", "predicted", "interval"}
        assert item["interval"][0] <= item["predicted"] <= item["interval"][1]
    assert len(record["conditions"]) == 6 and {c["name"] for c in record["held_out"]} == {"filtered"}
    assert {row["assumption"] for row in record["held_out_profile"]} >= {"q_waluigi", "fiction_diagnosticity"}


def test_calibrate_table_says_whether_the_ordering_is_reproduced() -> None:
    result = runner.invoke(app, ["persona", "calibrate", "--no-salience", "--no-compare", "--set",
                                 "calibration.starts=4"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "held out" in result.output and "NOT reproduced" in result.output


def test_tice_calibration_run_reproduces_the_calibrated_unfiltered_condition() -> None:
    # The preset is the unfiltered corpus plus post-training under the calibrated weights (no
    # [stage_weights]): its predicted misbehaviour is the calibration's unfiltered post-trained score.
    from asara.models.persona import calibration

    record = invoke("run", "tice-calibration", "--json")
    fit = calibration.calibrate(intervals=False, profile=False)
    expected = next(
        c.predicted for c in fit.conditions if c.name == "unfiltered" and c.stage == "post-trained"
    )
    assert record["misbehaviour_rate"]["posterior"] == pytest.approx(expected, abs=2e-4)
    assert {w["source"] for w in record["evidence_weights"].values()} == {"calibrated"}


def test_run_json_names_each_stage_weight_and_its_source() -> None:
    record = invoke("run", "naive-decay", "--json", "--set", "stage_weights.fine_tuning=2e-5")
    weights = record["evidence_weights"]
    assert set(weights) == {"pretraining", "midtraining", "fine-tuning"}
    assert weights["pretraining"]["source"] == "calibrated" and weights["fine-tuning"]["source"] == "scenario"
    assert weights["fine-tuning"]["value"] == 2e-5


def test_a_weight_far_outside_the_calibrated_interval_is_warned_about() -> None:
    far = runner.invoke(
        app, ["persona", "run", "naive-decay", "--json", "--set", "stage_weights.pretraining=1"]
    )
    assert far.exit_code == 0 and "warning: the scenario's pretraining weight 1 is above" in far.stderr
    json.loads(far.stdout)
    near = runner.invoke(
        app, ["persona", "run", "naive-decay", "--json", "--set", "stage_weights.pretraining=1e-6"]
    )
    assert near.exit_code == 0 and "warning" not in near.stderr


def test_patient_waluigi_residual_is_the_tail_beyond_the_corpus_horizon() -> None:
    record = invoke("run", "patient-waluigi", "--json")
    # tau weights 32:16:8:4:2:1 over 0, 1, 3, 10, 30, 100; stories reach year 10, so tau 30 and 100 survive
    untouched = 0.5 * (2 + 1) / 63
    assert record["residual"]["prior_mass"] == pytest.approx(untouched, rel=1e-12)
    assert record["residual"]["limit_share"] == pytest.approx(untouched / (untouched + 0.5), rel=1e-12)
