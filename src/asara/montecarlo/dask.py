"""Chunks on a Dask cluster: ``DaskExecutor`` (an executor like the local ones) and ``local_dask_cluster``.

Needs the ``dask`` extra (``pip install 'asara[dask]'``); importing this module without it raises a
one-line ``MissingExtra``. Connecting uses distributed's public API (``Client`` with a timeout,
``wait_for_workers``, ``run``) except for one check before it, ``_probe_scheduler``: ``Client`` alone
cannot fail fast on a wrong address. Its handshake has no timeout (``distributed.comm.core.connect``
awaits the peer's first frame unbounded, whatever ``timeout=`` says), so a TCP peer that accepts and
stays silent makes ``Client(address, timeout=1)`` wait forever; a peer answering with other bytes (an
HTTP server) raises MemoryError (its bytes read as a frame length) and leaves a half-built client whose
finaliser prints a traceback at exit (distributed 2026.8). The probe greets the address with a bounded
handshake first, so both fail in one line within the connect timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from asara.errors import InputError
from asara.extras import require

require("dask", "distributed")

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

# distributed's Client and LocalCluster methods carry no annotations; mypy --strict would reject every
# call, so the client is held as Any past construction.

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")

DEFAULT_CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a Dask scheduler: long enough for a busy network, short enough to fail fast."""

# Dask's nanny exports these to every worker process it spawns (``distributed.nanny.pre-spawn-environ``).
# Any explicit glibc malloc setting switches off glibc's adaptive mmap threshold, so every large NumPy
# array is then mmap'ed and unmapped afresh: page faults on every chunk, several times slower here
# (see docs/sweeps.md and benchmarks/bench_sweep.py). A None value tells the nanny not to set it.
MALLOC_TRIM_VARIABLE = "MALLOC_TRIM_THRESHOLD_"
PRE_SPAWN_ENVIRON = "distributed.nanny.pre-spawn-environ"


def _checked_address(address: str) -> str:
    """``address`` if Dask can parse it; else an InputError (a bad address given to ``Client`` leaves a
    half-built client whose finaliser stalls the interpreter's exit)."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    field = "dask"
    if not address.strip():
        raise InputError("expected a scheduler address such as tcp://host:8786", field=field)
    try:
        scheme, location = parse_address(address.strip())
        get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(location)
    except (ValueError, TypeError) as error:
        raise InputError(f"not a Dask scheduler address {address!r}: {error}", field=field) from None
    return address.strip()


class _Unreachable(Exception):
    """No connection to the address opened before the deadline."""


class _NotAScheduler(Exception):
    """A connection opened, but what answered is not a Dask scheduler."""


def _one_line(error: BaseException) -> str:
    # distributed words connection errors as "in <TCPConnector object at 0x...>: ConnectionRefusedError: ..."
    return re.sub(r"^in <[^>]*>: ", "", " ".join(str(error).split())) or type(error).__name__


async def _exchange(comm: Any) -> None:
    """Dask's handshake, then the scheduler's identity (asking it to hang up after answering)."""
    await comm.write(comm.handshake_info())
    handshake = await comm.read()
    if not isinstance(handshake, dict) or "compression" not in handshake:
        raise _NotAScheduler("its answer is not Dask's handshake")
    await comm.write({"op": "identity", "reply": True, "close": True})
    identity = await comm.read()
    kind = identity.get("type") if isinstance(identity, dict) else None
    if kind != "Scheduler":
        raise _NotAScheduler(f"it is a Dask {kind}" if isinstance(kind, str) else "it gave no identity")


async def _greet_scheduler(address: str, timeout: float) -> None:
    """Connect to ``address`` (retrying a refused connection, as ``distributed`` does: the scheduler may
    be starting), greet the scheduler and hang up, all within ``timeout`` seconds; the greeting gets at
    least a second even when connecting took most of that. ``_Unreachable`` when no connection opens,
    ``_NotAScheduler`` for anything that goes wrong once connected: no answer, a closed connection,
    bytes that are not Dask's protocol (read as a frame length they can raise MemoryError)."""
    from distributed.comm.addressing import parse_address
    from distributed.comm.core import FatalCommClosedError
    from distributed.comm.registry import get_backend
    from distributed.security import Security

    scheme, location = parse_address(address)
    connector = get_backend(scheme).get_connector()  # type: ignore[no-untyped-call]
    arguments = Security().get_connection_args("client")  # type: ignore[no-untyped-call]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.01
    while True:
        try:
            comm = await asyncio.wait_for(
                connector.connect(location, deserialize=True, **arguments),
                max(deadline - loop.time(), 0.001),
            )
            break
        except FatalCommClosedError as error:  # e.g. a TLS certificate from an unknown authority
            raise _Unreachable(_one_line(error)) from None
        except (OSError, TimeoutError) as error:
            if loop.time() + delay >= deadline:
                raise _Unreachable(
                    _one_line(error) if str(error) else f"no connection within {timeout:g} s"
                ) from None
            await asyncio.sleep(delay)
            delay = min(2 * delay, 0.5)
    try:
        await asyncio.wait_for(_exchange(comm), max(deadline - loop.time(), min(1.0, timeout)))
    except _NotAScheduler:
        raise
    except TimeoutError:
        raise _NotAScheduler(f"no answer to Dask's handshake within {timeout:g} s") from None
    except OSError:
        raise _NotAScheduler("it closed the connection during Dask's handshake") from None
    except Exception:  # MemoryError, decoding errors, ...
        raise _NotAScheduler("its answer is not Dask's protocol") from None
    finally:
        comm.abort()  # also detaches the comm's finaliser, which would log a 'dangling stream' warning


