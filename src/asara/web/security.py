"""What the playground checks before any route runs, and the shape of every error it answers.

- **Host header** (DNS rebinding): a page on another site can make a browser send requests to
  ``127.0.0.1:8000`` under its own domain name; the server answers only Host names it was started for.
- **Content type**: POST routes take ``application/json`` only. A cross-site "simple" request (a form,
  or ``fetch`` with ``text/plain``) can be sent without the browser asking first; requiring JSON makes
  the browser ask (CORS preflight), which this server never approves.
- **Error shape**: every error, including the framework's own 404/405 and an unexpected exception, is
  ``{"error": message}`` (``"field"`` too where one applies), encoded as ASCII JSON so that no input
  (a lone surrogate) can break the encoding of the answer.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from collections.abc import Iterable
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")

logger = logging.getLogger("asara.web")


def error_response(
    status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """``{"error": message, "field": field}``, as ASCII JSON (any text survives the encoding)."""
    body = json.dumps({"error": message, "field": field}, ensure_ascii=True)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def allowed_hosts_for(bind: str) -> frozenset[str] | None:
    """Host names the server answers when bound to ``bind``.

    A loopback address: the loopback names only. A wildcard (0.0.0.0, ::): IP literals (checked per
    request), localhost and this machine's names. A specific name or address: that, plus the loopback
    names when it is a loopback address. None would mean "any" and is never returned."""
    names = {bind.strip("[]").lower()}
    if bind in WILDCARD_ADDRESSES:
        names = {"localhost", socket.gethostname().lower(), socket.getfqdn().lower()}
    elif _is_loopback(bind.strip("[]")) or bind.lower() == "localhost":
        names |= set(LOOPBACK_NAMES)
    return frozenset(names)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    """The name in a Host header, without its port (``[::1]:8000`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class RequestGuard:
    """ASGI middleware: the Host check and the JSON-only rule for POST, before any route runs."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str] | None, wildcard: bool = False) -> None:
        self.app = app
        self.allowed = None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        self.wildcard = wildcard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        problem = self._problem(scope, headers)
        if problem is not None:
            status, message = problem
            await error_response(status, message)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _problem(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        if self.allowed is not None:
            host = _host_name(headers.get("host", ""))
            if host not in self.allowed and not (self.wildcard and _is_ip_literal(host)):
                return 421, f"this server does not answer for host {host[:100]!r}"
        if scope["method"] == "POST":
            media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if media != "application/json":
                return 415, "POST requests must have Content-Type: application/json"
        return None


def install_error_handlers(app: Any) -> None:
    """Every error answered as ``{"error": ...}``, including the framework's and unexpected ones."""

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        headers = dict(error.headers) if error.headers else None
        return error_response(error.status_code, str(error.detail), headers=headers)

    async def unexpected(request: Request, error: Exception) -> Response:
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error: {type(error).__name__}")

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
