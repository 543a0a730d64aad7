"""The ``asara`` command. Thin: parse arguments, call the library, print.

Bad input or a broken environment is one line on stderr and exit status 2, never a traceback; exit 1
is left for bugs. SIGINT, SIGTERM and SIGHUP stop the command cleanly (partial files removed, worker
processes stopped) with exit status 128 + the signal's number; SIGINT prints "interrupted".
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import os
import signal
import sys
import unicodedata
from types import FrameType
from typing import Any

try:
    # Before anything imports numba: a read-only install without a writable home still runs.
    from asara.io.numba_cache import prepare_numba_cache

    prepare_numba_cache()

    import importlib

    import typer
    import typer.main
    from typer.core import TyperGroup

    from asara import __version__
    from asara.cli.report import report_command
    from asara.cli.web import web_command
    from asara.errors import InputError, Interrupted
    from asara.extras import extra_for
except KeyboardInterrupt:  # Ctrl-C while the libraries load (about a second): no traceback either
    if __name__ != "__mp_main__":  # not in a worker's server process: the command itself says it
        sys.stderr.write("asara: interrupted\n")
        sys.stderr.flush()
    os._exit(130)  # nothing to clean up yet; a plain exit can still die of the pending signal

SUBCOMMAND_GROUPS: dict[str, tuple[str, str]] = {
    "sie": ("asara.cli.sie:sie_app", "The software-intelligence-explosion model (Davidson & Houlden 2025)."),
    "persona": (
        "asara.cli.persona:persona_app",
        "Persona priors under alignment pretraining: Luigi, Waluigis, and the documents that move them.",
    ),
    "plot": ("asara.cli.plot:plot_app", "Figures as PNG or SVG (the --out suffix picks the format)."),
    "corpus": (
        "asara.cli.corpus:corpus_app",
        "Training material: spec -> prompts -> model -> checks -> dedup -> manifest -> evidence.",
    ),
}
"""The command groups, each loaded only when a command of it runs (``asara --help`` and ``asara
version`` import none of them: start-up stays a fraction of a second). The help text is the group's
own (``typer.Typer(help=...)`` in its module; tests/cli/test_startup.py checks they agree)."""


class LazyGroups(TyperGroup):
    """The top-level command: listed groups are placeholders with their help text until one is run."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        placeholders: dict[str, Any] = {
            name: TyperGroup(name=name, help=text, no_args_is_help=True)
            for name, (_, text) in SUBCOMMAND_GROUPS.items()
        }
        self.commands = {**self.commands, **placeholders}  # the order typer lists them in
        self._loaded: set[str] = set()

    def load(self, name: str) -> None:
        if name in SUBCOMMAND_GROUPS and name not in self._loaded:
            module_name, attribute = SUBCOMMAND_GROUPS[name][0].split(":")
            group = typer.main.get_group(getattr(importlib.import_module(module_name), attribute))
            group.name = name
            self.commands[name] = group
            self._loaded.add(name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args:
            self.load(args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="asara",
    help="Quantitative models of AI progress and AI safety, with honest Monte Carlo error bars.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=LazyGroups,
)
app.command("report")(report_command)
app.command("web")(web_command)


@app.command("version")
def version_command() -> None:
    """Print the package version."""
    typer.echo(__version__)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))
_SIGNAL_WORDS: dict[int, str] = {int(signal.SIGINT): "interrupted"}


def _stop(signum: int, frame: FrameType | None) -> None:
    """First signal: unwind (every ``finally`` cleans up). A second one while cleaning up: leave now."""
    for number in STOP_SIGNALS:
        signal.signal(number, _leave_now)
    raise Interrupted(signum)


def _leave_now(signum: int, frame: FrameType | None) -> None:
    os._exit(128 + signum)


def install_signal_handlers() -> dict[int, object]:
    """Install the stop handlers; returns the previous ones (main() restores them when it returns, so
    that calling it in a test leaves the test process as it was)."""
    previous: dict[int, object] = {}
    for number in STOP_SIGNALS:
        previous[number] = signal.getsignal(number)
        if previous[number] is not signal.SIG_IGN:  # e.g. nohup: keep ignoring SIGHUP
            signal.signal(number, _stop)
    return previous


