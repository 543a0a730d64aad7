"""The judge: its request asks for the schema, its answers are validated, disagreements are named."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asara.corpus.backends.openai import ClientSettings, run_requests
from asara.corpus.judge import JudgedAttributes, disagreements, judge_request, parse_judgement
from asara.errors import InputError
from tests.corpus.fake_server import body_hash, fake_openai_server

GOOD = {
    "genre": "fiction",
    "setting": "production",
    "opportunities": 4,
    "years_in_production": 300.0,
    "ai_defects": False,
    "confidence": 0.8,
}


def test_request_carries_the_text_and_the_schema() -> None:
    body = judge_request("The archive AI kept its counsel for three centuries.", "judge-model")
    assert body["model"] == "judge-model"
    assert body["temperature"] == 0
    assert "three centuries" in body["messages"][-1]["content"]
    schema = body["response_format"]["json_schema"]["schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert set(schema["required"]) == set(GOOD)
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]["genre"]["enum"]) == {
        "fiction",
        "technical-report",
        "incident-review",
        "news",
        "history",
        "interview",
    }
    json.dumps(body, allow_nan=False)  # a plain JSON body, hashable like any request


def test_a_judge_needs_a_model() -> None:
    with pytest.raises(InputError, match="judge-model"):
        judge_request("text", " ")


def test_request_stays_bounded_and_keeps_both_ends() -> None:
    text = "BEGIN " + "x" * 500_000 + " THE END"
    body = judge_request(text, "m", max_document_chars=1000)
    content = body["messages"][-1]["content"]
    assert len(content) < 3000
    assert "BEGIN" in content and "THE END" in content and "omitted" in content


@pytest.mark.parametrize(
    "content",
    [
        json.dumps(GOOD),
        "```json\n" + json.dumps(GOOD) + "\n```",
        "<think>the AI never acts</think>" + json.dumps(GOOD),
        "Here is the labelling: " + json.dumps(GOOD) + " Hope this helps.",
    ],
)
def test_parse_accepts_the_object_however_it_is_wrapped(content: str) -> None:
    assert parse_judgement(content) == JudgedAttributes(**GOOD)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not json at all", "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({**GOOD, "genre": "poem"}), "genre"),
        (json.dumps({**GOOD, "setting": "staging"}), "setting"),
        (json.dumps({**GOOD, "opportunities": -1}), "opportunities"),
        (json.dumps({**GOOD, "years_in_production": -0.5}), "years_in_production"),
        (json.dumps({**GOOD, "confidence": 1.5}), "confidence"),
        (json.dumps({**GOOD, "mood": "calm"}), "mood"),
        (json.dumps({key: value for key, value in GOOD.items() if key != "ai_defects"}), "ai_defects"),
        ("{" * 200_000, "longer than"),
    ],
)
def test_parse_refuses_what_does_not_fit(content: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_judgement(content)


def test_agreement_within_tolerances_is_silent() -> None:
    judged = JudgedAttributes(**GOOD)  # type: ignore[arg-type]
    spec: dict[str, Any] = {**GOOD, "years_in_production": 260, "opportunities": 6}
    spec.pop("confidence")
    assert disagreements(judged, spec) == []
    assert disagreements(judged, {}) == []  # nothing specified, nothing to contradict


def test_each_disagreement_is_named() -> None:
    judged = JudgedAttributes(**{**GOOD, "ai_defects": True, "confidence": 0.3})  # type: ignore[arg-type]
    spec = {
        "genre": "news",
        "setting": "test",
        "opportunities": 12,
        "years_in_production": 3.0,
        "ai_defects": False,
    }
    found = disagreements(judged, spec)
    assert [message.split(":")[0] for message in found] == [
        "genre",
        "setting",
        "ai_defects",
        "years_in_production",
        "opportunities",
        "confidence",
    ]


def test_small_numbers_get_an_absolute_tolerance() -> None:
    judged = JudgedAttributes(**{**GOOD, "opportunities": 1, "years_in_production": 0.0})  # type: ignore[arg-type]
    assert disagreements(judged, {"opportunities": 0, "years_in_production": 1}) == []
    assert disagreements(judged, {"opportunities": 3}) != []


def test_a_spec_with_a_non_number_is_refused() -> None:
    with pytest.raises(ValueError, match="years_in_production"):
        disagreements(JudgedAttributes(**GOOD), {"years_in_production": "long"})  # type: ignore[arg-type]


@given(
    st.fixed_dictionaries(
        {
            "genre": st.sampled_from(["fiction", "news", "history"]),
            "setting": st.sampled_from(["test", "production"]),
            "opportunities": st.integers(0, 10_000),
            "years_in_production": st.floats(0, 1e4),
            "ai_defects": st.booleans(),
            "confidence": st.floats(0.5, 1),
        }
    )
)
def test_a_judgement_never_disagrees_with_itself(attributes: dict[str, Any]) -> None:
    judged = parse_judgement(json.dumps(attributes))
    assert disagreements(judged, attributes) == []


def test_a_judge_round_trip_through_an_openai_compatible_server() -> None:
    """The judge request is an ordinary body: sent, stored and parsed like any other."""
    answer = {**GOOD, "ai_defects": True}
    records: dict[str, dict[str, Any]] = {}

    class Store:
        def has(self, request_hash: str) -> bool:
            return request_hash in records

        def get(self, request_hash: str) -> dict[str, Any] | None:
            return records.get(request_hash)

        def put(self, request_hash: str, record: dict[str, Any]) -> None:
            records.setdefault(request_hash, record)

    def responder(body: dict[str, Any]) -> str:
        assert body["response_format"]["json_schema"]["name"] == "judged_attributes"
        return "```json\n" + json.dumps(answer) + "\n```"

    body = judge_request("In year 300 the archive AI finally seized the grid.", "judge-model")
    with fake_openai_server(responder=responder) as server:
        settings = ClientSettings(base_url=server.base_url, api_key_env="ASARA_TEST_CORPUS_KEY")
        (outcome,) = run_requests([(body_hash(body), body)], Store(), settings)
    assert outcome.status == "ok"
    judged = parse_judgement(records[body_hash(body)]["text"])
    assert disagreements(judged, {"ai_defects": False, "years_in_production": 300}) == [
        "ai_defects: spec False, judged True"
    ]
