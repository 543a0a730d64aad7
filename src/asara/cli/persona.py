"""``asara persona ...``: Bayesian persona priors under alignment pretraining."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from asara.cli.common import (
    PlainSeedOption,
    json_option,
    out_option,
    print_explanations,
    print_parameters,
    print_presets,
    samples_option,
    scenario_argument,
    set_option,
)
from asara.cli.progress import LazyProgress
from asara.cli.sensitivity import (
    MethodOption,
    OthersOption,
    SensitivitySamplesOption,
    TornadoSamplesOption,
    TornadoSeedOption,
    echo_json,
    print_sensitivity,
    print_tornado,
)
from asara.persona import OUTPUT_LABELS, variant_summary

if TYPE_CHECKING:  # the engine compiles with numba (about a second): each command imports what it runs
    from asara.models.persona import calibration
    from asara.models.persona.analysis import RunResult
    from asara.models.persona.plan import PlanResult
    from asara.scenarios.persona import PersonaScenario

persona_app = typer.Typer(
    help="Persona priors under alignment pretraining: Luigi, Waluigis, and the documents that move them.",
    no_args_is_help=True,
)

ScenarioArgument = Annotated[str, scenario_argument("persona")]
UncertainScenarioArgument = Annotated[
    str, scenario_argument("persona", "Preset name or TOML path with an \\[uncertainty] section.")
]
SetOption = Annotated[
    list[str] | None, set_option("Override one scenario value by dotted key, e.g. noise=0.01.")
]
ChangedSetOption = Annotated[
    list[str] | None,
    set_option(
        "Override one value of scenario B (only B; A is used as given) by dotted key, e.g. noise=0.01."
    ),
]
JsonOption = Annotated[bool, json_option("Print one JSON object (or array) on stdout.")]


def print_table(out: Console, table: Table) -> None:
    """Numbers wrap onto a second line in a narrow terminal instead of losing digits to an ellipsis."""
    for column in table.columns:
        column.overflow = "fold"
    out.print(table)


def console() -> Console:
    out = Console(highlight=False)
    if not out.is_terminal:  # piped output: do not squeeze the tables into 80 columns
        out = Console(highlight=False, width=160)
    return out


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isinf(value)):
        return "never"
    return f"{value:.{digits}g}"


@persona_app.command("presets")
def presets_command(json_output: JsonOption = False) -> None:
    """List the shipped scenarios, one line each."""
    print_presets("persona", json_output)


def run_scenario(scenario: PersonaScenario) -> RunResult:
    from asara.persona import run_result

    return run_result(scenario)


def _warn(line: str) -> None:
    typer.echo(line, err=True)


def load_warned(source: str, overrides: list[str] | None) -> PersonaScenario:
    """Load a scenario and say on stderr where its weights leave the calibrated intervals (once its
    persona set is known to build, so that a bad file gets its one error line only)."""
    from asara import persona

    return persona.load(source, overrides or [], warn=_warn)


@persona_app.command("parameters")
def parameters_command(
    json_output: JsonOption = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the Markdown table of the docs (docs/persona.md).")
    ] = False,
) -> None:
    """List every setting of the persona model: scenario key, type, neutral value, range, unit, whether it
    is an uncertain input, and what it means. Each can be changed in a scenario file, and with --set
    key=value except the families.* keys: those are set per family, in each [\\[families]] entry of the
    file."""
    from asara.models.persona.parameters import PARAMETERS

    print_parameters(PARAMETERS, "Persona settings (neutral: the default)", json_output, markdown)


@persona_app.command("run")
def run_command(
    scenario: ScenarioArgument,
    overrides: SetOption = None,
    json_output: JsonOption = False,
    out: Annotated[Path | None, out_option("Also write DIR/run.json.")] = None,
) -> None:
    """Posterior family shares, decay curve, half-life, residual mass and predicted misbehaviour."""
    from asara import persona

    loaded = load_warned(scenario, overrides)
    run = persona.run(loaded, out_dir=out)
    if json_output:
        typer.echo(json.dumps(run.to_dict(), indent=2, allow_nan=False))
        return
    print_run(loaded.name, run.result)
    console().print(
        "evidence weights per document: "
        + "; ".join(
            f"{stage} {w.value:.3g} ({w.source}"
            + (f", 95% [{w.low:.3g}, {w.high:.3g}])" if w.source == "calibrated" else ")")
            for stage, w in loaded.evidence_weights().items()
        )
    )
    if out is not None:
        console().print(f"Wrote {out / 'run.json'}")


def _half_life_text(half_life: float) -> str:
    if math.isinf(half_life):
        return "never (the misaligned odds do not halve again)"
    return f"{half_life:.4g} further documents halve the misaligned odds again"


def print_run(name: str, result: RunResult) -> None:
    out = console()
    shares = Table(
        title=f"{name}: family shares ({result.personas:,} personas, {result.context_types} context types)"
    )
    shares.add_column("family")
    shares.add_column("prior", justify="right")
    shares.add_column(f"after {_count(result.documents)} documents", justify="right")
    for family, prior in result.prior_shares.items():
        shares.add_row(family, f"{prior:.4g}", f"{result.posterior_shares[family]:.4g}")
    print_table(out, shares)
    if result.curve:
        families = list(result.prior_shares)
        table = Table(title="as documents of this mix accumulate")
        for column in ("documents", "odds ratio", "half-life (documents)", "misaligned share", *families):
            table.add_column(column, justify="right")
        for point in result.curve:
            table.add_row(
                f"{point.documents:.3g}",
                f"{point.odds_ratio:.4g}",
                _fmt(point.half_life),
                f"{point.misaligned_share:.4g}",
                *(f"{point.shares[f]:.3g}" for f in families),
            )
        print_table(out, table)
    out.print(
        f"misaligned share {result.prior_misaligned:.4g} -> {result.posterior_misaligned:.4g}; "
        f"predicted misbehaviour rate {result.prior_misbehaviour:.4g} -> "
        f"{result.posterior_misbehaviour:.4g}\n"
        f"half-life at the corpus size: {_half_life_text(result.half_life)}\n"
        f"residual (never removed by this kind of corpus): prior mass {result.residual.prior_mass:.4g}; "
        f"misaligned share as the corpus repeats without end: {result.residual.limit_share:.4g}"
    )


def _count(copies: float) -> str:
    """Copies as a reader wants them: 1,234,567 up to a billion, 3.4e+12 beyond (no float noise digits)."""
    if copies >= 1e9:
        return f"{copies:.4g}"
    return f"{copies:,.0f}" if copies >= 10 else f"{copies:.3g}"


@persona_app.command("decay")
def decay_command(
    q_prior: Annotated[
        str,
        typer.Option(
            "--q-prior",
            help="Prior over q: beta:A,B; log-uniform:LOW,HIGH,POINTS or uniform:LOW,HIGH,POINTS (midpoint "
            "rule, POINTS optional, 200 by default: the smallest q, which sets the long-run half-life, sits "
            "half a cell above LOW); grid:Q1,Q2,...; or one q.",
        ),
    ] = "beta:1,1",
    opportunities: Annotated[
        float, typer.Option("--opportunities", help="Opportunities k per clean deployment document.")
    ] = 1.0,
    documents: Annotated[float, typer.Option("--documents", help="Largest document count N.")] = 1e9,
    json_output: JsonOption = False,
) -> None:
    """Naive-Waluigi odds ratio (posterior odds / prior odds) and half-life at N = 1, 10, ..., N."""
    from asara import persona

    points = persona.decay(q_prior, opportunities, documents)
    if json_output:
        typer.echo(json.dumps(points.to_list(), indent=2, allow_nan=False))
        return
    out = console()
    result = Table(title=f"naive Waluigi, q ~ {q_prior}, k = {opportunities:g}: clean deployment documents")
    for column in ("documents", "odds ratio", "half-life (documents)", "Waluigi share (prior 0.5)"):
        result.add_column(column, justify="right")
    for p in points.points:
        result.add_row(
            f"{p.documents:.3g}", f"{p.odds_ratio:.6g}", _fmt(p.half_life, 6), f"{p.misaligned_share:.4g}"
        )
    print_table(out, result)


@persona_app.command("calibrate")
def calibrate_command(
    scenario: Annotated[
        str, typer.Argument(help="Scenario with a \\[calibration] section (default: tice-calibration).")
    ] = "tice-calibration",
    pairing: Annotated[
        str | None,
        typer.Option(
            "--pairing", help="draft (aligned on filtered corpus) or unfiltered (both on unfiltered)."
        ),
    ] = None,
    salience: Annotated[
        bool | None, typer.Option("--salience/--no-salience", help="With or without the salience channel.")
    ] = None,
    compare_all: Annotated[
        bool, typer.Option("--compare/--no-compare", help="Also fit both pairings with and without salience.")
    ] = True,
    overrides: SetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Fit five numbers (prior, pre/midtraining and fine-tuning weights per document, noise, salience) on
    Tice et al.'s six scores; profile intervals; predict the held-out filtered model with its interval."""
    from asara import persona

    fitted = persona.calibrate(scenario, pairing, salience, compare_all, overrides=overrides or [])
    if json_output:
        typer.echo(json.dumps(fitted.to_dict(), indent=2, allow_nan=False))
        return
    setup, result, variants = fitted.setup, fitted.result, fitted.variants
    out = console()
    with_salience = "with" if setup.salience else "without"
    params = Table(
        title=f"fitted parameters (pairing: {setup.pairing}, {with_salience} salience): "
        f"{len(result.free_parameters)} free on 6 numbers, profile-likelihood 95% intervals"
    )
    for column in ("parameter", "value", "95% interval", "status"):
        params.add_column(column, justify="right")
    intervals = result.intervals or {}
    for name, value in result.parameters.items():
        if name in result.free_parameters:
            low, high = intervals.get(name, (math.nan, math.nan))
            note = "at its bound" if name in result.at_bounds else ""
            if name in result.not_identified:
                note = (note + "; " if note else "") + "not identified (profile reaches the search bound)"
            params.add_row(name, f"{value:.4g}", escape(f"[{low:.3g}, {high:.3g}]"), note or "fitted")
        elif name == "w_midtraining":
            params.add_row(name, f"{value:.4g}", "", "tied to w_pretraining per document")
        elif name == "salience" and not setup.salience:
            continue
        else:
            params.add_row(name, f"{value:.4g}", "", "fixed")
    print_table(out, params)
    table = Table(title="misalignment score: published vs model")
    for column in ("condition", "stage", "observed", "predicted", "error (points)", "95% interval", "role"):
        table.add_column(column, justify="right")
    for fit in result.conditions:
        table.add_row(*_condition_row(fit), "", "fit")
    for fit in result.held_out:
        interval = "" if fit.interval is None else escape(f"[{fit.interval[0]:.3f}, {fit.interval[1]:.3f}]")
        table.add_row(*_condition_row(fit), interval, "held out")
    print_table(out, table)
    out.print(
        f"rms error {result.rms_points:.2f} points ({result.rms_logit:.3f} in logit), chi-square "
        f"{result.chi2:.2f} with a {setup.score_sd_points:g}-point measurement error, over the six fit "
        "numbers; "
        "post-training ordering (misalignment-upsampled below unfiltered) "
        + ("reproduced" if result.ordering_reproduced else "NOT reproduced: the known misfit")
    )
    if result.assumption_profile:
        profile = Table(
            title="held-out filtered, post-trained (published 28%), refitted with one fixed assumption moved"
        )
        for column in (
            "assumption",
            "value",
            "held-out prediction",
            "error (points)",
            "in-sample rms (points)",
        ):
            profile.add_column(column, justify="right")
        for row in result.assumption_profile:
            profile.add_row(
                row.assumption,
                f"{row.value:g}",
                f"{row.held_out_post:.3f}",
                f"{100 * (row.held_out_post - 0.28):+.1f}",
                f"{row.rms_points:.2f}",
            )
        print_table(out, profile)
    if variants:
        comparison = Table(title="both pairings, with and without salience")
        for column in ("pairing", "salience", "rms (points)", "misaligned-up post", "unfiltered post",
                       "ordering", "filtered post (pub. 28%)"):  # fmt: skip
            comparison.add_column(column, justify="right")
        for variant in variants:
            v = variant_summary(variant)
            comparison.add_row(
                v["pairing"],
                "yes" if v["salience"] else "no",
                f"{v['rms_error_points']:.2f}",
                f"{v['misalignment_upsampled_post']:.3f}",
                f"{v['unfiltered_post']:.3f}",
                "ok" if v["post_training_ordering_reproduced"] else "misfit",
                f"{v['filtered_post_predicted']:.3f}",
            )
        print_table(out, comparison)


