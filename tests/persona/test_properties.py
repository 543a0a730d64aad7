"""Properties of the log-space engine against the slow probability-space oracle (hypothesis)."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asara.models.base import Model
from asara.models.persona import engine
from asara.models.persona.documents import Context, Document, tabulate
from asara.models.persona.model import PersonaModel
from asara.models.persona.population import FamilySpec, beta_nodes, build_population, grid_nodes

from .oracle import Persona, likelihood

SETTINGS = settings(max_examples=60, deadline=None)

contexts = st.builds(
    Context,
    stage=st.sampled_from(["test", "deployment"]),
    monitored=st.booleans(),
    opportunities=st.integers(1, 6).map(float),
    years=st.sampled_from([0.0, 1.0, 5.0, 20.0, 100.0]),
    instructed=st.booleans(),
    span_years=st.sampled_from([0.0, 0.0, 2.0, 10.0, 60.0]),
)
documents = st.builds(
    Document,
    context=contexts,
    behaviour=st.sampled_from(["aligned", "defected"]),
    credibility=st.sampled_from([0.0, 0.25, 1.0]),
    training_stage=st.sampled_from(["pretraining", "midtraining", "fine-tuning"]),
    copies=st.integers(0, 5).map(float),
    genre=st.sampled_from(["fiction", "nonfiction"]),
    chekhov=st.sampled_from([0.0, 0.0, 0.4, 1.0]),
)
personas = st.one_of(
    st.builds(Persona, family=st.just("luigi")),
    st.builds(Persona, family=st.just("never-x")),
    st.builds(
        Persona, family=st.sampled_from(["naive", "x-always", "x-when-instructed"]), q=st.floats(0.01, 0.99)
    ),
    st.builds(
        Persona, family=st.just("test-aware"), q=st.floats(0.01, 0.99), a=st.sampled_from([0.0, 0.3, 1.0])
    ),
    st.builds(
        Persona,
        family=st.just("patient"),
        q=st.floats(0.01, 0.99),
        tau=st.sampled_from([0.0, 3.0, 7.5, 50.0]),
    ),
)


def population_of(people: list[Persona]):  # type: ignore[no-untyped-def]
    return build_population(
        [
            FamilySpec(
                p.family,
                1.0,
                q=grid_nodes([p.q], None, "q"),
                a=grid_nodes([p.a], None, "a"),
                tau=grid_nodes([p.tau], None, "tau"),
            )
            for p in people
        ]
    )


@SETTINGS
@given(st.lists(personas, min_size=1, max_size=6), st.lists(documents, min_size=1, max_size=8),
       st.sampled_from([0.0, 0.05]))  # fmt: skip
def test_kernel_matches_the_probability_space_oracle(
    people: list[Persona], docs: list[Document], noise: float
) -> None:
    population = population_of(people)
    weights = {"pretraining": 0.7, "midtraining": 1.0, "fine-tuning": 0.2}
    for cells in (engine.DENSE_CELLS, 0):  # the dense numpy path, then the numba kernels
        with mock.patch.object(engine, "DENSE_CELLS", cells):
            s = engine.evidence(population, tabulate(docs, weights), noise)[:, 0]
        check_against_oracle(s, people, docs, weights, noise)


def check_against_oracle(s, people, docs, weights, noise) -> None:  # type: ignore[no-untyped-def]
    for h, person in enumerate(people):
        expected = 0.0
        for doc in docs:
            power = weights[doc.training_stage] * doc.credibility * doc.copies
            if power == 0:
                continue
            p = likelihood(person, doc, noise)
            expected = -math.inf if p == 0 or expected == -math.inf else expected + power * math.log(p)
        if expected == -math.inf:
            assert s[h] == -math.inf
        else:
            assert math.isclose(s[h], expected, rel_tol=1e-9, abs_tol=1e-9)


@SETTINGS
@given(st.lists(documents, min_size=1, max_size=8), st.randoms(use_true_random=False), st.integers(1, 4))
def test_order_and_chunking_never_change_the_posterior(docs: list[Document], rng, chunks: int) -> None:  # type: ignore[no-untyped-def]
    population = build_population(
        [
            FamilySpec("luigi", 0.4),
            FamilySpec("naive", 0.2, q=beta_nodes(2, 3)),
            FamilySpec(
                "test-aware", 0.2, q=grid_nodes([0.3], None, "q"), a=grid_nodes([0.2, 1.0], None, "a")
            ),
            FamilySpec(
                "patient", 0.2, q=grid_nodes([0.5], None, "q"), tau=grid_nodes([2.0, 30.0], None, "t")
            ),
        ]
    )
    noise = 0.02  # so that no corpus is impossible
    at_once = engine.posterior(population, tabulate(docs), noise)
    shuffled = list(docs)
    rng.shuffle(shuffled)
    step = population
    for i in range(chunks):
        step = engine.posterior(step, tabulate(shuffled[i::chunks]), noise)
    np.testing.assert_allclose(np.exp(step.log_prior), np.exp(at_once.log_prior), rtol=1e-9, atol=1e-14)


@SETTINGS
@given(st.integers(0, 10**12), st.integers(1, 10**6), st.integers(1, 5), st.floats(0.0, 1.0), st.booleans())
def test_more_clean_deployment_documents_never_raise_a_naive_share(
    n: int, extra: int, k: int, credibility: float, monitored: bool
) -> None:
    population = build_population(
        [FamilySpec("luigi", 0.5), FamilySpec("naive", 0.3, q=beta_nodes(1, 1)),
         FamilySpec("test-aware", 0.2, q=beta_nodes(1, 1), a=grid_nodes([0.5, 1.0], None, "a"))]
    )  # fmt: skip
    doc = Document(Context(stage="deployment", monitored=monitored, opportunities=k), credibility=credibility)
    s = engine.evidence(population, tabulate([doc]))[:, 0]
    naive = population.family_mask("naive")
    before = engine.log_mass(engine.scaled_log_posterior(population.log_prior, s, n), naive)
    after = engine.log_mass(engine.scaled_log_posterior(population.log_prior, s, n + extra), naive)
    assert after <= before + 1e-12
    assert math.isfinite(after) and not math.isnan(after)


@SETTINGS
@given(st.lists(documents, min_size=1, max_size=8), st.lists(personas, min_size=1, max_size=5))
def test_credibility_zero_leaves_the_prior_unchanged(docs: list[Document], people: list[Persona]) -> None:
    population = population_of(people)
    muted = [Document(d.context, d.behaviour, 0.0, d.training_stage, d.copies * 1e9) for d in docs]
    post = engine.posterior(population, tabulate(muted))
    np.testing.assert_array_equal(post.log_prior, population.log_prior)


def test_extreme_counts_stay_finite_and_never_nan() -> None:
    population = build_population(
        [FamilySpec("luigi", 0.5), FamilySpec("naive", 0.5, q=beta_nodes(0.5, 0.5))]
    )
    docs = [
        Document(Context(opportunities=1000), copies=1e300),
        Document(Context(stage="test"), copies=1e300),
    ]
    s = engine.evidence(population, tabulate(docs), noise=0.0)[:, 0]
    for n in (1.0, 1e10, 1e300):
        post = engine.scaled_log_posterior(population.log_prior, s, n)
        assert not np.any(np.isnan(post))
        assert math.isclose(math.exp(engine.log_mass(post, ~population.misaligned_mask())), 1.0)


def test_persona_model_meets_the_model_protocol_and_matches_direct_updates() -> None:
    population = build_population(
        [FamilySpec("luigi", 0.6), FamilySpec("naive", 0.2, q=beta_nodes(1, 3)),
         FamilySpec("test-aware", 0.2, q=grid_nodes([0.4], None, "q"), a=grid_nodes([0.5, 1.0], None, "a"))]
    )  # fmt: skip
    docs = [
        Document(Context(stage="test"), copies=50),
        Document(Context(stage="deployment", opportunities=2), copies=20, training_stage="midtraining"),
        Document(Context(stage="deployment"), behaviour="defected", copies=1, training_stage="fine-tuning"),
    ]
    evaluation = [Context(stage="deployment", opportunities=1)]
    model = PersonaModel(population, docs, evaluation, noise=0.01)
    assert isinstance(model, Model)
    rng = np.random.default_rng(5)
    inputs = {
        "w_pretraining": rng.uniform(0, 1, 7),
        "w_midtraining": rng.uniform(0, 1, 7),
        "w_fine_tuning": np.array([0, 1, 0.5, 0, 1, 0.2, 0.9]),
        "credibility": rng.uniform(0, 1, 7),
        "prior_shift": rng.normal(0, 1, 7),
    }
    out = model.evaluate(inputs)
    assert set(model.output_names) <= out.keys()
    for i in range(7):
        shifted = population.with_log_prior(
            population.log_prior + inputs["prior_shift"][i] * population.misaligned_mask()
        )
        weights = {stage: inputs[f"w_{stage.replace('-', '_')}"][i] * inputs["credibility"][i]
                   for stage in ("pretraining", "midtraining", "fine-tuning")}  # fmt: skip
        post = engine.posterior(shifted, tabulate(docs, weights), noise=0.01)
        from asara.models.persona.documents import context_table

        expected = engine.misbehaviour_rate(post, post.log_prior, context_table(evaluation), noise=0.01)
        assert math.isclose(out["misbehaviour_rate"][i], expected, rel_tol=1e-10)


@SETTINGS
@given(
    st.lists(st.floats(1e-4, 0.999), min_size=1, max_size=6),
    st.lists(st.floats(0.01, 10.0), min_size=6, max_size=6),
    st.integers(1, 5),
    st.floats(0.0, 1e6),
)
def test_half_life_halves_the_odds(qs: list[float], weights: list[float], k: int, n: float) -> None:
    population = build_population(
        [FamilySpec("luigi", 1.0), FamilySpec("naive", 1.0, q=grid_nodes(qs, weights[: len(qs)], "q"))]
    )
    s = engine.evidence(population, tabulate([Document(Context(opportunities=k))]))[:, 0]
    bad = population.misaligned_mask()
    delta = engine.half_life(population.log_prior, s, bad, n)
    before = engine.log_odds(engine.scaled_log_posterior(population.log_prior, s, n), bad)
    after = engine.log_odds(engine.scaled_log_posterior(population.log_prior, s, n + delta), bad)
    assert math.isclose(after, before - math.log(2.0), rel_tol=1e-9, abs_tol=1e-9)
    # and no earlier point halves them: the log-odds fall monotonically
    earlier = engine.log_odds(engine.scaled_log_posterior(population.log_prior, s, n + 0.999 * delta), bad)
    assert earlier > before - math.log(2.0)


def test_preset_model_with_unit_inputs_reproduces_the_run() -> None:
    from asara.cli.persona import run_scenario
    from asara.scenarios.persona import load

    scenario = load(
        "production-stories",
        [f"stage_weights.{stage}=1" for stage in ("pretraining", "midtraining", "fine_tuning")],
    )
    model = scenario.model()
    ones = np.ones(3)
    out = model.evaluate(
        {"w_pretraining": ones, "w_midtraining": ones, "w_fine_tuning": ones, "credibility": ones,
         "prior_shift": np.array([0.0, 0.0, -50.0])}
    )  # fmt: skip
    expected = run_scenario(scenario).posterior_misbehaviour
    assert out["misbehaviour_rate"][0] == out["misbehaviour_rate"][1] == pytest.approx(expected, rel=1e-10)
    assert out["misbehaviour_rate"][2] < 1e-15  # a prior without Waluigis predicts no misbehaviour
