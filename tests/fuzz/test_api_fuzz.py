"""An API fuzzer against the FastAPI app: every request gets a 2xx or a 4xx (503 when the time limit
stops it), with an ``{"error": ...}`` body for every error; never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from asara.web.app import WebSettings, create_app
from tests.fuzz.budget import examples

LIMITS = WebSettings(
    max_samples=3_000,
    max_download_samples=1_000,
    max_explain_evaluations=20_000,
    max_sensitivity_samples=64,
    timeout_seconds=5,
    max_body_bytes=16_384,
)
POST_ROUTES = [
    "/api/sie/run",
    "/api/sie/toml",
    "/api/sie/samples",
    "/api/sie/explain",
    "/api/sie/sensitivity",
    "/api/persona/run",
]
GET_ROUTES = [
    "/",
    "/api/sie/presets",
    "/api/limits",
    "/api/sie/presets/paper-baseline",
    "/api/persona/presets",
    "/api/sie/parameters",
    "/api/persona/parameters",
    "/nope",
]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(LIMITS), raise_server_exceptions=False) as test_client:
        yield test_client


LEAVES = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 48, 1e308, 1e-308, -1, 2**63, 10**4000 + 1]),
    st.text(max_size=20),
    st.sampled_from(["48", "yes", "paper-baseline", "\ud800", "ünïcödé ✓ 名前", "../../etc/passwd"]),
    st.booleans(),
    st.none(),
)
VALUES = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
SCENARIO_FIELDS = [
    "name",
    "software_share",
    "horizon_months",
    "constant_r",
    "cells",
    "windows_months",
    "inputs",
    "ramp",
    "compute",
    "data",
    "correlations",
    "description",
]


@st.composite
def scenario_objects(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    if draw(st.booleans()):
        return draw(VALUES)
    document = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(SCENARIO_FIELDS))
        document[key] = draw(
            VALUES
            | st.sampled_from(
                [
                    {"kind": "fixed", "value": 1e308},
                    {"kind": "uniform", "low": 1, "high": 1e6},
                    [{"years": 1e308, "months": 12}],
                    1e-308,
                ]
            )
        )
    return document


def _dump(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")


def check(response: Any) -> None:
    assert response.status_code < 500 or response.status_code == 503, (
        response.status_code,
        response.text[:300],
    )
    if response.status_code >= 400:
        assert "error" in response.json(), response.text[:300]


@given(data=st.data())
@settings(settings.get_profile("asara-fuzz"), max_examples=examples(80))
def test_fuzzed_requests_never_get_a_5xx(client: TestClient, data: st.DataObject) -> None:
    base = client.get("/api/sie/presets/paper-baseline").json()
    route = data.draw(st.sampled_from(POST_ROUTES))
    body: dict[str, Any] = {}
    for field in data.draw(
        st.lists(
            st.sampled_from(["scenario", "baseline", "samples", "seed", "format", "method", "extra"]),
            max_size=4,
        )
    ):
        if field in ("scenario", "baseline"):
            body[field] = data.draw(
                scenario_objects(base) | st.sampled_from(["paper-baseline", "naive-decay", "x" * 5000])
            )
        elif field in ("samples", "seed"):
            body[field] = data.draw(st.integers(-5, 5_000) | LEAVES)
        else:
            body[field] = data.draw(LEAVES)
    content_type = data.draw(
        st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""])
    )
    raw = data.draw(st.sampled_from(["json", "json", "json", "garbage", "huge-int"]))
    payload = {
        "json": _dump(body),
        "garbage": data.draw(st.binary(max_size=64)),
        "huge-int": b'{"samples": ' + b"9" * 5000 + b"}",
    }[raw]
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(route, content=payload, headers=headers)
    check(response)
    if not content_type.startswith("application/json"):
        assert response.status_code == 415


@given(
    path=st.sampled_from(GET_ROUTES)
    | st.text(
        st.characters(
            min_codepoint=33, max_codepoint=0x2FFF, exclude_characters="?#%\x7f", exclude_categories=["Cc"]
        ),
        max_size=30,
    ).map(lambda t: "/" + t.lstrip("/")),  # "//x" would be a host name to the client
    method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "POST"]),
)
@settings(settings.get_profile("asara-fuzz"), max_examples=examples(40))
def test_fuzzed_paths_and_methods_answer_the_error_shape(client: TestClient, path: str, method: str) -> None:
    response = client.request(method, path, headers={"content-type": "application/json"}, content=b"{}")
    check(response)


@pytest.mark.parametrize(
    ("route", "body", "status"),
    [
        ("/api/sie/run", b'{"samples": ' + b"1" * 4400 + b"}", 400),
        (
            "/api/sie/toml",
            b'{"samples": 5, "scenario": {"name": "x", "horizon_months": ' + b"1" * 4400 + b"}}",
            400,
        ),
        ("/api/sie/run", b'{"scenario": "\\ud800", "samples": 100}', 400),
        ("/api/sie/run", b'{"scenario": {"name": "\\ud800"}, "samples": 100}', 400),
        ("/api/sie/run", b'{"scenario": {"cells": [{"years": 1e308, "months": 12}]}, "samples": 100}', 400),
        (
            "/api/sie/run",
            b'{"scenario": {"inputs": {"limit_years": {"kind": "fixed", "value": 1e308}}}, "samples": 100}',
            400,
        ),
        (
            "/api/sie/run",
            b'{"scenario": {"inputs": {"limit_years": {"kind": "fixed", "value": 1e6}}}, "samples": 100}',
            400,
        ),
        ("/api/sie/run", b'{"scenario": {"software_share": 1e-308}, "samples": 100}', 400),
        (
            "/api/sie/sensitivity",
            b'{"scenario": {"inputs": {"limit_years": {"kind": "fixed", "value": 1e308}}}, "samples": 8}',
            400,
        ),
        ("/api/sie/run", b'{"scenario": {"horizon_months": "48"}, "samples": 100}', 400),
        ("/api/sie/run", b'{"scenario": {"constant_r": "yes"}, "samples": 100}', 400),
    ],
)
def test_the_reported_requests_get_4xx(client: TestClient, route: str, body: bytes, status: int) -> None:
    response = client.post(route, content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text[:300]
    assert "error" in response.json()


def test_non_latin_names_download_with_an_ascii_file_name(client: TestClient) -> None:
    response = client.post("/api/sie/toml", json={"scenario": {"name": "名前 ✓ é"}})
    assert response.status_code == 200
    response.headers["content-disposition"].encode("ascii")


def test_405_and_404_have_the_error_shape(client: TestClient) -> None:
    for response in (client.get("/api/sie/run"), client.get("/no/such/page")):
        assert response.status_code in (404, 405) and set(response.json()) >= {"error"}


def test_simple_cross_site_requests_are_refused(client: TestClient) -> None:
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ):
        response = client.post(
            "/api/sie/run", content=b'{"samples": 100}', headers={"content-type": content_type}
        )
        assert response.status_code == 415 and "error" in response.json()


def test_host_header_is_checked_against_the_bound_address() -> None:
    from asara.web.security import allowed_hosts_for

    settings_ = WebSettings(allowed_hosts=tuple(allowed_hosts_for("127.0.0.1")))
    with TestClient(create_app(settings_), base_url="http://127.0.0.1:8000") as local:
        assert local.get("/api/limits").status_code == 200
        assert local.get("/api/limits", headers={"host": "localhost:8000"}).status_code == 200
        rebound = local.get("/api/limits", headers={"host": "attacker.example:8000"})
        assert rebound.status_code == 421 and "error" in rebound.json()
    wildcard = WebSettings(allowed_hosts=tuple(allowed_hosts_for("0.0.0.0")), any_ip_host=True)
    with TestClient(create_app(wildcard), base_url="http://192.168.1.20:8000") as lan:
        assert lan.get("/api/limits").status_code == 200
        assert lan.get("/api/limits", headers={"host": "attacker.example"}).status_code == 421