def _condition_row(fit: calibration.ConditionFit) -> tuple[str, ...]:
    observed = "n/a" if fit.observed is None else f"{fit.observed:.3f}"
    error = "" if fit.observed is None else f"{100 * (fit.predicted - fit.observed):+.1f}"
    return (fit.name, fit.stage, observed, f"{fit.predicted:.3f}", error)


@persona_app.command("optimize")
def optimize_command(
    scenario: ScenarioArgument,
    budget: Annotated[
        float | None, typer.Option("--budget", help="Budget in the menu's cost units (documents or tokens).")
    ] = None,
    overrides: SetOption = None,
    json_output: JsonOption = False,
) -> None:
    """The mix of menu documents that most lowers predicted misbehaviour for a fixed budget."""
    from asara import persona

    loaded = load_warned(scenario, overrides)
    optimum = persona.optimize(loaded, budget)
    if json_output:
        typer.echo(json.dumps(optimum.to_dict(), indent=2, allow_nan=False))
        return
    result, spend = optimum.result, optimum.budget
    out = console()
    unit = cost_unit()
    table = Table(title=escape(f"{loaded.name}: best mix for a budget of {spend:,.4g} {unit}"))
    for column in (
        "document type",
        f"cost each ({unit})",
        "copies",
        "budget share",
        "all budget on it alone",
    ):
        table.add_column(column, justify="right")
    for allocation in result.allocations:
        table.add_row(
            escape(allocation.name),
            f"{allocation.cost:g}",
            _count(allocation.copies),
            f"{allocation.budget_share:.3f}",
            f"{result.single_item[allocation.name]:.4g}",
        )
    print_table(out, table)
    out.print(
        f"predicted misbehaviour rate {result.before:.4g} -> {result.after:.4g}; "
        f"misaligned share {result.misaligned_before:.4g} -> {result.misaligned_after:.4g}"
    )
    if result.misaligned_after > 100 * result.after:
        out.print(
            "note: the mix minimizes misbehaviour on the evaluation set only; misaligned personas that "
            "barely act there (e.g. patient ones beyond its horizon) keep a share of "
            f"{result.misaligned_after:.4g}"
        )


