"""Where chunks run. Every executor yields results in task order, with a bounded number in flight, so
the results (and the memory a run needs) do not depend on which executor ran them."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor as FuturesExecutor
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Protocol, TypeVar

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
    for task in tasks:
        pending.append(pool.submit(fn, task))
        if len(pending) >= in_flight:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


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
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            yield from _ordered(pool, fn, tasks, 2 * self.workers)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def local_executor(workers: int | None = None) -> Executor:
    """Threads for ``workers`` > 1 (default: one per core), else serial."""
    count = default_workers() if workers is None else workers
    return ThreadExecutor(count) if count > 1 else SerialExecutor()
