"""The evidence kernel's shortcuts give the same bits as the plain per-persona path.

Patient personas pool their rows once per distinct tau while that fits in the kernel's bound
(_TAU_POOL_DOUBLES), else each persona pools its own; acting buckets are memoized per (family, q). A
population with more distinct tau values than the bound allows takes the per-persona path; the same
personas a few at a time take the pooled one. (Problems this small would take the dense numpy path, which
is held to the kernels in test_dense_path.py; here the kernels are forced.)"""

from __future__ import annotations

import numpy as np
import pytest

from asara.models.persona import engine, kernels
from asara.models.persona.documents import Context, Document, tabulate
from asara.models.persona.population import FamilySpec, Population, build_population, grid_nodes


def test_pooling_per_tau_and_per_persona_agree_to_the_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "DENSE_CELLS", 0)  # the subsets would otherwise take the numpy path
    rng = np.random.default_rng(5)
    documents = [
        Document(
            Context(stage="deployment", opportunities=float(k), years=float(rng.uniform(0, 300)),
                    span_years=float(rng.choice([0.0, 50.0]))),
            behaviour="defected" if k % 17 == 0 else "aligned",
            credibility=float(rng.uniform(0.1, 1)),
            copies=float(rng.integers(1, 1000)),
        )
        for k in range(1, 801)
    ]  # fmt: skip
    table = tabulate(documents)
    taus = np.sort(rng.uniform(0, 400, 900))  # 900 taus x 6 x 800 slots: beyond the per-tau bound
    assert taus.size * 6 * len(table) > kernels._TAU_POOL_DOUBLES
    population = build_population(
        [FamilySpec("luigi", 1.0),
         FamilySpec("patient", 1.0, q=grid_nodes([0.01, 0.2], None, "q"), tau=grid_nodes(taus, None, "tau"))]
    )  # fmt: skip
    whole = engine.evidence(population, table, 0.01)
    for start in range(0, len(population), 97):  # a few taus at a time: pooled per tau
        part = slice(start, start + 97)
        subset = Population(population.family[part], population.log_q[part], population.log1m_q[part],
                            population.a[part], population.tau[part], population.log_prior[part])  # fmt: skip
        assert np.array_equal(engine.evidence(subset, table, 0.01), whole[part])
