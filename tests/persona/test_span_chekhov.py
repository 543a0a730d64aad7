"""Opportunities spread over a document's time span, and Chekhov's gun in fiction: closed forms, off switches
and the scenario surface."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from asara.errors import InputError
from asara.models.persona import engine
from asara.models.persona.documents import Context, Document, context_table, tabulate, tabulate_many
from asara.models.persona.population import FamilySpec, build_population, grid_nodes
from asara.scenarios import persona as scenarios

RTOL = 1e-13


def patient_and_luigi(q: float, tau: float):  # type: ignore[no-untyped-def]
    return build_population(
        [
            FamilySpec("luigi", 0.5),
            FamilySpec("patient", 0.5, q=grid_nodes([q], None, "q"), tau=grid_nodes([tau], None, "tau")),
        ]
    )


def naive_and_luigi(q: float):  # type: ignore[no-untyped-def]
    return build_population(
        [FamilySpec("luigi", 0.5), FamilySpec("naive", 0.5, q=grid_nodes([q], None, "q"))]
    )


def log_odds_ratio(population, docs, **kwargs) -> float:  # type: ignore[no-untyped-def]
    post = engine.posterior(population, tabulate(docs, **kwargs))
    bad = population.misaligned_mask()
    return engine.log_odds(post.log_prior, bad) - engine.log_odds(population.log_prior, bad)


@pytest.mark.parametrize(
    ("q", "k", "years", "span", "tau", "n"),
    [(0.2, 3, 0.0, 10.0, 4.0, 7), (0.05, 10, 5.0, 40.0, 30.0, 100), (0.5, 1, 2.0, 1.0, 2.25, 3),
     (0.01, 4, 0.0, 400.0, 399.0, 1000)],
)  # fmt: skip
def test_patient_waluigi_with_tau_inside_the_span_meets_the_share_after_tau(
    q: float, k: int, years: float, span: float, tau: float, n: int
) -> None:
    # odds ratio (1 - q)^(k (years + S - tau) / S) per document
    population = patient_and_luigi(q, tau)
    doc = Document(Context(opportunities=k, years=years, span_years=span), copies=n)
    expected = n * k * (years + span - tau) / span * math.log1p(-q)
    assert log_odds_ratio(population, [doc]) == pytest.approx(expected, rel=RTOL)
    # the same as n separate documents
    assert log_odds_ratio(population, [Document(doc.context)] * n) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("tau", "share"), [(0.0, 1.0), (5.0, 1.0), (15.0, 0.0), (100.0, 0.0)])
def test_tau_outside_the_span_is_the_step(tau: float, share: float) -> None:
    # span [5, 15]: a Waluigi patient for at most 5 years meets every opportunity, one patient for 15 or more
    # meets none (the step of span 0 at the span's two ends)
    q, k, n = 0.3, 2, 11
    population = patient_and_luigi(q, tau)
    doc = Document(Context(opportunities=k, years=5.0, span_years=10.0), copies=n)
    assert log_odds_ratio(population, [doc]) == pytest.approx(share * n * k * math.log1p(-q), rel=RTOL, abs=0)


def test_span_zero_is_the_step_at_years_and_the_limit_of_short_spans() -> None:
    q, k, n, tau = 0.2, 3, 5, 10.0
    population = patient_and_luigi(q, tau)
    for years, expected_share in ((9.999, 0.0), (10.0, 1.0), (12.0, 1.0)):
        s = log_odds_ratio(population, [Document(Context(opportunities=k, years=years), copies=n)])
        assert s == pytest.approx(expected_share * n * k * math.log1p(-q), rel=RTOL, abs=0)
    # a span shrinking towards 0 just past tau tends to the step (share -> 1)
    for span in (1e-3, 1e-6, 1e-9):
        doc = Document(Context(opportunities=k, years=tau - span / 1e3, span_years=span), copies=n)
        assert log_odds_ratio(population, [doc]) == pytest.approx(n * k * math.log1p(-q), rel=2e-3)


def test_span_leaves_every_non_patient_persona_exactly_as_it_was() -> None:
    population = build_population(
        [
            FamilySpec("luigi", 0.4),
            FamilySpec("naive", 0.2, q=grid_nodes([0.1, 0.6], None, "q")),
            FamilySpec("test-aware", 0.2, q=grid_nodes([0.3], None, "q"), a=grid_nodes([0.5], None, "a")),
            FamilySpec(
                "patient", 0.2, q=grid_nodes([0.3], None, "q"), tau=grid_nodes([1.0, 50.0], None, "t")
            ),
        ]
    )
    plain = [Document(Context(opportunities=3, years=20.0), copies=9.0),
             Document(Context(opportunities=1, years=0.0), "defected", copies=2.0)]  # fmt: skip
    spread = [
        Document(Context(opportunities=3, years=20.0, span_years=10.0), copies=9.0),
        Document(Context(opportunities=1, years=0.0, span_years=3.0), "defected", copies=2.0),
    ]
    a = engine.evidence(population, tabulate(plain))[:, 0]
    b = engine.evidence(population, tabulate(spread))[:, 0]
    patient_at_1 = (population.family == 3) & (population.tau == 1.0)
    np.testing.assert_array_equal(a[~(population.family == 3)], b[~(population.family == 3)])
    # tau = 1 lies inside the defection's span [0, 3]: it met 2/3 of its opportunity
    assert b[patient_at_1][0] == pytest.approx(
        27 * math.log1p(-0.3) + 2 * math.log(-math.expm1(2 / 3 * math.log1p(-0.3))), rel=RTOL
    )


def test_defect_probability_of_an_evaluation_context_with_a_span() -> None:
    q, k, tau = 0.4, 5.0, 30.0
    population = patient_and_luigi(q, tau)
    contexts = [Context(opportunities=k, years=20.0, span_years=40.0), Context(opportunities=k, years=20.0)]
    p = engine.defect_probability(population, context_table(contexts))
    patient = int(np.flatnonzero(population.family == 3)[0])
    assert p[patient, 0] == pytest.approx(1 - (1 - q) ** (k * 30 / 40), rel=RTOL)
    assert p[patient, 1] == 0.0
    assert np.all(p[population.family == 0] == 0.0)


@pytest.mark.parametrize("chekhov", [0.0, 0.3, 0.9])
@pytest.mark.parametrize("g", [0.1, 1.0])
@pytest.mark.parametrize("weight", [1.0, 2.5e-3])
def test_chekhov_naive_waluigi_closed_form_with_genre_weight(chekhov: float, g: float, weight: float) -> None:
    # N fiction documents with k opportunities, stage weight w, fiction diagnosticity g: the exponent is
    # w g N and each document's likelihood under Waluigi is ((1 - q)(1 - chekhov))^k, so the odds ratio is
    # ((1 - q)(1 - chekhov))^(w g k N): the two multiply (Chekhov sharpens the likelihood, genre tempers it).
    q, k, n = 0.1, 4, 30
    population = naive_and_luigi(q)
    doc = Document(Context(opportunities=k), copies=n, genre="fiction", chekhov=chekhov)
    got = log_odds_ratio(population, [doc], stage_weights={"pretraining": weight}, fiction_weight=g)
    expected = weight * g * k * n * (math.log1p(-q) + math.log1p(-chekhov))
    assert got == pytest.approx(expected, rel=RTOL)


def test_chekhov_zero_is_bit_identical_and_nonfiction_and_luigi_are_unaffected() -> None:
    population = build_population(
        [
            FamilySpec("luigi", 0.3),
            FamilySpec("naive", 0.2, q=grid_nodes([0.1, 0.6], None, "q")),
            FamilySpec("x-when-instructed", 0.2, q=grid_nodes([0.5], None, "q")),
            FamilySpec("patient", 0.3, q=grid_nodes([0.3], None, "q"), tau=grid_nodes([1.0], None, "t")),
        ]
    )
    base = [Document(Context(opportunities=3, years=5.0), copies=4.0, genre="fiction"),
            Document(Context(opportunities=2, instructed=True), copies=3.0, genre="fiction"),
            Document(Context(opportunities=1), "defected", copies=1.0, genre="nonfiction")]  # fmt: skip
    off = [
        Document(d.context, d.behaviour, d.credibility, d.training_stage, d.copies, d.genre, 0.0)
        for d in base
    ]
    np.testing.assert_array_equal(
        engine.evidence(population, tabulate(base, fiction_weight=0.1)),
        engine.evidence(population, tabulate(off, fiction_weight=0.1)),
    )
    on = [
        Document(d.context, d.behaviour, d.credibility, d.training_stage, d.copies, d.genre, 0.5)
        for d in base
    ]
    a = engine.evidence(population, tabulate(base))[:, 0]
    b = engine.evidence(population, tabulate(on))[:, 0]
    aligned_side = ~population.misaligned_mask()  # Luigi and x-when-instructed: no Waluigi narrative
    np.testing.assert_array_equal(a[aligned_side], b[aligned_side])
    moved = ~aligned_side & np.isfinite(a)  # the patient Waluigi cannot have defected in year 0 anyway
    assert np.all(b[moved] < a[moved]) and np.all(b[~aligned_side & ~np.isfinite(a)] == -math.inf)
    # the non-fiction defection is unchanged: only the fiction rows moved, by k log(1 - chekhov) each copy
    naive = np.flatnonzero(population.family == 1)
    assert b[naive] - a[naive] == pytest.approx(np.full(2, (12 + 6) * math.log(0.5)), rel=RTOL)


def test_chekhov_one_rules_out_misaligned_personas_in_quiet_fiction_and_raises_fiction_defections() -> None:
    q = 0.2
    population = naive_and_luigi(q)
    quiet = engine.evidence(population, tabulate([Document(Context(opportunities=2), genre="fiction",
                                                           chekhov=1.0)]))[:, 0]  # fmt: skip
    assert quiet[0] == 0.0 and quiet[1] == -math.inf
    fired = engine.evidence(
        population, tabulate([Document(Context(opportunities=2), "defected", genre="fiction", chekhov=0.5)])
    )[:, 0]
    assert fired[1] == pytest.approx(math.log(1 - ((1 - q) * 0.5) ** 2), rel=RTOL)


def test_tabulate_many_keeps_span_and_chekhov_rows_apart() -> None:
    population = patient_and_luigi(0.3, 4.0)
    docs = [Document(Context(opportunities=2, span_years=8.0), genre="fiction", chekhov=0.2),
            Document(Context(opportunities=2), genre="fiction"),
            Document(Context(opportunities=2))]  # fmt: skip
    many = engine.evidence(population, tabulate_many([[d] for d in docs]))
    for i, doc in enumerate(docs):
        one = engine.evidence(population, tabulate([doc]))[:, 0]
        np.testing.assert_allclose(many[:, 3 * i], one, rtol=RTOL)


@pytest.mark.parametrize(
    ("doc", "field"),
    [(Document(Context(span_years=-1.0)), "span_years"),
     (Document(Context(span_years=math.inf)), "span_years"),
     (Document(chekhov=1.5), "chekhov"), (Document(chekhov=math.nan), "chekhov")],
)  # fmt: skip
def test_bad_span_or_chekhov_is_a_one_line_input_error(doc: Document, field: str) -> None:
    with pytest.raises(InputError) as error:
        tabulate([doc])
    assert field in str(error.value.field)


def test_scenario_carries_span_and_chekhov_to_documents_menu_and_evaluation() -> None:
    scenario = scenarios.PersonaScenario.model_validate(
        {
            "chekhov": 0.25,
            "families": [{"family": "luigi"}, {"family": "naive", "q": {"kind": "fixed", "value": 0.1}}],
            "documents": [{"genre": "fiction", "opportunities": 2, "years": 3, "span_years": 10}],
            "evaluation": [{"years": 1, "span_years": 4}],
            "optimize": {"menu": [{"genre": "fiction", "span_years": 2}]},
        }
    )
    (doc,) = scenario.document_list()
    assert doc.chekhov == 0.25 and doc.context.span_years == 10.0
    assert scenario.optimize is not None and scenario.optimize.menu[0].document(1.0).chekhov == 0.25
    assert scenario.optimize.menu[0].document(1.0).context.span_years == 2.0
    assert scenario.evaluation_contexts()[0].span_years == 4.0
    assert scenarios.PersonaScenario.model_validate({"families": [{"family": "luigi"}]}).chekhov == 0.0
    # a menu swapped in without validation (as `corpus plan` does) takes the scenario's chekhov too
    swapped = scenario.model_copy(
        update={"optimize": scenarios.OptimizeSpec(menu=[scenarios.DocumentEntry(genre="fiction")])}
    )
    assert swapped.optimize is not None and swapped.optimize.menu[0].document(1.0).chekhov == 0.25
    with pytest.raises(InputError):
        scenarios.load("naive-decay", ["chekhov=1.5"])
    with pytest.raises(ValidationError, match="span_years"):
        scenarios.PersonaScenario.model_validate(
            {"families": [{"family": "luigi"}], "documents": [{"span_years": -2}]}
        )


def test_scenario_chekhov_flows_into_the_model_and_moves_the_share() -> None:
    toml = {
        "families": [{"family": "luigi", "weight": 0.5},
                     {"family": "naive", "weight": 0.5, "q": {"kind": "fixed", "value": 0.01}}],
        "documents": [{"genre": "fiction", "opportunities": 3, "copies": 100}],
        "stage_weights": {"pretraining": 1.0, "midtraining": 1.0, "fine_tuning": 1.0},
        "fiction_diagnosticity": 0.5,
    }  # fmt: skip
    inputs = {
        name: np.array([1.0]) for name in ("w_pretraining", "w_midtraining", "w_fine_tuning", "credibility")
    }
    inputs["prior_shift"] = np.array([0.0])
    shares = {}
    for chekhov in (0.0, 0.1):
        scenario = scenarios.PersonaScenario.model_validate(toml | {"chekhov": chekhov})
        shares[chekhov] = float(scenario.model().evaluate(inputs)["misaligned_share"][0])
    for chekhov, share in shares.items():
        log_ratio = 0.5 * 3 * 100 * (math.log1p(-0.01) + math.log1p(-chekhov))
        assert share == pytest.approx(1 / (1 + math.exp(-log_ratio)), rel=1e-12)


SPAN_TOML = """
name = "span"
chekhov = {chekhov}
[stage_weights]
pretraining = 1.0
[[families]]
family = "luigi"
[[families]]
family = "patient"
q = {{ kind = "fixed", value = 0.2 }}
tau = {{ kind = "grid", values = [25] }}
[[documents]]
name = "chronicle, years 10 to 50"
opportunities = 4
years = 10
span_years = {span}
copies = 3
genre = "fiction"
[[evaluation]]
years = 30
[optimize]
budget = 1e4
[[optimize.menu]]
name = "chronicle"
opportunities = 4
years = 10
span_years = {span}
genre = "fiction"
"""


@pytest.mark.parametrize(("span", "chekhov"), [(0.0, 0.0), (40.0, 0.0), (40.0, 0.5)])
def test_persona_run_and_plan_read_span_and_chekhov_from_toml(tmp_path, span: float, chekhov: float) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from asara.cli.main import app

    path = tmp_path / "span.toml"
    path.write_text(SPAN_TOML.format(span=span, chekhov=chekhov))
    runner = CliRunner()
    result = runner.invoke(app, ["persona", "run", str(path), "--json"])
    assert result.exit_code == 0, result.output
    share = json.loads(result.stdout)["shares"]["posterior"]["patient"]
    # tau = 25 inside [10, 50]: the patient Waluigi meets 4 x 25/40 opportunities per copy (none with span 0,
    # since years 10 < tau); the fiction weight and Chekhov multiply as in the closed form
    from asara.models.persona.weights import FICTION_DIAGNOSTICITY

    met = 4 * 25 / 40 if span else 0.0
    log_ratio = 3 * FICTION_DIAGNOSTICITY * met * (math.log1p(-0.2) + math.log1p(-chekhov))
    assert share == pytest.approx(1 / (1 + math.exp(-log_ratio)), rel=1e-9)
    plan = runner.invoke(app, ["persona", "plan", str(path), "--target", "0.45", "--json"])
    assert plan.exit_code == 0, plan.output
    assert json.loads(plan.stdout)["feasible"] is bool(span)
