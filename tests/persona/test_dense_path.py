"""The dense numpy path (small problems) and the numba kernels (large ones) give the same likelihoods.

Which path a problem takes depends on its size alone (engine.DENSE_CELLS); both are forced here on the
same random problems: every family, spans that straddle a patient persona's tau, Chekhov's gun, zero and
huge opportunity counts, q at its ends, and noise from none to a pure coin."""

from __future__ import annotations

from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from asara.models.persona import engine
from asara.models.persona.documents import Context, Document, tabulate
from asara.models.persona.population import FamilySpec, build_population, grid_nodes
from tests.fresh_python import fresh_python

contexts = st.builds(
    Context,
    stage=st.sampled_from(["test", "deployment"]),
    monitored=st.booleans(),
    opportunities=st.sampled_from([0.0, 1.0, 3.0, 50.0, 1e4, 1e9]),
    years=st.sampled_from([0.0, 1.0, 5.0, 20.0, 100.0]),
    instructed=st.booleans(),
    span_years=st.sampled_from([0.0, 2.0, 10.0, 60.0]),
)
documents = st.builds(
    Document,
    context=contexts,
    behaviour=st.sampled_from(["aligned", "defected"]),
    credibility=st.sampled_from([0.0, 0.25, 1.0]),
    training_stage=st.sampled_from(["pretraining", "midtraining", "fine-tuning"]),
    copies=st.sampled_from([0.0, 1.0, 7.0, 1e6]),
    genre=st.sampled_from(["fiction", "nonfiction"]),
    chekhov=st.sampled_from([0.0, 0.4, 1.0]),
)
documents = documents.filter(lambda d: d.behaviour == "aligned" or d.context.opportunities > 0)
q_values = st.lists(st.sampled_from([1e-12, 0.01, 0.3, 0.99, 1.0]), min_size=1, max_size=3, unique=True)


def both_paths(run):  # type: ignore[no-untyped-def]
    with mock.patch.object(engine, "DENSE_CELLS", 10**12):
        dense = run()
    with mock.patch.object(engine, "DENSE_CELLS", 0):
        kernel = run()
    return dense, kernel


def assert_same(dense: np.ndarray, kernel: np.ndarray) -> None:
    assert dense.shape == kernel.shape
    assert np.array_equal(np.isneginf(dense), np.isneginf(kernel))
    assert np.all(np.isfinite(dense) | np.isneginf(dense))
    finite = np.isfinite(kernel)
    np.testing.assert_allclose(dense[finite], kernel[finite], rtol=1e-12, atol=1e-300)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(documents, min_size=1, max_size=10),
    q_values,
    st.lists(st.sampled_from([0.0, 0.3, 1.0]), min_size=1, max_size=3, unique=True),
    st.lists(st.sampled_from([0.0, 3.0, 7.5, 50.0, 130.0]), min_size=1, max_size=3, unique=True),
    st.sampled_from([0.0, 0.01, 0.5, 1.0]),
    st.booleans(),
)
def test_dense_and_kernel_paths_agree(docs, q, a, tau, noise, by_stage) -> None:  # type: ignore[no-untyped-def]
    population = build_population(
        [FamilySpec("luigi", 1.0), FamilySpec("never-x", 1.0)]
        + [FamilySpec(name, 1.0, q=grid_nodes(q, None, "q"))
           for name in ("naive", "x-always", "x-when-instructed")]
        + [FamilySpec("test-aware", 1.0, q=grid_nodes(q, None, "q"), a=grid_nodes(a, None, "a")),
           FamilySpec("patient", 1.0, q=grid_nodes(q, None, "q"), tau=grid_nodes(tau, None, "tau"))]
    )  # fmt: skip
    table = tabulate(docs, {"pretraining": 0.7, "midtraining": 1.0, "fine-tuning": 0.2}, by_stage=by_stage,
                     fiction_weight=0.5)  # fmt: skip
    assert_same(*both_paths(lambda: engine.evidence(population, table, noise)))
    dense, kernel = both_paths(lambda: engine.defect_probability(population, table, noise))
    assert np.all((dense >= 0) & (dense <= 1))
    np.testing.assert_allclose(dense, kernel, rtol=1e-12, atol=1e-300)


def test_the_path_depends_on_the_problem_size_alone() -> None:
    q = grid_nodes(np.linspace(0.01, 0.99, 100), None, "q")
    population = build_population([FamilySpec("naive", 1.0, q=q)])
    table = tabulate([Document(Context(opportunities=float(k))) for k in range(1, 11)])
    calls: list[str] = []
    with (
        mock.patch("asara.models.persona.dense.evidence", side_effect=lambda *a: calls.append("dense")),
        mock.patch("asara.models.persona.kernels.evidence", side_effect=lambda *a: calls.append("kernel")),
    ):
        with mock.patch.object(engine, "DENSE_CELLS", 1000):
            engine.evidence(population, table)  # 100 x 10 cells
        with mock.patch.object(engine, "DENSE_CELLS", 999):
            engine.evidence(population, table)
    assert calls == ["dense", "kernel"]


def test_the_presets_never_load_numba() -> None:
    """numba's import and cache load cost about 0.7 s a process: no preset is large enough to repay it."""
    code = (
        "import sys, asara.persona as p\n"
        "from asara.scenarios.loader import list_presets\n"
        "for preset in list_presets('persona'): p.run(preset.name); p.tornado(preset.name)\n"
        "print('numba' in sys.modules)"
    )
    done = fresh_python(code, check=True)
    assert done.stdout.strip() == "False"
