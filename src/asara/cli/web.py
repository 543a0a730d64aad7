"""``asara web``: serve the playground (FastAPI + uvicorn), on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

from typing import Annotated

import typer

from asara.cli.common import workers_option
from asara.errors import InputError


def web_command(
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind (0.0.0.0 exposes it to the network).")
    ] = ("127.0.0.1"),
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    max_samples: Annotated[
        int, typer.Option("--max-samples", help="Largest number of samples a request may ask for.")
    ] = 1_000_000,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds of computing allowed per request.")
    ] = 30.0,
    workers: Annotated[
        int | None, workers_option("Threads per Monte Carlo run (default: one per core).")
    ] = None,
) -> None:
    """Start the web playground: sliders, live results with error bars, shareable links, downloads."""
    if not 0 < port < 65536:
        raise InputError(f"must be between 1 and 65535 (got {port})", field="port")
    if max_samples < 1:
        raise InputError(f"must be at least 1 (got {max_samples})", field="max-samples")
    if not timeout > 0:
        raise InputError(f"must be positive (got {timeout})", field="timeout")
    if workers is not None and workers < 1:
        raise InputError(f"must be at least 1 (got {workers})", field="workers")
    import uvicorn

    from asara.web.app import WebSettings, create_app
    from asara.web.security import WILDCARD_ADDRESSES, allowed_hosts_for

    settings = WebSettings(
        max_samples=max_samples,
        max_download_samples=min(max_samples, WebSettings.max_download_samples),
        timeout_seconds=timeout,
        workers=workers,
        # Only the names this server was started for (DNS rebinding: see asara.web.security).
        allowed_hosts=tuple(sorted(allowed_hosts_for(host) or ())),
        any_ip_host=host in WILDCARD_ADDRESSES,
    )
    typer.echo(f"asara web: serving on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
