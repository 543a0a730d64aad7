"""Small Beta shapes are integrated, not refused: the stretched trapezoid rule against independent oracles.

For q ~ Beta(a, 1), u = q^a is uniform on [0, 1] (the CDF is q^a), so with q = e^-v the odds ratio after
x clean opportunities is E[(1 - q)^x] = 1 - a int_0^inf (1 - (1 - e^-v)^x) e^(-a v) dv: an integral in
log q by adaptive quadrature, nothing shared with the nodes. The odds ratio is about 1 - a ln x, so
1 - ratio is compared relatively as well.
"""

from __future__ import annotations

import json
import math

import pytest
from scipy import integrate, special
from typer.testing import CliRunner

from asara.cli.main import app
from asara.models.persona import engine
from asara.models.persona.documents import Context, Document, tabulate
from asara.models.persona.population import MAX_NODES, FamilySpec, beta_nodes, build_population


def one_minus_ratio_oracle(a: float, x: float) -> float:
    """1 - E[(1 - q)^x] for q ~ Beta(a, 1), integrating over v = -log q."""

    def integrand(v: float) -> float:
        return -math.expm1(x * math.log1p(-math.exp(-v))) * math.exp(-a * v)

    middle = math.log(x) if x > 1 else 1.0  # (1 - e^-v)^x turns from 0 to 1 around v = log x
    head = integrate.quad(integrand, 0.0, middle, limit=200, epsabs=0.0, epsrel=1e-13)[0]
    tail = integrate.quad(integrand, middle, middle + 60.0, limit=200, epsabs=0.0, epsrel=1e-13)[0]
    return a * (head + tail)


def decay_ratio(a: float, b: float, x: float) -> float:
    population = build_population([FamilySpec("luigi", 1.0), FamilySpec("naive", 1.0, q=beta_nodes(a, b))])
    s = engine.evidence(population, tabulate([Document(Context(opportunities=1.0))]))[:, 0]
    (point,) = engine.curve(population, s, [x])
    return point.odds_ratio


@pytest.mark.parametrize("a", [1e-7, 1e-4, 1e-2, 0.3])
@pytest.mark.parametrize("x", [1.0, 1e3, 1e9])
def test_beta_a_1_odds_ratio_matches_the_log_q_integral(a: float, x: float) -> None:
    ratio = decay_ratio(a, 1.0, x)
    oracle = one_minus_ratio_oracle(a, x)
    assert ratio == pytest.approx(1.0 - oracle, rel=1e-12, abs=1e-13)
    # the part the data removed, relatively: limited by the ~1e-14 rounding of the ratio itself
    assert 1.0 - ratio == pytest.approx(oracle, rel=max(1e-9, 1e-13 / oracle))


@pytest.mark.parametrize(("a", "b"), [(1e-7, 1e-7), (1e-3, 0.5), (0.05, 2.0), (2.0, 1e-6)])
def test_small_shapes_reproduce_the_beta_closed_form(a: float, b: float) -> None:
    """log E[q^d (1 - q)^m] = lnB(a + d, b + m) - lnB(a, b) with integer d, m (defections and clean
    opportunities), wherever the lgamma differences themselves are accurate."""
    nodes = beta_nodes(a, b)
    assert nodes.log_values is not None and nodes.log1m_values is not None
    assert nodes.values.size < 2_000  # a few hundred nodes per stretched tail, not 40/a
    for d, m in [(0, 0), (0, 1), (1, 0), (1, 5), (3, 100)]:
        quadrature = special.logsumexp(nodes.log_weights + d * nodes.log_values + m * nodes.log1m_values)
        exact = special.betaln(a + d, b + m) - special.betaln(a, b)
        assert quadrature == pytest.approx(exact, abs=1e-11), (d, m)


def test_tiny_shapes_stay_bounded() -> None:
    assert beta_nodes(1e-300, 1e-300).values.size <= MAX_NODES


def test_decay_cli_accepts_a_tiny_shape() -> None:
    result = CliRunner().invoke(
        app, ["persona", "decay", "--q-prior", "beta:1e-7,1", "--documents", "1e9", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["documents"] for row in rows][-1] == 1e9
    last = rows[-1]["odds_ratio"]
    assert last == pytest.approx(1.0 - one_minus_ratio_oracle(1e-7, 1e9), rel=1e-12)
    # the Waluigi odds fall by about a ln N: no half-life within the model's range
    assert rows[-1]["half_life"] is None or rows[-1]["half_life"] > 1e26