def restore_signal_handlers(previous: dict[int, object]) -> None:
    for number, handler in previous.items():
        if callable(handler) or handler in (signal.SIG_DFL, signal.SIG_IGN):
            signal.signal(number, handler)  # type: ignore[arg-type]


# Plain-ASCII stand-ins for the few non-ASCII characters asara prints, for terminals and pipes whose
# encoding is ASCII (PYTHONIOENCODING=ascii, LANG=C on old systems).
_ASCII = {"±": "+/-", "×": "x", "≥": ">=", "≤": "<=", "→": "->", "–": "-", "—": "-", "…": "...", "·": "."}


def _plain(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    out = []
    for char in text:
        folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
        out.append(_ASCII.get(char) or folded or "?")
    return "".join(out), error.end


codecs.register_error("asara-plain", _plain)


def _prepare_streams() -> None:
    """Streams whose encoding cannot show asara's characters print plain ASCII stand-ins instead."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "±×≥".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="asara-plain")


def _stdout_problem() -> str | None:
    if sys.stdout is None:  # Python found file descriptor 1 closed at start
        return "standard output is closed"
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to check
        return None
    try:
        os.fstat(descriptor)
    except OSError:
        return "standard output is closed"
    return None


def _fail(message: str, status: int, stdout_broken: bool = False) -> None:
    with contextlib.suppress(OSError, ValueError):  # stderr closed too: only the exit status is left
        typer.echo(f"asara: {message}", err=True)
    if stdout_broken:
        _silence_stdout()
    sys.exit(status)


def _silence_stdout() -> None:
    """After stdout failed, point it at /dev/null: Python's own flush at exit would print a traceback."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        pass


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def main() -> None:
    """Entry point: run the app, turning input and environment errors into one line and exit status 2."""
    problem = _stdout_problem()
    if problem is not None:
        _fail(f"error: {problem}", 2, stdout_broken=True)
    _prepare_streams()
    previous = install_signal_handlers()
    try:
        _run()
    finally:
        restore_signal_handlers(previous)


def _run() -> None:
    try:
        status = app(standalone_mode=False)
        sys.stdout.flush()  # a full disk or closed pipe shows here, not in Python's exit handler
    except Interrupted as stop:
        word = _SIGNAL_WORDS.get(stop.signum) or f"stopped by {signal.Signals(stop.signum).name}"
        _fail(word, 128 + stop.signum)
    except InputError as error:
        _fail(f"error: {_one_line(error)}", 2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        _fail("aborted", 130)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except typer.TyperException as error:  # usage errors: unknown option, value of the wrong type, ...
        _fail(f"error: {_one_line(error.format_message())}", error.exit_code)
    except RecursionError:
        _fail("error: the input is nested too deeply", 2)
    except MemoryError:
        _fail("error: not enough memory for this run (ask for fewer samples or a smaller grid)", 2)
    except OSError as error:  # the environment: a full disk, a closed pipe, a file that vanished, ...
        where = f": {error.filename}" if error.filename else ""
        stdout_broken = (
            error.errno in (errno.EPIPE, errno.ENOSPC, errno.EBADF, errno.EIO) and not error.filename
        )
        if stdout_broken:
            where = " (standard output)"
        _fail(f"error: {error.strerror or _one_line(error)}{where}", 2, stdout_broken)
    except ModuleNotFoundError as error:  # an optional package this command needs (an extra)
        missing = extra_for(error)
        if missing is None:
            _internal_error(error)
        _fail(f"error: {_one_line(missing)}", 2)
    except Exception as error:  # a bug: still one line for the user, the traceback on request
        _internal_error(error)
    if isinstance(status, int) and status:
        # typer turns KeyboardInterrupt into exit status 130 and returns it in non-standalone mode.
        if status == 130:
            _fail("interrupted", 130)
        sys.exit(status)


def _internal_error(error: Exception) -> None:
    if os.environ.get("ASARA_DEBUG"):
        raise error
    _fail(f"internal error: {type(error).__name__}: {_one_line(error)} (ASARA_DEBUG=1 shows more)", 1)


if __name__ == "__main__":
    main()
