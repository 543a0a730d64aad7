"""The self-contained HTML report: scenarios, results with standard errors, figures, comparison against the
first scenario, and provenance. One file; images are inline PNG, styles inline, no scripts, no network."""

from __future__ import annotations

import base64
import datetime
import html
import math
import platform
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from asara import __version__, sie
from asara.analysis.sie_summary import SieSummary
from asara.errors import InputError
from asara.io.atomic import write_text
from asara.report import plots
from asara.scenarios.sie import SieScenario

ALWAYS_SHOWN = (
    "inputs.speedup",
    "inputs.returns",
    "inputs.limit_years",
    "inputs.parallel_penalty",
    "software_share",
    "horizon_months",
    "recent_doubling_months",
    "constant_r",
    "retraining",
    "initial_doubling",
)
"""Scenario settings the table always shows; any other setting is shown when some scenario changes it."""


@dataclass
class Report:
    """Everything the report shows, computed by the library."""

    sources: list[str]
    summaries: list[SieSummary]
    seed: int
    samples: int
    explanations: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Scenario name -> ``asara sie explain --json`` of (first scenario -> that scenario)."""
    explain_notes: dict[str, str] = field(default_factory=dict)
    explain_samples: int = 0
    sensitivity: dict[str, list[dict[str, Any]]] | None = None
    trajectory_count: int = 6
    paired: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Scenario name -> each cell's change from the first scenario on common random numbers (paired SE)."""
    created: str = ""
    command: list[str] = field(default_factory=list)


