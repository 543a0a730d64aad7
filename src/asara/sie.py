"""The SIE model as a library user sees it: load a scenario, run it, get a summary with error bars.

>>> from asara import sie
>>> summary = sie.run("paper-baseline", samples=20_000, seed=1)
>>> [round(cell.estimate.probability, 2) for cell in summary.cells]  # doctest: +SKIP
[0.57, 0.41, 0.17, 0.12]
"""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from asara import __version__
from asara.analysis.sie_summary import SieSummary
from asara.errors import InputError
from asara.io.parquet import SampleWriter
from asara.io.runfolder import RunFolder, run_folder
from asara.montecarlo import precision, runner
from asara.montecarlo.executors import Executor, local_executor
from asara.montecarlo.runner import ChunkResult
from asara.scenarios import sie as sie_scenarios
from asara.scenarios.loader import list_presets
from asara.scenarios.sie import SieScenario

MAX_SAMPLES = 10**10

__all__ = ["SieScenario", "SieSummary", "list_presets", "load", "run", "sample_columns"]

load = sie_scenarios.load


def sample_columns(scenario: SieScenario) -> list[str]:
    """Columns of ``samples.parquet``: the inputs, then every declared output in declaration order (the
    per-window counts, doublings, end_months, end_reason, then the cells)."""
    model = scenario.model()
    return [*model.input_names, *(output.name for output in model.outputs)]


def check_run_arguments(samples: int, seed: int, workers: int | None, chunk_size: int) -> None:
    if not 0 < samples <= MAX_SAMPLES:
        raise InputError(f"must be between 1 and {MAX_SAMPLES:.0e} (got {samples})", field="samples")
    if seed < 0:
        raise InputError(f"must be a non-negative integer (got {seed})", field="seed")
    if workers is not None and workers < 1:
        raise InputError(f"must be at least 1 (got {workers})", field="workers")
    if chunk_size < 1:
        raise InputError(f"must be at least 1 (got {chunk_size})", field="chunk-size")


MIN_TARGET_SE = 1e-6
MIN_TARGET_SE_SAMPLES = 1024
"""With --target-se a run never stops before this many samples: a standard error from a handful of
samples says nothing (one sample gives 0 for every cell)."""


def check_target_se(target_se: float | None, samples: int | None = None) -> None:
    # Below 1e-6 no run could get there (it would take ~1e11 samples) and target_se**2 underflows.
    if target_se is not None and not (math.isfinite(target_se) and MIN_TARGET_SE <= target_se < 0.5):
        raise InputError(
            f"must be a number from {MIN_TARGET_SE:g} up to 0.5 (got {target_se})", field="target-se"
        )
    if target_se is not None and samples is not None and samples < MIN_TARGET_SE_SAMPLES:
        raise InputError(
            f"with --target-se, the most samples to draw must be at least {MIN_TARGET_SE_SAMPLES:,} "
            f"(got {samples:,}): the run never stops earlier",
            field="samples",
        )


def run(
    scenario: SieScenario | str,
    samples: int = 100_000,
    seed: int = 0,
    *,
    workers: int | None = None,
    chunk_size: int = runner.DEFAULT_CHUNK_SIZE,
    executor: Executor | None = None,
    out_dir: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    command: Sequence[str] | None = None,
    target_se: float | None = None,
) -> SieSummary:
    """Run a scenario (object, preset name or TOML path). With ``out_dir``, also write
    ``samples.parquet`` (one row per sample) and ``run.json`` (the summary plus the full scenario).

    With ``target_se``, draw samples until every cell's standard error is below it; ``samples`` is then
    the most samples to draw. The same seed stops at the same sample count on any executor."""
    if isinstance(scenario, str):
        scenario = load(scenario)
    check_run_arguments(samples, seed, workers, chunk_size)
    check_target_se(target_se, samples)
    model = scenario.model()
    executor = executor or local_executor(workers)
    with _maybe_folder(out_dir) as folder, _maybe_writer(scenario, seed, folder) as writer:
        on_chunk: Callable[[ChunkResult], None] | None = None
        if writer is not None:
            sink = writer

            def on_chunk(chunk: ChunkResult) -> None:
                assert chunk.samples is not None
                sink.write(chunk.samples)

        stopping: precision.Stopping | None = None
        if target_se is None:
            result = runner.run(
                model,
                scenario.distributions(),
                samples,
                seed,
                chunk_size=chunk_size,
                executor=executor,
                keep_samples=writer is not None,
                copula=scenario.copula(),
                on_chunk=on_chunk,
                on_progress=on_progress,
            )
        else:
            result, stopping = precision.run_to_precision(
                model,
                scenario.distributions(),
                seed,
                target_se,
                max_samples=samples,
                first_checkpoint=max(precision.DEFAULT_FIRST_CHECKPOINT, MIN_TARGET_SE_SAMPLES),
                chunk_size=chunk_size,
                executor=executor,
                keep_samples=writer is not None,
                copula=scenario.copula(),
                on_chunk=on_chunk,
                on_progress=on_progress,
            )
        if writer is not None:
            writer.close()
        summary = SieSummary.from_run(scenario, result, stopping)
        if folder is not None:
            # samples.parquet and run.json are replaced as one unit; run.json (written last) carries
            # the Parquet file's SHA-256, which `asara sie summary` checks.
            folder.commit(run_record(summary, command))
    return summary


def run_record(summary: SieSummary, command: Sequence[str] | None = None) -> dict[str, Any]:
    """``run.json``: the summary, the fully resolved scenario, and provenance."""
    return {
        **summary.to_dict(),
        "scenario_definition": summary.scenario.to_document(),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": list(command) if command is not None else list(sys.argv),
        "python": sys.version.split()[0],
    }


@contextlib.contextmanager
def _maybe_folder(out_dir: Path | None) -> Iterator[RunFolder | None]:
    if out_dir is None:
        yield None
        return
    with run_folder(out_dir) as folder:
        yield folder


@contextlib.contextmanager
def _maybe_writer(
    scenario: SieScenario, seed: int, folder: RunFolder | None
) -> Iterator[SampleWriter | None]:
    if folder is None:
        yield None
        return
    metadata = {
        "asara.scenario": json.dumps(scenario.to_document()),
        "asara.seed": str(seed),
        "asara.version": __version__,
    }
    writer = SampleWriter(folder.partial("samples.parquet"), sample_columns(scenario), metadata)
    try:
        yield writer
    finally:
        writer.close()