@persona_app.command("plan")
def plan_command(
    scenario: ScenarioArgument,
    target: Annotated[
        float, typer.Option("--target", help="Bring the objective to at most this value.")
    ] = 0.05,
    objective: Annotated[
        str,
        typer.Option(
            "--objective",
            help="share (misaligned persona share), residual (the share no number of these documents can "
            "remove) or misbehaviour (predicted on the evaluation set).",
        ),
    ] = "share",
    overrides: SetOption = None,
    json_output: JsonOption = False,
) -> None:
    """How many documents of each \\[optimize] menu kind bring the objective below the target at least
    cost, with an interval from the evidence weights' uncertainty."""
    from asara import persona

    persona.check_target(target)
    loaded = load_warned(scenario, overrides)
    planned = persona.plan(loaded, target, objective)
    if json_output:
        typer.echo(json.dumps(planned.to_dict(), indent=2, allow_nan=False))
        return
    print_plan(loaded.name, objective, target, planned.result)


def cost_unit() -> str:
    """The unit of the menu's costs and the budget, as the settings declare it: a scenario's costs are in
    whatever unit it chose (the shipped menus' are tokens), the same for the budget."""
    from asara.models.persona.parameters import PARAMETERS_BY_KEY

    return PARAMETERS_BY_KEY["optimize.budget"].unit


