"""The ``asara`` command. Thin: parse arguments, call the library, print.

Bad input is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import os
import sys

import typer

from asara import __version__
from asara.cli.corpus import corpus_app
from asara.cli.persona import persona_app
from asara.cli.plot import plot_app
from asara.cli.report import report_command
from asara.cli.sie import sie_app
from asara.cli.web import web_command
from asara.errors import InputError

app = typer.Typer(
    name="asara",
    help="Quantitative models of AI progress and AI safety, with honest Monte Carlo error bars.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(sie_app, name="sie")
app.add_typer(persona_app, name="persona")
app.add_typer(plot_app, name="plot")
app.add_typer(corpus_app, name="corpus")
app.command("report")(report_command)
app.command("web")(web_command)


@app.command("version")
def version_command() -> None:
    """Print the package version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point: run the app, turning input errors into one line and exit status 2."""
    try:
        app(standalone_mode=False)
    except InputError as error:
        typer.echo(f"asara: error: {error}", err=True)
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        typer.echo("asara: aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("asara: interrupted", err=True)
        sys.exit(130)
    except typer.TyperException as error:  # usage errors: unknown option, value of the wrong type, ...
        message = " ".join(error.format_message().split())
        typer.echo(f"asara: error: {message}", err=True)
        sys.exit(error.exit_code)
    except Exception as error:  # a bug: still one line for the user, the traceback on request
        if os.environ.get("ASARA_DEBUG"):
            raise
        typer.echo(
            f"asara: internal error: {type(error).__name__}: {error} (ASARA_DEBUG=1 shows more)", err=True
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