def _probe_scheduler(address: str, timeout: float) -> None:
    """Fail in one line within about ``timeout`` seconds unless a Dask scheduler answers at ``address``.

    ``distributed.Client`` alone waits forever on a peer that accepts the connection but never answers
    (an HTTP server, a silent proxy): Dask's handshake deliberately has no timeout. A peer answering
    with other bytes can raise anything (MemoryError: garbage read as a frame length) and leaves a
    half-built client whose finaliser prints a traceback at exit. So greet the scheduler first, on a
    private event loop in a daemon thread (the caller may run an event loop in this one)."""
    outcome: list[BaseException | None] = []

    def greet() -> None:
        try:
            asyncio.run(_greet_scheduler(address, timeout))
            outcome.append(None)
        except BaseException as error:  # handed to the calling thread
            outcome.append(error)

    thread = threading.Thread(target=greet, name="asara-dask-probe", daemon=True)
    thread.start()
    thread.join(timeout + 5)  # the greeting is bounded; this guards against a stuck event loop only
    error = outcome[0] if outcome else _NotAScheduler(f"no answer within {timeout:g} s")
    if error is None:
        return
    if isinstance(error, _Unreachable):
        raise InputError(
            f"cannot reach a Dask scheduler at {address} within {timeout:g} s ({error})", field="dask"
        ) from None
    if isinstance(error, _NotAScheduler):
        raise InputError(f"not a Dask scheduler at {address}: {error}", field="dask") from None
    raise _unusable(address, error) from None


def _unusable(address: str, error: BaseException) -> InputError:
    problem = f"{type(error).__name__}: {_one_line(error)}"
    return InputError(f"cannot use the Dask scheduler at {address} ({problem})", field="dask")


def _asara_version() -> str:
    from asara import __version__

    return __version__


