"""The playground's comparison and takeoff endpoints against independent computations."""

from __future__ import annotations

import itertools
import math

import numpy as np
from fastapi.testclient import TestClient

from asara import sie
from asara.analysis.sie_paired import paired_difference
from asara.models.sie import trajectory
from asara.web.app import create_app


def client() -> TestClient:
    return TestClient(create_app())


def test_paired_difference_matches_two_runs_and_a_per_sample_loop() -> None:
    a, b = sie.load("paper-baseline"), sie.load("paper-constant-r")
    cells = paired_difference(a, b, 3000, 7)
    run_a, run_b = sie.run(a, 3000, 7), sie.run(b, 3000, 7)
    for cell, ca, cb in zip(cells, run_a.cells, run_b.cells, strict=True):
        assert cell.reference == ca.estimate.probability
        assert cell.scenario == cb.estimate.probability
        assert math.isclose(cell.difference, cb.estimate.probability - ca.estimate.probability, abs_tol=1e-12)
    # Oracle for the SE: per-sample indicators of both runs, paired by sample index.
    from asara.montecarlo.sampling import sample_inputs

    values = []
    for scenario in (a, b):
        model = scenario.model()
        drawn = sample_inputs(scenario.distributions(), model.input_names, 7, 0, 3000, scenario.copula())
        values.append(model.evaluate(drawn))
    for cell in cells:
        d = np.asarray(values[1][cell.key], float) - np.asarray(values[0][cell.key], float)
        assert math.isclose(cell.standard_error, d.std(ddof=1) / math.sqrt(d.size), rel_tol=1e-9)
        assert cell.standard_error <= cell.independent_standard_error


def test_paired_endpoint_and_identical_scenarios() -> None:
    with client() as http:
        same = http.post("/api/sie/paired", json={"scenario": "paper-baseline", "samples": 2000})
        assert same.status_code == 200
        for cell in same.json()["cells"]:
            assert cell["difference"] == 0 and cell["standard_error"] == 0
        other = http.post(
            "/api/sie/paired",
            json={"scenario": "paper-retraining", "reference": "paper-baseline", "samples": 2000},
        ).json()
        assert other["reference"] == "paper-baseline" and len(other["cells"]) == 4
        assert any(cell["difference"] != 0 for cell in other["cells"])
        bad = http.post("/api/sie/paired", json={"scenario": "paper-baseline", "reference": "/etc/passwd"})
        assert bad.status_code == 400 and bad.json()["field"] == "reference"


def test_takeoff_endpoint_bands_and_runs() -> None:
    with client() as http:
        response = http.post("/api/sie/takeoff", json={"scenario": "paper-baseline", "runs": 200, "shown": 5})
        assert response.status_code == 200
        data = response.json()
        bands = [np.array(v) for v in data["quantiles"].values()]
        for lower, upper in itertools.pairwise(bands):
            assert np.all(lower <= upper)
        assert (
            len(data["samples"]) == 5
            and data["months"][0] == 0
            and data["months"][-1] == data["horizon_months"]
        )
        first = data["samples"][0]
        inputs = first["inputs"]
        scenario = sie.load("paper-baseline")
        path = trajectory(
            inputs["speedup"],
            inputs["returns"],
            inputs["limit_years"],
            inputs["parallel_penalty"],
            scenario.options(),
        )
        end = int(np.searchsorted(path.times, data["horizon_months"], side="right")) - 1
        assert math.isclose(first["years"][-1], end * data["software_share"] / 4.0)
        assert all(np.diff(first["years"]) >= 0)
        too_many = http.post("/api/sie/takeoff", json={"runs": 5000})
        assert too_many.status_code == 422
