"""The JSON API answers what the CLI answers, and bad requests get a 4xx with a message, never a 5xx."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from asara import sie
from asara.cli.main import app as cli
from asara.models.sie import END_REASONS
from asara.scenarios.loader import list_presets
from asara.web.app import WebSettings, create_app, plotly_js

runner = CliRunner()
LIMITS = WebSettings(max_samples=50_000, max_download_samples=5_000, max_body_bytes=8_192, timeout_seconds=20)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(LIMITS)) as test_client:
        yield test_client


def cli_json(*args: str) -> Any:
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_presets_are_the_shipped_ones(client: TestClient) -> None:
    response = client.get("/api/sie/presets")
    assert response.status_code == 200
    assert response.json() == [{"name": p.name, "description": p.description} for p in list_presets("sie")]
    persona = client.get("/api/persona/presets").json()
    assert [p["name"] for p in persona] == [p.name for p in list_presets("persona")]


def test_run_by_preset_is_the_cli_json(client: TestClient) -> None:
    response = client.post("/api/sie/run", json={"scenario": "paper-constant-r", "samples": 3000, "seed": 9})
    assert response.status_code == 200
    assert float(response.headers["X-Compute-Seconds"]) > 0
    assert response.json() == cli_json("sie", "run", "paper-constant-r", "--samples", "3000", "--seed", "9")


def test_run_by_scenario_object_matches_cli_overrides(client: TestClient) -> None:
    document = client.get("/api/sie/presets/paper-baseline").json()
    document["inputs"]["returns"]["high"] = 5.0
    document["horizon_months"] = 36
    document["constant_r"] = True
    response = client.post("/api/sie/run", json={"scenario": document, "samples": 2500, "seed": 4})
    assert response.status_code == 200, response.text
    expected = cli_json(
        "sie", "run", "paper-baseline", "--samples", "2500", "--seed", "4",
        "--set", "inputs.returns.high=5", "--set", "horizon_months=36", "--set", "constant_r=true",
    )  # fmt: skip
    assert response.json() == expected


def test_defaults_and_an_empty_scenario_object(client: TestClient) -> None:
    # An empty object is the paper's model with every default: the same numbers as the baseline preset.
    empty = client.post("/api/sie/run", json={"scenario": {}, "samples": 1024, "seed": 2}).json()
    preset = client.post(
        "/api/sie/run", json={"scenario": "paper-baseline", "samples": 1024, "seed": 2}
    ).json()
    assert empty["cells"] == preset["cells"] and empty["scenario"] == "custom"


def test_toml_download_round_trips(client: TestClient, tmp_path: Path) -> None:
    document = client.get("/api/sie/presets/extension-data").json()
    document["name"] = "my data run"
    document["inputs"]["speedup"] = {"kind": "uniform", "low": 3, "high": 9}
    response = client.post("/api/sie/toml", json={"scenario": document})
    assert response.status_code == 200
    assert 'filename="my-data-run.toml"' in response.headers["content-disposition"]
    path = tmp_path / "s.toml"
    path.write_bytes(response.content)
    loaded = sie.load(str(path))
    assert (
        loaded.to_document()
        == sie.load("extension-data")
        .model_copy(update={"name": "my data run", "inputs": loaded.inputs})
        .to_document()
    )
    from_file = cli_json("sie", "run", str(path), "--samples", "1500", "--seed", "3")
    from_api = client.post("/api/sie/run", json={"scenario": document, "samples": 1500, "seed": 3}).json()
    assert from_file == from_api


def test_toml_download_records_the_command_and_writes_infinity_as_inf(
    client: TestClient, tmp_path: Path
) -> None:
    response = client.post(
        "/api/sie/toml", json={"scenario": "reference-gradual-boost", "samples": 1500, "seed": 2**63 - 1}
    )
    assert response.status_code == 200, response.text
    lines = response.text.splitlines()
    command = f"asara sie run reference-gradual-boost.toml --samples 1500 --seed {2**63 - 1}"
    assert lines[0].startswith("# ") and lines[1] == f"# {command}"
    assert "halving_years = inf" in lines and "Infinity" not in response.text
    path = tmp_path / "reference-gradual-boost.toml"
    path.write_bytes(response.content)
    assert sie.load(str(path)).to_document() == sie.load("reference-gradual-boost").to_document()
    from_file = cli_json("sie", "run", str(path), "--samples", "1500", "--seed", "5")
    from_api = client.post(
        "/api/sie/run", json={"scenario": "reference-gradual-boost", "samples": 1500, "seed": 5}
    ).json()
    assert from_file == from_api
    # Without samples and seed (older clients) the command has neither;
    # a name that reads "Infinity" stays text.
    plain = client.post("/api/sie/toml", json={"scenario": {"name": "Infinity"}})
    assert plain.status_code == 200, plain.text
    assert plain.text.splitlines()[1] == "# asara sie run Infinity.toml"
    assert 'name = "Infinity"' in plain.text
    for bad in ({"samples": 0}, {"seed": -1}, {"seed": 2**63}, {"samples": "10"}):
        assert client.post("/api/sie/toml", json={"scenario": "paper-baseline", **bad}).status_code == 422


def test_samples_as_csv_and_parquet(client: TestClient, tmp_path: Path) -> None:
    body = {"scenario": "paper-baseline", "samples": 3000, "seed": 5}
    parquet = client.post("/api/sie/samples", json={**body, "format": "parquet"})
    assert parquet.status_code == 200
    table = pq.read_table(io.BytesIO(parquet.content))
    csv = client.post("/api/sie/samples", json={**body, "format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    from_csv = pacsv.read_csv(io.BytesIO(csv.content))
    reference = tmp_path / "run"
    summary = sie.run("paper-baseline", 3000, 5, out_dir=reference)
    expected = pq.read_table(reference / "samples.parquet")
    assert table.column_names == expected.column_names == from_csv.column_names
    assert table.equals(expected)
    assert from_csv.num_rows == 3000
    for cell in summary.cells:
        assert from_csv.column(cell.cell.key).to_numpy().sum() == cell.estimate.successes
    # The CSV spells the end reason out; Parquet keeps the codes (0 horizon, 1 ceiling, 2 overflow).
    words = from_csv.column("end_reason").to_pylist()
    codes = table.column("end_reason").to_pylist()
    assert set(words) <= {"horizon", "ceiling", "overflow"}
    assert words == [END_REASONS[code] for code in codes]
    assert {word: words.count(word) for word in set(words)} == {
        k: v for k, v in summary.end_reasons.items() if v
    }
    for name in table.column_names:
        if name != "end_reason":
            assert from_csv.column(name).to_pylist() == pytest.approx(table.column(name).to_pylist())
    too_many = client.post("/api/sie/samples", json={**body, "samples": 5001})
    assert too_many.status_code == 422 and "5,000" in too_many.json()["error"]


def test_explain_is_the_cli_json(client: TestClient) -> None:
    response = client.post(
        "/api/sie/explain",
        json={"baseline": "paper-baseline", "scenario": "paper-gradual-boost", "samples": 2000, "seed": 1},
    )
    assert response.status_code == 200, response.text
    data = response.json()
    expected = cli_json(
        "sie", "explain", "paper-baseline", "paper-gradual-boost", "--samples", "2000", "--seed", "1"
    )
    assert data["outputs"] == expected
    assert data["labels"]["p_3y_12mo"] == "≥3 years in ≤12 months"
    assert data["changes"] == [a["change"] for a in expected["p_3y_12mo"]["attributions"]]
    same = client.post("/api/sie/explain", json={"scenario": "paper-baseline", "samples": 100}).json()
    assert same["changes"] == []
    # As on the command line, scenarios that measure different cells are refused, not explained with A's.
    preset = client.get("/api/sie/presets/paper-baseline").json()
    other_cells = {**preset, "cells": [{"years": 5, "months": 6}]}
    refused = client.post("/api/sie/explain", json={"scenario": other_cells, "samples": 100})
    assert refused.status_code == 400 and "cells" in refused.json()["error"]


def test_explain_work_is_bounded(client: TestClient) -> None:
    response = client.post(
        "/api/sie/explain",
        json={"baseline": "paper-baseline", "scenario": "paper-gradual-boost", "samples": 1_000_000},
    )
    assert response.status_code == 422
    assert "evaluations" in response.json()["error"]


def test_sensitivity_is_the_cli_json(client: TestClient) -> None:
    body = {"scenario": "paper-baseline", "samples": 64, "seed": 2, "method": "sobol"}
    response = client.post("/api/sie/sensitivity", json=body)
    assert response.status_code == 200, response.text
    data = response.json()
    expected = cli_json("sie", "sensitivity", "paper-baseline", "-n", "64", "--seed", "2")
    assert data["outputs"] == expected
    assert data["labels"]["p_3y_12mo"] == "≥3 years in ≤12 months" and data["evaluations"] == 64 * 6
    # Plain input names and each output's mean over the design (the page warns when it is near 0 or 1).
    assert data["input_labels"]["speedup"] == "initial speed-up f"
    assert set(data["input_labels"]) == {r["input"] for r in data["outputs"]["p_3y_12mo"]}
    assert set(data["output_means"]) == set(data["outputs"])
    assert all(0 <= mean <= 1 for mean in data["output_means"].values())
    bottlenecks = client.post(
        "/api/sie/sensitivity", json={"scenario": "extension-bottlenecks", "samples": 16}
    ).json()
    assert (
        bottlenecks["input_labels"]["substitution_elasticity"]
        == "substitution elasticity (labour vs compute)"
    )
    morris = client.post("/api/sie/sensitivity", json={**body, "method": "morris", "samples": 5}).json()
    assert set(morris["outputs"]["p_3y_12mo"][0]) == {"input", "mu_star", "mu_star_ci", "mu", "sigma"}
    correlated = client.post("/api/sie/sensitivity", json={"scenario": "extension-correlated-inputs"})
    assert correlated.status_code == 400 and correlated.json()["field"] == "correlations"
    too_big = client.post("/api/sie/sensitivity", json={"samples": 10**6})
    assert too_big.status_code == 422 and too_big.json()["field"] == "samples"
    wrong = client.post("/api/sie/sensitivity", json={"method": "fast"})
    assert wrong.status_code == 422


def test_persona_run_is_the_cli_json(client: TestClient) -> None:
    response = client.post("/api/persona/run", json={"scenario": "naive-decay"})
    assert response.status_code == 200
    assert response.json() == cli_json("persona", "run", "naive-decay")
    document = client.get("/api/persona/presets/naive-decay").json()
    by_object = client.post("/api/persona/run", json={"scenario": document})
    assert by_object.status_code == 200 and by_object.json()["curve"] == response.json()["curve"]
    bad = client.post("/api/persona/run", json={"scenario": {"families": "x"}})
    assert bad.status_code == 400 and bad.json()["field"].startswith("scenario")


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        ({"scenario": "paper-baseline", "samples": 50_001}, 422, "samples", "at most 50,000"),
        ({"samples": 0}, 422, "samples", "greater than or equal to 1"),
        ({"seed": -1}, 422, "seed", "greater than or equal to 0"),
        ({"samples": "1000"}, 422, "samples", "valid integer"),
        ({"samples": 1000.0}, 422, "samples", "valid integer"),
        ({"samples": True}, 422, "samples", "valid integer"),
        ({"samples": 1000, "workers": 4}, 422, "workers", "unknown field"),
        ({"scenario": "../../etc/passwd"}, 400, "scenario", "unknown preset"),
        ({"scenario": "src/asara/scenarios/presets/sie/paper-baseline.toml"}, 400, "scenario", "unknown"),
        ({"scenario": {"inputs": {"returns": {"kind": "uniform", "low": -1, "high": 2}}}}, 400,
         "scenario.inputs.returns", "must be > 0"),
        ({"scenario": {"horizon_months": "forty"}}, 400, "scenario.horizon_months", "valid number"),
        ({"scenario": {"horizon_months": [48]}}, 400, "scenario.horizon_months", "valid number"),
        ({"scenario": {"constant_r": "sometimes"}}, 400, "scenario.constant_r", "valid boolean"),
        ({"scenario": {"bogus": 1}}, 400, "scenario.bogus", "unknown key"),
        ({"scenario": ["paper-baseline"]}, 422, "scenario", ""),
    ],
)  # fmt: skip
def test_bad_requests_get_a_4xx_with_a_message(
    client: TestClient, body: dict[str, Any], status: int, field: str, message: str
) -> None:
    response = client.post("/api/sie/run", json={"samples": 1000, **body})
    assert response.status_code == status, response.text
    error = response.json()
    assert error["field"] == field or error["field"].startswith(field)
    assert message in error["error"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"samples": NaN}', "NaN is not allowed"),
        (b'{"scenario": {"horizon_months": Infinity}}', "Infinity is not allowed"),
        (b'{"samples": -Infinity}', "Infinity is not allowed"),
        (b'{"scenario": {"horizon_months": 1e400}}', "finite"),
        (b'{"samples": 1e999}', "finite"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"[" * 5000 + b"]" * 5000, ""),
    ],
)
def test_malformed_json_is_rejected(client: TestClient, content: bytes, message: str) -> None:
    response = client.post("/api/sie/run", content=content, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert message in response.json()["error"]


def test_body_size_is_limited(client: TestClient) -> None:
    big = {"scenario": {"description": "x" * 10_000}}
    response = client.post("/api/sie/run", json=big)
    assert response.status_code == 413 and "8192 bytes" in response.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        yield b'{"scenario": {"description": "'
        for _ in range(20):
            yield b"y" * 1000
        yield b'"}}'

    streamed = client.post("/api/sie/run", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_time_is_bounded() -> None:
    quick = WebSettings(max_samples=10**6, timeout_seconds=0.05, concurrency=1)
    with TestClient(create_app(quick)) as slow_client:
        response = slow_client.post("/api/sie/run", json={"samples": 1_000_000, "seed": 1})
    assert response.status_code == 503
    assert "longer than 0.05 s" in response.json()["error"]


def test_page_and_assets_are_local(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    script = client.get("/static/app.js").text
    style = client.get("/static/app.css").text
    # The only addresses elsewhere are the introduction's links to the paper and the reference code (links
    # a reader may follow, never loaded by the page).
    links = re.findall(r'<a href="(https?://[^"]+)"', page.text)
    assert links and all(re.match(r"https://(www\.forethought\.org|github\.com)/", link) for link in links)
    for text in (re.sub(r'<a href="https?://[^"]+"', "", page.text), script, style):
        assert not re.search(r"https?://", text)
    sources = re.findall(r'(?:src|href)="([^"]+)"', re.sub(r'<a href="https?://[^"]+"', "", page.text))
    # The favicon is an inline data: URI, so the browser asks for no /favicon.ico.
    assert re.search(r'<link rel="icon" href="data:', page.text)
    sources = [s for s in sources if not s.startswith("data:")]
    assert sources and all(s.startswith("/static/") for s in sources)
    for source in sources:
        assert client.get(source).status_code == 200
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and b"plotly.js" in plotly.content[:200]
    # Neither script blocks the first paint.
    for tag in re.findall(r"<script[^>]*>", page.text):
        assert " defer" in tag or " async" in tag, tag
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/secret.txt").status_code == 404


def test_assets_are_compressed_and_cached(client: TestClient) -> None:
    with client.stream("GET", "/static/plotly.min.js", headers={"Accept-Encoding": "gzip"}) as plotly:
        assert plotly.headers["content-encoding"] == "gzip"
        assert "max-age=" in plotly.headers["cache-control"]
        sent = len(b"".join(plotly.iter_raw()))
    assert sent < 0.5 * plotly_js().stat().st_size  # 4.8 MB goes over the wire as about a third of that
    for name in ("app.js", "app.css"):
        response = client.get(f"/static/{name}", headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert "max-age=" in response.headers["cache-control"]
    plain = client.get("/static/app.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    # API answers keep their headers through the compression.
    run = client.post(
        "/api/sie/run",
        json={"samples": 1000},
        headers={"Accept-Encoding": "gzip"},
    )
    assert run.status_code == 200 and float(run.headers["X-Compute-Seconds"]) > 0


# ---------------------------------------------------------------------------------------------- fuzz

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
scenario_keys = st.sampled_from(
    ["name", "software_share", "horizon_months", "inputs", "cells", "windows_months", "ramp", "constant_r",
     "retraining", "correlations", "compute", "data", "speedup", "kind", "low", "high", "years", "months"]
)  # fmt: skip
scenario_like = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.floats(-1e3, 1e3)
    | st.sampled_from(["log-uniform", "uniform", "none", "linear", "paper"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(scenario_keys, children, max_size=4),
    max_leaves=10,
)  # fmt: skip
bodies = st.one_of(
    json_values,
    st.dictionaries(
        st.sampled_from(["scenario", "samples", "seed", "format", "baseline", "extra"]),
        json_values | scenario_like | st.integers(-3, 3000),
        max_size=5,
    ),
)
ENDPOINTS = [
    "/api/sie/run",
    "/api/sie/toml",
    "/api/sie/samples",
    "/api/sie/explain",
    "/api/sie/sensitivity",
    "/api/persona/run",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, endpoint=st.sampled_from(ENDPOINTS))
def test_fuzzed_bodies_never_get_a_5xx(client: TestClient, body: Any, endpoint: str) -> None:
    # Keep the valid ones cheap.
    if isinstance(body, dict) and isinstance(body.get("samples"), int) and body["samples"] > 3000:
        body["samples"] = 3000
    if endpoint.endswith("sensitivity") and isinstance(body, dict) and isinstance(body.get("samples"), int):
        body["samples"] = min(body["samples"], 64)
    response = client.post(endpoint, json=body)
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        assert response.json()["error"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200), endpoint=st.sampled_from(ENDPOINTS))
def test_fuzzed_bytes_never_get_a_5xx(client: TestClient, content: bytes, endpoint: str) -> None:
    response = client.post(endpoint, content=content, headers={"content-type": "application/json"})
    assert response.status_code < 500, (content, response.text)


@pytest.mark.parametrize("model", ["sie", "persona"])
def test_parameters_are_every_declaration(client: TestClient, model: str) -> None:
    from asara.models.persona.parameters import PARAMETERS as PERSONA
    from asara.models.sie.parameters import PARAMETERS as SIE

    declared = {"sie": SIE, "persona": PERSONA}[model]
    response = client.get(f"/api/{model}/parameters")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = json.loads(response.text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert body == {"model": model, "parameters": [p.to_dict() for p in declared]}
    assert [p["key"] for p in body["parameters"]] == [p.key for p in declared]
    if model == "sie":  # what the page builds its sliders from
        sliders = [p for p in body["parameters"] if p["slider"]]
        assert {p["type"] for p in sliders} == {"distribution", "number"} and len(sliders) >= 17
        infinite = {p["key"]: p["neutral"] for p in body["parameters"] if p["infinite"]}
        assert infinite and set(infinite.values()) == {"Infinity"}


@pytest.mark.parametrize("path", ["/api/sie/parameters", "/api/persona/parameters"])
def test_parameters_pass_the_same_guards_as_every_get(path: str) -> None:
    from asara.web.security import allowed_hosts_for

    guarded = WebSettings(allowed_hosts=tuple(allowed_hosts_for("127.0.0.1")))
    with TestClient(create_app(guarded), base_url="http://127.0.0.1:8000") as local:
        assert local.get(path).status_code == 200
        for name in ("attacker.example", "attacker.example:8000"):
            rebound = local.get(path, headers={"host": name})
            assert rebound.status_code == 421 and rebound.json()["error"]
            assert rebound.json() == local.get("/api/limits", headers={"host": name}).json()
        posted = local.post(path, json={})
        assert posted.status_code == 405 and posted.json()["error"]
        form = local.post(path, content=b"a=1", headers={"content-type": "application/x-www-form-urlencoded"})
        assert form.status_code == 415 and form.json()["error"]


def test_input_labels_are_the_declared_labels() -> None:
    """One name per input: the sensitivity bars (INPUT_LABELS) and the sliders read the same declarations."""
    from asara.models.sie.parameters import PARAMETERS_BY_INPUT
    from asara.web.app import INPUT_LABELS

    assert {name: p.label for name, p in PARAMETERS_BY_INPUT.items()} == INPUT_LABELS
    assert len(INPUT_LABELS) >= 17


def test_the_page_has_no_copy_of_the_declarations() -> None:
    """app.js builds its sliders and labels from GET /api/sie/parameters: no declared label is written in it
    as a string (plain or with \\u escapes), and no slider table is left."""
    from asara.models.persona.parameters import PARAMETERS as PERSONA
    from asara.models.sie.parameters import PARAMETERS as SIE
    from asara.web.app import STATIC

    script = STATIC.joinpath("app.js").read_text(encoding="utf-8")
    for parameter in (*SIE, *PERSONA):
        for written in {parameter.label, json.dumps(parameter.label)[1:-1]}:
            for quote in "\"'`":
                assert f"{quote}{written}{quote}" not in script, parameter.key
    assert not re.search(r"\{\s*key:\s*\"", script)  # no { key: "...", label: ..., min: ... } entries
    assert not re.search(r"\b(min|max):\s*[0-9]", script)
    assert "/api/sie/parameters" in script


def test_the_time_limit_stops_the_computation_and_frees_its_slot() -> None:
    """A stopped request must not keep computing: with one slot, the next request gets it at once."""
    import time

    # 1e7 samples take several seconds however fast the engine gets (1e6 once fit within the limit)
    quick = WebSettings(max_samples=10**7, timeout_seconds=0.5, concurrency=1)
    with TestClient(create_app(quick)) as slow_client:
        heavy = slow_client.post("/api/sie/run", json={"samples": 10_000_000, "seed": 1})
        assert heavy.status_code == 503
        started = time.monotonic()
        light = slow_client.post("/api/sie/run", json={"samples": 2_000, "seed": 1})
        assert light.status_code == 200, light.text
        assert time.monotonic() - started < 2.0


def test_work_over_the_budget_is_refused_up_front() -> None:
    small = WebSettings(max_samples=10**6, max_work=1e6)
    with TestClient(create_app(small)) as budget_client:
        response = budget_client.post("/api/sie/run", json={"samples": 100_000})
    assert response.status_code == 422 and "steps" in response.json()["error"]


def test_the_page_shows_the_declared_outputs_without_a_copy_of_them(client: TestClient) -> None:
    """The run answer carries every declared output with its summary; app.js renders them from it and
    writes none of their names or labels itself (a newly declared output needs no edit of the page)."""
    from asara.web.app import STATIC

    answer = client.post("/api/sie/run", json={"scenario": "paper-baseline", "samples": 2000, "seed": 4})
    assert answer.status_code == 200
    outputs = answer.json()["outputs"]
    model = sie.load("paper-baseline").model()
    assert [o["name"] for o in outputs] == [o.name for o in model.outputs]
    for output in outputs:
        assert {"name", "kind", "label", "unit", "help", "samples", "summary"} <= output.keys()
    script = STATIC.joinpath("app.js").read_text(encoding="utf-8")
    cells = set(model.output_names)
    for preset in list_presets("sie"):
        for output in sie.load(preset.name).model().outputs:
            if output.name in cells:
                continue
            for written in {output.label, json.dumps(output.label)[1:-1]}:
                assert written not in script, output.name
            for quote in "\"'`":
                assert f"{quote}{output.name}{quote}" not in script, output.name
    assert "renderOutputs(record)" in script and ".outputs" in script
