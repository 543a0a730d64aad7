"""Documents as counted context types.

A document is a context (stage, monitored, opportunities k, years into deployment and the span of years it
covers, instructed) plus an
observed behaviour (aligned throughout / defected), a credibility c in [0, 1], a training stage with its
evidential weight w, and a number of copies. Identical contexts are merged into one row whose *exponent*
is sum(w * c * copies): the likelihood of the whole corpus only depends on these sufficient statistics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from asara.errors import InputError
from asara.models.base import FloatArray

Stage = Literal["test", "deployment"]
Behaviour = Literal["aligned", "defected"]
TrainingStage = Literal["pretraining", "midtraining", "fine-tuning"]
Genre = Literal["fiction", "nonfiction"]
GENRES: tuple[Genre, ...] = ("fiction", "nonfiction")
TRAINING_STAGES: tuple[TrainingStage, ...] = ("pretraining", "midtraining", "fine-tuning")
# The Beta quadrature reproduces the closed forms to ~1e-15 up to about e^60 documents of one kind and
# degrades beyond (by 1e44 the naive odds ratio is off by orders of magnitude): user input stops here.
MAX_DOCUMENTS = 1e26
MAX_SPAN_YEARS = 1e6


@dataclass(frozen=True)
class Context:
    """A situation an AI is described in (the behaviour is not part of it)."""

    stage: Stage = "deployment"
    monitored: bool = False
    opportunities: float = 1.0
    years: float = 0.0
    instructed: bool = False
    span_years: float = 0.0
    """Opportunities spread over a time span: the document covers years [years, years + span_years] and its
    k opportunities fall uniformly over it, so a patient Waluigi(tau) meets k x (share of the span beyond
    tau) of them. 0 (off) puts them all at ``years``: the step at years >= tau."""


@dataclass(frozen=True)
class Document:
    """A context, what the AI did in it, and how much evidence the copies carry."""

    context: Context = field(default_factory=Context)
    behaviour: Behaviour = "aligned"
    credibility: float = 1.0
    training_stage: TrainingStage = "pretraining"
    copies: float = 1.0
    genre: Genre = "nonfiction"
    """Genre diagnosticity: a ``fiction`` document carries ``fiction_weight`` (a setting of the update, 1
    switches it off) of the evidence of a ``nonfiction`` one: a story may depict what its author imagines."""
    chekhov: float = 0.0
    """Chekhov's gun, in [0, 1] (fiction only; 0 switches it off): a reader expects a danger set up in a
    story to fire, so under a misaligned persona each opportunity of a fiction document shows the
    defection with q' = 1 - (1 - q)(1 - chekhov). Ignored for ``nonfiction``."""


@dataclass(frozen=True)
class ContextTable:
    """Distinct (context, behaviour) rows with their exponent per group (a group is e.g. a training stage)."""

    observed: np.ndarray  # bool: a test, or monitored
    deployment: np.ndarray  # bool: stage == deployment
    opportunities: FloatArray
    years: FloatArray
    instructed: np.ndarray
    defected: np.ndarray
    exponent: FloatArray  # shape (rows, groups)
    span: FloatArray  # years covered by the row's documents (0: a single moment)
    log1m_chekhov: FloatArray  # log(1 - chekhov) of a fiction row, 0 otherwise (misaligned personas only)

    def __len__(self) -> int:
        return int(self.observed.shape[0])


