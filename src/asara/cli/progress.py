"""A progress bar that appears only for runs longer than about a second, and only on a terminal."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich.progress loads only when a bar is shown
    from rich.progress import Progress, TaskID


class LazyProgress:
    """Call ``update(done, total)`` as work completes; the bar shows once ``delay`` seconds have passed."""

    def __init__(self, description: str, enabled: bool = True, delay: float = 1.0) -> None:
        self.description = description
        self.enabled = enabled and sys.stdout.isatty()
        self.delay = delay
        self._started = time.perf_counter()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> LazyProgress:
        self._started = time.perf_counter()
        return self

    def update(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._progress is None:
            if time.perf_counter() - self._started < self.delay or done >= total:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.description, total=total)
        assert self._task is not None
        self._progress.update(self._task, completed=done)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
