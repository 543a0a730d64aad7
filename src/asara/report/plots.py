"""Figures over the library's results (matplotlib figures rendered by Agg, never pyplot; nothing here
computes a model).

Every function returns a :class:`matplotlib.figure.Figure`; :func:`save` writes it as PNG or SVG and
:func:`png_bytes` gives the PNG for inlining. Sensitivity, explanation and persona figures take plain data
(the JSON shapes the CLI prints), so they work from a saved ``--json`` file as well as from a live run.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from asara.analysis.sie_sample import sample_paths
from asara.analysis.sie_summary import SieSummary
from asara.errors import InputError
from asara.models.base import FloatArray
from asara.models.sie import Trajectory
from asara.models.sie.metrics import Cell
from asara.scenarios.sie import SieScenario

COLOURS = ("#1f5fa8", "#d9641e", "#2e8b57", "#8e44ad", "#b03a48", "#5d6d7e", "#c9a227", "#17a2b8")
FORMATS = ("png", "svg")


def _new_figure(width: float, height: float, columns: int = 1) -> tuple[Figure, list[Any]]:
    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.subplots(1, columns, squeeze=False)[0]
    return figure, list(axes)


def _label(output: str, labels: Mapping[str, str] | None) -> str:
    """The caller's label, else a cell's title for a cell key (saved JSON has only keys), else the name."""
    if labels and output in labels:
        return labels[output]
    cell = Cell.from_key(output)
    return cell.title if cell is not None else output


def _style(axis: Any) -> None:
    axis.grid(True, color="#dddddd", linewidth=0.6)
    axis.set_axisbelow(True)
    axis.spines["top"].set_visible(False)
    axis.spines["right"].set_visible(False)


# --------------------------------------------------------------------------------------------------
# SIE: years of progress compressed into a window


def compression_curve(
    summary: SieSummary, months: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Years, P(at least that many years inside ``months``), and the 95% Wilson band, starting at (0, 1)."""
    points = summary.compression[months]
    years = np.array([0.0, *(p.years for p in points)])
    probability = np.array([1.0, *(p.estimate.probability for p in points)])
    bands = [p.estimate.wilson_interval() for p in points]
    low = np.array([1.0, *(b[0] for b in bands)])
    high = np.array([1.0, *(b[1] for b in bands)])
    return years, probability, low, high


def compression_cdf(summaries: Sequence[SieSummary], windows: Sequence[float] | None = None) -> Figure:
    """P(at least X years of progress inside some window of T months) against X, one panel per window,
    one line per scenario, with a shaded 95% Wilson band for the Monte Carlo error."""
    if not summaries:
        raise InputError("at least one run is needed", field="scenarios")
    if windows is None:
        windows = [w for w in (12.0, 4.0) if all(w in s.compression for s in summaries)]
        windows = windows or sorted(summaries[0].compression, reverse=True)
    for summary in summaries:
        missing = [w for w in windows if w not in summary.compression]
        if missing:
            raise InputError(
                f"{summary.scenario.name} has no {missing[0]:g}-month window (add it to windows_months)",
                field="windows_months",
            )
    figure, axes = _new_figure(5.2 * len(windows), 4.0, len(windows))
    for axis, months in zip(axes, windows, strict=True):
        top = 0.0
        for i, summary in enumerate(summaries):
            years, probability, low, high = compression_curve(summary, months)
            colour = COLOURS[i % len(COLOURS)]
            axis.step(
                years, probability, where="post", color=colour, linewidth=1.8, label=summary.scenario.name
            )
            axis.fill_between(years, low, high, step="post", color=colour, alpha=0.25, linewidth=0)
            reached = years[probability > 0.001]
            top = max(top, float(reached[-1]) if reached.size else 1.0)
        axis.set_xlim(0, max(1.0, top * 1.05))
        axis.set_ylim(0, 1.02)
        axis.set_xlabel("years of progress (at least)")
        axis.set_ylabel("probability")
        axis.set_title(f"Years of progress compressed into {months:g} months", fontsize=11)
        _style(axis)
        axis.legend(frameon=False, fontsize=9, title="band: 95% Monte Carlo interval", title_fontsize=8)
    return figure


# --------------------------------------------------------------------------------------------------
# SIE: sample trajectories


def sample_trajectories(
    scenario: SieScenario, count: int = 8, seed: int = 0
) -> list[tuple[dict[str, float], Trajectory]]:
    """The first ``count`` samples of a run seeded ``seed`` (the same inputs that run draws), each with
    its full path from :func:`asara.models.sie.trajectory`."""
    if not 1 <= count <= 200:
        raise InputError(f"must be between 1 and 200 (got {count})", field="count")
    return list(sample_paths(scenario, count, seed))