def build(
    sources: Sequence[str],
    samples: int = 200_000,
    seed: int = 0,
    *,
    explain_samples: int = 20_000,
    trajectory_count: int = 6,
    workers: int | None = None,
    command: Sequence[str] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Report:
    """Run every scenario (preset names or TOML paths) with the same seed and explain each against the
    first. Nothing is computed here that the library does not compute."""
    if not sources:
        raise InputError("at least one scenario is needed", field="scenarios")
    sie.check_run_arguments(samples, seed, workers, 1)
    from asara.analysis.shapley import MAX_EXPLAIN_SAMPLES

    if not (explain_samples == 0 or 2 <= explain_samples <= MAX_EXPLAIN_SAMPLES):
        raise InputError(
            f"must be 0 (no explanation) or between 2 and {MAX_EXPLAIN_SAMPLES:,} (got {explain_samples:,})",
            field="explain-samples",
        )
    loaded = [sie.load(source) for source in sources]
    summaries = []
    for source, scenario in zip(sources, loaded, strict=True):
        if on_step is not None:
            on_step(f"running {source}")
        summaries.append(sie.run(scenario, samples, seed, workers=workers))
    report = Report(
        list(sources),
        summaries,
        seed,
        samples,
        explain_samples=explain_samples,
        trajectory_count=trajectory_count,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        command=list(command) if command is not None else list(sys.argv),
    )
    from asara.analysis.sie_paired import paired_difference

    for source, scenario in zip(sources[1:], loaded[1:], strict=True):
        if on_step is not None:
            on_step(f"pairing {sources[0]} -> {source}")
        try:
            cells = paired_difference(loaded[0], scenario, samples, seed)
        except InputError:  # different cells: the comparison falls back to independent errors
            continue
        report.paired[scenario.name] = [cell.to_dict() for cell in cells]
    if explain_samples > 0:
        from asara.analysis.sie_explain import explain_scenarios

        for source in sources[1:]:
            if on_step is not None:
                on_step(f"explaining {sources[0]} -> {source}")
            try:
                _, explanations, _, _ = explain_scenarios(sources[0], source, explain_samples, seed)
            except InputError as error:  # e.g. too many changed groups, or different cells
                report.explain_notes[source] = str(error)
                continue
            report.explanations[source] = {e.output: e.to_dict() for e in explanations}
    return report


# --------------------------------------------------------------------------------------------------
# Rendering

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330; margin: 0;
       background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 1.6rem; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.2rem; margin-top: 2em; border-bottom: 1px solid #e3e6ea; padding-bottom: 4px; }
h3 { font-size: 1rem; margin: 1.2em 0 0.4em; }
p.lead { color: #4a5262; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 0.9rem; display: block; max-width: 100%;
        overflow-x: auto; }
th, td { border-bottom: 1px solid #e3e6ea; padding: 4px 10px; text-align: right; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.key, th.key { text-align: left; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
td.changed { background: #fff4d6; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.up { color: #1f7a45; } .down { color: #b03a48; }
img { max-width: 100%; height: auto; border: 1px solid #eceef1; }
.note { color: #5d6675; font-size: 0.85rem; }
dl.prov { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; font-size: 0.9rem; }
dl.prov dt { color: #5d6675; } dl.prov dd { margin: 0; font-family: ui-monospace, Menlo, monospace; }
dl.prov dd { overflow-wrap: anywhere; }
@media (max-width: 700px) {
  main { padding: 12px 10px 32px; }
  dl.prov { grid-template-columns: 1fr; } dl.prov dd { margin-bottom: 6px; }
  th, td { padding: 3px 6px; white-space: nowrap; }
  .figure img { width: 680px; max-width: none; }
  /* A shadow on the right edge says that a wide table or figure scrolls sideways. */
  table, .figure { background: linear-gradient(to right, #fff 30%, rgba(255, 255, 255, 0)) left / 20px 100%,
    radial-gradient(farthest-side at 100% 50%, rgba(0, 0, 0, 0.18), transparent) right / 12px 100%;
    background-repeat: no-repeat; background-attachment: local, scroll; }
}
.figure { overflow-x: auto; max-width: 100%; }
.table-scroll { overflow-x: auto; max-width: 100%; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _image(figure: Figure, alt: str) -> str:
    data = base64.b64encode(plots.png_bytes(figure)).decode("ascii")
    # In a scrolling box: on a phone the figure keeps a readable width and scrolls sideways.
    return f'<div class="figure"><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></div>'


def _flatten(document: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in document.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and "kind" not in value:
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def describe(value: Any) -> str:
    """A setting as a reader wants it: distributions as 'log-uniform 2 to 32', lists compactly."""
    if isinstance(value, Mapping) and "kind" in value:
        kind = value["kind"]
        rest = {k: v for k, v in value.items() if k != "kind"}
        if kind == "fixed":
            return f"{_number(rest.get('value'))}"
        if set(rest) == {"low", "high"}:
            return f"{kind} {_number(rest['low'])} to {_number(rest['high'])}"
        return f"{kind} " + ", ".join(f"{k}={_number(v)}" for k, v in rest.items())
    if isinstance(value, list):
        if value and all(isinstance(v, Mapping) and {"years", "months"} <= set(v) for v in value):
            return ", ".join(f"≥{_number(v['years'])}y in ≤{_number(v['months'])}mo" for v in value)
        return ", ".join(describe(v) for v in value) if value else "none"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={describe(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "not set"
    return _number(value)


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _scenario_rows(summaries: Sequence[SieSummary]) -> list[tuple[str, list[str], bool]]:
    documents = [_flatten(s.scenario.to_document()) for s in summaries]
    defaults = _flatten(SieScenario().to_document())
    keys = [k for k in defaults if k not in ("name", "description")]
    extra = sorted({k for d in documents for k in d} - set(keys) - {"name", "description"})
    ordered = [*keys, *extra]
    differs = {k: any(d.get(k) != documents[0].get(k) for d in documents) for k in ordered}
    non_default = {k: any(d.get(k) != defaults.get(k) for d in documents) for k in ordered}
    # A section such as the ramp reads only as a whole: once one of its settings is shown, show them all.
    sections = {
        k.split(".")[0] for k in ordered if "." in k and not k.startswith("inputs.") and non_default[k]
    }
    rows = []
    for key in ordered:
        in_section = "." in key and key.split(".")[0] in sections
        if key in ALWAYS_SHOWN or differs[key] or non_default[key] or in_section:
            values = [d.get(key) for d in documents]
            rows.append((key, [describe(v) for v in values], differs[key]))
    return rows


def _signed(value: float, error: float) -> str:
    css = "up" if value > 2 * error else "down" if value < -2 * error else ""
    return f'<span class="{css}">{value:+.4f}</span> ± {error:.4f}'


def _output_table(summaries: Sequence[SieSummary]) -> list[str]:
    """Every declared per-sample output besides the cells (which the results table shows), for every
    scenario."""
    rows = [
        (summary.scenario.name, found)
        for summary in summaries
        for found in summary.outputs
        if found.output.name not in {cell.cell.key for cell in summary.cells}
    ]
    if not rows:
        return []
    parts = [
        "<h3>Per-sample outputs</h3>",
        '<table><tr><th class="key">scenario</th><th class="key">output</th><th>over the samples</th></tr>',
    ]
    for name, found in rows:
        parts.append(
            f'<tr><td class="key">{_e(name)}</td><td class="key" title="{_e(found.output.help)}">'
            f'{_e(found.heading())}</td><td class="num">{_e(found.describe())}</td></tr>'
        )
    parts.append("</table>")
    parts.append(
        '<p class="note">Each column of samples.parquet besides the inputs and the cells, as the run keeps '
        "it: indicators as a probability ± SE, counts by their exact histograms, continuous outputs by "
        "their mean ± SE (a mean can be dominated by the few runs that overflowed).</p>"
    )
    return parts


def render(report: Report) -> str:
    """The report as one HTML document."""
    summaries = report.summaries
    first = summaries[0]
    names = [s.scenario.name for s in summaries]
    title = " vs ".join(names) if len(names) > 1 else names[0]
    labels = {o.output.name: o.output.label for s in reversed(summaries) for o in s.outputs}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>asara report: {_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>Software intelligence explosion: {_e(title)}</h1>",
        '<p class="lead">Probability of at least X years of AI progress compressed into at most T months '
        "after full automation of AI research (ASARA), Davidson &amp; Houlden (2025) model, Monte Carlo with "
        f"{report.samples:,} samples per scenario (seed {report.seed}). Every probability carries its Monte "
        "Carlo standard error (SE) and 95% Wilson interval.</p>",
    ]
    # Scenarios
    parts.append("<h2>Scenarios</h2>")
    for summary in summaries:
        if summary.scenario.description:
            parts.append(f"<p><b>{_e(summary.scenario.name)}</b>: {_e(summary.scenario.description)}</p>")
    parts.append('<table><tr><th class="key">setting</th>')
    parts += [f"<th>{_e(n)}</th>" for n in names]
    parts.append("</tr>")
    for key, values, differs in _scenario_rows(summaries):
        cells = "".join(
            f'<td class="{"changed" if differs and i > 0 and v != values[0] else ""}">{_e(v)}</td>'
            for i, v in enumerate(values)
        )
        parts.append(f'<tr><td class="key">{_e(key)}</td>{cells}</tr>')
    parts.append("</table>")
    if len(summaries) > 1:
        parts.append('<p class="note">Highlighted: differs from the first scenario.</p>')
    # Results
    parts.append("<h2>Results</h2>")
    parts.append(
        '<table><tr><th class="key">scenario</th><th>at least</th><th>in at most</th><th>doublings</th>'
        "<th>probability ± SE</th><th>95% Wilson interval</th></tr>"
    )
    for summary in summaries:
        for cell in summary.cells:
            low, high = cell.estimate.wilson_interval()
            parts.append(
                f'<tr><td class="key">{_e(summary.scenario.name)}</td><td>{cell.cell.years:g} years</td>'
                f"<td>{cell.cell.months:g} months</td><td>{cell.required_doublings}</td>"
                f'<td class="num">{cell.estimate.probability:.4f} ± {cell.estimate.standard_error:.4f}</td>'
                f'<td class="num">[{low:.4f}, {high:.4f}]</td></tr>'
            )
    parts.append("</table>")
    reasons = "; ".join(
        f"{_e(s.scenario.name)}: " + ", ".join(f"{k} {v:,}" for k, v in s.end_reasons.items())
        for s in summaries
    )
    parts.append(
        f'<p class="note">Runs ended by {reasons}. Overflow: the next doubling time grew beyond the float '
        "range (r almost 0 just below the limit), so the run stopped there; such samples count with the "
        "doublings they reached and are never dropped.</p>"
    )
    parts += _output_table(summaries)
    # Figures
    parts.append("<h2>Years of progress compressed into a window</h2>")
    parts.append(
        _image(plots.compression_cdf(summaries), "CDF of years of progress compressed into 12 and 4 months")
    )
    parts.append(
        '<p class="note">Each curve: probability that at least X years of progress (at the recent pace) '
        "happen inside some window of that length. Shaded band: 95% Wilson interval of the Monte Carlo "
        "estimate (often thinner than the line).</p>"
    )
    parts.append("<h2>Sample runs</h2>")
    for summary in summaries:
        parts.append(
            _image(
                plots.trajectories(summary.scenario, report.trajectory_count, report.seed),
                f"sample trajectories of {summary.scenario.name}",
            )
        )
    parts.append(
        f'<p class="note">The first {report.trajectory_count} samples of each run (seed {report.seed}): '
        "software doublings since ASARA and the returns r in force after each doubling. Dotted: each "
        "run's ceiling (the effective limit); dashed: the horizon.</p>"
    )
    # Comparison
    if len(summaries) > 1:
        parts.append(f"<h2>Compared with {_e(first.scenario.name)}</h2>")
        parts.append('<table><tr><th class="key">scenario</th>')
        parts += [f"<th>{_e(labels.get(c.cell.key, c.cell.key))}</th>" for c in first.cells]
        parts.append("</tr>")
        base = {c.cell.key: c.estimate for c in first.cells}
        unpaired = []
        for summary in summaries[1:]:
            row = [f'<td class="key">{_e(summary.scenario.name)}</td>']
            mine = {c.cell.key: c.estimate for c in summary.cells}
            paired = {c["cell"]: c for c in report.paired.get(summary.scenario.name, [])}
            if not paired:
                unpaired.append(summary.scenario.name)
            for key, estimate in base.items():
                other = mine.get(key)
                if other is None:
                    row.append("<td>not reported</td>")
                    continue
                if key in paired:
                    difference, error = paired[key]["difference"], paired[key]["standard_error"]
                    independent = paired[key]["independent_standard_error"]
                    row.append(
                        f'<td class="num">{_signed(difference, error)}'
                        f'<br><span class="note">independent SE {independent:.4f}</span></td>'
                    )
                    continue
                difference = other.probability - estimate.probability
                error = math.hypot(other.standard_error, estimate.standard_error)
                row.append(f'<td class="num">{_signed(difference, error)} (independent)</td>')
            parts.append(f"<tr>{''.join(row)}</tr>")
        parts.append("</table>")
        parts.append(
            '<p class="note">Change from the first scenario ± the standard error of the paired difference: '
            "both scenarios run on the same random numbers (same seed, sample by sample), so the SE is that "
            "of "
            "the per-sample differences, usually much smaller than the SE of two independent runs (shown "
            "beneath for comparison). Coloured: more than two SE from zero."
            + (
                f" Marked (independent): {_e(', '.join(unpaired))} report other cells, so no pairing; "
                "their SE treats the runs as independent."
                if unpaired
                else ""
            )
            + "</p>"
        )
        for source, summary in zip(report.sources[1:], summaries[1:], strict=True):
            parts.append(f"<h3>Why {_e(summary.scenario.name)} differs: Shapley attribution</h3>")
            if source in report.explanations:
                parts.append(
                    _image(
                        plots.explanation_waterfall(report.explanations[source], labels),
                        f"explanation of {summary.scenario.name} against {first.scenario.name}",
                    )
                )
                parts.append(
                    '<p class="note">Exact Shapley attribution of the change in each cell to each group of '
                    f"changed assumptions (common random numbers, {report.explain_samples:,} samples per "
                    "subset); the steps add up to the total change. Whiskers: ±1.96 SE. The endpoints come "
                    "from this smaller run, so they differ slightly from the table above.</p>"
                )
            else:
                note = report.explain_notes.get(source, "not computed")
                parts.append(f'<p class="note">No attribution: {_e(note)}</p>')
    if report.sensitivity:
        parts.append("<h2>Sensitivity</h2>")
        parts.append(_image(plots.sensitivity_bars(report.sensitivity, labels), "Sobol indices"))
    # Provenance
    parts.append("<h2>Provenance</h2><dl class='prov'>")
    provenance = [
        ("asara version", __version__),
        ("created (UTC)", report.created),
        ("seed", report.seed),
        ("samples per scenario", f"{report.samples:,}"),
        ("scenarios", ", ".join(report.sources)),
        ("command", " ".join(report.command)),
        ("python", f"{sys.version.split()[0]} ({platform.platform()})"),
        ("numpy", np.__version__),
    ]
    parts += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in provenance]
    parts.append("</dl>")
    parts.append(
        '<p class="note">Same seed and samples give the same numbers. Re-run with '
        f"<code>asara report {_e(' '.join(report.sources))} --samples {report.samples} --seed {report.seed} "
        "--out FILE.html</code>.</p>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write(report: Report, out: Path) -> Path:
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"the report file name must end in .html (got {out.name!r})", field="out")
    write_text(out, render(report))
    return out