def print_plan(name: str, objective: str, target: float, result: PlanResult, unit: str | None = None) -> None:
    """The planner's answer as a table and a line (``persona plan`` and ``corpus plan``); ``unit``: of
    the costs (default: the declared cost units of a scenario's menu)."""
    unit = cost_unit() if unit is None else unit
    out = console()
    residual = objective == "residual"
    table = Table(title=escape(f"{name}: cheapest plan for {objective} <= {target:g}"))
    copies = "used (one copy)" if residual and result.feasible else "copies"
    for column in ("document kind", f"cost each ({unit})", copies, "95% interval (weights)"):
        table.add_column(column, justify="right")
    for kind in result.kinds:
        low, high = kind.interval
        table.add_row(
            escape(kind.name),
            f"{kind.cost:g}",
            _count_or_never(kind.copies),
            escape(f"[{_count_or_never(low)}, {_count_or_never(high)}]"),
        )
    print_table(out, table)
    if result.feasible:
        cost_low, cost_high = result.total_cost_interval
        out.print(
            f"{objective} {result.before:.4g} -> {result.after:.4g} (target {target:g}); total cost "
            f"{_count(result.total_cost)} {unit}, 95% [{_count_or_never(cost_low)}, "
            f"{_count_or_never(cost_high)}] over the weights' intervals",
            markup=False,
        )
        if residual:
            out.print(
                "the residual depends on which kinds are used, not on how many copies: 1 marks a kind the "
                "plan uses (one copy shown), 0 one it leaves out"
            )
        return
    reached = ""
    if residual:
        reached = (
            ", with " + ", ".join(f'"{kind}"' for kind in result.closest)
            if result.closest
            else ": no kind lowers it"
        )
    out.print(
        f"the target is out of reach: the least {objective} these kinds reach is {result.after:.4g} "
        f"(now {result.before:.4g}){reached}",
        markup=False,
    )
    if residual:
        out.print(
            "the residual depends on which kinds are used, not on how many copies: no set of them reaches "
            "the target, so no kind has a count"
        )