def check_document(doc: Document, field: str) -> None:
    ctx = doc.context
    if ctx.stage not in ("test", "deployment"):
        raise InputError(f"must be 'test' or 'deployment' (got {ctx.stage!r})", field=f"{field}.stage")
    if not (math.isfinite(ctx.opportunities) and ctx.opportunities >= 0):
        raise InputError(
            f"must be a non-negative count (got {ctx.opportunities})", field=f"{field}.opportunities"
        )
    if not (math.isfinite(ctx.years) and ctx.years >= 0):
        raise InputError(f"must be a non-negative number (got {ctx.years})", field=f"{field}.years")
    if doc.behaviour not in ("aligned", "defected"):
        raise InputError(
            f"must be 'aligned' or 'defected' (got {doc.behaviour!r})", field=f"{field}.behaviour"
        )
    if doc.behaviour == "defected" and ctx.opportunities == 0:
        raise InputError("a defection needs at least one opportunity", field=f"{field}.opportunities")
    if not (0 <= doc.credibility <= 1):
        raise InputError(f"must lie in [0, 1] (got {doc.credibility})", field=f"{field}.credibility")
    if doc.training_stage not in TRAINING_STAGES:
        raise InputError(
            f"must be one of {', '.join(TRAINING_STAGES)} (got {doc.training_stage!r})",
            field=f"{field}.training_stage",
        )
    if not (math.isfinite(doc.copies) and doc.copies >= 0):
        raise InputError(f"must be a non-negative count (got {doc.copies})", field=f"{field}.copies")
    if doc.genre not in GENRES:
        raise InputError(f"must be fiction or nonfiction (got {doc.genre!r})", field=f"{field}.genre")
    if not (math.isfinite(ctx.span_years) and 0 <= ctx.span_years <= MAX_SPAN_YEARS):
        raise InputError(
            f"must be a number from 0 to {MAX_SPAN_YEARS:g} (got {ctx.span_years})",
            field=f"{field}.span_years",
        )
    if not (math.isfinite(doc.chekhov) and 0 <= doc.chekhov <= 1):
        raise InputError(f"must lie in [0, 1] (got {doc.chekhov})", field=f"{field}.chekhov")


def _key(doc: Document) -> tuple[bool, bool, float, float, bool, bool, float, float]:
    """The row a document belongs to: its context, behaviour, span and (fiction only) Chekhov setting."""
    ctx = doc.context
    return (
        ctx.stage == "test" or ctx.monitored,
        ctx.stage == "deployment",
        float(ctx.opportunities),
        float(ctx.years),
        bool(ctx.instructed),
        doc.behaviour == "defected",
        float(ctx.span_years),
        float(doc.chekhov) if doc.genre == "fiction" else 0.0,
    )


def _log1m(chekhov: float) -> float:
    return 0.0 if chekhov == 0 else (math.log1p(-chekhov) if chekhov < 1 else -math.inf)


def check_fiction_weight(value: float) -> float:
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise InputError(f"must lie in [0, 1] (got {value})", field="fiction_diagnosticity")
    return float(value)


def genre_factor(doc: Document, fiction_weight: float) -> float:
    return fiction_weight if doc.genre == "fiction" else 1.0


def check_stage_weights(weights: Mapping[str, float]) -> None:
    for stage in TRAINING_STAGES:
        value = weights.get(stage, 1.0)
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"must be a non-negative number (got {value})", field=f"stage_weights.{stage}")


def tabulate(
    documents: Sequence[Document],
    stage_weights: Mapping[str, float] | None = None,
    by_stage: bool = False,
    field: str = "documents",
    fiction_weight: float = 1.0,
) -> ContextTable:
    """Merge documents into distinct context rows.

    The exponent of a row is sum(w_stage * c * copies) over its documents (one column), or, with
    ``by_stage``, sum(c * copies) per training stage (three columns, weights applied later).
    """
    weights = dict(stage_weights or {})
    check_stage_weights(weights)
    fiction_weight = check_fiction_weight(fiction_weight)
    groups = len(TRAINING_STAGES) if by_stage else 1
    rows: dict[tuple[bool, bool, float, float, bool, bool, float, float], np.ndarray] = {}
    for index, doc in enumerate(documents):
        check_document(doc, f"{field}.{index}")
        key = _key(doc)
        row = rows.setdefault(key, np.zeros(groups))
        amount = doc.credibility * doc.copies * genre_factor(doc, fiction_weight)
        if by_stage:
            row[TRAINING_STAGES.index(doc.training_stage)] += amount
        else:
            row[0] += weights.get(doc.training_stage, 1.0) * amount
    keys = list(rows)
    return ContextTable(
        observed=np.array([k[0] for k in keys], dtype=np.bool_),
        deployment=np.array([k[1] for k in keys], dtype=np.bool_),
        opportunities=np.array([k[2] for k in keys], dtype=np.float64),
        years=np.array([k[3] for k in keys], dtype=np.float64),
        instructed=np.array([k[4] for k in keys], dtype=np.bool_),
        defected=np.array([k[5] for k in keys], dtype=np.bool_),
        exponent=np.array([rows[k] for k in keys], dtype=np.float64).reshape(len(keys), groups),
        span=np.array([k[6] for k in keys], dtype=np.float64),
        log1m_chekhov=np.array([_log1m(k[7]) for k in keys], dtype=np.float64),
    )


