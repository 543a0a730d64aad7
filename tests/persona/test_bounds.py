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
