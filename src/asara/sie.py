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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # the analyses load the engine and pyarrow: imported by the entry points that use them
    from asara.analysis.convergence import ConvergencePoint
    from asara.analysis.sensitivity import SensitivityResult
    from asara.analysis.shapley import OutputExplanation
    from asara.analysis.sie_paired import PairedCell
    from asara.analysis.sie_sample import SampleExplanation
    from asara.analysis.sweep import SweepResult
    from asara.analysis.tornado import Tornado
    from asara.models.sie.engine import Trajectory

MAX_SAMPLES = 10**10
DEFAULT_SAMPLES = 100_000
MAX_TARGET_SAMPLES = 100_000_000
"""The most samples a ``target_se`` run draws when not told."""

__all__ = [
    "Convergence",
    "Explanation",
    "Paired",
    "Sensitivity",
    "SieScenario",
    "SieSummary",
    "TornadoResult",
    "TrajectoryRun",
    "cell_titles",
    "convergence",
    "explain",
    "explain_sample",
    "explanation_changes",
    "list_presets",
    "load",
    "open_executor",
    "output_labels",
    "paired",
    "run",
    "sample_columns",
    "sensitivity",
    "sweep",
    "tornado",
    "trajectory",
]

ScenarioSource = SieScenario | str | Path
"""A scenario object, a preset name or a TOML path."""


def load(source: ScenarioSource, overrides: Sequence[str] = ()) -> SieScenario:
    """A scenario object, preset name or TOML path, with ``key=value`` overrides applied, validated."""
    if isinstance(source, SieScenario):
        if not overrides:
            return source
        from asara.scenarios.loader import apply_overrides, validate_document

        return validate_document(SieScenario, apply_overrides(source.to_document(), overrides))
    return sie_scenarios.load(str(source), tuple(overrides))


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
    scenario: ScenarioSource,
    samples: int | None = None,
    seed: int = 0,
    *,
    overrides: Sequence[str] = (),
    workers: int | None = None,
    chunk_size: int = runner.DEFAULT_CHUNK_SIZE,
    executor: Executor | None = None,
    out_dir: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    command: Sequence[str] | None = None,
    target_se: float | None = None,
) -> SieSummary:
    """Run a scenario (object, preset name or TOML path, with ``overrides``). With ``out_dir``, also
    write ``samples.parquet`` (one row per sample) and ``run.json`` (the summary plus the full scenario).

    ``samples`` defaults to 100,000. With ``target_se``, draw samples until every cell's standard error
    is below it; ``samples`` is then the most samples to draw (default 100,000,000). The same seed stops
    at the same sample count on any executor."""
    scenario = load(scenario, overrides)
    if samples is None:
        samples = MAX_TARGET_SAMPLES if target_se is not None else DEFAULT_SAMPLES
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


# ------------------------------------------------------------------------------------------ analyses
# One entry point per analysis: the CLI and the web page parse their input, call one of these and format
# what it returns. Each result's ``to_dict()`` is the JSON the CLI's ``--json`` prints.


def output_labels(scenario: SieScenario) -> dict[str, str]:
    """Plain names of the outputs the analyses report, from the model's declarations: each cell as
    ``P(...)``, and every count (the most doublings inside each window, the doublings before the run
    stopped)."""
    model = scenario.model()
    labels = {cell.key: f"P({cell.label})" for cell in model.cells}
    labels.update({o.name: o.label for o in model.outputs if o.kind == "count"})
    return labels


def cell_titles(scenario: SieScenario) -> dict[str, str]:
    """Each cell's short title (figures and the web page)."""
    return {cell.key: cell.title for cell in scenario.model().cells}


