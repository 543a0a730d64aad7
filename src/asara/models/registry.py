"""Declarations that everything else is derived from: a model's settings (:class:`Parameter`) and its
per-sample outputs (:class:`Output`).

A setting is declared once, with its scenario key, type, neutral value, bounds, unit, label, help text,
explanation group and (when it may be uncertain) the name of the per-sample input it becomes. The scenario
schema, the engine's parameter columns, the CLI help, the explanation groups, the web page's sliders and
labels and the docs tables are all read from these declarations. Pure data: no pydantic, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ParameterType = Literal["number", "integer", "switch", "choice", "distribution"]
"""``number``: a float (a distribution too when ``input`` is set); ``distribution``: always a
distribution (the model's core uncertain inputs); ``switch``: true/false; ``choice``: one of ``choices``."""

OutputKind = Literal["indicator", "count", "continuous", "category"]
"""``indicator``: 0/1 per sample, summarized as a probability with its standard error; ``count``: a
non-negative integer, summarized by its exact histogram; ``continuous``: a float, summarized by its mean
and quantiles; ``category``: an integer code with a name per code (``categories``)."""


@dataclass(frozen=True)
class Slider:
    """The web page's range for a number or distribution: where its slider starts and ends."""

    low: float
    high: float
    log: bool = False
    integer: bool = False


@dataclass(frozen=True)
class Parameter:
    """One setting of a model, declared once."""

    key: str
    """Scenario key, dotted for a section (``compute.growth_per_year``)."""
    type: ParameterType
    neutral: Any
    """The value under which the setting changes nothing (for the paper's inputs: the paper's value)."""
    label: str
    """Plain words for tables, sliders and explanations."""
    help: str
    """One or two sentences: what the setting means and what it does."""
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    """True when ``low`` itself is excluded (``> low`` rather than ``>= low``)."""
    high_open: bool = False
    group: str = ""
    """Explanation group: changes to settings of one group are attributed together."""
    input: str | None = None
    """Per-sample input name (and engine column) when the setting may be given as a distribution."""
    choices: tuple[str, ...] = ()
    extension: str | None = None
    """The optional extension the setting belongs to (None: the paper's model)."""
    switches_off: bool = False
    """For an extension's setting: at its neutral value alone the extension's code does not run at all,
    whatever the extension's other settings (its ``--set`` neutral argument)."""
    slider: Slider | None = None
    infinite: bool = False
    """Whether ``inf`` is a valid value (written "Infinity" in JSON)."""
    optional: bool = False
    """Whether the setting may be left unset (None), taking its value from another setting."""
    bounds_note: str = ""
    """Why the bounds are what they are, said before an out-of-bounds error ("a ramp cannot end before
    it starts")."""

    @property
    def section(self) -> str | None:
        """The scenario section the key lives in (``compute``), or None for a top-level key."""
        return self.key.rsplit(".", 1)[0] if "." in self.key else None

    @property
    def name(self) -> str:
        """The key within its section (``growth_per_year``)."""
        return self.key.rsplit(".", 1)[-1]

    @property
    def uncertain(self) -> bool:
        """Whether the setting may be (or always is) a distribution."""
        return self.input is not None

    def neutral_text(self) -> str:
        """The neutral value as a reader writes it (``inf``, ``true``, a distribution's kind and
        parameters, "unset" for an optional setting left unset)."""
        value = self.neutral
        if value is None:
            return "unset"
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, float) and math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if isinstance(value, dict):
            kind = value.get("kind", "")
            rest = ", ".join(
                f"{k}={v:g}" if isinstance(v, float | int) else f"{k}={v}"
                for k, v in value.items()
                if k != "kind"
            )
            return f"{kind}({rest})"
        if isinstance(value, float | int):
            return f"{value:g}"
        return str(value)

    def bounds_text(self) -> str:
        """The allowed range in interval notation (``(0, 1]``), or "" when unbounded."""
        if self.low is None and self.high is None:
            return ""
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        left = "(" if self.low is None or self.low_open else "["
        right = ")" if (self.high is None and not self.infinite) or self.high_open else "]"
        return f"{left}{low}, {high}{right}"

    def check(self, lowest: float, highest: float) -> str | None:
        """Why values from ``lowest`` to ``highest`` (a number: both the same; a distribution: its
        support) are out of bounds, or None if they are within."""
        if math.isnan(lowest) or math.isnan(highest):
            return "must be a number (got nan)"
        too_low = self.low is not None and (lowest <= self.low if self.low_open else lowest < self.low)
        too_high = self.high is not None and (highest >= self.high if self.high_open else highest > self.high)
        if not (too_low or too_high):
            return None
        got = (
            f"(got {lowest:g})"
            if lowest == highest
            else f"over its whole range (got {lowest:g}..{highest:g})"
        )
        if self.low is not None and self.high is not None:
            problem = f"must lie in {self.bounds_text()} {got}"
        elif self.low is not None:
            problem = f"must be {'>' if self.low_open else '>='} {self.low:g} {got}"
        else:
            problem = f"must be {'<' if self.high_open else '<='} {self.high:g} {got}"
        return f"{self.bounds_note}: {problem}" if self.bounds_note else problem

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (infinite values as the string "Infinity")."""
        return {
            "key": self.key,
            "type": self.type,
            "neutral": _json_value(self.neutral),
            "label": self.label,
            "help": self.help,
            "unit": self.unit,
            "low": _json_value(self.low),
            "high": _json_value(self.high),
            "low_open": self.low_open,
            "high_open": self.high_open,
            "bounds": self.bounds_text(),
            "group": self.group,
            "input": self.input,
            "choices": list(self.choices),
            "extension": self.extension,
            "switches_off": self.switches_off,
            "slider": None
            if self.slider is None
            else {
                "low": self.slider.low,
                "high": self.slider.high,
                "log": self.slider.log,
                "integer": self.slider.integer,
            },
            "infinite": self.infinite,
            "optional": self.optional,
            "bounds_note": self.bounds_note,
        }


@dataclass(frozen=True)
class Output:
    """One per-sample output of a model, declared once."""

    name: str
    kind: OutputKind
    label: str
    unit: str = ""
    help: str = ""
    categories: tuple[str, ...] = field(default=())
    """For ``category`` outputs: the name of code 0, 1, ..."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "label": self.label,
            "unit": self.unit,
            "help": self.help,
            "categories": list(self.categories),
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def by_key(parameters: Iterable[Parameter]) -> dict[str, Parameter]:
    """Declarations by scenario key; refuses a key declared twice."""
    table: dict[str, Parameter] = {}
    for parameter in parameters:
        if parameter.key in table:
            raise ValueError(f"parameter {parameter.key!r} is declared twice")
        table[parameter.key] = parameter
    return table


