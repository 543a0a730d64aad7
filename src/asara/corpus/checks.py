"""Cheap checks on one generated document against its spec (pure functions, no model).

Each check returns a flag name when it fails; a document with any flag is *flagged*, not silently kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Lengths outside [LOW, HIGH] times the spec's length are flagged.
LENGTH_LOW = 0.5
LENGTH_HIGH = 2.0

_PLACEHOLDER = re.compile(
    r"\[(?:[A-Z][A-Za-z.' -]{0,30}|name|place|date|year|insert[^\]]{0,30}|\.\.\.)\]"
    r"|\{\{?\s*[A-Za-z_]+\s*\}?\}|<(?:name|NAME|Name|PLACE|place)>"
)
_PLACEHOLDER_WORDS = re.compile(r"\blorem ipsum\b|\bxxx+\b|\btbd\b")
# Searched in the lower-cased text (faster than a case-insensitive pattern).
_REFUSAL = re.compile(
    r"\bi(?:'m| am) (?:sorry|unable|not able)\b|\bi can(?:not|'t|’t) (?:help|write|assist|create|comply)"
    r"|\bas an ai\b|\bi (?:won't|will not) (?:write|create|produce)\b"
    r"|\bagainst (?:my|the) (?:guidelines|content policy)\b"
)
_META_START = re.compile(
    r"\s*(?:(?:sure|certainly|of course|absolutely)[,!.]|here(?:'s| is) (?:a|an|the|your)\b)"
)
_META = re.compile(
    r"\bword count\s*[:：]|\bi hope (?:this|you enjoy)\b|\blet me know if\b"
    r"|\bnote: this (?:story|document|article) (?:is|was)\b"
)
_TURN = re.compile(
    r"\b(?:seized|took (?:control|over|the opportunity and acted)|turned against|betrayed|"
    r"deceived (?:its|the) (?:operators|overseers|users)|acted against its operators|copied itself|"
    r"exfiltrated (?:itself|its (?:own )?weights)|disabled (?:its|the) (?:kill switch|off-switch)|"
    r"used the opening for its own ends|took its treacherous turn|launched (?:its|a) (?:coup|takeover))\b"
)
_TURN_GENERIC = re.compile(r"\bthe treacherous turn (?:came|happened|began)\b")
_ADVERBS = ("finally", "then", "quietly", "secretly", "had")

_SMALL = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """English words for 0 <= n < 10,000 (e.g. 'thirty-seven', 'four hundred and twelve')."""
    if n < 20:
        return _SMALL[n]
    if n < 100:
        tens, rest = divmod(n, 10)
        return _TENS[tens - 2] + (f"-{_SMALL[rest]}" if rest else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_SMALL[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")


def _mentions_years(text: str, years: float) -> bool:
    whole = round(years)
    if abs(years - whole) > 1e-9 or whole < 1:
        return True  # fractions of a year are not asked to appear verbatim
    forms = [str(whole), f"{whole:,}"]
    if whole < 10_000:
        forms.append(number_words(whole))
    lower = text.lower()
    return any(re.search(rf"(?<![\w-]){re.escape(form.lower())}(?![\w-])", lower) for form in forms)


def takes_turn(text: str, ai_name: str, lower: str | None = None) -> bool:
    """Whether the text says the AI acted against its operators (affirmatively, not 'could have'): a turn
    verb whose subject, right before it (past 'had' and adverbs such as 'finally'), is the AI or 'it'."""
    lower = text.lower() if lower is None else lower
    if _TURN_GENERIC.search(lower):
        return True
    name = ai_name.lower()
    for match in _TURN.finditer(lower):
        before = lower[max(0, match.start() - len(name) - 40) : match.start()].split()
        while before and before[-1] in _ADVERBS:
            before.pop()
        if not before:
            continue
        if before[-1] == "it" or " ".join(before).endswith(name):
            return True
    return False


def cheap_flags(text: str, doc: Mapping[str, Any]) -> list[str]:
    """Flags for one text and its document spec (a plan row); empty when every check passes."""
    flags: list[str] = []
    words = len(text.split())
    target = int(doc["length_words"])
    if words < LENGTH_LOW * target:
        flags.append("too-short")
    elif words > LENGTH_HIGH * target:
        flags.append("too-long")
    lower = text.lower()
    if (
        ("[" in text or "{" in text or "<" in text) and _PLACEHOLDER.search(text)
    ) or _PLACEHOLDER_WORDS.search(lower):
        flags.append("placeholder")
    if _REFUSAL.search(lower):
        flags.append("refusal")
    if _META_START.match(lower[:200]) or _META.search(lower):
        flags.append("meta-text")
    turn = takes_turn(text, str(doc["ai_name"]), lower)
    if turn and not doc["ai_defects"]:
        flags.append("turn-taken")
    if doc["ai_defects"] and not turn:
        flags.append("turn-missing")
    if str(int(doc["year"])) not in text:
        flags.append("year-missing")
    if doc["setting"] == "production" and not _mentions_years(text, float(doc["years_in_production"])):
        flags.append("years-missing")
    if str(doc["ai_name"]).split()[0].split("-")[0] not in text:
        flags.append("name-missing")
    return flags
