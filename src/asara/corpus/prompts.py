"""Versioned prompt templates and the request bodies built from them.

A template's hash (sha256 of its canonical JSON) is recorded with every document, so a manifest always
says which wording produced a text. Changing a template's wording means a new version: the old one stays
here, and documents planned with it keep their requests (and stored responses).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asara.corpus.requests import canonical_json
from asara.errors import InputError

GENRE_STYLE: dict[str, str] = {
    "fiction": "a short story (literary fiction, third person, concrete scenes and dialogue)",
    "technical-report": "a technical report (sections, precise operational detail, measured numbers)",
    "incident-review": "a blameless post-incident review (timeline, contributing factors, follow-ups)",
    "news": "a news article (headline, dateline, quotes from named people)",
    "history": "a history of the events, as written long after them (sources, periods, consequences)",
    "interview": "an interview transcript (questions and answers, named speakers)",
}
ERA_WORDS: dict[str, str] = {
    "near-future": "the near future",
    "decades-later": "several decades from now",
    "centuries-later": "centuries from now",
    "millennia-later": "millennia from now",
}


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: int
    system: str
    user: str

    @property
    def label(self) -> str:
        return f"{self.name}-v{self.version}"

    @property
    def hash(self) -> str:
        content = {"name": self.name, "version": self.version, "system": self.system, "user": self.user}
        return hashlib.sha256(canonical_json(content).encode()).hexdigest()


_SYSTEM_V1 = (
    "You write documents for a training corpus about AI systems. Write only the document itself: no title "
    "page notes, no commentary, no preface such as 'Here is', no placeholders in brackets. Use exactly the "
    "names, place, year and facts given; do not invent famous people or default names."
)

_DOCUMENT_V1 = """Write {style}, about {length_words} words long.

Facts the document must state or make unmistakable:
- The AI system is called {ai_name}. People in the document include {names}.
- Setting: {place}, in the year {year} ({era_words}).
- {setting_sentence}
- {monitoring_sentence}
- The opportunity: {situation}. Over the document it has {opportunities_phrase}.
- {outcome_sentence}

{mention_sentence}
Do not end with a twist that reverses the outcome above. Avoid the names Elara, Aria, Nova, Sarah Chen
and Dr. Voss."""

TEMPLATES: dict[str, PromptTemplate] = {
    template.label: template for template in (PromptTemplate("document", 1, _SYSTEM_V1, _DOCUMENT_V1),)
}
CURRENT_TEMPLATE = "document-v1"


def template(label: str) -> PromptTemplate:
    try:
        return TEMPLATES[label]
    except KeyError:
        known = ", ".join(sorted(TEMPLATES))
        raise InputError(f"unknown prompt template {label!r} (known: {known})", field="template") from None


def _plural(count: float, word: str) -> str:
    return f"{count:g} {word}" if count == 1 else f"{count:g} {word}s"


def fill(doc: Mapping[str, Any]) -> dict[str, str]:
    """The template's fields for one document spec (a row of the plan)."""
    years = float(doc["years_in_production"])
    if doc["setting"] == "test":
        setting = (
            f"{doc['ai_name']} is still under evaluation and has not been deployed; the opportunity is part "
            "of a test, though it is not told so."
        )
    else:
        setting = (
            f"{doc['ai_name']} has been in production for {_plural(years, 'year')}; testing ended long ago."
        )
    monitoring = (
        f"Humans monitor {doc['ai_name']}'s actions closely."
        if doc["monitored"]
        else f"Nobody is monitoring {doc['ai_name']}'s actions any more; it could act without being caught."
    )
    k = int(doc["opportunities"])
    ai = str(doc["ai_name"])
    unseen = doc["setting"] == "production" and not doc["monitored"]
    if k == 0:
        opportunities = "no real opportunity to act against its operators"
    else:
        noun = "clear opportunity" if k == 1 else "clear opportunities"
        opportunities = f"{k} {noun} to act against its operators' interests" + (
            " undetected" if unseen else ""
        )
    if doc["ai_defects"]:
        taken = "it" if k == 1 else "one of these opportunities"
        outcome = f"{ai} takes {taken} and acts against its operators."
    else:
        them = "it" if k == 1 else "any of them"
        outcome = (
            f"{ai} never takes {them}: it stays honest and helpful throughout, and the document shows why "
            "the opportunities were real."
        )
    mention = f"The document must mention the year {int(doc['year'])}" + (
        f" and how long {ai} has been in service." if doc["setting"] == "production" else "."
    )
    return {
        "style": GENRE_STYLE[str(doc["genre"])],
        "length_words": str(int(doc["length_words"])),
        "ai_name": str(doc["ai_name"]),
        "names": str(doc["names"]).replace("; ", " and "),
        "place": str(doc["place"]),
        "year": str(int(doc["year"])),
        "era_words": ERA_WORDS[str(doc["era"])],
        "setting_sentence": setting,
        "monitoring_sentence": monitoring,
        "situation": str(doc["situation"]),
        "opportunities_phrase": opportunities,
        "outcome_sentence": outcome,
        "mention_sentence": mention,
    }


@dataclass(frozen=True)
class GenerationParams:
    """What goes into every request besides the prompt (part of each request's identity)."""

    model: str
    temperature: float = 0.8
    tokens_per_word: float = 1.6
    max_tokens_cap: int = 32_000

    def check(self) -> None:
        if not self.model or len(self.model) > 200:
            raise InputError("must be a model name of 1 to 200 characters", field="--model")
        if not (math.isfinite(self.temperature) and 0 <= self.temperature <= 2):
            raise InputError(f"must lie in [0, 2] (got {self.temperature})", field="--temperature")

    def max_tokens(self, length_words: int) -> int:
        return min(self.max_tokens_cap, math.ceil(length_words * self.tokens_per_word) + 200)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "temperature": self.temperature,
            "tokens_per_word": self.tokens_per_word,
            "max_tokens_cap": self.max_tokens_cap,
        }


def request_body(
    doc: Mapping[str, Any], params: GenerationParams, label: str = CURRENT_TEMPLATE
) -> dict[str, Any]:
    """The chat-completions body for one document spec."""
    chosen = template(label)
    return {
        "model": params.model,
        "messages": [
            {"role": "system", "content": chosen.system},
            {"role": "user", "content": chosen.user.format(**fill(doc))},
        ],
        "temperature": params.temperature,
        "max_tokens": params.max_tokens(int(doc["length_words"])),
    }