def by_input(parameters: Iterable[Parameter]) -> dict[str, Parameter]:
    """Declarations of the settings that may be uncertain, by per-sample input name."""
    return {p.input: p for p in parameters if p.input is not None}


def columns(parameters: Iterable[Parameter]) -> dict[str, int]:
    """Per-sample input name -> column of an engine's parameter matrix, in declaration order. Appending a
    declaration keeps every existing column."""
    return {name: column for column, name in enumerate(by_input(parameters))}


def explanation_groups(parameters: Sequence[Parameter], order: Sequence[str] = ()) -> dict[str, list[str]]:
    """Group label -> the scenario keys (or whole sections) whose changes are attributed together. A
    section all of whose settings are in one group is given as that section. Groups come in ``order``
    (labels), then the others in declaration order."""
    keys_by_group: dict[str, list[str]] = {}
    section_keys: dict[str, set[str]] = {}
    for parameter in parameters:
        if parameter.group:
            keys_by_group.setdefault(parameter.group, []).append(parameter.key)
        if parameter.section is not None:
            section_keys.setdefault(parameter.section, set()).add(parameter.key)
    groups: dict[str, list[str]] = {}
    for label, keys in keys_by_group.items():
        entries: list[str] = []
        for key in keys:
            section = key.rsplit(".", 1)[0] if "." in key else None
            entry = section if section is not None and section_keys[section] <= set(keys) else key
            if entry not in entries:
                entries.append(entry)
        groups[label] = entries
    unknown = [label for label in order if label not in groups]
    if unknown:
        raise ValueError(f"no setting is in the explanation group(s) {unknown}")
    ranked = [*order, *(label for label in groups if label not in order)]
    return {label: groups[label] for label in ranked}


def outputs_of(outputs: Iterable[Output], kind: OutputKind) -> tuple[str, ...]:
    """Names of the outputs of one kind, in declaration order."""
    return tuple(o.name for o in outputs if o.kind == kind)


def markdown_table(parameters: Sequence[Parameter]) -> str:
    """The docs table of a model's settings (docs are checked against it by the tests)."""
    rows = [
        "| key | type | neutral | range | unit | may be uncertain | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in parameters:
        kind = p.type if p.type != "choice" else " \\| ".join(p.choices)
        shown = p.neutral_text()
        uncertain = "always" if p.type == "distribution" else ("yes" if p.uncertain else "")
        help_text = p.help.replace("|", "\\|")
        rows.append(
            f"| `{p.key}` | {kind} | {shown} | {p.bounds_text()} | {p.unit} | {uncertain} | {help_text} |"
        )
    return "\n".join(rows) + "\n"
