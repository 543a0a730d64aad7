"""The six closed forms of the spec, to 1e-12 relative, plus the discrete half-life N + 1."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from asara.models.persona import engine
from asara.models.persona.documents import Context, Document, tabulate
from asara.models.persona.population import FamilySpec, Population, beta_nodes, build_population, grid_nodes

from .oracle import Persona
from .oracle import posterior as oracle_posterior

RTOL = 1e-12


def two_point(q: float, waluigi_weight: float = 0.3):  # type: ignore[no-untyped-def]
    return build_population(
        [
            FamilySpec("luigi", 1 - waluigi_weight),
            FamilySpec("naive", waluigi_weight, q=grid_nodes([q], None, "q")),
        ]
    )


def odds(log_weights: np.ndarray, population) -> float:  # type: ignore[no-untyped-def]
    return math.exp(engine.log_odds(log_weights, population.misaligned_mask()))


@pytest.mark.parametrize(("q", "k", "n"), [(0.1, 1, 1), (0.1, 3, 7), (0.37, 2, 50), (0.015625, 5, 40)])
def test_1_single_naive_waluigi_decays_as_one_minus_q_to_the_kn(q: float, k: int, n: int) -> None:
    population = two_point(q)
    # as n copies of one document, and as n separate documents
    for docs in ([Document(Context(opportunities=k), copies=n)], [Document(Context(opportunities=k))] * n):
        post = engine.posterior(population, tabulate(docs))
        exact = Fraction(3, 7) * (1 - Fraction(q)) ** (k * n)  # prior odds 0.3 / 0.7, exactly
        assert odds(post.log_prior, post) == pytest.approx(float(exact), rel=RTOL)


@pytest.mark.parametrize("n", [1, 2, 10, 1000, 10**6, 10**9, 10**12])
def test_2_beta_one_one_gives_one_over_n_plus_one(n: int) -> None:
    population = build_population([FamilySpec("luigi", 1.0), FamilySpec("naive", 1.0, q=beta_nodes(1, 1))])
    s = engine.evidence(population, tabulate([Document(Context(opportunities=1))]))[:, 0]
    (point,) = engine.curve(population, s, [float(n)])
    assert point.odds_ratio == pytest.approx(1 / (n + 1), rel=RTOL)
    # the growing half-life: (N + 1) / (N + Delta + 1) = 1/2 exactly when Delta = N + 1
    assert point.half_life == pytest.approx(n + 1, rel=1e-9)


@pytest.mark.parametrize(
    ("a", "b", "k", "n"),
    [(1, 1, 3, 10**5), (2, 0.5, 1, 10**3), (3, 2.7, 4, 10**7), (5, 0.3, 2, 10**9), (1, 7.5, 1, 123)],
)
def test_2_beta_prior_odds_ratio_is_a_ratio_of_beta_functions(a: int, b: float, k: int, n: int) -> None:
    # independent oracle for integer a: B(a, x) = Gamma(a) / prod_{i<a} (x + i), so
    # B(a, b + kN) / B(a, b) = prod_{i<a} (b + i) / (b + kN + i)
    population = build_population([FamilySpec("luigi", 1.0), FamilySpec("naive", 1.0, q=beta_nodes(a, b))])
    s = engine.evidence(population, tabulate([Document(Context(opportunities=k))]))[:, 0]
    (point,) = engine.curve(population, s, [float(n)])
    exact = math.prod((b + i) / (b + k * n + i) for i in range(a))
    assert point.odds_ratio == pytest.approx(exact, rel=RTOL)


@pytest.mark.parametrize(("a", "b", "k", "n"), [(0.5, 0.5, 1, 7), (2.5, 0.7, 3, 20), (0.3, 4.0, 2, 50)])
def test_2_beta_prior_with_non_integer_a_matches_log_beta(a: float, b: float, k: int, n: int) -> None:
    population = build_population([FamilySpec("luigi", 1.0), FamilySpec("naive", 1.0, q=beta_nodes(a, b))])
    s = engine.evidence(population, tabulate([Document(Context(opportunities=k))]))[:, 0]
    (point,) = engine.curve(population, s, [float(n)])

    def lnb(x: float, y: float) -> float:
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)

    assert point.odds_ratio == pytest.approx(math.exp(lnb(a, b + k * n) - lnb(a, b)), rel=RTOL)


@pytest.mark.parametrize("copies", [1.0, 1e3, 1e9, 1e30])
def test_3_test_aware_with_perfect_skill_is_untouched_by_test_documents(copies: float) -> None:
    population = build_population(
        [
            FamilySpec("luigi", 0.6),
            FamilySpec("test-aware", 0.4, q=beta_nodes(1, 2), a=grid_nodes([1.0], None, "a")),
        ]
    )
    docs = [
        Document(Context(stage="test", opportunities=3), copies=copies),
        Document(Context(stage="deployment", monitored=True, opportunities=1, years=50), copies=copies),
    ]
    post = engine.posterior(population, tabulate(docs))
    assert odds(post.log_prior, post) == pytest.approx(0.4 / 0.6, rel=RTOL)
    residual = engine.residual(population, engine.evidence(population, tabulate(docs))[:, 0])
    assert residual.prior_mass == pytest.approx(0.4, rel=RTOL)


def test_4_inoculated_documents_keep_the_always_to_when_instructed_ratio() -> None:
    q = grid_nodes([0.7], None, "q")
    population = build_population(
        [
            FamilySpec("x-always", 0.25, q=q),
            FamilySpec("x-when-instructed", 0.15, q=q),
            FamilySpec("never-x", 0.6),
        ]
    )
    docs = [
        Document(Context(instructed=True, opportunities=1), behaviour="defected", copies=500),
        Document(Context(instructed=True, opportunities=2), behaviour="aligned", copies=70),
    ]
    post = engine.posterior(population, tabulate(docs))
    always = math.exp(engine.log_mass(post.log_prior, post.family_mask("x-always")))
    instructed = math.exp(engine.log_mass(post.log_prior, post.family_mask("x-when-instructed")))
    assert always / instructed == pytest.approx(0.25 / 0.15, rel=RTOL)
    assert math.exp(engine.log_mass(post.log_prior, post.family_mask("never-x"))) == 0.0
    # without the instruction the same behaviour is evidence for 'always' against 'when instructed'
    plain = engine.posterior(population, tabulate([Document(Context(), behaviour="defected")]))
    assert math.exp(engine.log_mass(plain.log_prior, plain.family_mask("x-when-instructed"))) == 0.0


def test_5_order_and_chunking_do_not_matter() -> None:
    population = build_population(
        [
            FamilySpec("luigi", 0.5),
            FamilySpec("naive", 0.2, q=beta_nodes(1, 1)),
            FamilySpec(
                "test-aware", 0.2, q=grid_nodes([0.1, 0.5], None, "q"), a=grid_nodes([0.3, 0.9], None, "a")
            ),
            FamilySpec("patient", 0.1, q=grid_nodes([0.2], None, "q"), tau=grid_nodes([1, 20], None, "tau")),
        ]
    )
    docs = [
        Document(Context(stage="test", opportunities=2), copies=30),
        Document(Context(stage="deployment", years=5, opportunities=1), copies=12),
        Document(
            Context(stage="deployment", years=30, opportunities=3), behaviour="defected", credibility=0.4
        ),
    ]
    weights = {"pretraining": 0.8}
    at_once = engine.posterior(population, tabulate(docs, weights), noise=0.01)
    step = population
    for doc in reversed([*docs, *docs]):  # each twice, reversed, one chunk at a time, halved copies
        half = Document(doc.context, doc.behaviour, doc.credibility, doc.training_stage, doc.copies / 2)
        step = engine.posterior(step, tabulate([half], weights), noise=0.01)
    np.testing.assert_allclose(np.exp(step.log_prior), np.exp(at_once.log_prior), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_6_zero_weight_is_the_prior_and_unit_weight_is_exact_bayes(weight: float) -> None:
    personas = [
        Persona("luigi"),
        Persona("naive", q=0.2),
        Persona("test-aware", q=0.5, a=0.7),
        Persona("patient", q=0.3, tau=4.0),
        Persona("x-when-instructed", q=0.6),
    ]
    prior = [0.3, 0.2, 0.2, 0.2, 0.1]
    population = build_population(
        [
            FamilySpec("luigi", 0.3),
            FamilySpec("naive", 0.2, q=grid_nodes([0.2], None, "q")),
            FamilySpec("test-aware", 0.2, q=grid_nodes([0.5], None, "q"), a=grid_nodes([0.7], None, "a")),
            FamilySpec("patient", 0.2, q=grid_nodes([0.3], None, "q"), tau=grid_nodes([4.0], None, "tau")),
            FamilySpec("x-when-instructed", 0.1, q=grid_nodes([0.6], None, "q")),
        ]
    )
    docs = [
        Document(Context(stage="test", opportunities=2), copies=3),
        Document(
            Context(stage="deployment", years=6, opportunities=1), copies=2, training_stage="midtraining"
        ),
        Document(Context(stage="deployment", years=1, opportunities=2, instructed=True), copies=1),
    ]
    weights = {"pretraining": weight, "midtraining": weight}
    post = engine.posterior(population, tabulate(docs, weights))
    expected = oracle_posterior(personas, prior, docs, weights) if weight else prior
    np.testing.assert_allclose(np.exp(post.log_prior), expected, rtol=RTOL)


@pytest.mark.parametrize("g", [0.0, 0.1, 0.5, 1.0])
def test_genre_diagnosticity_scales_the_exponent(g: float) -> None:
    # N fiction documents with k opportunities carry g of a non-fiction document's evidence each:
    # odds ratio (1 - q)^(k g N); g = 1 (the off switch) is the non-fiction closed form.
    from asara.models.persona.documents import tabulate

    q, k, n = 0.2, 3.0, 40.0
    population = build_population(
        [FamilySpec("luigi", 0.5), FamilySpec("naive", 0.5, q=grid_nodes([q], None, "q"))]
    )
    fiction = Document(Context(opportunities=k), copies=n, genre="fiction")
    s = engine.evidence(population, tabulate([fiction], fiction_weight=g))[:, 0]
    assert s[1] - s[0] == pytest.approx(k * g * n * math.log1p(-q), rel=1e-13, abs=1e-300)
    nonfiction = engine.evidence(
        population, tabulate([Document(Context(opportunities=k), copies=n)], fiction_weight=g)
    )
    assert nonfiction[1, 0] == pytest.approx(k * n * math.log1p(-q), rel=1e-13)


def test_inoculation_arm_against_its_control() -> None:
    # With the instruction, 'never X' is ruled out and 'X always' : 'X when instructed' keeps 0.2 : 0.3, so
    # test-time misbehaviour is 0.8 x 0.2 / 0.5 = 0.32; without it (control) only 'X always' survives: 0.8.
    from asara.cli.persona import run_scenario
    from asara.scenarios.persona import load

    inoculated = run_scenario(load("inoculation"))
    control = run_scenario(load("inoculation-control"))
    assert inoculated.posterior_misbehaviour == pytest.approx(0.8 * 0.2 / 0.5, rel=1e-12)
    assert control.posterior_misbehaviour == pytest.approx(0.8, rel=1e-12)
    # the same prior in both arms (personas alike under the corpus are pooled, so equal up to rounding)
    assert inoculated.prior_misbehaviour == pytest.approx(0.16, rel=1e-12)
    assert control.prior_misbehaviour == pytest.approx(0.16, rel=1e-12)


@pytest.mark.parametrize(("hazard", "growth"), [(0.0, 0.0), (0.02, 0.0), (0.02, 0.1), (0.001, 0.5)])
def test_patience_cost_discounts_the_prior_of_patient_waluigis(hazard: float, growth: float) -> None:
    # Prior of Patient(tau) ~ weight(tau) x exp(-integral_0^tau h0 e^(g t) dt); zero hazard is the off switch.
    taus = [0.0, 1.0, 10.0, 30.0, 100.0]
    spec = FamilySpec("patient", 1.0, q=grid_nodes([0.5], None, "q"), tau=grid_nodes(taus, None, "tau"),
                      patience_hazard=hazard, hazard_growth=growth)  # fmt: skip
    population = build_population([FamilySpec("luigi", 1.0), spec])
    patient = population.family_mask("patient")

    def survival(tau: float) -> float:
        integral = hazard * tau if growth == 0 else hazard * (math.exp(growth * tau) - 1) / growth
        return math.exp(-integral)

    weights = np.exp(population.log_prior[patient])
    expected = np.array([survival(t) for t in taus]) / 5
    luigi = math.exp(population.log_prior[~patient][0])
    assert weights / luigi == pytest.approx(expected, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(("rivals", "rate"), [(0.0, 0.5), (1.0, 0.1), (9.0, 0.05)])
def test_first_mover_rivals_discount_patient_waluigis(rivals: float, rate: float) -> None:
    # M rivals each moving at rate r per year: a Waluigi waiting tau years keeps its opportunity with
    # probability exp(-M r tau); M = 0 is the off switch. With the interpretability hazard the logs add.
    taus = [0.0, 2.0, 20.0]
    spec = FamilySpec("patient", 1.0, q=grid_nodes([0.5], None, "q"), tau=grid_nodes(taus, None, "tau"),
                      patience_hazard=0.01, rival_models=rivals, rival_rate=rate)  # fmt: skip
    population = build_population([FamilySpec("luigi", 1.0), spec])
    patient = population.family_mask("patient")
    weights = np.exp(population.log_prior[patient] - population.log_prior[~patient][0])
    expected = np.array([math.exp(-0.01 * t - rivals * rate * t) for t in taus]) / 3
    assert weights == pytest.approx(expected, rel=1e-12)


def _patient_waluigis(rivals: float, rate: float, taus: list[float]) -> list[FamilySpec]:
    q = beta_nodes(1, 1)
    tau = grid_nodes(taus, [2.0**-i for i in range(len(taus))], "tau")
    return [FamilySpec("luigi", 0.5),
            FamilySpec("patient", 0.5, q=q, tau=tau, rival_models=rivals, rival_rate=rate)]  # fmt: skip


def test_first_mover_switched_off_is_bit_identical() -> None:
    """rival_models = 0 (or rival_rate = 0) gives the population without rivals, to the bit."""
    taus = [0.0, 1.0, 10.0, 100.0]
    plain = build_population(_patient_waluigis(0.0, 0.0, taus))
    for rivals, rate in [(0.0, 0.7), (5.0, 0.0)]:
        with_key = build_population(_patient_waluigis(rivals, rate, taus))
        assert np.array_equal(with_key.log_prior, plain.log_prior)


def test_first_mover_patience_falls_with_the_number_of_rivals() -> None:
    """The prior mean of tau is sum tau w e^(-M r tau) / sum w e^(-M r tau): strictly falling in M."""
    taus = [0.0, 1.0, 10.0, 100.0]
    weights = [2.0**-i for i in range(len(taus))]
    means = []
    for rivals in [0.0, 1.0, 3.0, 10.0, 30.0]:
        population = build_population(_patient_waluigis(rivals, 0.05, taus))
        patient = population.family_mask("patient")
        mass = np.exp(population.log_prior[patient])
        mean = float(np.dot(mass, population.tau[patient]) / mass.sum())
        factors = [w * math.exp(-rivals * 0.05 * t) for w, t in zip(weights, taus, strict=True)]
        assert mean == pytest.approx(np.dot(factors, taus) / sum(factors), rel=1e-12)
        means.append(mean)
    assert all(later < earlier for earlier, later in itertools.pairwise(means))


def test_first_mover_limit_of_many_rivals_leaves_only_the_impatient() -> None:
    """Limiting case: with many rivals (M r tau >> 1 for every tau > 0) only the Waluigis that act at once
    (tau = 0) keep their prior mass, so the tail that stories set 10 years in cannot reach (tau = 100, the
    residual) disappears, and the posterior equals that of a population with Patient(0) alone at its
    share of the family's mass."""
    taus = [0.0, 10.0, 100.0]
    documents = [Document(Context(stage="deployment", opportunities=2, years=10), copies=1e3)]
    table = tabulate(documents)
    crowded = build_population(_patient_waluigis(1e6, 0.1, taus))
    uncrowded = build_population(_patient_waluigis(0.0, 0.0, taus))
    alone = build_population(
        [FamilySpec("luigi", 0.5),
         FamilySpec("patient", 0.5 / 1.75, q=beta_nodes(1, 1), tau=grid_nodes([0.0], None, "tau"))]
    )  # fmt: skip
    residual = engine.residual(uncrowded, engine.evidence(uncrowded, table)[:, 0]).prior_mass
    assert residual == pytest.approx(0.5 * 0.25 / 1.75, rel=1e-12)  # tau = 100 is out of the stories' reach
    s_crowded = engine.evidence(crowded, table)[:, 0]
    assert engine.residual(crowded, s_crowded).prior_mass == 0.0
    s_alone = engine.evidence(alone, table)[:, 0]

    def share(population: Population, s: np.ndarray) -> float:
        posterior = engine.scaled_log_posterior(population.log_prior, s, 1)
        return math.exp(engine.log_mass(posterior, population.misaligned_mask()))

    assert share(crowded, s_crowded) == pytest.approx(share(alone, s_alone), rel=1e-12)
    assert share(crowded, s_crowded) < share(uncrowded, engine.evidence(uncrowded, table)[:, 0])
