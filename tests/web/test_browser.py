"""The playground in a real browser (Debian's Chromium driven by Playwright), with the network cut off:
open the page, move a slider, see the table and the plot change, follow the shared link, see the same
numbers; the explanation panel and the persona tab render."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from asara import sie
from asara.web.app import WebSettings, create_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_app(WebSettings(max_samples=200_000)), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not instance.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def offline_page(browser: Any, origin: str, blocked: list[str], width: int = 1300) -> Any:
    """A fresh page that may only talk to our server; anything else is aborted and recorded."""
    context = browser.new_context(viewport={"width": width, "height": 1000})

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(origin) or url.startswith("blob:") or url.startswith("data:"):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    return context.new_page()


def watched_page(browser: Any, origin: str, width: int = 1300) -> tuple[Any, list[str], list[str]]:
    """An offline page with the requests it tried to send elsewhere and its script errors, both recorded."""
    blocked: list[str] = []
    errors: list[str] = []
    page = offline_page(browser, origin, blocked, width=width)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, blocked, errors


def table_text(page: Any) -> str:
    return str(page.locator("#cells tbody").inner_text())


def wait_for_results(page: Any) -> None:
    page.wait_for_function(
        "() => document.querySelectorAll('#cells tbody tr').length === 4 "
        "&& document.getElementById('status').textContent.includes('computed in')",
        timeout=60_000,
    )


def test_slider_recomputes_and_the_link_reproduces_the_view(server: str, browser: Any) -> None:
    page, blocked, errors = watched_page(browser, server)
    page.goto(server + "/")
    wait_for_results(page)
    before_table = table_text(page)
    before_plot = page.evaluate("() => JSON.stringify(document.getElementById('cdf').data.map(t => t.y))")
    # The first view is the paper baseline at 100,000 samples, seed 0, exactly as the library computes it.
    baseline = sie.run("paper-baseline", 100_000, 0)
    first = baseline.cells[0].estimate
    assert f"{first.probability:.4f} ± {first.standard_error:.4f}" in before_table

    slider = page.locator('[id="inputs.returns.high"]')
    slider.focus()
    for _ in range(40):
        slider.press("ArrowLeft")
    page.wait_for_function(
        "before => document.querySelector('#cells tbody').innerText !== before "
        "&& document.getElementById('status').textContent.includes('computed in')",
        arg=before_table,
        timeout=60_000,
    )
    wait_for_results(page)
    time.sleep(0.5)  # let a last debounced recompute land
    wait_for_results(page)
    after_table = table_text(page)
    after_plot = page.evaluate("() => JSON.stringify(document.getElementById('cdf').data.map(t => t.y))")
    assert after_table != before_table
    assert after_plot != before_plot

    # The URL carries the change; the numbers are the library's for that scenario.
    url = str(page.url)
    settings = parse_qs(urlparse(url).query)["set"]
    assert len(settings) == 1 and settings[0].startswith("inputs.returns.high=")
    high = settings[0].split("=", 1)[1]
    assert float(high) < 3.6
    changed = sie.run(sie.load("paper-baseline", [f"inputs.returns.high={high}"]), 100_000, 0)
    for cell in changed.cells:
        assert f"{cell.estimate.probability:.4f} ± {cell.estimate.standard_error:.4f}" in after_table

    # Following the shared link in a fresh browser context shows the same numbers and slider position.
    shared = offline_page(browser, server, blocked)
    shared.goto(url)
    wait_for_results(shared)
    assert table_text(shared) == after_table
    assert shared.locator('[id="inputs.returns.high"]').input_value() == slider.input_value()
    assert blocked == [] and errors == []


def test_explanation_and_persona_panels_render(server: str, browser: Any) -> None:
    page, blocked, errors = watched_page(browser, server)
    page.goto(server + "/?preset=paper-gradual-boost&samples=10000&seed=2")
    wait_for_results(page)
    assert page.locator("#preset").input_value() == "paper-gradual-boost"
    page.locator("#explain-panel summary").click()
    page.locator("#explain-samples").select_option("5000")
    page.locator("#explain-run").click()
    page.wait_for_function(
        "() => document.getElementById('explain-note').textContent.startsWith('Exact Shapley')",
        timeout=60_000,
    )
    bars = page.evaluate("() => document.getElementById('explain-plot').data.map(t => t.x)")
    assert len(bars) == 4 and bars[0][0] == "paper-baseline" and bars[0][-1] == "this scenario"
    # Slanted tick labels stay inside the plot (automargin): none starts left of the figure.
    clipped = page.evaluate(
        "() => { const svg = document.querySelector('#explain-plot .main-svg').getBoundingClientRect();"
        " return [...document.querySelectorAll('#explain-plot .xtick text')]"
        ".filter(t => t.getBoundingClientRect().left < svg.left - 0.5).map(t => t.textContent); }"
    )
    assert clipped == []

    page.locator("#sensitivity-panel summary").click()
    page.locator("#sensitivity-samples").select_option("256")
    page.locator("#sensitivity-run").click()
    page.wait_for_function(
        "() => document.getElementById('sensitivity-note').textContent.startsWith('Share')", timeout=60_000
    )
    traces = page.evaluate("() => document.getElementById('sensitivity-plot').data.map(t => [t.name, t.y])")
    # Inputs by their plain names (long ones broken over two lines).
    assert len(traces) == 8 and [name.replace("<br>", " ") for name in traces[0][1]] == [
        "initial speed-up f",
        "returns to software R&D r\u2080",
        "distance to the limit (years of progress)",
        "parallel penalty p",
    ]

    page.locator("#tab-persona").click()
    # a first visit opens on the design question, not on the alphabetically first preset
    page.wait_for_function(
        "() => document.getElementById('persona-status').textContent.startsWith('production-stories')",
        timeout=60_000,
    )
    page.locator("#persona-preset").select_option("naive-decay")
    page.wait_for_function(
        "() => document.getElementById('persona-status').textContent.startsWith('naive-decay')",
        timeout=60_000,
    )
    rows = page.locator("#persona-shares tbody tr").count()
    assert rows == 2
    # The leftmost point is the prior, as in `asara plot persona`; the total is drawn first (underneath).
    first = page.evaluate("() => document.getElementById('persona-plot').data[0]")
    assert (
        first["name"] == "misaligned (total)" and first["x"][0] == 0.5 and first["y"][0] == pytest.approx(0.5)
    )
    note = page.locator("#persona-note").inner_text()
    assert "persona=naive-decay" in str(page.url) and "tab=persona" in str(page.url)
    assert (
        # calibrated weight w per document: the Beta(1, 1) half-life after N documents is N + 1 / w
        "halve again after a further 5,919,405 documents" in note
        and "1 context type" in page.locator("#persona-status").inner_text()
    )
    # The half-life is marked as `asara plot persona` marks it: at corpus + half-life.
    layout = page.evaluate("() => document.getElementById('persona-plot').layout")
    assert any(shape["x0"] == pytest.approx(6_919_404.6) for shape in layout["shapes"])
    assert any("odds halve again" in a["text"] for a in layout["annotations"])
    page.locator("#persona-preset").select_option("patient-waluigi")
    page.wait_for_function(
        "() => document.getElementById('persona-status').textContent.startsWith('patient-waluigi')",
        timeout=60_000,
    )
    note = page.locator("#persona-note").inner_text()
    # at the calibrated weights the corpus has not yet reached its floor: the note says where it levels off
    assert "levels off at 0.0455" in note
    assert blocked == [] and errors == []


def test_narrow_screen_seed_checks_stale_results_and_notes(server: str, browser: Any) -> None:
    page, blocked, errors = watched_page(browser, server, width=420)
    page.goto(server + "/?preset=extension-bottlenecks&samples=10000&seed=3")
    wait_for_results(page)
    # Nothing is wider than the screen; the table scrolls inside its own box.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 420
    # The scenario's own uncertain input has sliders, with a plain name.
    assert page.locator('[id="bottlenecks.substitution_elasticity.low"]').count() == 1
    assert "substitution elasticity" in page.locator("#option-sliders").inner_text()

    # A bad seed is flagged next to the box; the results are marked as not current; the URL keeps its seed.
    seed = page.locator("#seed")
    for bad, message in [("-1", "whole number"), ("1.5", "whole number"), ("", "Enter a seed"),
                         ("99999999999999999999", "at most")]:  # fmt: skip
        seed.fill(bad)
        assert message in page.locator("#seed-error").inner_text()
        assert page.locator("#stale-note").is_visible()
        assert "seed=3" in str(page.url)
    big = "9223372036854775807"
    seed.fill(big)
    page.wait_for_function(
        "seed => document.getElementById('status').textContent.includes('seed ' + seed)",
        arg=big,
        timeout=60_000,
    )
    wait_for_results(page)
    assert f"seed={big}" in str(page.url) and not page.locator("#seed-error").is_visible()
    assert not page.locator("#stale-note").is_visible()
    expected = sie.run(sie.load("extension-bottlenecks"), 10_000, int(big)).cells[0].estimate
    assert f"{expected.probability:.4f} ± {expected.standard_error:.4f}" in table_text(page)

    # A failed run leaves the old results greyed out under a note.
    page.evaluate("() => { state.overrides['inputs.speedup'] = 5; buildControls(); changed(); }")
    page.wait_for_function(
        "() => document.getElementById('status').classList.contains('error')", timeout=60_000
    )
    assert (
        page.locator("#stale-note").is_visible()
        and "previous run" in page.locator("#stale-note").inner_text()
    )
    assert "not a distribution" in page.locator("#input-sliders").inner_text()
    assert "undefined" not in page.locator("#input-sliders").inner_text()

    # Sobol' indices of a rare outcome at a small design come with a warning.
    page.goto(server + "/?preset=extension-bottlenecks&samples=10000")
    wait_for_results(page)
    page.locator("#sensitivity-panel summary").click()
    page.locator("#sensitivity-samples").select_option("256")
    page.locator("#sensitivity-run").click()
    page.wait_for_function(
        "() => document.getElementById('sensitivity-note').textContent.startsWith('Share')", timeout=60_000
    )
    warning = page.locator("#sensitivity-warning")
    assert warning.is_visible() and "≥10 years in ≤12 months" in warning.inner_text()
    # One column of panels on a narrow screen: every panel spans the same x range.
    domains = page.evaluate(
        "() => { const l = document.getElementById('sensitivity-plot').layout;"
        " return Object.keys(l).filter(k => k.startsWith('xaxis')).map(k => l[k].domain); }"
    )
    assert len(domains) == 4 and all(d == domains[0] for d in domains)
    # No mode bar over the first panel's title on a narrow screen.
    assert page.locator("#sensitivity-plot .modebar-btn").count() == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 420

    # Settings the controls do not cover are listed; unknown presets are announced, not silently replaced.
    page.goto(server + "/?preset=extension-correlated-inputs&samples=10000&persona=nope")
    wait_for_results(page)
    assert "returns to software R&D" in page.locator("#scenario-options-list").inner_text()
    page.goto(server + "/?preset=nope&samples=10000&tab=persona&persona=nope")
    page.wait_for_function("() => !document.getElementById('persona-notice').hidden", timeout=60_000)
    assert (
        "nope" in page.locator("#notice").inner_text()
        and "nope" in page.locator("#persona-notice").inner_text()
    )
    assert blocked == [] and errors == []


def test_link_problems_sobol_guard_tabs_and_sliders(server: str, browser: Any) -> None:
    page, blocked, errors = watched_page(browser, server)
    # A link with a bad seed, too many samples and an unknown parameter: a notice, then the defaults.
    page.goto(server + "/?preset=extension-correlated-inputs&samples=5000000&seed=-3&colour=red")
    wait_for_results(page)
    notice = page.locator("#notice").inner_text()
    assert "seed “-3”" in notice and "at most 200,000" in notice and "“colour”" in notice
    query = parse_qs(urlparse(str(page.url)).query)
    assert query["seed"] == ["0"] and query["samples"] == ["100000"] and "colour" not in query
    assert page.locator("#samples option[value='1000000']").count() == 0

    # Sobol' indices assume independent inputs: Compute is disabled for correlated ones, with the reason.
    page.locator("#sensitivity-panel summary").click()
    assert page.locator("#sensitivity-run").is_disabled()
    assert "independently" in page.locator("#sensitivity-blocked").inner_text()
    page.locator("#preset").select_option("paper-baseline")
    page.wait_for_function("() => !document.getElementById('sensitivity-run').disabled", timeout=60_000)
    wait_for_results(page)
    assert not page.locator("#sensitivity-blocked").is_visible()

    # Sliders are read as values; moving low past high snaps back with a hint; back at the preset's
    # position a slider is no longer "changed" (32 round-trips through the slider to 32.1).
    high = page.locator('[id="inputs.speedup.high"]')
    assert high.get_attribute("aria-valuetext") == "32"
    high.focus()
    high.press("ArrowLeft")
    assert "initial speed-up" in page.locator("#modified").inner_text()
    assert high.get_attribute("aria-valuetext") != "32"
    high.press("ArrowRight")
    assert page.locator("#modified").inner_text() == ""
    assert "set" not in parse_qs(urlparse(str(page.url)).query)
    low = page.locator('[id="inputs.speedup.low"]')
    low.focus()
    low.press("End")
    assert "below high" in page.locator('[id="inputs.speedup.hint"]').inner_text()
    assert low.get_attribute("aria-valuetext") == "2"

    # The results come first in the document (Tab order) but sit right of the controls on a wide screen.
    order = page.evaluate("() => [...document.getElementById('panel-sie').children].map(e => e.className)")
    assert order == ["results", "controls"]
    assert (
        page.locator("#panel-sie .controls").bounding_box()["x"]
        < page.locator("#run-results").bounding_box()["x"]
    )

    # The header tabs are a tab list: arrow keys move the selection.
    assert page.locator("nav[role=tablist] [role=tab]").count() == 2
    assert page.locator("#tab-sie").get_attribute("aria-selected") == "true"
    page.locator("#tab-sie").focus()
    page.keyboard.press("ArrowRight")
    assert page.locator("#tab-persona").get_attribute("aria-selected") == "true"
    assert page.locator("#tab-sie").get_attribute("aria-selected") == "false"
    assert page.locator("#panel-persona").is_visible() and not page.locator("#panel-sie").is_visible()
    page.wait_for_function(
        "() => document.getElementById('persona-status').textContent.includes('persona')", timeout=60_000
    )
    assert blocked == [] and errors == []


def test_report_opens_offline_and_fits_a_phone(browser: Any, tmp_path: Path) -> None:
    from asara.report import html

    report = html.build(["paper-baseline", "paper-gradual-boost"], samples=4000, seed=1, explain_samples=2000)
    path = html.write(report, tmp_path / "report.html")
    blocked: list[str] = []
    page = offline_page(browser, "file://", blocked, width=420)
    page.goto(path.as_uri())
    # Every figure is inline and loads; nothing asks the network; no sideways scrolling on a phone.
    assert page.evaluate("[...document.images].every((image) => image.complete && image.naturalWidth > 0)")
    assert blocked == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 420


def test_sliders_and_labels_come_from_the_declarations(server: str, browser: Any) -> None:
    """The page builds its sliders from GET /api/sie/parameters: each slider shows the declared label and
    sits where the declared range puts the preset's value; "Changed from the preset" names declared labels."""
    import math

    from asara.models.sie.parameters import PARAMETERS_BY_KEY

    page, blocked, errors = watched_page(browser, server)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(urlparse(request.url).path))
    ramp = '{"kind":"uniform","low":12,"high":100}'
    page.goto(f"{server}/?preset=extension-ramp&samples=10000&set=ramp.months={ramp}&set=software_share=0.7")
    wait_for_results(page)
    assert "/api/sie/parameters" in asked

    def position(key: str, value: float) -> int:
        slider = PARAMETERS_BY_KEY[key].slider
        assert slider is not None
        if slider.log:
            return round(math.log(value / slider.low) / math.log(slider.high / slider.low) * 1000)
        return round((value - slider.low) / (slider.high - slider.low) * 1000)

    document = sie.load("extension-ramp").to_document()
    inputs = [p for p in PARAMETERS_BY_KEY.values() if p.type == "distribution"]
    titles = page.locator("#input-sliders .slider .name span:first-child").all_inner_texts()
    assert titles == [f"{p.label} ({document['inputs'][p.name]['kind']})" for p in inputs]
    for parameter in inputs:
        for end in ("low", "high"):
            handle = page.locator(f'[id="{parameter.key}.{end}"]')
            assert handle.get_attribute("aria-label") == f"{parameter.label} {end}"
            value = document["inputs"][parameter.name][end]
            assert int(handle.input_value()) == position(parameter.key, value), (parameter.key, end)

    # An extension setting given as a distribution gets its declared label and range.
    months = PARAMETERS_BY_KEY["ramp.months"]
    option = page.locator("#option-sliders .slider .name span:first-child").all_inner_texts()
    assert f"{months.label} (uniform)" in option
    assert int(page.locator('[id="ramp.months.high"]').input_value()) == position("ramp.months", 100)

    # The settings sliders: declared labels, in the page's order.
    keys = ["horizon_months", "software_share", "recent_doubling_months"]
    settings = page.locator("#setting-sliders .slider .name span:first-child").all_inner_texts()
    assert settings == [PARAMETERS_BY_KEY[key].label for key in keys]
    assert int(page.locator('[id="software_share"]').input_value()) == position("software_share", 0.7)
    modified = page.locator("#modified").inner_text()
    assert months.label in modified and PARAMETERS_BY_KEY["software_share"].label in modified
    assert blocked == [] and errors == []


