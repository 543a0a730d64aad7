"""``asara report SCENARIO [SCENARIO ...] --out FILE.html``: one self-contained HTML report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from asara.cli.common import SeedOption, WorkersOption, out_option, samples_option


def report_command(
    scenarios: Annotated[
        list[str],
        typer.Argument(help="Preset names or TOML paths; the first is the reference for comparisons."),
    ],
    out: Annotated[Path, out_option("The HTML file to write.", short=True)],
    samples: Annotated[int, samples_option("Monte Carlo samples per scenario.")] = 200_000,
    seed: SeedOption = 0,
    explain_samples: Annotated[
        int,
        typer.Option(
            "--explain-samples", help="Samples per subset for the Shapley attribution (0: skip it)."
        ),
    ] = 20_000,
    workers: WorkersOption = None,
) -> None:
    """Run the scenarios and write a self-contained HTML report (tables, figures, comparison, provenance)."""
    from asara.io.atomic import check_writable_target
    from asara.report import html

    check_writable_target(out)  # before minutes of work, not after
    built = html.build(
        scenarios,
        samples,
        seed,
        explain_samples=explain_samples,
        workers=workers,
        command=["asara", *sys.argv[1:]],
        on_step=lambda step: typer.echo(f"asara report: {step}", err=True),
    )
    written = html.write(built, out)
    typer.echo(str(written))
