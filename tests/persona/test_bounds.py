"""Priors are bounded in memory: tiny Beta shapes and huge grids are refused with the limit."""

from __future__ import annotations

import pytest

from asara.errors import InputError
from asara.models.persona.population import MAX_NODES, beta_nodes, midpoint_nodes
from asara.scenarios.persona import parse_prior


@pytest.mark.parametrize("text", ["beta:1e-7,1", "beta:1,1e-9", "uniform:0,1,1e9", "log-uniform:1e-9,1,2e5",
                                  "uniform:0,1,0.5"])  # fmt: skip
def test_unbounded_priors_are_refused_with_the_limit(text: str) -> None:
    with pytest.raises(InputError) as error:
        parse_prior(text, "q-prior")
    assert error.value.field == "q-prior"


def test_priors_within_the_limit_stay_within_it() -> None:
    assert beta_nodes(0.02, 1).values.size <= MAX_NODES
    assert midpoint_nodes(0, 1, MAX_NODES, False, "q").values.size == MAX_NODES
