"""Priors are bounded in memory: huge grids and Beta priors too narrow for the node bound are refused with
the limit; tiny Beta shapes are integrated in a few hundred nodes (tests/persona/test_small_beta.py)."""

from __future__ import annotations

import pytest

from asara.errors import InputError
from asara.models.persona.population import MAX_NODES, beta_nodes, midpoint_nodes
from asara.scenarios.persona import parse_prior


@pytest.mark.parametrize("text", ["beta:1e6,1e6", "beta:1e7,1e7", "uniform:0,1,1e9", "log-uniform:1e-9,1,2e5",
                                  "uniform:0,1,0.5"])  # fmt: skip
def test_unbounded_priors_are_refused_with_the_limit(text: str) -> None:
    with pytest.raises(InputError) as error:
        parse_prior(text, "q-prior")
    assert error.value.field == "q-prior"


def test_priors_within_the_limit_stay_within_it() -> None:
    for shapes in [(0.02, 1), (1e-7, 1), (1, 1e-9), (1e-300, 1e-300), (1e4, 1e4)]:
        assert beta_nodes(*shapes).values.size <= MAX_NODES
    assert midpoint_nodes(0, 1, MAX_NODES, False, "q").values.size == MAX_NODES


def test_a_prior_down_to_1e_300_gives_finite_half_lives() -> None:
    """The half-life search narrows in log count: low x high overflowed for q down to 1e-300 and the
    search never ended."""
    import math

    from asara import persona

    curve = persona.decay("log-uniform:1e-300,1,2000", 1.0, 1e9).points
    assert all(math.isfinite(point.half_life) and point.half_life > 0 for point in curve)
    assert curve[-1].odds_ratio < curve[0].odds_ratio < 1


@pytest.mark.parametrize(("call", "field"), [
    (lambda p: p.decay("beta:1,1", 1e45, 1.0), "opportunities"),
    (lambda p: p.decay("beta:1,1", 1e18, 1e9), "opportunities"),
    (lambda p: p.run("naive-decay", ["stage_weights.pretraining=1e300"]), "documents"),
])  # fmt: skip
def test_corpora_beyond_the_quadratures_range_are_refused(call, field) -> None:  # type: ignore[no-untyped-def]
    """Beyond 1e26 weighted opportunities the q quadrature cannot resolve the posterior (1e45 clean
    opportunities gave an odds ratio of 8e-61 instead of 1e-45): refused, not answered wrongly."""
    from asara import persona

    with pytest.raises(InputError, match="weighted opportunities") as error:
        call(persona)
    assert error.value.field == field


def test_the_largest_accurate_corpus_is_still_answered() -> None:
    from asara import persona

    last = persona.decay("beta:1,1", 1e17, 1e9).points[-1]  # 1e26 opportunities: odds ratio 1/(1 + 1e26)
    assert last.odds_ratio == pytest.approx(1e-26, rel=1e-6)


def test_a_menu_beyond_the_bound_is_refused_before_any_memory_is_spent() -> None:
    from asara.models.persona.documents import Document
    from asara.models.persona.optimize import MAX_MENU, MenuItem, menu_evidence
    from asara.models.persona.population import FamilySpec, build_population

    population = build_population([FamilySpec("luigi", 1.0)])
    menu = [MenuItem(f"kind {i}", Document(), 1.0) for i in range(MAX_MENU + 1)]
    with pytest.raises(InputError, match=f"at most {MAX_MENU}") as error:
        menu_evidence(population, menu, 1.0, 0.0)
    assert error.value.field == "optimize.menu"
