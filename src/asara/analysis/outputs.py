"""Every declared output of a run, summarized by its kind: an indicator as a probability with its standard
error and Wilson interval, a continuous output as its mean with the mean's standard error, a count as its
exact histogram (with its mean), a category as the number of samples in each category.

Written over the declarations (:class:`asara.models.registry.Output`), so an output a model declares is
summarized, written to JSON and shown without any code of its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast, get_args

import numpy as np

from asara.models.registry import Output, OutputKind
from asara.montecarlo.stats import Proportion

if TYPE_CHECKING:  # the runner loads scipy and pydantic; reading a run.json back needs neither
    from asara.montecarlo.runner import RunSummary


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class OutputSummary:
    """One declared output over a run's samples."""

    output: Output
    samples: int
    estimate: Proportion | None = None
    """Indicators: successes out of the samples."""
    mean: float | None = None
    """Continuous outputs and counts: the mean over the samples."""
    standard_error: float | None = None
    """Continuous outputs: the standard error of the mean (None from a single sample)."""
    histogram: tuple[int, ...] = ()
    """Counts and categories: samples with value (or code) 0, 1, 2, ..."""

    @classmethod
    def from_run(cls, output: Output, run: RunSummary) -> OutputSummary:
        if output.kind == "indicator":
            return cls(output, run.samples, estimate=run.proportion(output.name))
        if output.kind == "continuous":
            mean, error = run.mean_and_error(output.name)
            return cls(output, run.samples, mean=mean, standard_error=_finite_or_none(error))
        counts = run.counts.get(output.name, np.zeros(0, dtype=np.int64))
        size = max(counts.size, len(output.categories))
        histogram = np.zeros(size, dtype=np.int64)
        histogram[: counts.size] = counts
        mean = float(np.dot(np.arange(size, dtype=np.float64), histogram)) / run.samples
        return cls(
            output,
            run.samples,
            mean=mean if output.kind == "count" else None,
            histogram=tuple(int(n) for n in histogram),
        )

    def quantile(self, q: float) -> int:
        """Counts: the smallest value with at least a share ``q`` of the samples at or below it."""
        if not self.histogram:
            raise ValueError(f"{self.output.name} has no histogram")
        cumulative = np.cumsum(self.histogram)
        return int(np.searchsorted(cumulative, q * cumulative[-1]))

    def category_counts(self) -> dict[str, int]:
        """Categories: samples per category name, in code order."""
        return {name: self.histogram[code] for code, name in enumerate(self.output.categories)}

    def heading(self) -> str:
        """The output's label, with its unit when it has one."""
        output = self.output
        return f"{output.label} ({output.unit})" if output.unit else output.label

    def describe(self) -> str:
        """The summary in words: a probability or a mean with its SE, a count's mean and quantiles from
        its exact histogram, a category's samples per category."""
        if self.estimate is not None:
            return f"{self.estimate.probability:.4f} ± {self.estimate.standard_error:.4f}"
        if self.output.kind == "continuous":
            if self.mean is None or not math.isfinite(self.mean):
                return "mean not finite (some samples are beyond the float range)"
            if self.standard_error is not None:
                return f"mean {self.mean:.4g} ± {self.standard_error:.4g}"
            if self.samples < 2:
                return f"mean {self.mean:.4g} (no standard error from one sample)"
            # The squares of values near the float range overflow: the mean is still exact, its error is not.
            return f"mean {self.mean:.4g} (standard error not finite: a few samples are near the float range)"
        if self.output.kind == "count":
            median, high = self.quantile(0.5), self.quantile(0.95)
            return f"mean {self.mean:.4g}; median {median:,}; 95th percentile {high:,}"
        return ", ".join(
            f"{name} {count:,} ({count / self.samples:.2%})" for name, count in self.category_counts().items()
        )

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> OutputSummary:
        """The summary back from :meth:`to_dict` (e.g. from a stored run.json); ValueError, KeyError or
        TypeError for a record that is not one."""
        kind = record["kind"]
        if kind not in get_args(OutputKind):
            raise ValueError(f"output {record['name']!r} has an unknown kind {kind!r}")
        output = Output(
            str(record["name"]),
            cast(OutputKind, kind),
            str(record["label"]),
            str(record.get("unit", "")),
            str(record.get("help", "")),
            tuple(str(name) for name in record.get("categories", ())),
        )
        samples = int(record["samples"])
        if samples < 1:
            raise ValueError(f"output {record['name']!r} has {samples} samples")
        found = record["summary"]
        if kind == "indicator":
            return cls(output, samples, estimate=Proportion(int(found["successes"]), samples))
        if kind == "continuous":
            mean, error = found["mean"], found["standard_error"]
            return cls(
                output,
                samples,
                mean=None if mean is None else float(mean),
                standard_error=None if error is None else float(error),
            )
        if kind == "count":
            histogram = tuple(int(n) for n in found["histogram"])
            return cls(output, samples, mean=float(found["mean"]), histogram=histogram)
        counts = found["counts"]
        return cls(output, samples, histogram=tuple(int(counts[name]) for name in output.categories))

    def to_dict(self) -> dict[str, Any]:
        """The declaration, then what the run found (``summary``)."""
        summary: dict[str, Any]
        if self.output.kind == "indicator":
            assert self.estimate is not None
            low, high = self.estimate.wilson_interval()
            summary = {
                "probability": self.estimate.probability,
                "standard_error": self.estimate.standard_error,
                "wilson_95": [low, high],
                "successes": self.estimate.successes,
            }
        elif self.output.kind == "continuous":
            mean = None if self.mean is None else _finite_or_none(self.mean)
            summary = {"mean": mean, "standard_error": self.standard_error}
        elif self.output.kind == "count":
            summary = {"mean": self.mean, "histogram": list(self.histogram)}
        else:
            summary = {"counts": self.category_counts()}
        return {**self.output.to_dict(), "samples": self.samples, "summary": summary}


def summarize_outputs(outputs: Sequence[Output], run: RunSummary) -> tuple[OutputSummary, ...]:
    """Each declared output of a run, in declaration order."""
    return tuple(OutputSummary.from_run(output, run) for output in outputs)


def markdown_table(outputs: Sequence[Output]) -> str:
    """The docs table of a model's per-sample outputs (docs are checked against it by the tests)."""
    rows = ["| output | kind | unit | label | meaning |", "|---|---|---|---|---|"]
    for output in outputs:
        kind: str = output.kind
        if output.categories:
            kind += ": " + ", ".join(f"{code} {name}" for code, name in enumerate(output.categories))
        meaning = output.help.replace("|", "\\|")
        rows.append(f"| `{output.name}` | {kind} | {output.unit} | {output.label} | {meaning} |")
    return "\n".join(rows) + "\n"
