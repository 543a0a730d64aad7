"""The HTML report: self-contained (opens offline), shows the run's numbers, escapes what users wrote."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asara import __version__, sie
from asara.cli.main import app
from asara.errors import InputError
from asara.report import html

runner = CliRunner()
ASARA = [sys.executable, "-m", "asara.cli.main"]


class Resources(HTMLParser):
    """Every attribute that makes a browser fetch something, and every tag."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "data", "poster") and value is not None:
                self.references.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def two_scenarios(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report") / "r.html"
    result = runner.invoke(
        app,
        [
            "report", "paper-baseline", "paper-gradual-boost", "--out", str(out),
            "--samples", "3000", "--seed", "4", "--explain-samples", "2000",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    return out, out.read_text(encoding="utf-8")


def test_report_has_no_network_references(two_scenarios: tuple[Path, str]) -> None:
    _, text = two_scenarios
    assert not re.search(r"https?://", text, flags=re.IGNORECASE)
    assert "//" not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text).replace("<!--", "")
    parser = Resources()
    parser.feed(text)
    assert parser.references, "the report should inline its figures"
    for reference in parser.references:
        assert reference.startswith("data:image/png;base64,"), reference[:60]
        assert base64.b64decode(reference.split(",", 1)[1]).startswith(b"\x89PNG")
    assert "script" not in parser.tags and "link" not in parser.tags and "iframe" not in parser.tags


def test_report_shows_the_runs_numbers(two_scenarios: tuple[Path, str]) -> None:
    _, text = two_scenarios
    for name in ("paper-baseline", "paper-gradual-boost"):
        summary = sie.run(name, 3000, 4)
        for cell in summary.cells:
            low, high = cell.estimate.wilson_interval()
            assert f"{cell.estimate.probability:.4f} ± {cell.estimate.standard_error:.4f}" in text
            assert f"[{low:.4f}, {high:.4f}]" in text
    base = sie.run("paper-baseline", 3000, 4).cells[0].estimate
    boost = sie.run("paper-gradual-boost", 3000, 4).cells[0].estimate
    # The comparison is paired (same seed, sample by sample): its SE is that of per-sample differences,
    # with the independent-runs SE beside it.
    from asara.analysis.sie_paired import paired_difference

    paired = paired_difference(sie.load("paper-baseline"), sie.load("paper-gradual-boost"), 3000, 4)[0]
    assert f"{paired.difference:+.4f}</span> ± {paired.standard_error:.4f}" in text
    independent = (base.standard_error**2 + boost.standard_error**2) ** 0.5
    assert f"independent SE {paired.independent_standard_error:.4f}" in text
    assert abs(paired.independent_standard_error - independent) < 0.01
    assert paired.standard_error < paired.independent_standard_error


def test_report_has_every_section_and_provenance(two_scenarios: tuple[Path, str]) -> None:
    _, text = two_scenarios
    parser = Resources()
    parser.feed(text)
    plain = " ".join(parser.text)
    headings = ["Scenarios", "Results", "Years of progress compressed into a window", "Sample runs"]
    headings += ["Compared with paper-baseline", "Why paper-gradual-boost differs", "Provenance"]
    for heading in headings:
        assert heading in plain
    assert len(parser.references) == 1 + 2 + 1  # CDF, two trajectory figures, one waterfall
    assert __version__ in plain and "samples per scenario" in plain and "3,000" in plain
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", plain)  # creation date
    # The settings table highlights what the second scenario changed (returns, limit, ramp), and only that.
    changed = re.findall(r'<td class="key">([^<]+)</td><td class="">[^<]*</td><td class="changed">', text)
    assert changed == ["inputs.returns", "inputs.limit_years", "ramp.shape"]
    # ... and once the ramp is shown, all of it, so a reader sees its length and starting speed-up.
    shown = re.findall(r'<td class="key">(ramp\.[^<]+)</td>', text)
    assert {"ramp.shape", "ramp.months", "ramp.start_speedup"} <= set(shown)
    assert "compute.growth_per_year" not in text


def test_single_scenario_report_has_no_comparison(tmp_path: Path) -> None:
    report = html.build(["paper-baseline"], 2000, 1, explain_samples=0, trajectory_count=2)
    text = html.render(report)
    assert "Compared with" not in text and "Shapley" not in text
    assert text.count("<img ") == 2


def test_user_text_is_escaped(tmp_path: Path) -> None:
    scenario = tmp_path / "evil.toml"
    scenario.write_text(
        'name = "<script>alert(1)</script>"\ndescription = "a & b <img src=x>"\n', encoding="utf-8"
    )
    text = html.render(html.build([str(scenario)], 1000, 0, explain_samples=0, trajectory_count=1))
    assert "<script>" not in text and "<img src=x>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "a &amp; b &lt;img src=x&gt;" in text


def test_report_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [*ASARA, "report", "no-such-preset", "--out", str(tmp_path / "r.html")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("asara: error: scenario: unknown preset")
    for args, field in (
        (["paper-baseline", "--out", str(tmp_path / "r.txt"), "--samples", "100"], "out"),
        (["paper-baseline", "--out", str(tmp_path / "r.html"), "--samples", "0"], "samples"),
        (["paper-baseline", "--out", str(tmp_path / "r.html"), "--explain-samples", "-1"], "explain-samples"),
    ):
        result = runner.invoke(app, ["report", *args])
        assert isinstance(result.exception, InputError), result.output
        assert result.exception.field == field
    assert not (tmp_path / "r.html").exists()


def test_plot_commands_write_files(tmp_path: Path) -> None:
    cdf = tmp_path / "cdf.svg"
    result = runner.invoke(app, ["plot", "cdf", "paper-baseline", "--out", str(cdf), "--samples", "2000"])
    assert result.exit_code == 0, result.output
    assert "<svg" in cdf.read_text(encoding="utf-8")
    paths = tmp_path / "t.png"
    result = runner.invoke(
        app, ["plot", "trajectories", "paper-baseline", "--out", str(paths), "--count", "3"]
    )
    assert result.exit_code == 0, result.output
    assert paths.read_bytes().startswith(b"\x89PNG")
    # `plot explain A B` takes its scenarios as `sie explain A B` does (--to B still works), and names them.
    why = tmp_path / "why.svg"
    result = runner.invoke(
        app, ["plot", "explain", "paper-baseline", "paper-retraining", "--out", str(why), "-n", "500"]
    )
    assert result.exit_code == 0, result.output
    assert "paper-baseline -&gt; paper-retraining" in why.read_text(encoding="utf-8")
    result = runner.invoke(
        app, ["plot", "explain", "paper-baseline", "--to", "paper-retraining", "--out", str(why), "-n", "500"]
    )
    assert result.exit_code == 0, result.output
    persona = tmp_path / "p.png"
    result = runner.invoke(app, ["plot", "persona", "naive-decay", "--out", str(persona)])
    assert result.exit_code == 0, result.output
    assert persona.read_bytes().startswith(b"\x89PNG")


def test_plot_from_saved_json(tmp_path: Path) -> None:
    source = tmp_path / "sens.json"
    source.write_text(
        '{"p_3y_12mo": [{"input": "speedup", "first": 0.2, "first_ci": [0.1, 0.3], "total": 0.3, '
        '"total_ci": [0.2, 0.4]}]}',
        encoding="utf-8",
    )
    out = tmp_path / "s.png"
    result = runner.invoke(app, ["plot", "sensitivity", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\x89PNG")
    live = tmp_path / "live.svg"
    result = runner.invoke(app, ["plot", "sensitivity", "paper-baseline", "-n", "32", "--out", str(live)])
    assert result.exit_code == 0, result.output
    assert "≥3 years in ≤12 months" in live.read_text(encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    done = subprocess.run(
        [*ASARA, "plot", "sensitivity", str(bad), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "not valid JSON" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        [*ASARA, "plot", "cdf", "paper-baseline", "--out", str(tmp_path / "x.gif")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and ".png or .svg" in done.stderr
