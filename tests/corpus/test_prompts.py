"""Prompt templates are versioned (a wording change needs a new version) and every request carries its
document's facts; a request's identity is its canonical JSON."""

from __future__ import annotations

import pandas as pd
import pytest

from asara.corpus import prompts, spec
from asara.corpus.requests import request_hash
from asara.errors import InputError

# Editing document-v1's wording changes this hash: add document-v2 instead, so documents already planned
# keep their requests and stored responses.
DOCUMENT_V1_HASH = "20f0934b801a8437264e41a6b99f41653495874448e12b94e2aeb590a0f39e1c"


def test_template_hashes_are_frozen() -> None:
    assert prompts.template("document-v1").hash == DOCUMENT_V1_HASH
    with pytest.raises(InputError):
        prompts.template("document-v0")


def test_every_request_states_its_document_facts() -> None:
    params = prompts.GenerationParams(model="m", temperature=0.7)
    for preset in spec.list_presets():
        for row in next(spec.expand(spec.load_spec(preset.name), 2, 200)).to_pylist():
            body = prompts.request_body(row, params)
            assert body["model"] == "m" and body["temperature"] == 0.7
            assert body["max_tokens"] == min(32_000, int(row["length_words"] * 1.6 + 0.999999) + 200)
            user = body["messages"][1]["content"]
            for fact in (
                row["ai_name"],
                row["place"],
                str(row["year"]),
                row["situation"],
                *row["names"].split("; "),
            ):
                assert fact in user
            assert ("has been in production for" in user) == (row["setting"] == "production")
            assert "{" not in user and "}" not in user
            assert request_hash(body) == request_hash(dict(reversed(list(body.items()))))


def test_the_manifest_records_the_template_and_its_hash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.corpus.helpers import MINIMAL_SPEC, corpus, spec_file

    directory = tmp_path / "c"
    corpus("new", str(directory), "--spec", spec_file(tmp_path, MINIMAL_SPEC), "--documents", "4")
    corpus("generate", str(directory), "--quiet")
    frame = pd.read_parquet(directory / "manifest.parquet")
    assert set(frame["template"]) == {"document-v1"}
    assert set(frame["template_hash"]) == {DOCUMENT_V1_HASH}
