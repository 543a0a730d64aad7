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


def offline_page(browser: Any, origin: str, blocked: list[str]) -> Any:
    """A fresh page that may only talk to our server; anything else is aborted and recorded."""
    context = browser.new_context(viewport={"width": 1300, "height": 1000})

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(origin) or url.startswith("blob:") or url.startswith("data:"):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    return context.new_page()


def table_text(page: Any) -> str:
    return str(page.locator("#cells tbody").inner_text())


def wait_for_results(page: Any) -> None:
    page.wait_for_function(
        "() => document.querySelectorAll('#cells tbody tr').length === 4 "
        "&& document.getElementById('status').textContent.includes('computed in')",
        timeout=60_000,
    )


def test_slider_recomputes_and_the_link_reproduces_the_view(server: str, browser: Any) -> None:
    blocked: list[str] = []
    errors: list[str] = []
    page = offline_page(browser, server, blocked)
    page.on("pageerror", lambda error: errors.append(str(error)))
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
    blocked: list[str] = []
    errors: list[str] = []
    page = offline_page(browser, server, blocked)
    page.on("pageerror", lambda error: errors.append(str(error)))
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

    page.locator("#sensitivity-panel summary").click()
    page.locator("#sensitivity-samples").select_option("256")
    page.locator("#sensitivity-run").click()
    page.wait_for_function(
        "() => document.getElementById('sensitivity-note').textContent.startsWith('Share')", timeout=60_000
    )
    traces = page.evaluate("() => document.getElementById('sensitivity-plot').data.map(t => [t.name, t.y])")
    assert len(traces) == 8 and traces[0][1] == ["speedup", "returns", "limit_years", "parallel_penalty"]

    page.locator("#tab-persona").click()
    page.locator("#persona-preset").select_option("naive-decay")
    page.wait_for_function(
        "() => document.getElementById('persona-status').textContent.startsWith('naive-decay')",
        timeout=60_000,
    )
    rows = page.locator("#persona-shares tbody tr").count()
    assert rows == 2
    assert "persona=naive-decay" in str(page.url) and "tab=persona" in str(page.url)
    assert blocked == [] and errors == []
