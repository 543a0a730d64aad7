"""Persona engine benchmark (run on demand: `.venv/bin/python benchmarks/bench_persona.py [--json]`).

Measures, on this machine, the time of one full posterior (evidence over all context types, then the
normalized posterior and the misaligned share) for 1e5 personas x 1e3 distinct context types, at corpus
sizes from 1 to 1e9 copies per context type (the cost must not depend on it), for:

- a mixed population (Luigi, naive, test-aware and patient Waluigis) with opportunities k in 1..50,
- the worst case for the pooled kernel: 1e3 context types with 1e3 distinct k values and a population
  that is half patient Waluigis (their activity depends on each persona's own tau),

plus the one-time numba compile/cache-load time, the cost of a 10-point decay curve afterwards, and, at the
engine's threshold (engine.DENSE_CELLS persona x row cells), the dense numpy path beside the numba kernels:
problems up to the threshold take the dense path, which costs more per call but needs no numba at all.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from asara.models.persona import dense, engine, kernels
from asara.models.persona.documents import Context, Document, tabulate
from asara.models.persona.population import FamilySpec, Population, build_population, grid_nodes

PERSONAS = 100_000
CONTEXTS = 1_000


def population(patient_share: float, rng: np.random.Generator) -> Population:
    """About 1e5 personas: families over sampled q (and grids over a and tau)."""
    patient = int(PERSONAS * patient_share) // 10
    rest = PERSONAS - 10 * patient - 1
    naive = rest // 2
    aware = (rest - naive) // 10
    specs = [
        FamilySpec("luigi", 0.4),
        FamilySpec("naive", 0.3, q=grid_nodes(rng.uniform(0, 1, naive), None, "q")),
        FamilySpec(
            "test-aware",
            0.2,
            q=grid_nodes(rng.uniform(0, 1, aware), None, "q"),
            a=grid_nodes(np.linspace(0, 1, 10), None, "a"),
        ),
    ]
    if patient:
        specs.append(
            FamilySpec(
                "patient",
                0.1,
                q=grid_nodes(rng.uniform(0, 1, patient), None, "q"),
                tau=grid_nodes(np.geomspace(0.5, 500, 10), None, "tau"),
            )
        )
    return build_population(specs)


def corpus(copies: float, distinct_k: bool, rng: np.random.Generator) -> list[Document]:
    docs = []
    for i in range(CONTEXTS):
        k = float(i + 1) if distinct_k else float(rng.integers(1, 51))
        docs.append(
            Document(
                Context(
                    stage="test" if rng.random() < 0.4 else "deployment",
                    monitored=bool(rng.random() < 0.3),
                    opportunities=k,
                    years=float(rng.uniform(0, 300)),
                    instructed=bool(rng.random() < 0.2),
                ),
                behaviour="defected" if rng.random() < 0.05 else "aligned",
                credibility=float(rng.uniform(0.1, 1)),
                copies=copies,
            )
        )
    return docs


def timed(action: Callable[[], Any], repeats: int = 3) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return float(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    half = grid_nodes([0.5], None, "q")
    small = build_population([FamilySpec("luigi", 1), FamilySpec("patient", 1, q=half, tau=half)])
    kernels.evidence(small, tabulate([Document()]), 0.01)  # the presets' sizes would take the dense path
    compile_seconds = time.perf_counter() - start
    record: dict[str, Any] = {
        "personas": PERSONAS,
        "context_types": CONTEXTS,
        "compile_or_cache_load_s": compile_seconds,
    }
    cases = []
    for label, patient_share, distinct_k, noise in (
        ("mixed population, k in 1..50, no noise", 0.1, False, 0.0),
        ("mixed population, k in 1..50, noise 0.01", 0.1, False, 0.01),
        ("worst case: 1e3 distinct k, half patient", 0.5, True, 0.01),
    ):
        pop = population(patient_share, rng)
        for copies in (1.0, 1e3, 1e6, 1e9):
            table = tabulate(corpus(copies, distinct_k, rng))
            bad = pop.misaligned_mask()

            def full(pop: Population = pop, table: Any = table, noise: float = noise, bad: Any = bad) -> None:
                s = engine.evidence(pop, table, noise)[:, 0]
                post = engine.scaled_log_posterior(pop.log_prior, s, 1.0)
                engine.log_mass(post, bad)

            seconds = timed(full)
            cases.append({"case": label, "personas": len(pop), "context_types": len(table),
                          "copies_per_context": copies, "seconds": seconds})  # fmt: skip
    s = engine.evidence(pop, table, 0.01)[:, 0]
    curve_seconds = timed(lambda: engine.curve(pop, s / 1e9, engine.decade_counts(1e9)), repeats=1)
    record["cases"] = cases
    record["threshold"] = threshold_case(rng)
    record["decay_curve_10_points_s"] = curve_seconds
    record["calibrate_s"] = timed(calibrate_all, repeats=1)
    record["plan_production_stories_s"] = timed(plan_production_stories, repeats=1)
    if args.json:
        print(json.dumps(record, indent=2))
        return
    print(f"numba compile / cache load: {compile_seconds:.2f} s (once per process)")
    print(f"{'case':<44} {'personas':>9} {'contexts':>8} {'copies':>8} {'seconds':>8}")
    for case in cases:
        print(
            f"{case['case']:<44} {case['personas']:>9,} {case['context_types']:>8} "
            f"{case['copies_per_context']:>8.0e} {case['seconds']:>8.3f}"
        )
    threshold = record["threshold"]
    size = f"{threshold['personas']:,} personas x {threshold['context_types']} context types"
    dense_ms, kernel_ms = threshold["dense_s"] * 1e3, threshold["kernel_s"] * 1e3
    print(f"at the dense threshold ({size}): dense numpy {dense_ms:.1f} ms, "
          f"numba kernels {kernel_ms:.1f} ms (after their load above)")  # fmt: skip
    print(f"decay curve (10 document counts, shares + half-lives) after the evidence: {curve_seconds:.2f} s")
    print(f"calibrate (fit, profile intervals, held-out interval and profile, 4-way comparison): "
          f"{record['calibrate_s']:.2f} s")  # fmt: skip
    print(
        "plan production-stories, share <= 0.05, with the weight interval: "
        f"{record['plan_production_stories_s']:.2f} s"
    )


def threshold_case(rng: np.random.Generator) -> dict[str, Any]:
    """A mixed population and corpus of about engine.DENSE_CELLS cells, through both paths."""
    rows = 16
    pop = population(0.1, rng)
    keep = np.arange(len(pop)) % max(1, len(pop) * rows // engine.DENSE_CELLS) == 0
    pop = Population(pop.family[keep], pop.log_q[keep], pop.log1m_q[keep], pop.a[keep], pop.tau[keep],
                     pop.log_prior[keep])  # fmt: skip
    table = tabulate(corpus(1.0, False, rng)[:rows])
    return {
        "personas": len(pop),
        "context_types": len(table),
        "dense_s": timed(lambda: dense.evidence(pop, table, 0.01), repeats=5),
        "kernel_s": timed(lambda: kernels.evidence(pop, table, 0.01), repeats=5),
    }


def calibrate_all() -> None:
    from asara.models.persona import calibration

    result = calibration.calibrate()
    calibration.compare(done=result)


def plan_production_stories() -> None:
    from asara.models.persona.optimize import MenuItem
    from asara.models.persona.plan import plan
    from asara.scenarios import persona

    scenario = persona.load("production-stories")
    assert scenario.optimize is not None
    menu = [MenuItem(e.label(i), e.document(1.0), e.cost) for i, e in enumerate(scenario.optimize.menu)]
    plan(scenario.population(), scenario.document_list(), menu, 0.05, "share", scenario.evidence_weights(),
         scenario.evaluation_contexts(), scenario.evaluation_weights(), scenario.noise,
         scenario.fiction_diagnosticity)  # fmt: skip


if __name__ == "__main__":
    main()
