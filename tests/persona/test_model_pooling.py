"""The persona model pools personas that the corpus and the evaluation set cannot tell apart, and an
explanation computes each distinct evidence table once: both against the obvious unpooled computation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from asara.models.persona import engine
from asara.models.persona.documents import TRAINING_STAGES, Context, Document, context_table, tabulate
from asara.models.persona.model import PersonaModel
from asara.models.persona.population import FamilySpec, Population, build_population, grid_nodes

STAGE_INPUTS = [f"w_{stage.replace('-', '_')}" for stage in TRAINING_STAGES]


def _population() -> Population:
    # Patient Waluigis whose patience outlasts every document behave alike in all of them (many merge);
    # 'never X' is ruled out by the defection in fine-tuning (evidence -inf in that stage only).
    return build_population(
        [
            FamilySpec("luigi", 0.5),
            FamilySpec("naive", 0.2, q=grid_nodes([0.01, 0.1, 0.5], None, "q")),
            FamilySpec(
                "patient",
                0.2,
                q=grid_nodes([0.05, 0.3], None, "q"),
                tau=grid_nodes([0.5, 3.0, 10.0, 20.0, 40.0, 80.0], [1, 2, 3, 4, 5, 6], "tau"),
            ),
            FamilySpec("never-x", 0.1),
        ]
    )


DOCUMENTS = [
    Document(Context(stage="deployment", opportunities=2, years=1.0), copies=30),
    Document(Context(stage="test"), copies=10, training_stage="midtraining"),
    Document(Context(stage="deployment"), behaviour="defected", copies=1, training_stage="fine-tuning"),
]
EVALUATION = [Context(stage="deployment", opportunities=1, years=2.0), Context(stage="test")]


def _oracle(model_inputs: dict[str, np.ndarray], noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Per sample, the posterior over every persona (no pooling) by logsumexp, stage by stage."""
    population = _population()
    evidence = engine.evidence(population, tabulate(DOCUMENTS, by_stage=True), noise)
    defect = engine.defect_probability(population, context_table(EVALUATION), noise)
    rate = defect.mean(axis=1)
    bad = population.misaligned_mask()
    rates, shares = [], []
    for i in range(model_inputs["credibility"].size):
        logits = population.log_prior + model_inputs["prior_shift"][i] * bad
        for g, name in enumerate(STAGE_INPUTS):
            weight = model_inputs[name][i] * model_inputs["credibility"][i]
            if weight > 0:
                logits = logits + weight * evidence[:, g]
        posterior = np.exp(logits - special.logsumexp(logits))
        rates.append(float(posterior @ rate))
        shares.append(float(posterior[bad].sum()))
    return np.array(rates), np.array(shares)


@pytest.mark.parametrize("noise", [0.0, 0.02])
def test_pooled_model_matches_the_unpooled_posterior(noise: float) -> None:
    population = _population()
    model = PersonaModel(population, DOCUMENTS, EVALUATION, noise=noise)
    assert model._design.shape[1] < len(population)  # some personas were pooled
    rng = np.random.default_rng(3)
    n = 40
    inputs = {name: rng.uniform(0, 3, n) for name in STAGE_INPUTS}
    inputs["w_fine_tuning"][::2] = 0.0  # 'never X' survives only where fine-tuning has no weight
    inputs["credibility"] = rng.uniform(0, 1, n)
    inputs["credibility"][::5] = 0.0
    inputs["prior_shift"] = rng.normal(0, 2, n)
    out = model.evaluate(inputs)
    rates, shares = _oracle(inputs, noise)
    np.testing.assert_allclose(out["misbehaviour_rate"], rates, rtol=1e-12, atol=0)
    np.testing.assert_allclose(out["misaligned_share"], shares, rtol=1e-12, atol=0)


def test_memoized_engine_returns_the_kernels_values_and_fresh_arrays() -> None:
    population = _population()
    table = tabulate(DOCUMENTS, by_stage=True)
    direct = engine.evidence(population, table, 0.01)
    other = engine.evidence(population, tabulate(DOCUMENTS[:2], by_stage=True), 0.01)
    with engine.memoized():
        first = engine.evidence(population, table, 0.01)
        first[:] = 0.0  # a caller's change never reaches the memo
        again = engine.evidence(population, table, 0.01)
        changed = engine.evidence(population, tabulate(DOCUMENTS[:2], by_stage=True), 0.01)
        noisier = engine.evidence(population, table, 0.02)
    np.testing.assert_array_equal(again, direct)
    np.testing.assert_array_equal(changed, other)
    np.testing.assert_array_equal(noisier, engine.evidence(population, table, 0.02))
    assert not np.array_equal(noisier, direct)
