"""Where chunks run. Every executor yields results in task order, with a bounded number in flight, so
the results (and the memory a run needs) do not depend on which executor ran them. The Dask executor is
in ``asara.montecarlo.dask`` (the ``dask`` extra)."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor as FuturesExecutor
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

TaskT = TypeVar("TaskT")
ResultT = TypeVar("ResultT")


class Executor(Protocol):
    """Runs a function over tasks, yielding the results in task order."""

    def map(self, fn: Callable[[TaskT], ResultT], tasks: Iterable[TaskT]) -> Iterator[ResultT]: ...


class SerialExecutor:
    """In this thread, one task at a time."""

    def map(self, fn: Callable[[TaskT], ResultT], tasks: Iterable[TaskT]) -> Iterator[ResultT]:
        for task in tasks:
            yield fn(task)


def _ordered(
    pool: FuturesExecutor, fn: Callable[[TaskT], ResultT], tasks: Iterable[TaskT], in_flight: int
) -> Iterator[ResultT]:
    pending: deque[Future[ResultT]] = deque()
    try:
        for task in tasks:
            pending.append(pool.submit(fn, task))
            if len(pending) >= in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:  # stopped early (an error, a signal): queued tasks never start
            future.cancel()


class ThreadExecutor:
    """Worker threads in this process: the compiled kernels release the GIL, so threads use every core
    without the cost of starting processes."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map(self, fn: Callable[[TaskT], ResultT], tasks: Iterable[TaskT]) -> Iterator[ResultT]:
        with ThreadPoolExecutor(self.workers) as pool:
            yield from _ordered(pool, fn, tasks, 2 * self.workers)


class ProcessExecutor:
    """Worker processes (``forkserver``): for work that holds the GIL, and for long sweeps."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map(self, fn: Callable[[TaskT], ResultT], tasks: Iterable[TaskT]) -> Iterator[ResultT]:
        # No more processes than tasks: a short sweep does not start a worker per core for nothing.
        remaining = iter(tasks)
        head = list(itertools.islice(remaining, self.workers))
        count = max(1, len(head))
        context = multiprocessing.get_context("forkserver")
        pool = ProcessPoolExecutor(
            count, mp_context=context, initializer=_worker_setup, initargs=(os.getpid(),)
        )
        finished = False
        try:
            yield from _ordered(pool, fn, itertools.chain(head, remaining), 2 * count)
            finished = True
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:
                _stop_pool(pool)


def _worker_setup(command_pid: int) -> None:
    """Ctrl-C reaches every process of the terminal's group: the parent stops the workers itself, so
    they print no KeyboardInterrupt tracebacks of their own. As a safety net, a worker exits when the
    command that started it is gone (killed before it could stop its pool): a worker's parent is the
    forkserver, which outlives the command, so nothing else would stop it computing on and holding the
    caller's pipes."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_gone, args=(command_pid,), daemon=True).start()


def _exit_when_gone(command_pid: int, every: float = 0.25) -> None:
    while _running(command_pid):
        time.sleep(every)
    os._exit(1)


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel whether the process exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _stop_pool(pool: ProcessPoolExecutor, grace: float = 1.0) -> None:
    """Stop a pool now: queued tasks are cancelled and running workers terminated (not waited for),
    so an error or a signal ends the run within about ``grace`` seconds."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public API before Python 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(grace)
        if process.is_alive():
            process.kill()
            process.join(grace)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


WORKERS_PER_CORE = 4
"""Most workers per core a local run starts: more only add memory and start-up time."""


def capped_workers(requested: int | None, tasks: int | None = None) -> int:
    """The workers to start for ``requested`` (None: one per core): at most ``WORKERS_PER_CORE`` per
    core, and no more than there are tasks. Results never depend on the number of workers."""
    count = default_workers() if requested is None else requested
    count = min(count, WORKERS_PER_CORE * default_workers())
    if tasks is not None:
        count = min(count, max(1, tasks))
    return max(1, count)


def local_executor(workers: int | None = None) -> Executor:
    """Threads for ``workers`` > 1 (default: one per core), else serial."""
    count = capped_workers(workers)
    return ThreadExecutor(count) if count > 1 else SerialExecutor()


_MOVED_TO_DASK = {
    "DaskExecutor",
    "local_dask_cluster",
    "DEFAULT_CONNECT_TIMEOUT",
    "MALLOC_TRIM_VARIABLE",
    "PRE_SPAWN_ENVIRON",
}


def __getattr__(name: str) -> Any:
    """The Dask executor lives in ``asara.montecarlo.dask`` (the ``dask`` extra); it is still importable
    from here, loaded only when asked for."""
    if name in _MOVED_TO_DASK:
        from asara.montecarlo import dask

        return getattr(dask, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