@dataclass(frozen=True)
class TrajectoryRun:
    """One run of the model at given inputs, doubling by doubling."""

    scenario: SieScenario
    inputs: dict[str, float]
    path: Trajectory

    @property
    def compression(self) -> dict[str, dict[str, float]]:
        """Per window (months, as text): the most doublings inside it and the years of progress they are."""
        from asara.models.sie.metrics import years_compressed

        s = self.scenario.options().software_share
        windows = self.path.max_doublings.items()
        return {f"{m:g}": {"doublings": d, "years": years_compressed(d, s)} for m, d in windows}

    def to_dict(self) -> dict[str, Any]:
        """What ``asara sie trajectory --json`` prints."""
        path = self.path
        return {
            "scenario": self.scenario.name,
            "inputs": self.inputs,
            "ceiling_doublings": path.ceiling_doublings,
            "doublings": len(path.times) - 1,
            "end_reason": path.end_reason,
            "times_months": path.times.tolist(),
            "returns_path": path.returns.tolist(),
            "compression": self.compression,
        }


def _positive(value: float, field: str) -> float:
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"must be a positive finite number (got {value})", field=field)
    return value


def trajectory(
    scenario: ScenarioSource,
    speedup: float,
    returns: float,
    limit_years: float,
    parallel_penalty: float,
    *,
    overrides: Sequence[str] = (),
) -> TrajectoryRun:
    """One run with initial speed-up ``speedup``, returns to software R&D ``returns`` (r0), distance to
    the limit ``limit_years`` and parallel penalty ``parallel_penalty``, under the scenario's settings."""
    from asara.models.sie import trajectory as run_trajectory
    from asara.models.sie.engine import ceiling_problem

    loaded = load(scenario, overrides)
    options = loaded.options()
    problem = ceiling_problem(options.software_share, _positive(limit_years, "limit-years"))
    if problem is not None:
        raise InputError(problem, field="limit-years")
    path = run_trajectory(
        _positive(speedup, "speedup"),
        _positive(returns, "returns"),
        _positive(limit_years, "limit-years"),
        _positive(parallel_penalty, "parallel-penalty"),
        options,
    )
    inputs = {
        "speedup": speedup,
        "returns": returns,
        "limit_years": limit_years,
        "parallel_penalty": parallel_penalty,
    }
    return TrajectoryRun(loaded, inputs, path)


@dataclass(frozen=True)
class Convergence:
    """Each cell's estimate and standard error after 1,024, 2,048, 4,096, ... samples of one run."""

    scenario: SieScenario
    samples: int
    seed: int
    outputs: dict[str, list[ConvergencePoint]]

    @property
    def labels(self) -> dict[str, str]:
        return {cell.key: cell.label for cell in self.scenario.model().cells}

    def to_dict(self) -> dict[str, Any]:
        """What ``asara sie convergence --json`` prints (and ``asara plot convergence`` reads)."""
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "samples": self.samples,
            "outputs": {name: [p.to_dict() for p in points] for name, points in self.outputs.items()},
        }


