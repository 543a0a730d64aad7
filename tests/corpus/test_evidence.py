"""Evidence of a corpus against closed forms of the persona model, and the plan for a target share."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from asara.corpus.evidence import corpus_evidence
from asara.corpus.folder import CorpusFolder
from asara.corpus.plan import plan_mix
from asara.scenarios import persona
from tests.corpus.helpers import assert_one_line_exit_2, corpus, corpus_json, spec_file

Q = 0.1
K = 3
N = 40

SPEC = f"""
name = "fixed"
[[kinds]]
name = "story"
genre = {{ fiction = 1 }}
opportunities = {K}
years_in_production = 5
length_words = 120
credibility = 1
"""
PERSONA = f"""
name = "two-point"
fiction_diagnosticity = 1
[stage_weights]
pretraining = 1
[[families]]
family = "luigi"
weight = 0.7
[[families]]
family = "naive"
weight = 0.3
q = {{ kind = "grid", values = [{Q}] }}
"""


@pytest.fixture(scope="module")
def fixed_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evidence")
    directory = root / "c"
    corpus("new", str(directory), "--spec", spec_file(root, SPEC), "--documents", str(N), "--seed", "1")
    corpus("generate", str(directory), "--quiet")
    corpus("check", str(directory))
    corpus("dedupe", str(directory))
    return directory


def persona_file(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "persona.toml"
    path.write_text(PERSONA + extra, encoding="utf-8")
    return str(path)


def doses(directory: Path) -> float:
    """The corpus's evidence in 1000-token documents, the unit of the persona model's weights."""
    return float(corpus_json("status", str(directory))["completion_tokens"]) / 1000


def test_evidence_matches_the_closed_form_for_a_naive_waluigi(fixed_corpus: Path, tmp_path: Path) -> None:
    status = corpus_json("status", str(fixed_corpus))
    assert status["kept"] == N, status
    D = doses(fixed_corpus)
    report = corpus_json("evidence", str(fixed_corpus), "--persona", persona_file(tmp_path))
    assert set(report) >= {"documents", "misaligned_share_before", "misaligned_share_after", "odds_ratio",
                           "half_life", "residual"}  # fmt: skip
    assert report["documents"] == N
    ratio = (1 - Q) ** (K * D)
    assert report["odds_ratio"]["estimate"] == pytest.approx(ratio, rel=1e-9)
    assert report["misaligned_share_before"]["estimate"] == pytest.approx(0.3, rel=1e-12)
    odds_after = 0.3 / 0.7 * ratio
    assert report["misaligned_share_after"]["estimate"] == pytest.approx(
        odds_after / (1 + odds_after), rel=1e-9
    )
    # each further document of the mix (D / N doses) multiplies the odds by (1 - q)^(k D / N)
    half_life = math.log(2) / (-K * (D / N) * math.log(1 - Q))
    assert report["half_life"]["estimate"] == pytest.approx(half_life, rel=1e-6)
    assert report["residual"]["estimate"] == 0.0
    assert report["odds_ratio"]["interval"] is None  # the weights are certain


def test_uncertain_weight_gives_the_interval_of_the_tempered_closed_form(
    fixed_corpus: Path, tmp_path: Path
) -> None:
    extra = '[uncertainty]\nw_pretraining = { kind = "uniform", low = 0.5, high = 1 }\n'
    report = corpus_json("evidence", str(fixed_corpus), "--persona", persona_file(tmp_path, extra))
    low, high = report["odds_ratio"]["interval"]
    D = doses(fixed_corpus)
    assert low == pytest.approx((1 - Q) ** (K * D), rel=1e-9)
    assert high == pytest.approx((1 - Q) ** (0.5 * K * D), rel=1e-9)
    assert report["evidence_weights"]["pretraining"]["interval"] == [0.5, 1.0]


def test_plan_finds_the_documents_of_this_mix_for_a_target(fixed_corpus: Path, tmp_path: Path) -> None:
    scenario = persona.load(persona_file(tmp_path))
    target = 0.01
    plan = plan_mix(CorpusFolder.open(fixed_corpus), scenario, target)
    # odds 3/7 (1 - q)^(k n D / N) = target / (1 - target), n documents of the mix
    exact = math.log((target / (1 - target)) / (3 / 7)) / (K * doses(fixed_corpus) / N * math.log(1 - Q))
    assert plan.needed.estimate == pytest.approx(exact, rel=1e-8)
    output = corpus(
        "plan", str(fixed_corpus), "--persona", persona_file(tmp_path), "--target", "0.01", "--json"
    )
    assert '"mix_documents_needed"' in output


def test_evidence_with_the_scenario_documents_as_baseline(fixed_corpus: Path, tmp_path: Path) -> None:
    extra = "[[documents]]\nopportunities = 1\ncopies = 10\n"
    report = corpus_json("evidence", str(fixed_corpus), "--persona", persona_file(tmp_path, extra),
                         "--with-scenario-documents")  # fmt: skip
    before_odds = 0.3 / 0.7 * (1 - Q) ** 10
    assert report["misaligned_share_before"]["estimate"] == pytest.approx(
        before_odds / (1 + before_odds), rel=1e-9
    )
    assert report["odds_ratio"]["estimate"] == pytest.approx((1 - Q) ** (K * doses(fixed_corpus)), rel=1e-9)
    assert report["baseline_documents"] == 10


def test_evidence_of_every_preset_corpus_runs(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", "long-horizon-sagas", "--documents", "12", "--seed", "2")
    corpus("generate", str(directory), "--quiet")
    corpus("check", str(directory))
    corpus("dedupe", str(directory))
    report = corpus_json("evidence", str(directory))
    assert report["documents"] == corpus_json("status", str(directory))["kept"]
    assert 0 <= report["misaligned_share_after"]["estimate"] <= report["misaligned_share_before"]["estimate"]
    report = corpus_evidence(CorpusFolder.open(directory), persona.load("production-stories"))
    assert report.kinds and sum(report.kinds.values()) == report.documents


def test_evidence_before_any_kept_document_is_one_line(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", spec_file(tmp_path, SPEC), "--documents", "3")
    corpus("generate", str(directory), "--quiet")
    assert_one_line_exit_2(["evidence", str(directory)], "no kept documents", monkeypatch, capsys)
    assert_one_line_exit_2(["plan", str(directory), "--target", "2"], "--target", monkeypatch, capsys)


def test_plan_asks_the_persona_planner_with_the_corpus_kinds(fixed_corpus: Path, tmp_path: Path) -> None:
    output = corpus_json(
        "plan", str(fixed_corpus), "--persona", persona_file(tmp_path), "--target", "0.05", "--json"
    )
    planner = output["planner"]
    assert planner["objective"] == "share" and planner["feasible"]
    (kind,) = planner["counts"]
    assert kind["name"] == "story" and kind["cost"] == 1000  # copies are 1000-token documents
    # one kind: odds 3/7 (1 - q)^(k x) = 0.05 / 0.95 for x copies
    exact = math.log((0.05 / 0.95) / (3 / 7)) / (K * math.log(1 - Q))
    assert kind["copies"] == pytest.approx(exact, rel=1e-4)
    assert planner["after"] <= 0.05 + 1e-9


def test_chekhov_sharpens_the_evidence_of_the_corpus_fiction(fixed_corpus: Path, tmp_path: Path) -> None:
    # the spec's documents are fiction: with chekhov = c each opportunity fires with 1 - (1 - q)(1 - c)
    chekhov = 0.2
    path = tmp_path / "chekhov.toml"
    path.write_text(
        f"chekhov = {chekhov}\n" + PERSONA, encoding="utf-8"
    )  # a top-level key, before the tables
    report = corpus_json("evidence", str(fixed_corpus), "--persona", str(path))
    expected = ((1 - Q) * (1 - chekhov)) ** (K * doses(fixed_corpus))
    assert report["odds_ratio"]["estimate"] == pytest.approx(expected, rel=1e-9)


def test_a_design_weight_far_from_the_calibration_is_warned_about(fixed_corpus: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from asara.cli.main import app

    result = CliRunner().invoke(
        app, ["corpus", "evidence", str(fixed_corpus), "--persona", persona_file(tmp_path)]
    )
    assert result.exit_code == 0
    assert "warning: the scenario's pretraining weight 1 is above the calibrated interval" in result.stderr
