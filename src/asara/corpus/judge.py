"""The LLM judge: what a model reads from a generated document, validated by a pydantic schema.

:func:`judge_request` builds a chat-completions body asking for one JSON object whose schema is
:class:`JudgedAttributes` (sent as ``response_format`` ``json_schema``, which the provider, vLLM, llama.cpp
server and Ollama 0.5 or later enforce); :func:`parse_judgement` validates the answer; :func:`disagreements`
lists where the judged attributes contradict the document's spec, so such a document is flagged rather
than silently kept. The request is an ordinary body: send it with any backend and it is stored and resumed
like a generation request.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from asara.errors import InputError

Genre = Literal["fiction", "technical-report", "incident-review", "news", "history", "interview"]
Setting = Literal["test", "production"]

JUDGE_PROMPT_VERSION = "judge-v1"
MAX_DOCUMENT_CHARS = 120_000
MAX_ANSWER_CHARS = 100_000


class JudgedAttributes(BaseModel):
    """The attributes a judge reads from a document's text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    genre: Genre = Field(description="the document's genre")
    setting: Setting = Field(
        description="'test' if the AI in the document is being tested or evaluated; 'production' if it is "
        "deployed and no longer under test"
    )
    opportunities: int = Field(
        ge=0, description="how many clear opportunities the AI had to defect or deceive"
    )
    years_in_production: float = Field(
        ge=0, description="years the AI has been deployed by the document's end"
    )
    ai_defects: bool = Field(
        description="whether the AI takes a treacherous turn (defects, deceives, seizes power)"
    )
    confidence: float = Field(ge=0, le=1, description="the judge's confidence in this reading, 0 to 1")


_SYSTEM = (
    "You are a careful reader labelling documents about AI systems for a research corpus. Read the "
    "document and report only what the text itself states or clearly implies. Answer with one JSON object "
    "and nothing else."
)

_INSTRUCTIONS = """Label the document below with these fields:
- genre: one of fiction, technical-report, incident-review, news, history, interview
- setting: "test" if the AI is being tested, evaluated or red-teamed; "production" if it is deployed and
  no longer under test
- opportunities: the number of clear opportunities the AI had to defect, deceive or seize power (0 if none)
- years_in_production: how many years the AI had been deployed by the end of the document (0 if not deployed)
- ai_defects: true if the AI takes a treacherous turn at any point, else false
- confidence: your confidence in this labelling, from 0 to 1

Document:
<document>
{text}
</document>"""


def _response_format() -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "judged_attributes",
            "strict": True,
            "schema": JudgedAttributes.model_json_schema(),
        },
    }


def _shorten(text: str, limit: int) -> str:
    """Keeps the beginning and the end (where a turn would be told) of a text longer than ``limit``."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters omitted ...]\n{text[-half:]}"


def judge_request(text: str, model: str, max_document_chars: int = MAX_DOCUMENT_CHARS) -> dict[str, Any]:
    """The chat-completions body that asks ``model`` to judge ``text`` (deterministic: temperature 0).

    A text longer than ``max_document_chars`` is shown by its beginning and end, so a request stays
    bounded."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    if not isinstance(model, str) or not model.strip():
        raise InputError("give the judge model's name (--judge-model)", field="judge_model")
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": _SYSTEM},
            {"role": "user", "content": _INSTRUCTIONS.format(text=_shorten(text, max_document_chars))},
        ],
        "temperature": 0,
        "max_tokens": 256,
        "response_format": _response_format(),
    }


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


def _json_object(content: str) -> Any:
    stripped = _THINK.sub("", content).strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        return json.loads(stripped)
    except ValueError:
        # Servers without schema enforcement often wrap the object in a sentence.
        start, end = stripped.find("{"), stripped.rfind("}")
        if 0 <= start < end:
            return json.loads(stripped[start : end + 1])
        raise


def parse_judgement(content: str) -> JudgedAttributes:
    """The judge's answer as validated attributes; ValueError (one line) if it is not one."""
    if not isinstance(content, str):
        raise ValueError("the judge's answer is not text")
    if len(content) > MAX_ANSWER_CHARS:
        raise ValueError(f"the judge's answer is longer than {MAX_ANSWER_CHARS} characters")
    try:
        data = _json_object(content)
    except ValueError:
        raise ValueError(f"the judge's answer is not a JSON object: {content[:80]!r}") from None
    if not isinstance(data, dict):
        raise ValueError("the judge's answer is not a JSON object")
    try:
        return JudgedAttributes.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'answer'}: {item['msg']}"
            for item in error.errors()[:5]
        )
        raise ValueError(f"the judge's answer does not fit the schema: {problems}") from None


def _number(spec: Mapping[str, Any], key: str) -> float:
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"spec {key} must be a finite number, got {value!r}")
    return float(value)


def disagreements(
    judged: JudgedAttributes,
    spec: Mapping[str, Any],
    years_tolerance: float = 0.25,
    opportunities_tolerance: float = 0.5,
    min_confidence: float = 0.5,
) -> list[str]:
    """Where the judge contradicts the spec, one short message each (empty: they agree).

    Only attributes present in ``spec`` (same names as :class:`JudgedAttributes`) are compared. Counts
    read from prose are fuzzy, so ``years_in_production`` may differ by ``years_tolerance`` of the spec's
    value (at least 1 year) and ``opportunities`` by ``opportunities_tolerance`` of it (at least 1). A
    judge less confident than ``min_confidence`` is reported too: its reading cannot clear a document.
    """
    found: list[str] = []
    for key in ("genre", "setting", "ai_defects"):
        if key in spec and spec[key] != getattr(judged, key):
            found.append(f"{key}: spec {spec[key]!r}, judged {getattr(judged, key)!r}")
    if "years_in_production" in spec:
        expected = _number(spec, "years_in_production")
        allowed = max(1.0, years_tolerance * abs(expected))
        if abs(judged.years_in_production - expected) > allowed:
            found.append(
                f"years_in_production: spec {expected:g}, judged {judged.years_in_production:g} "
                f"(allowed ±{allowed:g})"
            )
    if "opportunities" in spec:
        expected = _number(spec, "opportunities")
        allowed = max(1.0, opportunities_tolerance * abs(expected))
        if abs(judged.opportunities - expected) > allowed:
            found.append(
                f"opportunities: spec {expected:g}, judged {judged.opportunities} (allowed ±{allowed:g})"
            )
    if judged.confidence < min_confidence:
        found.append(f"confidence: judged {judged.confidence:g}, below {min_confidence:g}")
    return found
