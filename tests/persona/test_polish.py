"""What a new user of `asara persona ...` meets: consistent limits, clear notes, readable help and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from asara.analysis.sensitivity import varies
from asara.cli.main import app
from tests.error_line import one_error_line as error_line

runner = CliRunner()
Capture = pytest.CaptureFixture[str]


def one_error_line(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> str:
    return error_line(["persona", *args], monkeypatch, capsys)


# 1. one limit per command, stated the same way on both sides of it


@pytest.mark.parametrize(
    ("args", "limit"),
    [
        (["explain", "naive-decay", "test-aware"], "between 2 and 1,000,000"),
        (["sensitivity", "production-stories"], "between 2 and 1,048,576"),
        (["tornado", "production-stories", "--others", "sampled"], "between 2 and 1,000,000"),
    ],
)
@pytest.mark.parametrize("samples", ["0", "1", "99999999"])
def test_each_samples_limit_is_one_statement(
    args: list[str], limit: str, samples: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    line = one_error_line([*args, "--samples", samples], monkeypatch, capsys)
    assert limit in line and "samples" in line


def test_two_explain_samples_are_accepted() -> None:
    result = runner.invoke(app, ["persona", "explain", "naive-decay", "naive-decay", "-n", "2", "--json"])
    assert result.exit_code == 0, result.output


# 2. an output constant up to rounding has no indices, not a table of zeros


def test_varies_ignores_rounding_noise() -> None:
    assert not varies(np.full(8, 0.3))
    assert not varies(0.3 + np.arange(8) * 1e-17)
    assert not varies(1e6 + np.arange(8) * 1e-8)  # relative to the output's size
    assert varies(np.array([0.3, 0.3 + 1e-9]))
    assert varies(np.array([0.0, 1e-6]))


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_inoculation_sensitivity_says_its_outputs_do_not_vary(method: str) -> None:
    text = runner.invoke(app, ["persona", "sensitivity", "inoculation", "--method", method, "-n", "16"])
    assert text.exit_code == 0, text.output
    assert "0.000 [0.000, 0.000]" not in text.stdout
    assert "first order:" not in text.stdout and "mu*:" not in text.stdout  # no legend for no table
    assert "predicted misbehaviour (design mean 0.32): does not vary" in " ".join(text.stdout.split())
    record = json.loads(
        runner.invoke(
            app, ["persona", "sensitivity", "inoculation", "--method", method, "-n", "16", "--json"]
        ).stdout
    )
    assert record["misbehaviour_rate"] is None and record["misaligned_share"] is None


# 3. help text keeps its square brackets


def test_parameters_help_shows_the_families_table() -> None:
    result = runner.invoke(app, ["persona", "parameters", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "each [[families]] entry" in result.stdout and "[]" not in result.stdout


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("sensitivity", "[uncertainty]"),
        ("tornado", "[uncertainty]"),
        ("plan", "[optimize]"),
        ("calibrate", "[calibration]"),
        ("explain", "[uncertainty]"),
    ],
)
def test_help_sections_keep_their_brackets(command: str, shown: str) -> None:
    result = runner.invoke(app, ["persona", command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and shown in result.stdout


# 4-5. --set errors say what to do instead


def test_set_on_a_family_key_says_it_belongs_in_the_file(
    monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    line = one_error_line(["run", "naive-decay", "--set", "families.patience_hazard=1"], monkeypatch, capsys)
    assert "families.patience_hazard" in line and "[[families]] entry of the scenario file" in line
    assert "not by --set" in line


def test_an_unknown_stage_weight_names_the_key_and_the_valid_ones(
    monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    line = one_error_line(["run", "naive-decay", "--set", "stage_weights.fine-tuning=1"], monkeypatch, capsys)
    assert line == (
        "asara: error: stage_weights.fine-tuning: unknown key "
        "(valid keys: pretraining, midtraining, fine_tuning)"
    )


@pytest.mark.parametrize(
    ("body", "key", "valid"),
    [
        ('[[families]]\nfamily = "luigi"\ncolour = 1\n', "families.0.colour", "family, weight, q, a, tau"),
        (
            '[[families]]\nfamily = "luigi"\n[[families]]\nfamily = "naive"\n'
            'q = { kind = "beta", a = 1, b = 1, c = 2 }\n',
            "families.1.q.c",
            "kind, a, b)",
        ),
        (
            '[[families]]\nfamily = "luigi"\n[uncertainty]\nprior_shift = { kind = "uniform", low = 0, '
            "high = 1, z = 1 }\n",
            "uncertainty.prior_shift.z",
            "kind, low, high)",
        ),
    ],
)
def test_unknown_keys_in_a_file_list_the_valid_ones(
    body: str, key: str, valid: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(body, encoding="utf-8")
    line = one_error_line(["run", str(path)], monkeypatch, capsys)
    assert f"{key}: unknown key (valid keys: " in line and valid in line


# 6. explain's --set changes scenario B only, and says so


def test_explain_set_applies_to_b_only_and_the_help_says_so() -> None:
    help_text = runner.invoke(app, ["persona", "explain", "--help"], env={"COLUMNS": "200"}).stdout
    assert "Override one value of scenario B (only B; A is used as given)" in help_text
    args = ["persona", "explain", "naive-decay", "naive-decay", "--set", "noise=0.01", "-n", "4", "--json"]
    record = json.loads(runner.invoke(app, args).stdout)["misaligned_share"]
    assert record["total_change"] > 0  # A kept its noise (0), B took 0.01
    assert [a["change"] for a in record["attributions"]] == ["noise"]
    same = runner.invoke(app, ["persona", "explain", "naive-decay", "naive-decay", "--set", "noise=0"])
    assert "naive-decay and naive-decay with --set noise=0 make the same" in " ".join(same.stdout.split())


# 7. an unreachable residual target: the text and the table agree


PLAN_SCENARIO = """
[[families]]
family = "luigi"
weight = 0.5
[[families]]
family = "test-aware"
weight = 0.5
q = {{ kind = "fixed", value = 0.5 }}
a = {{ kind = "grid", values = [0.5, 1.0] }}
[optimize]
budget = 1000
[[optimize.menu]]
name = "test transcript [v2]"
stage = "test"
cost = 1
{more}
"""
PRODUCTION = '[[optimize.menu]]\nname = "production story"\nstage = "deployment"\ncost = 5\n'


def plan_text(tmp_path: Path, more: str, *args: str) -> str:
    path = tmp_path / "plan.toml"
    path.write_text(PLAN_SCENARIO.format(more=more), encoding="utf-8")
    result = runner.invoke(app, ["persona", "plan", str(path), *args])
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def test_an_unreachable_residual_shows_no_count_and_says_which_kinds_come_closest(tmp_path: Path) -> None:
    # a = 1 personas ignore tests: the residual stays at 0.25 / 0.75 whatever the tests
    text = plan_text(tmp_path, "", "--target", "0.1", "--objective", "residual")
    assert "the target is out of reach: the least residual these kinds reach is 0.3333" in text
    assert 'with "test transcript [v2]"' in text
    assert "one copy each is shown" not in text and "no kind has a count" in text
    assert "[unreachable, unreachable]" in text  # the interval column is not eaten as markup


def test_a_reachable_residual_marks_the_kinds_used(tmp_path: Path) -> None:
    text = plan_text(tmp_path, PRODUCTION, "--target", "0.1", "--objective", "residual")
    assert "used (one copy)" in text and "1 marks a kind the plan uses" in text
    assert "residual 0.5 -> 0 (target 0.1); total cost 5 cost units," in text


# 8. errors name what the user typed


@pytest.mark.parametrize(
    ("q_prior", "shown"),
    [
        ("1.5", "(got 1.5)"),
        ("-0.1", "(got -0.1)"),
        ("grid:0.5,1.5", "(got 1.5 in 'grid:0.5,1.5')"),
        ("uniform:0.5,1.5", "(got 1.5 in 'uniform:0.5,1.5')"),
        ("log-uniform:0.1,2", "(got 2 in 'log-uniform:0.1,2')"),
    ],
)
def test_a_q_prior_outside_0_1_names_the_flag(
    q_prior: str, shown: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    line = one_error_line(["decay", "--q-prior", q_prior], monkeypatch, capsys)
    assert line.startswith("asara: error: q-prior: q is a probability: must lie in [0, 1] ")
    assert shown in line and "families" not in line


@pytest.mark.parametrize("q_prior", ["0", "1", "grid:0,1", "uniform:0,1", "log-uniform:1e-3,1,50"])
def test_q_priors_on_the_edges_of_0_1_are_accepted(q_prior: str) -> None:
    result = runner.invoke(app, ["persona", "decay", "--q-prior", q_prior, "--documents", "10", "--json"])
    assert result.exit_code == 0, result.output


def test_a_directory_as_the_scenario_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    line = one_error_line(["run", str(tmp_path)], monkeypatch, capsys)
    assert line == f"asara: error: scenario: {tmp_path} is a directory, not a scenario file"
    missing = one_error_line(["run", str(tmp_path / "missing.toml")], monkeypatch, capsys)
    assert "no such file" in missing


# 9. labels and units


def words(args: list[str]) -> str:
    result = runner.invoke(app, ["persona", *args])
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def test_run_and_decay_both_say_documents() -> None:
    assert "half-life (documents)" in words(["run", "naive-decay"])
    assert "half-life (documents)" in words(["decay", "--documents", "100"])
    assert "(docs)" not in words(["run", "naive-decay"])


def test_calibrate_tables_head_every_column() -> None:
    text = words(["calibrate", "--no-compare", "--set", "calibration.starts=1"])
    assert "95% interval ┃ status ┃" in text and "95% interval ┃ role ┃" in text
    assert "held out" in text and "tied to w_pretraining per document" in text


def test_tornado_prints_the_declared_unit_of_the_prior_shift() -> None:
    text = words(["tornado", "production-stories"])
    assert "-1.6 -> 1.6 log-odds" in text
    assert "e-07 log-odds" not in text  # the stage weights declare no unit


def test_optimize_and_plan_name_the_cost_unit() -> None:
    text = words(["optimize", "production-stories"])
    assert "best mix for a budget of 2e+07 cost units" in text and "cost each (cost units)" in text
    plan = words(["plan", "production-stories", "--target", "0.05"])
    assert "cost each (cost units)" in plan and "cost units, 95% [" in plan


# 10. a weight of 0 switches its stage off, without a warning


def test_a_zero_stage_weight_does_not_warn_but_a_tiny_one_does() -> None:
    off = runner.invoke(app, ["persona", "run", "production-stories", "--set", "stage_weights.pretraining=0"])
    assert off.exit_code == 0 and off.stderr == ""
    tiny = runner.invoke(
        app, ["persona", "run", "production-stories", "--set", "stage_weights.pretraining=1e-12"]
    )
    assert tiny.exit_code == 0
    assert "warning: the scenario's pretraining weight 1e-12 is below the calibrated interval" in tiny.stderr


# 11. the progress of a sensitivity analysis covers the bootstrap, not only the evaluation


@pytest.mark.parametrize(("method", "samples", "rows"), [("sobol", 64, 64 * 7), ("morris", 8, 8 * 6)])
def test_sensitivity_progress_runs_to_the_end_of_the_indices(method: str, samples: int, rows: int) -> None:
    from asara import persona

    calls: list[tuple[int, int]] = []
    persona.sensitivity(
        "production-stories", method, samples, 0, on_progress=lambda d, t: calls.append((d, t))
    )
    outputs = 2  # predicted misbehaviour and misaligned share
    total = rows * (1 + outputs)
    assert {t for _, t in calls} == {total}
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == total
    assert rows in done and rows * 2 in done  # after the evaluation, and after the first output's indices