def output_rows(page: Any) -> list[list[str]]:
    rows = page.locator("#outputs tbody tr")
    return [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]


def test_declared_outputs_are_listed_from_the_run_answer(server: str, browser: Any) -> None:
    """Every declared output besides the cells gets a row built from the answer's declarations; one the
    page has never heard of (added to the answer on its way) appears too, and nothing reads NaN or null."""
    import json

    from asara.analysis.outputs import OutputSummary

    page, blocked, errors = watched_page(browser, server)
    page.goto(f"{server}/?samples=20000&seed=2")
    wait_for_results(page)
    answer = page.evaluate("() => lastRun")
    cells = set(sie.load("paper-baseline").model().output_names)
    found = [OutputSummary.from_dict(o) for o in answer["outputs"] if o["name"] not in cells]
    rows = output_rows(page)
    assert [row[0] for row in rows] == [o.heading() for o in found]
    by_heading = dict(rows)
    for output in found:
        shown = by_heading[output.heading()]
        if output.output.kind == "count":
            median, high = output.quantile(0.5), output.quantile(0.95)
            assert f"median {median:,}; 95th percentile {high:,}" in shown
        elif output.output.kind == "category":
            shares = [
                f"{name} {100 * n / output.samples:.2f}%" for name, n in output.category_counts().items()
            ]
            assert shown == ", ".join(shares)
        else:
            assert shown.startswith("mean ")
    assert len(rows) == 5 and page.locator("#cells tbody tr").count() == 4

    # A made-up answer: an extra indicator, and a continuous output whose mean's error is not finite.
    def add_outputs(route: Any) -> None:
        response = route.fetch()
        record = response.json()
        made_up = {"kind": "indicator", "unit": "", "help": "made up", "categories": [], "samples": 100}
        record["outputs"] += [
            {**made_up, "name": "made_up", "label": "a made-up indicator",
             "summary": {"probability": 0.25, "standard_error": 0.0433, "wilson_95": [0.175, 0.343],
                         "successes": 25}},
            {**made_up, "name": "far", "kind": "continuous", "label": "far away", "unit": "years",
             "summary": {"mean": 1.5e250, "standard_error": None}},
            {**made_up, "name": "farther", "kind": "continuous", "label": "farther", "unit": "years",
             "summary": {"mean": None, "standard_error": None}},
        ]  # fmt: skip
        route.fulfill(response=response, body=json.dumps(record))

    page.route("**/api/sie/run", add_outputs)
    page.goto(f"{server}/?samples=20000&seed=5")
    page.wait_for_function(
        "() => document.querySelectorAll('#outputs tbody tr').length === 8", timeout=60_000
    )
    rows = output_rows(page)
    assert rows[-3:] == [
        ["a made-up indicator", "0.2500 ± 0.0433 [0.1750, 0.3430]"],
        ["far away (years)", "mean 1.500e+250 (standard error not finite)"],
        ["farther (years)", "mean not finite"],
    ]
    assert "Not finite" in page.locator("#outputs-note").inner_text()
    text = page.locator("#outputs-panel").inner_text()
    for word in ("NaN", "null", "undefined", "Infinity"):
        assert word not in text
    assert blocked == [] and errors == []


def test_declared_outputs_fit_a_phone(server: str, browser: Any) -> None:
    page, blocked, errors = watched_page(browser, server, width=420)
    page.goto(f"{server}/?samples=10000")
    wait_for_results(page)
    page.wait_for_function(
        "() => document.querySelectorAll('#outputs tbody tr').length === 5", timeout=60_000
    )
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 420
    box = page.locator("#outputs").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 420
    assert blocked == [] and errors == []