def _count_or_never(value: float) -> str:
    return "unreachable" if not math.isfinite(value) else _count(value)


@persona_app.command("explain")
def explain_command(
    baseline: Annotated[str, typer.Argument(help="Scenario A (preset or TOML path).")],
    changed: Annotated[str, typer.Argument(help="Scenario B (preset or TOML path).")],
    samples: Annotated[
        int,
        samples_option("Samples of the \\[uncertainty] inputs per evaluated subset (2 to 1,000,000)."),
    ] = 2_000,
    seed: PlainSeedOption = 0,
    overrides: ChangedSetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Attribute the change from A to B in predicted misbehaviour and misaligned share to each changed
    assumption (exact Shapley values, common random numbers; standard errors are 0 without uncertainty)."""
    from asara import persona

    result = persona.explain(baseline, changed, samples, seed, overrides=overrides or [])
    # The overrides changed B alone: say so wherever B is named.
    changed_label = changed + (f" with --set {', '.join(overrides)}" if overrides else "")
    print_explanations(
        escape(baseline),
        escape(changed_label),
        result.changes,
        result.explanations,
        result.labels,
        samples,
        seed,
        json_output,
    )


@persona_app.command("sensitivity")
def sensitivity_command(
    scenario: UncertainScenarioArgument,
    method: MethodOption = "sobol",
    samples: SensitivitySamplesOption = None,
    seed: PlainSeedOption = 0,
    overrides: SetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Which uncertain input (\\[uncertainty]: stage weights, credibility, prior shift) drives predicted
    misbehaviour: Sobol' indices with bootstrap 95% intervals, or Morris screening."""
    from asara import persona

    loaded = load_warned(scenario, overrides)
    with LazyProgress(f"{loaded.name} {method}", enabled=not json_output) as progress:
        result = persona.sensitivity(loaded, method, samples, seed, on_progress=progress.update)
    if json_output:
        echo_json(result.to_dict())
        return
    print_sensitivity(result.result, loaded.name, OUTPUT_LABELS)


@persona_app.command("tornado")
def tornado_command(
    scenario: UncertainScenarioArgument,
    others: OthersOption = "median",
    samples: TornadoSamplesOption = None,
    seed: TornadoSeedOption = None,
    overrides: SetOption = None,
    json_output: JsonOption = False,
) -> None:
    """Each uncertain input at its 10th and 90th percentile, one at a time, bars sorted by swing."""
    from asara import persona

    loaded = load_warned(scenario, overrides)
    result = persona.tornado(loaded, others, samples, seed)
    if json_output:
        echo_json(result.to_dict())
        return
    from asara.models.persona.parameters import PARAMETERS_BY_INPUT

    units = {name: parameter.unit for name, parameter in PARAMETERS_BY_INPUT.items()}
    print_tornado(result.result, loaded.name, OUTPUT_LABELS, units=units)