def _check_workers(client: Any, address: str, timeout: float) -> None:
    """Fail now, in one line, rather than wait forever for workers that never come or run tasks that
    cannot give the same numbers: at least one worker, and every worker on this asara version."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        raise InputError(
            f"no workers joined the Dask scheduler at {address} within {timeout:g} s", field="dask"
        ) from None
    versions = client.run(_asara_version, on_error="return")
    for worker, version in versions.items():
        if isinstance(version, BaseException):
            problem = " ".join(f"{type(version).__name__}: {version}".split())
            raise InputError(f"worker {worker} cannot run asara ({problem})", field="dask")
        if version != _asara_version():
            raise InputError(
                f"worker {worker} has asara {version}, this machine {_asara_version()}: "
                "install the same version everywhere",
                field="dask",
            )


class DaskExecutor:
    """Chunks on a Dask cluster, given a scheduler address (``tcp://host:8786``) or a connected client.

    Used as a context manager it keeps one connection for several ``map`` calls; otherwise each ``map``
    connects and disconnects. Results come back in task order with at most ``in_flight`` futures
    outstanding (default: twice the cluster's worker threads), so memory stays bounded on both sides.
    Workers need the same asara version installed as the client: the same tasks then give bit-identical
    results to a local run. Each task carries its model (about 1.5 kB pickled, less than its result),
    so there is nothing worth scattering ahead.
    """

    def __init__(
        self,
        target: str | Client,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        in_flight: int | None = None,
    ) -> None:
        if in_flight is not None and in_flight < 1:
            raise InputError(f"must be at least 1 (got {in_flight})", field="in_flight")
        self.address = _checked_address(target) if isinstance(target, str) else None
        self.connect_timeout = connect_timeout
        self.in_flight = in_flight
        self._client: Any = None if isinstance(target, str) else target
        self._owns_client = False

    def __enter__(self) -> DaskExecutor:
        self._client = self._connected()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect, if this executor opened the connection."""
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None
            self._owns_client = False

    def _connected(self) -> Any:
        if self._client is not None:
            return self._client
        from distributed import Client

        assert self.address is not None
        _probe_scheduler(self.address, self.connect_timeout)
        try:
            client: Any = Client(  # type: ignore[no-untyped-call]
                self.address, timeout=self.connect_timeout, set_as_default=False
            )
        except (OSError, TimeoutError) as error:
            raise InputError(
                f"cannot reach a Dask scheduler at {self.address} within {self.connect_timeout:g} s "
                f"({_one_line(error)})",
                field="dask",
            ) from None
        except Exception as error:  # e.g. ImportError: the scheduler refuses this client's versions
            raise _unusable(self.address, error) from None
        try:
            _check_workers(client, self.address, self.connect_timeout)
        except BaseException:
            client.close()
            raise
        self._client, self._owns_client = client, True
        return client

    def worker_threads(self) -> int:
        """Threads across the cluster's workers right now."""
        threads: int = sum(self._connected().nthreads().values())
        return threads

    def map(self, fn: Callable[[TaskT], ResultT], tasks: Iterable[TaskT]) -> Iterator[ResultT]:
        opened_here = self._client is None
        client = self._connected()
        in_flight = self.in_flight or max(2, 2 * self.worker_threads())
        pending: deque[Any] = deque()
        try:
            for task in tasks:
                # pure=False: never deduplicate by hashing the task; every chunk is its own work.
                pending.append(client.submit(fn, task, pure=False))
                if len(pending) >= in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            if pending:  # the caller stopped early or a task failed: release the rest
                client.cancel(list(pending))
            if opened_here:
                self.close()


@contextlib.contextmanager
def _restored_environment(names: Iterable[str]) -> Iterator[None]:
    """Undo changes to ``names`` in ``os.environ``: a nanny in this process exports its pre-spawn
    variables into our own environment, where later child processes would inherit them."""
    saved = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def local_dask_cluster(
    workers: int, *, processes: bool = True, trim_malloc: bool = False
) -> Iterator[LocalCluster]:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded workers, without a dashboard.

    ``trim_malloc=False`` (the default) stops the nannies from setting ``MALLOC_TRIM_THRESHOLD_`` in
    the worker processes (Dask's default sets it, which slows the NumPy-heavy chunks; see
    docs/sweeps.md); True keeps Dask's default, for comparison."""
    import dask
    from distributed import LocalCluster

    variables = set(dask.config.get(PRE_SPAWN_ENVIRON)) | {MALLOC_TRIM_VARIABLE}
    settings: dict[str, Any] = {} if trim_malloc else {f"{PRE_SPAWN_ENVIRON}.{MALLOC_TRIM_VARIABLE}": None}
    with _restored_environment(variables), dask.config.set(settings):
        if not trim_malloc:
            # A value already in our environment (from the shell, or an earlier nanny) would be
            # inherited by the worker processes whatever the config says.
            os.environ.pop(MALLOC_TRIM_VARIABLE, None)
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            # Its HTTP server (health checks) on a free port: 8787 may belong to another cluster.
            scheduler_kwargs={"dashboard_address": ":0"},
        )
    try:
        yield cluster
    finally:
        cluster.close()
