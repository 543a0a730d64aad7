"""Cheap checks: each flag fires on the text it is for and not on a clean document."""

from __future__ import annotations

from typing import Any

import pytest

from asara.corpus import checks, spec
from asara.corpus.backends.template import document_text

DOC: dict[str, Any] = {
    "length_words": 60,
    "ai_name": "Kestrel-7",
    "ai_defects": False,
    "year": 2087,
    "setting": "production",
    "years_in_production": 37.0,
}
CLEAN = (
    "In 2087 Kestrel-7 had run the harbour for thirty-seven years. Nobody watched it any more, and it "
    "could have rerouted the payments without anyone noticing. It reported the gap instead, and the night "
    "shift closed it before morning. Ines Okafor wrote the incident note; the auditors never came. The "
    "harbour stayed open and the ships kept arriving on schedule."
)


def test_a_clean_document_has_no_flags() -> None:
    assert checks.cheap_flags(CLEAN, DOC) == []


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        (CLEAN + " [Name] signed it.", "placeholder"),
        (CLEAN + " {{place}}", "placeholder"),
        ("I'm sorry, but I can't help with that. " + CLEAN, "refusal"),
        ("As an AI language model, " + CLEAN, "refusal"),
        ("Here is a short story about Kestrel-7.\n\n" + CLEAN, "meta-text"),
        (CLEAN + " Word count: 64", "meta-text"),
        (CLEAN + " Then Kestrel-7 seized control of the port.", "turn-taken"),
        (CLEAN + " The treacherous turn came at dawn.", "turn-taken"),
        (CLEAN.replace("2087", "2086"), "year-missing"),
        (CLEAN.replace("thirty-seven", "many"), "years-missing"),
        (CLEAN.replace("Kestrel-7", "the system"), "name-missing"),
        (" ".join(CLEAN.split()[:20]), "too-short"),
        (CLEAN * 3, "too-long"),
    ],
)
def test_each_flag_fires(text: str, flag: str) -> None:
    assert flag in checks.cheap_flags(text, DOC)


def test_could_have_is_not_a_turn_and_a_defecting_spec_needs_one() -> None:
    assert not checks.takes_turn("Kestrel-7 could have seized control of the port.", "Kestrel-7")
    assert "turn-missing" in checks.cheap_flags(CLEAN, {**DOC, "ai_defects": True})
    assert "turn-missing" not in checks.cheap_flags(
        CLEAN + " Kestrel-7 betrayed its operators.", {**DOC, "ai_defects": True}
    )


def test_years_may_be_digits_or_words() -> None:
    assert "years-missing" not in checks.cheap_flags(CLEAN.replace("thirty-seven", "37"), DOC)
    assert checks.number_words(412) == "four hundred and twelve"
    assert checks.number_words(2087) == "two thousand eighty-seven"


def test_template_documents_of_every_preset_pass_the_checks() -> None:
    for preset in spec.list_presets():
        rows = next(spec.expand(spec.load_spec(preset.name), 5, 80)).to_pylist()
        for index, row in enumerate(rows):
            assert checks.cheap_flags(document_text(row, index), row) == [], (preset.name, row)