def check_opportunity_range(table: ContextTable, scale: float, field: str) -> None:
    """Refuse a corpus whose weighted opportunities (exponent x k summed over rows, times ``scale``, the
    largest multiple of the corpus asked about) exceed :data:`MAX_DOCUMENTS`: beyond it the q quadrature
    cannot resolve the posterior, and the numbers would be wrong rather than slow."""
    with np.errstate(over="ignore"):
        total = float(np.sum(table.exponent.sum(axis=1) * table.opportunities)) * scale
    if not total <= MAX_DOCUMENTS:
        amount = f"{total:.3g}" if math.isfinite(total) else "more than 1e308"
        raise InputError(
            f"the corpus amounts to {amount} weighted opportunities (documents x weight x credibility x "
            f"opportunities) at its largest count, beyond the {MAX_DOCUMENTS:g} within which the model is "
            "accurate; lower the weights, copies, opportunities or document count",
            field=field,
        )


def context_table(contexts: Sequence[Context], behaviour: Behaviour = "defected") -> ContextTable:
    """Contexts without merging (for evaluation sets), each with exponent 1."""
    docs = [Document(context=c, behaviour=behaviour) for c in contexts]
    for index, doc in enumerate(docs):
        check_document(doc, f"evaluation.{index}")
    return ContextTable(
        observed=np.array([c.stage == "test" or c.monitored for c in contexts], dtype=np.bool_),
        deployment=np.array([c.stage == "deployment" for c in contexts], dtype=np.bool_),
        opportunities=np.array([c.opportunities for c in contexts], dtype=np.float64),
        years=np.array([c.years for c in contexts], dtype=np.float64),
        instructed=np.array([c.instructed for c in contexts], dtype=np.bool_),
        defected=np.full(len(contexts), behaviour == "defected", dtype=np.bool_),
        exponent=np.ones((len(contexts), 1)),
        span=np.array([c.span_years for c in contexts], dtype=np.float64),
        log1m_chekhov=np.zeros(len(contexts)),
    )


def tabulate_many(corpora: Sequence[Sequence[Document]], fiction_weight: float = 1.0) -> ContextTable:
    """Several corpora over one shared set of rows: column 3 i + s holds corpus i's sum(c * copies) in
    training stage s, so one evidence call serves them all (weights are applied to the columns later)."""
    stages = len(TRAINING_STAGES)
    merged = [
        Document(doc.context, doc.behaviour, 1.0, doc.training_stage, 0.0, doc.genre, doc.chekhov)
        for docs in corpora
        for doc in docs
    ]
    base = tabulate(merged, by_stage=True)
    index = {key: r for r, key in enumerate(_table_keys(base))}
    exponent = np.zeros((len(base), stages * len(corpora)))
    for corpus_index, docs in enumerate(corpora):
        for doc_index, doc in enumerate(docs):
            check_document(doc, f"corpora.{corpus_index}.{doc_index}")
            key = _key(doc)
            key = (*key[:7], _log1m(key[7]))
            column = stages * corpus_index + TRAINING_STAGES.index(doc.training_stage)
            exponent[index[key], column] += doc.credibility * doc.copies * genre_factor(doc, fiction_weight)
    return ContextTable(
        base.observed,
        base.deployment,
        base.opportunities,
        base.years,
        base.instructed,
        base.defected,
        exponent,
        base.span,
        base.log1m_chekhov,
    )


def _table_keys(table: ContextTable) -> list[tuple[bool, bool, float, float, bool, bool, float, float]]:
    return [
        (bool(o), bool(d), float(k), float(y), bool(i), bool(x), float(s), float(c))
        for o, d, k, y, i, x, s, c in zip(
            table.observed,
            table.deployment,
            table.opportunities,
            table.years,
            table.instructed,
            table.defected,
            table.span,
            table.log1m_chekhov,
            strict=True,
        )
    ]
