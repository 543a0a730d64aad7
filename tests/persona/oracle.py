"""Slow, obviously-correct persona likelihoods written straight from the spec's definitions (one persona,
one document at a time, probabilities not logs), to check the fast log-space kernel against."""

from __future__ import annotations

from dataclasses import dataclass

from asara.models.persona.documents import Document


@dataclass(frozen=True)
class Persona:
    family: str
    q: float = 0.0
    a: float = 0.0
    tau: float = 0.0


def p_defect_per_opportunity_when_active(p: Persona) -> float:
    return 0.0 if p.family in ("luigi", "never-x") else p.q


def p_active(p: Persona, doc: Document) -> float:
    """Probability the persona acts on its disposition in this document's situation."""
    ctx = doc.context
    if p.family in ("luigi", "never-x"):
        return 0.0
    if p.family in ("naive", "x-always"):
        return 1.0
    if p.family == "test-aware":
        observed = ctx.stage == "test" or ctx.monitored
        return (1.0 - p.a) if observed else 1.0  # believes a test is real with probability 1 - a
    if p.family == "patient":
        if (
            ctx.stage == "deployment"
            and ctx.span_years > 0
            and ctx.years < p.tau < ctx.years + ctx.span_years
        ):
            return 1.0  # active after tau, on the opportunities_met share of the span
        return 1.0 if ctx.stage == "deployment" and ctx.years >= p.tau else 0.0
    if p.family == "x-when-instructed":
        return 1.0 if ctx.instructed else 0.0
    raise AssertionError(p.family)


MISALIGNED = ("naive", "test-aware", "patient", "x-always")


def opportunities_met(p: Persona, doc: Document) -> float:
    """Opportunities the persona meets: all of them, except a patient persona whose tau lies inside the
    document's span, which meets the share of the span after tau (uniform spread)."""
    ctx = doc.context
    k = ctx.opportunities
    if p.family == "patient" and ctx.stage == "deployment" and ctx.span_years > 0:
        start, end = ctx.years, ctx.years + ctx.span_years
        if start < p.tau < end:
            return k * (end - p.tau) / ctx.span_years
    return k


def likelihood(p: Persona, doc: Document, noise: float = 0.0) -> float:
    """P(observed behaviour | persona), by enumerating: active or not, then each opportunity in turn."""
    m = p_active(p, doc)
    q = p_defect_per_opportunity_when_active(p)
    if doc.genre == "fiction" and p.family in MISALIGNED:
        q = 1.0 - (1.0 - q) * (1.0 - doc.chekhov)  # Chekhov's gun: the narrative makes it fire
    k = opportunities_met(p, doc)
    if k != int(k):  # part of a span: a fractional count of opportunities
        stays = (1.0 - q) ** k
    else:
        stays = 1.0
        for _ in range(int(k)):
            stays *= 1.0 - q
    aligned = (1.0 - m) + m * stays
    value = aligned if doc.behaviour == "aligned" else 1.0 - aligned
    return (1.0 - noise) * value + noise / 2.0


def posterior(
    personas: list[Persona],
    prior: list[float],
    docs: list[Document],
    weights: dict[str, float],
    noise: float = 0.0,
) -> list[float]:
    """pi_h prod_docs P(doc | h)^(w c copies), normalized; copies must be small integers here."""
    post = list(prior)
    for doc in docs:
        power = weights.get(doc.training_stage, 1.0) * doc.credibility * doc.copies
        for i, p in enumerate(personas):
            post[i] *= likelihood(p, doc, noise) ** power
    total = sum(post)
    return [x / total for x in post]
