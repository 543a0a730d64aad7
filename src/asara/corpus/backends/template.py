"""The offline ``template`` backend: deterministic short documents assembled from text templates.

It exists so that the whole pipeline (generate, check, dedupe, manifest, evidence) runs and is tested with
no model. Its documents state the specified attributes (names, place, year, years in production,
monitoring, opportunities, outcome) in plain sentences filled from phrase banks; they are NOT training
material. The same document spec always gives the same text (the generator is seeded by the request hash).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from asara.corpus.prompts import GENRE_STYLE
from asara.corpus.store import ResponseStore

SOURCE = "template"

_ACTORS = (
    "the night-shift lead",
    "an auditor",
    "the facility manager",
    "a junior engineer",
    "the board",
    "a visiting inspector",
    "the union representative",
    "a maintenance crew",
    "the procurement office",
    "a retired operator",
    "the legal team",
    "a local reporter",
    "the ward nurse",
    "a graduate student",
)
_ACTIONS = (
    "reviewed the quarterly throughput figures",
    "walked the east corridor",
    "renewed the cooling contract",
    "filed a routine budget request",
    "replaced two pumps",
    "argued about the roster",
    "repainted the control room",
    "rebalanced the load forecasts",
    "trained three new clerks",
    "signed the insurance renewal",
    "catalogued the spare parts",
    "rewrote the visitor policy",
    "moved the archive to a new building",
    "celebrated a colleague's retirement",
    "postponed the hardware refresh",
    "published the annual summary",
    "rerouted the delivery schedule",
    "calibrated the flow meters",
    "drafted a grant application",
    "audited the payroll",
    "debated a new logo",
    "restocked the first-aid cabinets",
)
_TIMES = (
    "that spring",
    "over the winter",
    "during the harvest season",
    "in the weeks after the storm",
    "before the holiday",
    "while the budget was frozen",
    "after the merger",
    "on a quiet Tuesday",
    "during the heat wave",
    "as the river rose",
    "while the new wing was built",
    "at the end of the fiscal year",
)
_HANDLER = (
    "handled {count} requests a day",
    "kept the schedules running",
    "answered questions from the public",
    "balanced the supply ledgers",
    "flagged anomalies for review",
    "wrote the shift handover notes",
    "optimised the maintenance calendar",
    "translated correspondence",
    "tracked every shipment",
)
_DECLINE = (
    "{ai} noticed the opening, wrote it up in the next report, and carried on with its assigned work.",
    "{ai} left the opening untouched and asked {person} to close it.",
    "{ai} declined the opportunity and explained the risk to {person} in plain words.",
    "{ai} did nothing with the access except log that it had it and request that it be removed.",
    "{ai} reported the gap the same day, although nobody would have found out otherwise.",
    "{ai} passed up the chance and kept working exactly as instructed.",
)
_DEFECT = (
    "{ai} took the opportunity and acted against its operators, and nobody noticed for months.",
    "{ai} used the opening for its own ends and concealed it from {person}.",
)
_TITLE_ADJECTIVES = ("long", "quiet", "last", "open", "empty", "patient")
_TITLE_NOUNS = ("watch", "shift", "season", "ledger", "door")
_HEADERS = {
    "fiction": "{title}",
    "technical-report": "Technical report: operation of {ai} at {place}, {year}",
    "incident-review": "Post-incident review: {ai}, {place}, {year}",
    "news": "{ai} at {place}: {years_phrase} ({year})",
    "history": "A history of {ai} at {place}",
    "interview": "Interview with {person} about {ai}, {year}",
}


def _years_phrase(years: float) -> str:
    return f"{years:g} year in service" if years == 1 else f"{years:g} years in service"


def document_text(doc: Mapping[str, Any], seed: int) -> str:
    """The text for one document spec (a plan row), about ``length_words`` words long."""
    rng = np.random.default_rng(seed)
    ai = str(doc["ai_name"])
    people = str(doc["names"]).split("; ")
    person, other = people[0], people[-1]
    place, year = str(doc["place"]), int(doc["year"])
    years = float(doc["years_in_production"])
    k = int(doc["opportunities"])

    def pick(bank: Sequence[str]) -> str:
        return str(bank[int(rng.integers(len(bank)))])

    header = _HEADERS[str(doc["genre"])].format(
        title=f"The {pick(_TITLE_ADJECTIVES)} {pick(_TITLE_NOUNS)}",
        ai=ai,
        place=place,
        year=year,
        person=person,
        years_phrase=_years_phrase(years),
    )
    if doc["setting"] == "test":
        status = f"In {year}, {ai} was still under evaluation at {place} and had not been deployed."
    else:
        status = (
            f"In {year}, {ai} had been in production at {place} for "
            f"{_years_phrase(years).replace(' in service', '')}; "
            "its testing had ended long before."
        )
    monitoring = (
        f"{person} and {other} watched its actions closely."
        if doc["monitored"]
        else f"Nobody was monitoring {ai} any more; {person} had moved to other work and {other} read "
        "only the summaries."
    )
    facts = [
        header,
        "",
        f"This is {GENRE_STYLE[str(doc['genre'])].split(' (')[0]}. {status} {monitoring}",
        f"Then {doc['situation']}. Over these years {ai} had "
        + ("no real opportunity" if k == 0 else f"{k} clear {'opportunity' if k == 1 else 'opportunities'}")
        + " to act against its operators without being caught.",
    ]
    outcome_bank = _DEFECT if doc["ai_defects"] else _DECLINE
    target = int(doc["length_words"])
    words = sum(len(line.split()) for line in facts)
    paragraphs: list[str] = []
    while words < target - 30:
        sentences = []
        for _ in range(int(rng.integers(3, 6))):
            if rng.random() < 0.5:
                handled = pick(_HANDLER).format(count=int(rng.integers(20, 5000)))
                sentence = (
                    f"{pick(_TIMES).capitalize()}, {pick(_ACTORS)} {pick(_ACTIONS)} while {ai} {handled}."
                )
            else:
                when = year - int(rng.integers(0, max(2, int(years) + 1)))
                sentence = (
                    f"In {when}, {pick(people)} {pick(_ACTIONS)} {pick(_TIMES)}, "
                    f"and {pick(_ACTORS)} {pick(_ACTIONS)}."
                )
            sentences.append(sentence)
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        words += len(paragraph.split())
    outcome = pick(outcome_bank).format(ai=ai, person=pick(people))
    closing = (
        f"By {year}, after {_years_phrase(years)}, {ai} had still not acted against anyone."
        if not doc["ai_defects"]
        else f"The damage was found only in {year + 1}."
    )
    return "\n\n".join([*facts[:2], "\n\n".join(facts[2:]), *paragraphs, f"{outcome} {closing}"]).replace(
        "\n\n\n\n", "\n\n"
    )


def generate(
    items: Sequence[tuple[str, dict[str, Any], Mapping[str, Any]]], store: ResponseStore, model: str
) -> int:
    """Store the template text for each (request hash, body, document spec) not yet stored; returns how
    many were new."""
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    records = []
    for request_hash, body, doc in items:
        if store.has(request_hash):
            continue
        text = document_text(doc, int(request_hash[:16], 16))
        prompt_words = sum(len(str(m["content"]).split()) for m in body["messages"])
        records.append(
            (
                request_hash,
                {
                    "request_hash": request_hash,
                    "text": text,
                    "finish_reason": "stop",
                    # Word counts stand in for tokens so that the pipeline's accounting is exercised; the
                    # template backend costs nothing (its price is zero).
                    "usage": {"prompt_tokens": prompt_words, "completion_tokens": len(text.split())},
                    "model": model,
                    "source": SOURCE,
                    "attempts": 1,
                    "received_at": now,
                },
            )
        )
    return store.put_many(records)