def convergence(
    scenario: ScenarioSource,
    samples: int = 1_000_000,
    seed: int = 0,
    *,
    overrides: Sequence[str] = (),
    executor: Executor | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Convergence:
    """Run ``scenario`` once and read how each cell's estimate settles as its samples accumulate."""
    from asara.analysis.convergence import convergence as curves

    loaded = load(scenario, overrides)
    check_run_arguments(samples, seed, None, 1)
    result = runner.run(
        loaded.model(),
        loaded.distributions(),
        samples,
        seed,
        executor=executor or local_executor(),
        copula=loaded.copula(),
        on_progress=on_progress,
    )
    return Convergence(loaded, samples, seed, curves(result))


@dataclass(frozen=True)
class Explanation:
    """The change from scenario A to B in each cell, attributed to each changed group of assumptions."""

    baseline: SieScenario
    changed: SieScenario
    changes: list[str]
    explanations: list[OutputExplanation]
    samples: int
    seed: int

    @property
    def labels(self) -> dict[str, str]:
        return {cell.key: cell.label for cell in self.baseline.model().cells}

    def to_dict(self) -> dict[str, Any]:
        """What ``asara sie explain --json`` prints: per cell, the attributions with standard errors."""
        return {e.output: e.to_dict() for e in self.explanations}

    def to_record(self) -> dict[str, Any]:
        """The web page's answer: the changed groups, the cells' titles and :meth:`to_dict`."""
        return {"changes": self.changes, "labels": cell_titles(self.baseline), "outputs": self.to_dict()}


def explanation_changes(baseline: ScenarioSource, changed: ScenarioSource) -> list[str]:
    """The groups of assumptions that differ between A and B (an explanation evaluates 2^len subsets)."""
    from asara.analysis.shapley import differing_groups
    from asara.analysis.sie_explain import SIE_GROUPS

    a, b = load(baseline).to_document(), load(changed).to_document()
    b["name"], b["description"] = a["name"], a["description"]  # as `explain` compares them
    return differing_groups(a, b, SIE_GROUPS)


def explain(
    baseline: ScenarioSource,
    changed: ScenarioSource,
    samples: int = 50_000,
    seed: int = 0,
    *,
    overrides: Sequence[str] = (),
    on_progress: Callable[[int, int], None] | None = None,
) -> Explanation:
    """Exact Shapley attribution of B minus A (``overrides`` apply to B) on common random numbers;
    ``on_progress(done, total)`` is called before each evaluated subset of the changes."""
    from asara.analysis.sie_explain import explain_scenarios

    check_run_arguments(samples, seed, None, 1)
    changes, explanations, scenario_a, scenario_b = explain_scenarios(
        baseline if isinstance(baseline, SieScenario) else str(baseline),
        changed if isinstance(changed, SieScenario) else str(changed),
        samples,
        seed,
        list(overrides),
        on_progress,
    )
    return Explanation(scenario_a, scenario_b, changes, explanations, samples, seed)


def explain_sample(
    scenario: ScenarioSource,
    sample: int | None = None,
    seed: int = 0,
    values: Mapping[str, float] | None = None,
    *,
    overrides: Sequence[str] = (),
) -> SampleExplanation:
    """Why one run did or did not reach each cell: sample ``sample`` of the run with ``seed`` (``values``
    set inputs by name on top of it), or, without a sample, the run with every input given in
    ``values``. ``to_dict()`` is what ``asara sie explain-sample --json`` prints."""
    from asara.analysis.sie_sample import explain_sample as explain_one

    loaded = load(scenario, overrides)
    if seed < 0:
        raise InputError(f"must be a non-negative integer (got {seed})", field="seed")
    return explain_one(loaded, sample, seed if sample is not None else None, values or {})


@dataclass(frozen=True)
class Paired:
    """Each cell of a scenario minus a reference, on common random numbers, with the paired SE."""

    reference: SieScenario
    scenario: SieScenario
    samples: int
    seed: int
    cells: list[PairedCell]

    def to_dict(self) -> dict[str, Any]:
        """The web page's comparison (``POST /api/sie/paired``)."""
        return {
            "reference": self.reference.name,
            "scenario": self.scenario.name,
            "samples": self.samples,
            "seed": self.seed,
            "cells": [cell.to_dict() for cell in self.cells],
        }


def paired(
    reference: ScenarioSource,
    scenario: ScenarioSource,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> Paired:
    """``scenario`` minus ``reference`` in every cell, both run on the same input samples, so the
    difference's standard error is the paired one (far smaller than two independent runs give)."""
    from asara.analysis.sie_paired import paired_difference

    a, b = load(reference), load(scenario)
    return Paired(a, b, samples, seed, paired_difference(a, b, samples, seed, on_progress))


DEFAULT_SENSITIVITY_SAMPLES = (4096, 200)
"""Sobol' base points and Morris trajectories when not told."""


@dataclass(frozen=True)
class Sensitivity:
    """Sobol' indices or Morris effects of every cell to every uncertain input."""

    scenario: SieScenario
    result: SensitivityResult

    def to_dict(self) -> dict[str, Any]:
        """What ``asara sie sensitivity --json`` prints: per output, one record per input (None for an
        output that does not vary)."""
        return self.result.outputs_dict()

    def to_record(self) -> dict[str, Any]:
        """The web page's answer: the design, the cells' titles, the means and notes, and :meth:`to_dict`."""
        result = self.result
        return {
            "method": result.method,
            "samples": result.base_samples,
            "evaluations": result.evaluations,
            "fixed_inputs": list(result.fixed_inputs),
            "labels": cell_titles(self.scenario),
            "output_means": result.output_means,
            "notes": list(result.notes),
            "outputs": self.to_dict(),
        }


def sensitivity(
    scenario: ScenarioSource,
    method: str = "sobol",
    samples: int | None = None,
    seed: int = 0,
    *,
    overrides: Sequence[str] = (),
    on_progress: Callable[[int, int], None] | None = None,
) -> Sensitivity:
    """Which uncertain input drives each cell: ``method`` "sobol" (first-order and total indices with
    bootstrap 95% intervals; ``samples`` base points, default 4096) or "morris" (screening; ``samples``
    trajectories, default 200)."""
    from asara.analysis.sensitivity import analyse

    loaded = load(scenario, overrides)
    result = analyse(
        loaded.model(),
        loaded.distributions(),
        method,
        samples,
        seed,
        default_samples=DEFAULT_SENSITIVITY_SAMPLES,
        copula=loaded.copula(),
        on_progress=on_progress,
    )
    return Sensitivity(loaded, result)


@dataclass(frozen=True)
class TornadoResult:
    """Each input at its 10th and 90th percentile, one at a time, for the cells and the doublings."""

    scenario: SieScenario
    result: Tornado
    indicators: tuple[str, ...] = ()
    """The 0/1 outputs (the cells)."""

    def to_dict(self) -> dict[str, Any]:
        """What ``asara sie tornado --json`` prints."""
        return {"scenario": self.scenario.name, **self.result.to_dict()}


def tornado(
    scenario: ScenarioSource,
    others: str = "median",
    samples: int | None = None,
    seed: int | None = None,
    *,
    overrides: Sequence[str] = (),
) -> TornadoResult:
    """``others`` "median": one run per bar end with the other inputs at their medians (``samples`` and
    ``seed`` must then be None); "sampled": the others drawn (default 20,000 samples, seed 0)."""
    from asara.analysis.tornado import checked_tornado
    from asara.models.sie.model import window_column

    loaded = load(scenario, overrides)
    model = loaded.model()
    outputs = [*model.output_names, *(window_column(m) for m in model.options.windows_months), "doublings"]
    result = checked_tornado(
        model, loaded.distributions(), others, samples, seed, outputs=outputs, copula=loaded.copula()
    )
    return TornadoResult(loaded, result, tuple(model.output_names))


@contextlib.contextmanager
def open_executor(workers: int | None = None, dask_address: str | None = None) -> Iterator[Executor]:
    """The Dask cluster at ``dask_address`` (connected before anything runs, so a wrong address fails
    at once), else local worker processes; one worker runs in this process."""
    from asara.montecarlo.executors import ProcessExecutor, SerialExecutor, capped_workers

    if dask_address is not None:
        if workers is not None:
            raise InputError(
                "applies to local runs only; the Dask cluster's workers run --dask", field="workers"
            )
        from asara.montecarlo.dask import DaskExecutor

        with DaskExecutor(dask_address) as executor:
            yield executor
        return
    count = capped_workers(workers)
    yield ProcessExecutor(count) if count > 1 else SerialExecutor()


def sweep(
    scenario: str | Path,
    grid: Sequence[str],
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    *,
    overrides: Sequence[str] = (),
    workers: int | None = None,
    dask_address: str | None = None,
    executor: Executor | None = None,
    chunk_size: int = runner.DEFAULT_CHUNK_SIZE,
    allow_large: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """One Monte Carlo per point of ``grid`` (``key=v1,v2,...`` specs, every combination) on ``scenario``
    (a preset or TOML path, recorded in the result so that the sweep can be rerun) with ``overrides`` on
    every point, all with the same seed. Runs on ``executor``, else on the Dask cluster at
    ``dask_address``, else on ``workers`` local processes (default one per core)."""
    from asara.analysis.sweep import run_sweep

    check_run_arguments(samples, seed, workers, chunk_size)
    with contextlib.ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(open_executor(workers, dask_address))
        return run_sweep(
            str(scenario),
            grid,
            overrides=overrides,
            samples=samples,
            seed=seed,
            chunk_size=chunk_size,
            executor=executor,
            allow_large=allow_large,
            on_progress=on_progress,
        )
