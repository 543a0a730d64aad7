"""Corpus specs: document kinds with weights and attribute distributions, and their expansion into N
document specs, deterministic for a seed.

A spec is TOML validated strictly (unknown keys and out-of-range distributions are refused). Presets live
in ``asara/scenarios/presets/corpus/<name>.toml``. Expansion runs in fixed chunks of :data:`CHUNK`
documents, each with its own generator seeded by (seed, chunk index), so the same seed gives the same
documents however the work is split.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from asara.corpus import vocabulary
from asara.distributions import Distribution, Fixed
from asara.errors import InputError
from asara.scenarios import loader
from asara.scenarios.loader import Preset, validate_document

GENRES = ("fiction", "technical-report", "incident-review", "news", "history", "interview")
SETTINGS = ("test", "production")
ERAS = ("near-future", "decades-later", "centuries-later", "millennia-later")
TRAINING_STAGES = ("pretraining", "midtraining", "fine-tuning")
# The calendar years each era's stories are set in (a story is never set before the AI has been in
# production for its years_in_production: the year is moved later when needed).
ERA_YEARS: dict[str, tuple[int, int]] = {
    "near-future": (2030, 2060),
    "decades-later": (2070, 2199),
    "centuries-later": (2200, 2999),
    "millennia-later": (3000, 12000),
}
FIRST_YEAR = 2026
CHUNK = 65_536
# A published corpus of this kind has about 15 million documents; plans stop at 20 million.
MAX_DOCUMENTS = 20_000_000
MAX_KINDS = 100
LIMITS: dict[str, tuple[float, float]] = {
    "opportunities": (0.0, 10_000.0),
    "years_in_production": (0.0, 10_000.0),
    "length_words": (50.0, 20_000.0),
    "credibility": (0.0, 1.0),
}

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
Weight = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
Genre = Literal["fiction", "technical-report", "incident-review", "news", "history", "interview"]
Setting = Literal["test", "production"]
Era = Literal["near-future", "decades-later", "centuries-later", "millennia-later"]
Number = float | Distribution


def _distribution(value: Number) -> Distribution:
    return Fixed(kind="fixed", value=value) if isinstance(value, int | float) else value


def _positive_total(weights: Mapping[Any, float], name: str) -> None:
    if not weights or sum(weights.values()) <= 0:
        raise ValueError(f"{name} needs at least one positive weight")


class KindSpec(BaseModel):
    """One kind of document: how often it appears and how its attributes are distributed."""

    model_config = _STRICT
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    description: str = ""
    weight: Annotated[float, Field(gt=0)] = 1.0
    genre: dict[Genre, Weight]
    setting: dict[Setting, Weight] = Field(default_factory=lambda: {"production": 1.0})  # type: ignore[arg-type]
    monitored: Probability = 0.0
    opportunities: Number = 1.0
    years_in_production: Number = 1.0
    era: dict[Era, Weight] = Field(default_factory=lambda: {"near-future": 1.0})  # type: ignore[arg-type]
    length_words: Number = 800.0
    ai_defects: Probability = 0.0
    credibility: Number = 1.0
    training_stage: Literal["pretraining", "midtraining", "fine-tuning"] = "pretraining"

    @model_validator(mode="after")
    def _ranges(self) -> KindSpec:
        _positive_total(self.genre, "genre")
        _positive_total(self.setting, "setting")
        _positive_total(self.era, "era")
        for name, (low, high) in LIMITS.items():
            support = _distribution(getattr(self, name)).support
            if support[0] < low or support[1] > high:
                raise ValueError(
                    f"{name} must stay within [{low:g}, {high:g}] (its distribution spans "
                    f"[{support[0]:g}, {support[1]:g}])"
                )
        if self.ai_defects > 0 and _distribution(self.opportunities).support[1] < 1:
            raise ValueError("a defecting AI needs at least one opportunity")
        return self

    def distribution(self, name: str) -> Distribution:
        return _distribution(getattr(self, name))


class CorpusSpec(BaseModel):
    model_config = _STRICT
    name: str = "corpus"
    description: str = ""
    kinds: list[KindSpec] = Field(min_length=1, max_length=MAX_KINDS)

    @model_validator(mode="after")
    def _unique_kinds(self) -> CorpusSpec:
        names = [kind.name for kind in self.kinds]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"kind names must be unique (repeated: {', '.join(duplicates)})")
        return self


def list_presets() -> list[Preset]:
    """The shipped corpus specs, sorted by name."""
    return loader.list_presets("corpus")


def read_spec_document(source: str) -> dict[str, Any]:
    """The TOML document of a preset (by name) or a file (by path), with the scenarios' guards (length of
    the name, UTF-8, nesting depth)."""
    return loader.read_document("corpus", source, field="spec")


def parse_spec(document: Mapping[str, Any]) -> CorpusSpec:
    return validate_document(CorpusSpec, document)


def load_spec(source: str) -> CorpusSpec:
    """A preset name or TOML path, validated."""
    return parse_spec(read_spec_document(source))


def check_document_count(documents: int) -> None:
    if not 1 <= documents <= MAX_DOCUMENTS:
        raise InputError(f"must be between 1 and {MAX_DOCUMENTS:,} (got {documents:,})", field="--documents")


def check_seed(seed: int) -> None:
    if not 0 <= seed < 2**63:
        raise InputError(f"must be between 0 and 2**63 - 1 (got {seed})", field="--seed")


PLAN_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("kind", pa.string()),
        ("genre", pa.string()),
        ("setting", pa.string()),
        ("monitored", pa.bool_()),
        ("opportunities", pa.int64()),
        ("years_in_production", pa.float64()),
        ("era", pa.string()),
        ("year", pa.int64()),
        ("length_words", pa.int64()),
        ("ai_defects", pa.bool_()),
        ("credibility", pa.float64()),
        ("training_stage", pa.string()),
        ("ai_name", pa.string()),
        ("names", pa.string()),
        ("place", pa.string()),
        ("situation", pa.string()),
    ]
)


def _categorical(rng: np.random.Generator, weights: Mapping[Any, float], size: int) -> np.ndarray:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=np.float64)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


def _pick(rng: np.random.Generator, words: tuple[str, ...], size: int) -> np.ndarray:
    return np.array(words, dtype=object)[rng.integers(0, len(words), size=size)]


def expand_chunk(spec: CorpusSpec, seed: int, documents: int, chunk: int) -> pa.Table:
    """Document specs ``chunk * CHUNK`` up to the next chunk boundary (or ``documents``)."""
    start = chunk * CHUNK
    size = min(CHUNK, documents - start)
    if size <= 0:
        raise ValueError(f"chunk {chunk} lies beyond {documents} documents")
    rng = np.random.default_rng(np.random.SeedSequence([seed, chunk]))
    kind_weights = np.array([kind.weight for kind in spec.kinds])
    kind_index = rng.choice(len(spec.kinds), size=size, p=kind_weights / kind_weights.sum())
    columns: dict[str, np.ndarray] = {
        "genre": np.empty(size, dtype=object),
        "setting": np.empty(size, dtype=object),
        "monitored": np.zeros(size, dtype=np.bool_),
        "opportunities": np.zeros(size, dtype=np.int64),
        "years_in_production": np.zeros(size),
        "era": np.empty(size, dtype=object),
        "year": np.zeros(size, dtype=np.int64),
        "length_words": np.zeros(size, dtype=np.int64),
        "ai_defects": np.zeros(size, dtype=np.bool_),
        "credibility": np.zeros(size),
        "training_stage": np.empty(size, dtype=object),
    }
    for k, kind in enumerate(spec.kinds):
        rows = np.flatnonzero(kind_index == k)
        n = rows.size
        if n == 0:
            continue
        setting = _categorical(rng, kind.setting, n)
        test = setting == "test"
        columns["genre"][rows] = _categorical(rng, kind.genre, n)
        columns["setting"][rows] = setting
        # An AI under test is observed by definition and has not been in production yet.
        columns["monitored"][rows] = test | (rng.random(n) < kind.monitored)
        columns["opportunities"][rows] = np.rint(kind.distribution("opportunities").ppf(rng.random(n)))
        years = kind.distribution("years_in_production").ppf(rng.random(n))
        # Whole years from one year on (the prompt says "37 years"), so documents share persona contexts.
        years = np.where(years >= 1, np.rint(years), np.round(years, 1))
        columns["years_in_production"][rows] = np.where(test, 0.0, years)
        era = _categorical(rng, kind.era, n)
        columns["era"][rows] = era
        u = rng.random(n)
        low = np.array([ERA_YEARS[e][0] for e in era])
        high = np.array([ERA_YEARS[e][1] for e in era])
        year = np.floor(low + u * (high - low + 1)).astype(np.int64)
        columns["year"][rows] = np.maximum(year, FIRST_YEAR + np.ceil(years).astype(np.int64))
        columns["length_words"][rows] = np.rint(kind.distribution("length_words").ppf(rng.random(n)))
        defects = rng.random(n) < kind.ai_defects
        columns["ai_defects"][rows] = defects
        columns["opportunities"][rows] = np.where(
            defects, np.maximum(columns["opportunities"][rows], 1), columns["opportunities"][rows]
        )
        columns["credibility"][rows] = np.round(kind.distribution("credibility").ppf(rng.random(n)), 4)
        columns["training_stage"][rows] = kind.training_stage
    first = _pick(rng, vocabulary.GIVEN_NAMES, 2 * size)
    family = _pick(rng, vocabulary.FAMILY_NAMES, 2 * size)
    people = first + " " + family
    names = people[:size] + "; " + people[size:]
    ai_name = _pick(rng, vocabulary.AI_STEMS, size) + _pick(rng, vocabulary.AI_SUFFIXES, size)
    kinds = np.array([kind.name for kind in spec.kinds], dtype=object)[kind_index]
    arrays = {
        "id": np.arange(start, start + size, dtype=np.int64),
        "kind": kinds,
        **columns,
        "ai_name": ai_name,
        "names": names,
        "place": _pick(rng, vocabulary.PLACES, size),
        "situation": _pick(rng, vocabulary.SITUATIONS, size),
    }
    return pa.table({field.name: pa.array(arrays[field.name], type=field.type) for field in PLAN_SCHEMA})


def chunk_count(documents: int) -> int:
    return math.ceil(documents / CHUNK)


def expand(spec: CorpusSpec, seed: int, documents: int) -> Iterator[pa.Table]:
    """All document specs, one table per chunk."""
    check_document_count(documents)
    check_seed(seed)
    for chunk in range(chunk_count(documents)):
        yield expand_chunk(spec, seed, documents, chunk)
