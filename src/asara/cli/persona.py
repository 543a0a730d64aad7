"""``asara persona ...``: Bayesian persona priors under alignment pretraining."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from asara.errors import InputError
from asara.io.atomic import write_json
from asara.models.persona import engine
from asara.models.persona.analysis import RunResult, analyze, curve_point_dict, finite_or_none
from asara.models.persona.documents import Context, Document, tabulate
from asara.models.persona.population import FamilySpec, Nodes, build_population
from asara.scenarios import persona as scenarios
from asara.scenarios.loader import list_presets

persona_app = typer.Typer(
    help="Persona priors under alignment pretraining: Luigi, Waluigis, and the documents that move them.",
    no_args_is_help=True,
)

ScenarioArgument = Annotated[
    str, typer.Argument(help="Preset name (see `asara persona presets`) or TOML path.")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override one scenario value by dotted key, e.g. noise=0.01."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object (or array) on stdout.")]


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
    presets = list_presets("persona")
    if json_output:
        typer.echo(json.dumps([{"name": p.name, "description": p.description} for p in presets], indent=2))
        return
    width = max(len(p.name) for p in presets)
    for preset in presets:
        typer.echo(f"{preset.name:<{width}}  {preset.description}")


def run_scenario(scenario: scenarios.PersonaScenario) -> RunResult:
    return analyze(
        scenario.population(),
        scenario.document_list(),
        scenario.stage_weights.as_dict(),
        scenario.evaluation_contexts(),
        scenario.evaluation_weights(),
        scenario.noise,
        scenario.curve_max_documents,
    )


@persona_app.command("run")
def run_command(
    scenario: ScenarioArgument,
    overrides: SetOption = None,
    json_output: JsonOption = False,
    out: Annotated[Path | None, typer.Option("--out", help="Also write DIR/run.json.")] = None,
) -> None:
    """Posterior family shares, decay curve, half-life, residual mass and predicted misbehaviour."""
    loaded = scenarios.load(scenario, overrides or [])
    result = run_scenario(loaded)
    record = {"scenario": loaded.name, "description": loaded.description, **result.to_dict()}
    if out is not None:
        write_json(out / "run.json", record)
    if json_output:
        typer.echo(json.dumps(record, indent=2, allow_nan=False))
        return
    print_run(loaded.name, result)
    if out is not None:
        console().print(f"Wrote {out / 'run.json'}")


def print_run(name: str, result: RunResult) -> None:
    out = console()
    shares = Table(
        title=f"{name}: family shares ({result.personas:,} personas, {result.context_types} context types)"
    )
    shares.add_column("family")
    shares.add_column("prior", justify="right")
    shares.add_column(f"after {result.documents:,.0f} documents", justify="right")
    for family, prior in result.prior_shares.items():
        shares.add_row(family, f"{prior:.4g}", f"{result.posterior_shares[family]:.4g}")
    out.print(shares)
    if result.curve:
        families = list(result.prior_shares)
        table = Table(title="as documents of this mix accumulate")
        for column in ("documents", "odds ratio", "half-life (docs)", "misaligned share", *families):
            table.add_column(column, justify="right")
        for point in result.curve:
            table.add_row(
                f"{point.documents:.3g}",
                f"{point.odds_ratio:.4g}",
                _fmt(point.half_life),
                f"{point.misaligned_share:.4g}",
                *(f"{point.shares[f]:.3g}" for f in families),
            )
        out.print(table)
    out.print(
        f"misaligned share {result.prior_misaligned:.4g} -> {result.posterior_misaligned:.4g}; "
        f"predicted misbehaviour rate {result.prior_misbehaviour:.4g} -> "
        f"{result.posterior_misbehaviour:.4g}\n"
        f"half-life at the corpus size: {_fmt(result.half_life)} documents\n"
        f"residual (never removed by this kind of corpus): prior mass {result.residual.prior_mass:.4g}, "
        f"limit share {result.residual.limit_share:.4g}"
    )


def _positive_count(value: float, field: str) -> float:
    if not (math.isfinite(value) and value >= 1):
        raise InputError(f"must be at least 1 (got {value})", field=field)
    return value


@persona_app.command("decay")
def decay_command(
    q_prior: Annotated[
        str, typer.Option("--q-prior", help="Prior over q: beta:A,B, log-uniform:LOW,HIGH, grid:..., or q.")
    ] = "beta:1,1",
    opportunities: Annotated[
        float, typer.Option("--opportunities", help="Opportunities k per clean deployment document.")
    ] = 1.0,
    documents: Annotated[float, typer.Option("--documents", help="Largest document count N.")] = 1e9,
    json_output: JsonOption = False,
) -> None:
    """Naive-Waluigi odds ratio (posterior odds / prior odds) and half-life at N = 1, 10, ..., N."""
    if not (math.isfinite(opportunities) and opportunities >= 0):
        raise InputError(f"must be a non-negative count (got {opportunities})", field="opportunities")
    _positive_count(documents, "documents")
    nodes: Nodes = scenarios.parse_prior(q_prior, "q-prior")
    population = build_population([FamilySpec("luigi", 1.0), FamilySpec("naive", 1.0, q=nodes)])
    table = tabulate([Document(Context(opportunities=opportunities))])
    s = engine.evidence(population, table)[:, 0]
    points = engine.curve(population, s, engine.decade_counts(documents))
    if json_output:
        rows: list[dict[str, Any]] = [
            {
                "documents": p.documents,
                "odds_ratio": p.odds_ratio,
                "half_life": finite_or_none(p.half_life),
            }
            for p in points
        ]
        typer.echo(json.dumps(rows, indent=2, allow_nan=False))
        return
    out = console()
    result = Table(title=f"naive Waluigi, q ~ {q_prior}, k = {opportunities:g}: clean deployment documents")
    for column in ("documents", "odds ratio", "half-life (documents)", "Waluigi share (prior 0.5)"):
        result.add_column(column, justify="right")
    for p in points:
        result.add_row(
            f"{p.documents:.3g}", f"{p.odds_ratio:.6g}", _fmt(p.half_life, 6), f"{p.misaligned_share:.4g}"
        )
    out.print(result)


__all__ = ["curve_point_dict", "persona_app"]
