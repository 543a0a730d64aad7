"""The playground and report for a first-time visitor, in Chromium at a laptop's and a phone's width:
orientation, the preset as a reference with paired differences, visible Monte Carlo error, every input
reachable, takeoff over time, a phone layout that keeps results in view, and a first plot that does not wait
for plotly. Each test saves screenshots under pytest's temporary folder (set ASARA_SCREENSHOTS to a folder to
keep copies there too)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from asara import sie
from asara.analysis.sie_paired import paired_difference

from .test_browser import CHROMIUM, browser, offline_page, server, wait_for_results

__all__ = ["browser", "server"]  # the fixtures, shared with test_browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"),
]
WIDTHS = [1366, 420]


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("screenshots")
    keep = os.environ.get("ASARA_SCREENSHOTS")

    def save(page: Any, name: str, full_page: bool = True) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(keep) / f"{name}.png"), full_page=full_page)
        return path

    yield save


def open_page(browser: Any, server: str, width: int, query: str = "") -> tuple[Any, list[str], list[str]]:
    blocked: list[str] = []
    errors: list[str] = []
    page = offline_page(browser, server, blocked, width=width)
    page.set_viewport_size({"width": width, "height": 900})
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/{query}")
    wait_for_results(page)
    return page, blocked, errors


def column(page: Any, css: str) -> list[str]:
    return [str(t) for t in page.locator(f"#cells tbody td.{css}").all_inner_texts()]


@pytest.mark.parametrize("width", WIDTHS)
def test_orientation_comparison_and_visible_error(server: str, browser: Any, shots: Any, width: int) -> None:
    page, blocked, errors = open_page(browser, server, width)
    # (1) Orientation: the terms, the paper and the reference code, published numbers beside computed ones.
    intro = page.locator("#intro")
    if width < 700:
        assert intro.get_attribute("open") is None  # folded on a phone, so the table comes first
        page.locator("#intro summary").click()
    text = intro.inner_text()
    for term in (
        "ASARA",
        "years of progress",
        "initial speed-up",
        "returns to software R&D",
        "parallel penalty",
    ):
        assert term in text
    links = page.evaluate("() => [...document.querySelectorAll('#intro a')].map(a => a.href)")
    assert any("forethought.org" in link for link in links)
    assert any("thoulden/Accelerated_AI_Progress" in link for link in links)
    assert column(page, "published") == ["57%", "41%", "18%", "12%"]
    assert column(page, "outcome")[0].startswith("3 years of progress within a year")
    baseline = sie.run("paper-baseline", 100_000, 0)
    assert [t.strip() for t in page.locator("#cells tbody tr td:nth-child(2)").all_inner_texts()] == [
        str(c.required_doublings) for c in baseline.cells
    ]
    # (3) The Monte Carlo error has its own panel, drawn at the default 100,000 samples, and a note.
    error_panel = page.evaluate(
        "() => document.getElementById('cdf').data.filter(t => t.yaxis === 'y2').map(t => Math.max(...t.y))"
    )
    assert len(error_panel) == 2 and all(0.001 < v < 0.01 for v in error_panel)
    assert "95% Monte Carlo interval" in page.locator("#band-note").inner_text()
    shots(page, f"sie-{width}")

    # (2) Comparison: move a slider; the preset's numbers stay, each cell shows the paired change.
    assert column(page, "reference") == [f"{c.estimate.probability:.4f}" for c in baseline.cells]
    slider = page.locator('[id="inputs.returns.high"]')
    slider.focus()
    for _ in range(30):
        slider.press("ArrowLeft")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#cells td.change')].every(td => td.textContent.includes('±'))",
        timeout=60_000,
    )
    time.sleep(0.4)
    wait_for_results(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#cells td.change')].every(td => td.textContent.includes('±'))",
        timeout=60_000,
    )
    high = parse_qs(urlparse(str(page.url)).query)["set"][0].split("=", 1)[1]
    changed = sie.load("paper-baseline", [f"inputs.returns.high={high}"])
    paired = paired_difference(sie.load("paper-baseline"), changed, 100_000, 0)
    expected = [
        f"{'+' if c.difference >= 0 else '−'}{abs(c.difference):.4f} ± {c.standard_error:.4f}" for c in paired
    ]
    assert column(page, "change") == expected
    assert all(c.standard_error < c.independent_standard_error for c in paired)
    assert column(page, "reference") == [f"{c.estimate.probability:.4f}" for c in baseline.cells]
    assert "paired difference" in page.locator("#paired-note").inner_text()
    names = page.evaluate("() => document.getElementById('cdf').data.map(t => t.name || '')")
    assert sum(name.startswith("preset") for name in names) == 2
    shots(page, f"sie-changed-{width}", full_page=False)
    assert blocked == [] and errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_every_input_reachable_and_takeoff(server: str, browser: Any, shots: Any, width: int) -> None:
    page, blocked, errors = open_page(browser, server, width, "?samples=10000")
    # (5) Takeoff over time: quantile bands, sample runs, ASARA and the horizon marked.
    page.wait_for_function("() => document.getElementById('takeoff-plot').data", timeout=60_000)
    traces = page.evaluate("() => document.getElementById('takeoff-plot').data.map(t => t.name || '')")
    assert "median" in traces and "5–95% of runs" in traces and "sample runs" in traces
    assert len(traces) == 5 + 12
    layout = page.evaluate("() => document.getElementById('takeoff-plot').layout")
    assert sorted(shape["x0"] for shape in layout["shapes"]) == [0, 48]
    assert {a["text"] for a in layout["annotations"]} == {"ASARA", "horizon"}
    page.locator("#takeoff-panel").scroll_into_view_if_needed()
    shots(page, f"takeoff-{width}", full_page=False)

    # (4) The ramp's parameters appear with its shape; an exact value can be typed beside a slider.
    assert not page.locator("#ramp-settings").is_visible()
    page.locator('[id="ramp.shape"]').select_option("logistic")
    assert page.locator('[id="ramp:ramp.months"]').input_value() == "60"
    assert page.locator('[id="ramp:ramp.start_speedup"]').input_value() == "0.1"
    assert "logistic" in page.locator("#ramp-note").inner_text()
    page.locator('[id="ramp:ramp.months"]').fill("24")
    page.locator('[id="ramp:ramp.months"]').press("Enter")
    box = page.locator('[id="inputs.speedup.high.box"]')
    box.fill("20")
    box.press("Enter")
    # Every other setting is a box too: data share, compute halving time.
    page.locator("#extension-settings summary").click()
    share = page.locator('[id="box:data.share"]')
    share.fill("0.2")
    share.press("Enter")
    halving = page.locator('[id="box:compute.halving_years"]')
    assert halving.input_value() == "Infinity"
    halving.fill("8")
    halving.press("Enter")
    time.sleep(0.4)
    wait_for_results(page)
    settings = set(parse_qs(urlparse(str(page.url)).query)["set"])
    assert settings == {
        'ramp.shape="logistic"',
        "ramp.months=24",
        "inputs.speedup.high=20",
        "data.share=0.2",
        "compute.halving_years=8",
    }
    expected = sie.run(sie.load("paper-baseline", sorted(settings)), 10_000, 0).cells[0].estimate
    assert (
        f"{expected.probability:.4f} ± {expected.standard_error:.4f}" in page.locator("#cells").inner_text()
    )
    page.locator("#panel-sie .controls").scroll_into_view_if_needed()
    shots(page, f"inputs-{width}")

    # Persona inputs: every family weight and document count is a box, and the curves follow.
    page.locator("#tab-persona").click()
    page.wait_for_function("() => document.getElementById('persona-plot').data", timeout=60_000)
    before = page.evaluate("() => JSON.stringify(document.getElementById('persona-plot').data[0].y)")
    weights = page.locator("#persona-inputs input[id$='.weight']")
    assert weights.count() >= 2
    weights.first.fill("0.05")
    weights.first.press("Enter")
    page.wait_for_function(
        "before => JSON.stringify(document.getElementById('persona-plot').data[0].y) !== before "
        "&& !document.getElementById('persona-status').classList.contains('busy')",
        arg=before,
        timeout=60_000,
    )
    assert "modified" in page.locator("#persona-status").inner_text()
    # The limit is named in the legend, not written over the curves.
    layout = page.evaluate("() => document.getElementById('persona-plot').layout")
    assert all(a["y"] >= 1 or a["text"].startswith("this corpus") for a in layout["annotations"])
    shots(page, f"persona-{width}")
    assert blocked == [] and errors == []


def test_phone_keeps_results_in_view_and_the_first_plot_does_not_wait_for_plotly(
    server: str, browser: Any, shots: Any
) -> None:
    blocked: list[str] = []
    page = offline_page(browser, server, blocked, width=420)
    page.set_viewport_size({"width": 420, "height": 800})
    held: list[Any] = []

    # plotly.min.js is held back until the first plot is on screen: that plot must not need it.
    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/static/plotly.min.js", hold)
    page.goto(server + "/")
    page.wait_for_function("() => window.plotTimes && window.plotTimes.first !== null", timeout=60_000)
    assert page.evaluate("() => window.Plotly === undefined")
    assert page.locator("#cdf svg.first-plot").count() == 1
    for route in held:
        route.continue_()
    wait_for_results(page)
    # (6) A slider and the results summary on screen together; nothing wider than the phone.
    slider = page.locator('[id="inputs.parallel_penalty.low"]')
    slider.scroll_into_view_if_needed()
    summary = page.locator("#sticky-summary").bounding_box()
    box = slider.bounding_box()
    assert summary is not None and box is not None
    assert summary["y"] >= 0 and summary["y"] + summary["height"] <= 800
    assert 0 <= box["y"] <= 800 and "3y/12mo" in page.locator("#sticky-summary").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 420
    shots(page, "phone-slider-and-summary-420", full_page=False)
    assert blocked == []


@pytest.mark.parametrize("width", WIDTHS)
def test_report_paired_comparison_tables_and_figures(
    browser: Any, shots: Any, tmp_path: Path, width: int
) -> None:
    from asara.report import html

    report = html.build(["paper-baseline", "paper-gradual-boost"], samples=4000, seed=1, explain_samples=0)
    path = html.write(report, tmp_path / "report.html")
    blocked: list[str] = []
    page = offline_page(browser, "file://", blocked, width=width)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path.as_uri())
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    # Every table fits or scrolls in its own box: its right edge can be scrolled to, none is cut off.
    tables = page.evaluate(
        "() => [...document.querySelectorAll('table')].map(t => [t.scrollWidth, t.clientWidth,"
        " getComputedStyle(t).overflowX])"
    )
    assert all(scroll <= client or overflow in ("auto", "scroll") for scroll, client, overflow in tables)
    # Figures keep a readable width (on a phone they scroll sideways rather than shrink).
    widths = page.evaluate("() => [...document.images].map(i => i.getBoundingClientRect().width)")
    assert widths and min(widths) >= min(640, width - 40)
    assert "paired difference" in page.locator("text=Change from the first scenario").first.inner_text()
    shots(page, f"report-{width}")
    assert blocked == []
