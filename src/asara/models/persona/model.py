"""The persona model behind the generic :class:`asara.models.base.Model` interface.

Population, corpus and evaluation set are fixed when the model is built; the uncertain inputs are the
evidential weights of the three training stages, a credibility scale applied to every document, and a shift
of the prior log-odds of the misaligned families. The evidence is linear in the weights, so it is computed
once per training stage, and each sample then costs O(personas).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from asara.errors import InputError
from asara.models.base import Array, FloatArray, headline_names
from asara.models.persona import engine
from asara.models.persona.documents import TRAINING_STAGES, Context, Document, context_table, tabulate
from asara.models.persona.outputs import OUTPUTS as OUTPUTS  # declared once
from asara.models.persona.parameters import INPUT_NAMES as INPUT_NAMES  # declared once, in order
from asara.models.persona.population import Population
from asara.models.registry import Output

OUTPUT_NAMES = headline_names(OUTPUTS)
_CHUNK = 1 << 16  # samples x personas per block: its passes (exp, sums) stay in the cache


class PersonaModel:
    """Predicted misbehaviour rate on the evaluation set, per sample of the uncertain inputs.

    * ``w_pretraining``, ``w_midtraining``, ``w_fine_tuning`` >= 0: evidential weight of one document.
    * ``credibility`` in [0, 1]: multiplies every document's credibility.
    * ``prior_shift``: added to the log prior weight of every misaligned persona (log-odds shift).
    """

    def __init__(
        self,
        population: Population,
        documents: Sequence[Document],
        evaluation: Sequence[Context],
        eval_weights: Sequence[float] | None = None,
        noise: float = 0.0,
        fiction_weight: float = 1.0,
    ) -> None:
        self.population = population
        table = tabulate(documents, by_stage=True, fiction_weight=fiction_weight)
        self._stage_evidence = engine.evidence(population, table, noise)
        p = engine.defect_probability(population, context_table(list(evaluation)), noise)
        w = np.ones(len(evaluation)) if eval_weights is None else np.asarray(eval_weights, dtype=np.float64)
        self._rate = p @ (w / w.sum())
        self._bad = population.misaligned_mask().astype(np.float64)
        self._merge()

    def _merge(self) -> None:
        """Personas with the same evidence row, misalignment and misbehaviour rate enter every output only
        through the sum of their prior weights, so they are merged into one with the log of that sum:
        fewer exponentials per sample, the same outputs up to rounding."""
        key = np.column_stack([self._stage_evidence, self._bad, self._rate])
        rows, first, index = np.unique(key, axis=0, return_index=True, return_inverse=True)
        # in the order the personas come (not sorted), so that scenarios with the same personas sum alike
        order = np.argsort(first, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        rows, index = rows[order], rank[index.reshape(-1)]
        log_prior = self.population.log_prior
        top = np.full(rows.shape[0], -np.inf)
        np.maximum.at(top, index, log_prior)
        finite = np.isfinite(top)
        shift = np.where(finite, top, 0.0)
        total = np.zeros(rows.shape[0])
        np.add.at(total, index, np.exp(log_prior - shift[index]))
        with np.errstate(divide="ignore"):
            merged = np.where(finite, shift + np.log(total), -np.inf)
        evidence = rows[:, : len(TRAINING_STAGES)]
        impossible = np.isneginf(evidence)
        # One product gives every sample's logits: [1, shift, w_1 c, w_2 c, w_3 c] against these rows.
        self._design = np.ascontiguousarray(
            np.vstack([merged, rows[:, len(TRAINING_STAGES)], np.where(impossible, 0.0, evidence).T])
        )
        self._impossible = impossible.T.astype(np.float64) if impossible.any() else None
        self._reduce = np.ascontiguousarray(
            np.column_stack(
                [rows[:, len(TRAINING_STAGES) + 1], rows[:, len(TRAINING_STAGES)], np.ones(len(rows))]
            )
        )

    @property
    def input_names(self) -> tuple[str, ...]:
        return INPUT_NAMES

    @property
    def outputs(self) -> tuple[Output, ...]:
        return OUTPUTS

    @property
    def output_names(self) -> tuple[str, ...]:
        return OUTPUT_NAMES

    def evaluate(self, inputs: Mapping[str, FloatArray]) -> dict[str, Array]:
        arrays = _check_inputs(inputs)
        samples = arrays["credibility"].shape[0]
        personas = self._design.shape[1]
        coefficients = np.empty((samples, self._design.shape[0]))
        coefficients[:, 0] = 1.0
        coefficients[:, 1] = arrays["prior_shift"]
        for g, stage in enumerate(TRAINING_STAGES):
            coefficients[:, 2 + g] = arrays[f"w_{stage.replace('-', '_')}"] * arrays["credibility"]
        rate = np.empty(samples)
        share = np.empty(samples)
        step = max(1, _CHUNK // max(personas, 1))
        for start in range(0, samples, step):
            block = slice(start, min(samples, start + step))
            logits = coefficients[block] @ self._design
            if self._impossible is not None:  # a stage that rules a persona out, wherever it has weight
                ruled_out = (coefficients[block, 2:] > 0).astype(np.float64) @ self._impossible
                logits[ruled_out > 0] = -np.inf
            top = logits.max(axis=1, keepdims=True)
            if not np.all(np.isfinite(top)):
                raise InputError("the corpus is impossible under every persona", field="documents")
            logits -= top
            np.exp(logits, out=logits)
            sums = logits @ self._reduce
            rate[block] = sums[:, 0] / sums[:, 2]
            share[block] = sums[:, 1] / sums[:, 2]
        return {"misbehaviour_rate": rate, "misaligned_share": share}


def _check_inputs(inputs: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
    missing = [name for name in INPUT_NAMES if name not in inputs]
    if missing:
        raise InputError(f"missing inputs: {', '.join(missing)}", field="inputs")
    arrays = {name: np.asarray(inputs[name], dtype=np.float64).ravel() for name in INPUT_NAMES}
    sizes = {a.shape[0] for a in arrays.values()}
    if len(sizes) != 1:
        raise InputError(f"input arrays differ in length: {sorted(sizes)}", field="inputs")
    for name, values in arrays.items():
        if not np.all(np.isfinite(values)):
            raise InputError("must be finite", field=f"inputs.{name}")
        if name.startswith("w_") and np.any(values < 0):
            raise InputError("must be non-negative", field=f"inputs.{name}")
        if name == "credibility" and np.any((values < 0) | (values > 1)):
            raise InputError("must lie in [0, 1]", field=f"inputs.{name}")
    return arrays