def _mark(
    axis: Any,
    x: float,
    text: str,
    colour: str,
    *,
    linestyle: str = "--",
    linewidth: float = 1.0,
    height: float = 1.0,
    right: bool = False,
) -> None:
    """A vertical line at ``x`` named at ``height`` (axes fraction), left of the line or ``right`` of it."""
    axis.axvline(x, color=colour, linestyle=linestyle, linewidth=linewidth)
    axis.annotate(
        text,
        xy=(x, height),
        xycoords=("data", "axes fraction"),
        xytext=(4, -2) if right else (-4, -4),
        textcoords="offset points",
        ha="left" if right else "right",
        va="top",
        fontsize=8,
        color=colour,
    )


def trajectories(scenario: SieScenario, count: int = 8, seed: int = 0) -> Figure:
    """Software doublings and r against months for sample runs, with each run's ceiling, ASARA and the
    horizon. When the ramp's length or lead is an uncertain input each run has its own ASARA month and
    horizon: ASARA is then a circle on each run's curves (and its month in the legend) and each run's
    horizon a dashed line in its colour."""
    paths = sample_trajectories(scenario, count, seed)
    asaras = [path.asara_months for _, path in paths]
    horizons = [path.total_months for _, path in paths]
    one_asara = len(set(asaras)) == 1
    one_horizon = len(set(horizons)) == 1
    figure, (left, right) = _new_figure(11.0, 4.8, 2)
    for i, (inputs, path) in enumerate(paths):
        colour = COLOURS[i % len(COLOURS)]
        doublings = np.arange(path.times.size)
        label = f"f={inputs['speedup']:.3g}, r0={inputs['returns']:.2g}, N={path.ceiling_doublings:.0f}"
        if not one_asara:
            label += f", ASARA at {path.asara_months:.3g} mo"
        left.step(path.times, doublings, where="post", color=colour, linewidth=1.4, label=label)
        left.axhline(path.ceiling_doublings, color=colour, linestyle=":", linewidth=0.9)
        right.step(path.times, path.returns, where="post", color=colour, linewidth=1.4)
        if not one_asara:
            # Where the run stands at its ASARA: the last doubling completed by then.
            at = int(np.searchsorted(path.times, path.asara_months, side="right")) - 1
            for axis, value in ((left, doublings[at]), (right, path.returns[at])):
                axis.plot(
                    [path.asara_months], [value], linestyle="none", marker="o", markersize=6,
                    markerfacecolor="white", markeredgecolor=colour, markeredgewidth=1.6, zorder=3,
                )  # fmt: skip
        if not one_horizon:
            for axis in (left, right):
                axis.axvline(path.total_months, color=colour, linestyle="--", linewidth=0.9, alpha=0.8)
    asara = max(asaras)
    horizon = max(horizons)
    for axis in (left, right):
        if one_asara and asara > 0:
            _mark(axis, asara, "ASARA", "#2e8b57")
        if one_horizon:
            _mark(axis, horizon, "horizon", "#444444")
        axis.set_xlabel("months after ASARA" if asara == 0 else "months since the ramp began")
        _style(axis)
    right.axhline(1.0, color="#111111", linewidth=0.8, linestyle="-.")
    right.annotate("r = 1", xy=(0, 1.0), xytext=(3, 3), textcoords="offset points", fontsize=8)
    # Both ends explicit: a run whose last doubling ends far past the horizon (r almost 0 just below its
    # ceiling) would otherwise stretch the autoscaled axis over millions of months.
    for axis in (left, right):
        axis.set_xlim(-0.02 * horizon, horizon * 1.06)
    left.set_ylabel("software doublings" if asara == 0 else "software doublings since the ramp began")
    left.set_title(f"{scenario.name}: sample runs (dotted: each run's ceiling N)", fontsize=11)
    right.set_ylabel("returns to software R&D, r")
    right.set_title("r after each doubling (r > 1: accelerating)", fontsize=11)
    if not (one_asara and one_horizon):
        own = [w for w, differs in (("ASARA month", not one_asara), ("horizon", not one_horizon)) if differs]
        keys = [
            k
            for k, differs in (
                ("o: ASARA", not one_asara),
                ("dashed in its colour: horizon", not one_horizon),
            )
            if differs
        ]
        figure.suptitle(
            f"Each run has its own {' and '.join(own)}, from its sampled ramp ({'; '.join(keys)})",
            fontsize=10,
        )
    figure.legend(
        *left.get_legend_handles_labels(),
        loc="outside lower center",
        ncols=3 if not one_asara else 4,
        frameon=False,
        fontsize=8,
    )
    return figure


