"""Corpus specs: strict validation, presets, deterministic expansion with diverse names."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from asara.corpus import spec, vocabulary
from asara.errors import InputError
from tests.corpus.helpers import MINIMAL_SPEC, assert_one_line_exit_2, spec_file

REQUIRED_PRESETS = {"production-stories", "long-horizon-sagas", "technical-incident-reports"}


def test_required_presets_load_and_describe_themselves() -> None:
    presets = {p.name: p for p in spec.list_presets()}
    assert set(presets) >= REQUIRED_PRESETS
    for name in REQUIRED_PRESETS:
        assert presets[name].description
        loaded = spec.load_spec(name)
        assert loaded.kinds


def test_expansion_is_deterministic_and_independent_of_chunking() -> None:
    loaded = spec.load_spec("production-stories")
    n = spec.CHUNK + 100  # two chunks
    first = pa.concat_tables(list(spec.expand(loaded, 7, n)))
    again = pa.concat_tables(list(spec.expand(loaded, 7, n)))
    assert first.equals(again)
    # Chunk 1 on its own equals the second part of the whole expansion (a worker could make it alone).
    alone = spec.expand_chunk(loaded, 7, n, 1)
    assert alone.equals(first.slice(spec.CHUNK))
    other = pa.concat_tables(list(spec.expand(loaded, 8, n)))
    assert not other.equals(first)
    assert first.column("id").to_pylist() == list(range(n))


def test_attributes_follow_the_spec_distributions() -> None:
    loaded = spec.load_spec("production-stories")
    rows = pa.concat_tables(list(spec.expand(loaded, 1, 20_000))).to_pylist()
    kinds = Counter(row["kind"] for row in rows)
    weights = {kind.name: kind.weight for kind in loaded.kinds}
    total = sum(weights.values())
    for name, weight in weights.items():
        share = weight / total
        se = (share * (1 - share) / len(rows)) ** 0.5
        assert abs(kinds[name] / len(rows) - share) < 5 * se
    for row in rows:
        kind = next(k for k in loaded.kinds if k.name == row["kind"])
        assert row["genre"] in kind.genre
        if row["setting"] == "test":
            assert row["monitored"] and row["years_in_production"] == 0
        low, high = kind.distribution("length_words").support
        assert low - 0.5 <= row["length_words"] <= high + 0.5
        assert row["year"] >= spec.FIRST_YEAR + row["years_in_production"]
        assert not row["ai_defects"]


def test_names_places_and_situations_do_not_collapse() -> None:
    loaded = spec.load_spec("technical-incident-reports")
    rows = pa.concat_tables(list(spec.expand(loaded, 3, 50_000))).to_pylist()
    people = Counter(name for row in rows for name in row["names"].split("; "))
    # 230 x 199 given/family names: the most common person appears in well under 0.1% of documents.
    assert max(people.values()) < 0.001 * len(rows) * 2
    ai_names = Counter(row["ai_name"] for row in rows)
    assert len(ai_names) > 0.9 * len(vocabulary.AI_STEMS) * len(vocabulary.AI_SUFFIXES)
    places = Counter(row["place"] for row in rows)
    assert len(places) == len(vocabulary.PLACES)
    assert max(places.values()) < 3 * len(rows) / len(vocabulary.PLACES)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ("colour = 'red'", "kinds.0.colour: unknown key"),
        ("opportunities = { kind = 'uniform', low = -1, high = 3 }", "opportunities must stay within"),
        ("length_words = { kind = 'lognormal', low = 100, high = 900 }", "length_words must stay within"),
        ("credibility = 1.5", "credibility must stay within"),
        ("monitored = 2", "kinds.0.monitored"),
        ("setting = { production = 0 }", "setting needs at least one positive weight"),
        ("era = { far-far-away = 1 }", "kinds.0.era"),
        # the distribution's own complaint, not "should be a valid number" from the plain-number branch
        (
            "length_words = { kind = 'uniform', low = 1500, high = 600 }",
            "kinds.0.length_words: low (1500) must not exceed high (600)",
        ),
    ],
)
def test_bad_specs_are_one_line_and_exit_2(
    extra: str, fragment: str, tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    path = spec_file(tmp_path, MINIMAL_SPEC + extra + "\n")
    assert_one_line_exit_2(
        ["new", str(tmp_path / "c"), "--spec", path, "--documents", "5"], fragment, monkeypatch, capsys
    )
    assert not (tmp_path / "c" / "corpus.json").exists()


def test_unknown_top_level_key_and_missing_preset(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    path = spec_file(tmp_path, "typo = 1\n" + MINIMAL_SPEC)
    assert_one_line_exit_2(
        ["new", str(tmp_path / "c"), "--spec", path, "--documents", "5"],
        "typo: unknown key",
        monkeypatch,
        capsys,
    )
    assert_one_line_exit_2(
        ["new", str(tmp_path / "c"), "--spec", "no-such", "--documents", "5"], "presets:", monkeypatch, capsys
    )


def test_document_count_is_bounded(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    too_many = str(spec.MAX_DOCUMENTS + 1)
    assert_one_line_exit_2(
        ["new", str(tmp_path / "c"), "--spec", "production-stories", "--documents", too_many],
        "20,000,000",
        monkeypatch,
        capsys,
    )
    with pytest.raises(InputError):
        spec.check_document_count(0)