# --------------------------------------------------------------------------------------------------
# Sensitivity indices and explanations (plain data)


def _check_list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError("expected a list", field=field)
    return value


def _number(record: Mapping[str, Any], key: str, field: str) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"expected a finite number (got {value!r})", field=f"{field}.{key}")
    return float(value)


def _interval(record: Mapping[str, Any], key: str, field: str) -> tuple[float, float]:
    value = record.get(key)
    if not (isinstance(value, list | tuple) and len(value) == 2):
        raise InputError(f"expected [low, high] (got {value!r})", field=f"{field}.{key}")
    low, high = value
    return _number({"v": low}, "v", f"{field}.{key}"), _number({"v": high}, "v", f"{field}.{key}")


def sensitivity_bars(
    data: Mapping[str, Sequence[Mapping[str, Any]] | None],
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """First-order and total Sobol indices with their intervals: one panel per output.

    ``data`` maps each output to a list of ``{input, first, first_ci, total, total_ci}`` records (the JSON
    of ``asara sie sensitivity --json``), or to None when the output was constant over the design."""
    if not isinstance(data, Mapping) or not data:
        raise InputError("expected an object with one list of indices per output", field="sensitivity")
    outputs = list(data)
    columns = min(len(outputs), 2)
    rows = math.ceil(len(outputs) / columns)
    figure = Figure(figsize=(5.6 * columns, 0.5 + 2.6 * rows), layout="constrained")
    if title:
        figure.suptitle(title, fontsize=10)
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, output in enumerate(outputs):
        axis = grid[index // columns][index % columns]
        if data[output] is None:
            axis.set_title(_label(output, labels), fontsize=10)
            axis.text(0.5, 0.5, "constant over the design:\nno variance to share", ha="center", va="center")
            axis.set_axis_off()
            continue
        records = _check_list(data[output], f"sensitivity.{output}")
        names, firsts, totals, first_err, total_err = [], [], [], [], []
        for j, record in enumerate(records):
            field = f"sensitivity.{output}.{j}"
            if not isinstance(record, Mapping) or not isinstance(record.get("input"), str):
                raise InputError("expected an object with an 'input' name", field=field)
            if "mu_star" in record and "first" not in record:
                raise InputError(
                    "these are Morris results; the figure shows Sobol' indices "
                    "(sie sensitivity --method sobol)",
                    field=field,
                )
            first, total = _number(record, "first", field), _number(record, "total", field)
            first_low, first_high = _interval(record, "first_ci", field)
            total_low, total_high = _interval(record, "total_ci", field)
            names.append(record["input"])
            firsts.append(first)
            totals.append(total)
            first_err.append((max(0.0, first - first_low), max(0.0, first_high - first)))
            total_err.append((max(0.0, total - total_low), max(0.0, total_high - total)))
        y = np.arange(len(names))
        height = 0.38
        axis.barh(
            y - height / 2,
            firsts,
            height,
            xerr=np.array(first_err).T.reshape(2, -1),
            color=COLOURS[0],
            label="first order",
            capsize=2,
            error_kw={"linewidth": 0.8},
        )
        axis.barh(
            y + height / 2,
            totals,
            height,
            xerr=np.array(total_err).T.reshape(2, -1),
            color=COLOURS[1],
            label="total",
            capsize=2,
            error_kw={"linewidth": 0.8},
        )
        axis.set_yticks(y, names, fontsize=8)
        axis.invert_yaxis()
        axis.axvline(0, color="#444444", linewidth=0.8)
        axis.set_xlabel("share of output variance")
        axis.set_title(_label(output, labels), fontsize=10)
        _style(axis)
        if index == 0:
            axis.legend(frameon=False, fontsize=8)
    for index in range(len(outputs), rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    return figure


def explanation_waterfall(
    data: Mapping[str, Mapping[str, Any]],
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Shapley attributions as a waterfall from the baseline to the changed value, one panel per output;
    each step carries a ±1.96 standard-error bar.

    ``data`` maps each output to ``{baseline, changed, total_change, attributions: [{change, value,
    standard_error}]}`` (the JSON of ``asara sie explain --json``)."""
    if not isinstance(data, Mapping) or not data:
        raise InputError("expected an object with one explanation per output", field="explain")
    outputs = list(data)
    columns = min(len(outputs), 2)
    rows = math.ceil(len(outputs) / columns)
    figure = Figure(figsize=(5.8 * columns, 0.6 + 3.0 * rows), layout="constrained")
    if title:
        figure.suptitle(title, fontsize=10)
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, output in enumerate(outputs):
        axis = grid[index // columns][index % columns]
        record = data[output]
        field = f"explain.{output}"
        if not isinstance(record, Mapping):
            raise InputError("expected an object", field=field)
        baseline, changed = _number(record, "baseline", field), _number(record, "changed", field)
        steps = _check_list(record.get("attributions"), f"{field}.attributions")
        names, starts, values, errors = ["baseline"], [0.0], [baseline], [0.0]
        level = baseline
        for j, step in enumerate(steps):
            where = f"{field}.attributions.{j}"
            if not isinstance(step, Mapping) or not isinstance(step.get("change"), str):
                raise InputError("expected an object with a 'change' name", field=where)
            value, error = _number(step, "value", where), _number(step, "standard_error", where)
            names.append(step["change"])
            starts.append(level)
            values.append(value)
            errors.append(1.96 * error)
            level += value
        names.append("changed")
        starts.append(0.0)
        values.append(changed)
        errors.append(0.0)
        x = np.arange(len(names))
        colours = [COLOURS[5]] + [COLOURS[2] if v >= 0 else COLOURS[4] for v in values[1:-1]] + [COLOURS[5]]
        axis.bar(x, values, bottom=starts, color=colours, width=0.6)
        middle = [s + v for s, v in zip(starts, values, strict=True)]
        axis.errorbar(
            x[1:-1], middle[1:-1], yerr=errors[1:-1], fmt="none", ecolor="#222222", capsize=3, linewidth=0.9
        )
        for k in range(len(names) - 1):
            axis.plot(
                [x[k] + 0.3, x[k + 1] - 0.3],
                [middle[k], middle[k]] if k == 0 else [middle[k]] * 2,
                color="#888888",
                linewidth=0.6,
            )
        for k, v in enumerate(values):
            if k in (0, len(values) - 1):
                # Totals above their bars.
                axis.annotate(
                    f"{v:.3f}",
                    (x[k], starts[k] + v),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
            else:
                # Steps beside their bars, clear of the error bar drawn at the bar's centre.
                axis.annotate(
                    f"{v:+.3f}",
                    (x[k] + 0.31, starts[k] + v / 2),
                    xytext=(2, 0),
                    textcoords="offset points",
                    ha="left",
                    va="center",
                    fontsize=7,
                )
        # Headroom so the labels above the tallest bar stay clear of the panel title.
        low, high = axis.get_ylim()
        axis.set_ylim(low, high + 0.1 * (high - low))
        axis.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        axis.set_ylabel("probability")
        axis.set_title(_label(output, labels), fontsize=10)
        _style(axis)
    for index in range(len(outputs), rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    return figure


# --------------------------------------------------------------------------------------------------
# Persona model (plain data: the JSON of ``asara persona run --json``)


def persona_curve(record: Mapping[str, Any], title: str | None = None) -> Figure:
    """Posterior misaligned share (and each family's share) against the number of documents, log axis,
    with the corpus and the point where its misaligned odds would have halved again marked."""
    curve = _check_list(record.get("curve"), "curve")
    if not curve:
        raise InputError("the run has no decay curve (no documents)", field="curve")
    documents = np.array([_number(p, "documents", f"curve.{i}") for i, p in enumerate(curve)])
    misaligned = np.array([_number(p, "misaligned_share", f"curve.{i}") for i, p in enumerate(curve)])
    families = list(curve[0].get("shares", {}))
    figure, (axis,) = _new_figure(7.0, 4.2)
    prior = record.get("misaligned_share", {}).get("prior")
    if isinstance(prior, int | float):
        documents = np.concatenate(([0.5], documents))
        misaligned = np.concatenate(([float(prior)], misaligned))
    for i, family in enumerate(families):
        shares = [float(p["shares"].get(family, math.nan)) for p in curve]
        if isinstance(prior, int | float):
            shares = [float(record["shares"]["prior"].get(family, math.nan)), *shares]
        axis.plot(
            documents,
            shares,
            color=COLOURS[(i + 2) % len(COLOURS)],
            linewidth=1.0,
            alpha=0.7,
            linestyle="--",
            marker=".",
            label=family,
            zorder=3,
        )
    axis.plot(
        documents,
        misaligned,
        color="#111111",
        linewidth=3.0,
        alpha=0.35,
        marker="o",
        markersize=3,
        label="misaligned (total)",
        zorder=1,  # under the families, which it often equals
    )
    at = record.get("documents")
    corpus = float(at) if isinstance(at, int | float) and at > 0 else None
    if corpus is not None:
        text = (
            f"this corpus\n{corpus:,.0f} documents"
            if corpus < 1e9
            else f"this corpus\n{corpus:.4g} documents"
        )
        _mark(axis, corpus, text, "#444444", linestyle=":", linewidth=1.2, height=0.60, right=True)
    half_life = record.get("half_life")
    if isinstance(half_life, int | float) and math.isfinite(half_life) and half_life > 0:
        # The half-life counts further documents after the corpus: the odds halve again at corpus + it.
        where = (corpus or 0.0) + float(half_life)
        label = f"odds halve again: {half_life:.3g}\nfurther documents"
        _mark(axis, where, label, COLOURS[4], linestyle=":", linewidth=1.2, height=0.98, right=True)
    residual = record.get("residual")
    floor = residual.get("limit_share") if isinstance(residual, Mapping) else None
    if isinstance(floor, int | float) and 0 < floor <= 1:
        # Where the share ends as the corpus repeats: a floor when it falls towards it (personas the
        # documents cannot tell from aligned ones), else the limit a rising share is headed for.
        shares = record.get("misaligned_share", {})
        falling = shares.get("posterior", 0.0) <= shares.get("prior", 0.0)
        axis.axhline(floor, color=COLOURS[4], linestyle="--", linewidth=0.9)
        axis.annotate(
            f"{'floor' if falling else 'limit'}: share {floor:.3g} as the corpus repeats",
            xy=(1.0, floor),
            xycoords=("axes fraction", "data"),
            xytext=(-4, -10 if floor > 0.95 else 3),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color=COLOURS[4],
        )
    axis.set_xscale("log")
    axis.set_ylim(-0.02, 1.02)
    axis.set_xlabel("documents in the corpus (log scale; leftmost point: prior)")
    axis.set_ylabel("posterior share")
    axis.set_title(title or str(record.get("scenario", "persona")), fontsize=11)
    figure.legend(
        *axis.get_legend_handles_labels(), loc="outside lower center", ncols=4, frameon=False, fontsize=8
    )
    _style(axis)
    return figure


def convergence_curves(record: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> Figure:
    """Each output's running estimate against samples (log axis) with a ±1.96 SE band: the JSON of
    ``asara sie convergence --json`` (``{"outputs": {name: [{samples, probability, standard_error}]}}``)."""
    outputs = record.get("outputs")
    if not isinstance(outputs, Mapping) or not outputs:
        raise InputError("expected an 'outputs' object with one list of points per output", field="outputs")
    figure, (axis,) = _new_figure(7.0, 4.2)
    for i, (name, points) in enumerate(outputs.items()):
        points = _check_list(points, f"outputs.{name}")
        n = np.array([_number(p, "samples", f"outputs.{name}.{j}") for j, p in enumerate(points)])
        p = np.array([_number(q, "probability", f"outputs.{name}.{j}") for j, q in enumerate(points)])
        se = np.array([_number(q, "standard_error", f"outputs.{name}.{j}") for j, q in enumerate(points)])
        colour = COLOURS[i % len(COLOURS)]
        axis.fill_between(n, p - 1.96 * se, p + 1.96 * se, color=colour, alpha=0.18, linewidth=0)
        axis.plot(n, p, color=colour, marker="o", markersize=3, linewidth=1.4, label=_label(name, labels))
    axis.set_xscale("log")
    axis.set_xlabel("samples (log scale)")
    axis.set_ylabel("estimated probability")
    axis.set_title(
        f"{record.get('scenario', '')}: estimates as samples accumulate (band: ±1.96 SE)", fontsize=10
    )
    # Below the axes: inside, it sits on the bands and the first points.
    figure.legend(
        *axis.get_legend_handles_labels(), loc="outside lower center", ncols=2, frameon=False, fontsize=8
    )
    _style(axis)
    return figure


# --------------------------------------------------------------------------------------------------
# Output


def png_bytes(figure: Figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def save(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as PNG or SVG, chosen by the file's suffix."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InputError(f"the file name must end in .png or .svg (got {path.name!r})", field="out")
    if path.parent and not path.parent.exists():
        raise InputError(f"no such directory: {path.parent}", field="out")
    metadata: dict[str, Any] = {"Software": None} if suffix == "png" else {"Creator": None}
    figure.savefig(path, format=suffix, dpi=130, metadata=metadata)
    return path
