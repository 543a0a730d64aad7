"""From a preset name or a TOML path, plus ``--set key=value`` overrides, to a validated scenario.

Model-agnostic: each model's schema is a pydantic model with ``extra="forbid"``; presets live in
``asara/scenarios/presets/<model>/<name>.toml`` and begin with a ``description``.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from asara.errors import InputError

Document = dict[str, Any]
SchemaT = TypeVar("SchemaT", bound=BaseModel)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str


def _preset_dir(model: str) -> Any:
    return resources.files("asara.scenarios").joinpath("presets", model)


def list_presets(model: str) -> list[Preset]:
    """Presets shipped for ``model``, sorted by name."""
    presets = []
    for entry in _preset_dir(model).iterdir():
        if entry.name.endswith(".toml"):
            document = tomllib.loads(entry.read_text(encoding="utf-8"))
            presets.append(Preset(entry.name.removesuffix(".toml"), str(document.get("description", ""))))
    return sorted(presets, key=lambda preset: preset.name)


MAX_SOURCE_CHARS = 4096
"""Longest scenario name or path (Linux allows 4,096 bytes in a path)."""
MAX_KEY_PARTS = 16
"""Most dotted parts in a ``--set`` key: scenario files are a few levels deep."""
MAX_DEPTH = 32
"""Deepest nesting of tables and arrays in a scenario document."""


def _shown(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _check_text(text: str, field: str) -> None:
    """Text that came from the command line or a file must be valid Unicode: undecodable bytes arrive
    as lone surrogates, which no file format can store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{_shown(text)} is not valid UTF-8 text", field=field) from None


def read_document(model: str, source: str, field: str = "scenario") -> Document:
    """The TOML document of a preset (by name) or of a file (by path); errors name ``field``."""
    _check_text(source, field)
    if len(source) > MAX_SOURCE_CHARS or "\0" in source:
        raise InputError(f"no such preset or file: {_shown(source)}", field=field)
    try:
        return _read_document(model, source, field)
    except RecursionError:
        raise InputError(f"{_shown(source)} is nested too deeply", field=field) from None


def _read_document(model: str, source: str, field: str) -> Document:
    preset = _preset_dir(model).joinpath(f"{source}.toml")
    if "/" not in source and _is_file(preset):
        text = preset.read_text(encoding="utf-8")
        origin = f"preset {source}"
    else:
        path = Path(source)
        if not _is_file(path):
            if _is_dir(path):
                raise InputError(f"{source} is a directory, not a scenario file", field=field)
            names = ", ".join(p.name for p in list_presets(model))
            if path.suffix == ".toml" or "/" in source:
                raise InputError(f"no such file: {source}", field=field)
            raise InputError(
                f"unknown preset or missing file {_shown(source)} (presets: {names})", field=field
            )
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"cannot read {source}: {error}", field=field) from None
        origin = source
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"malformed TOML in {origin}: {error}", field=field) from None
    document.setdefault("name", source if origin.startswith("preset") else Path(source).stem)
    return document


def _is_file(path: Any) -> bool:
    try:
        return bool(path.is_file())
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte, ...
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a document, counting no further than ``limit + 1`` (no recursion)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _check_strings(value: Any, field: str) -> None:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            _check_text(node, field)
        elif isinstance(node, dict):
            for key, child in node.items():
                _check_text(str(key), field)
                stack.append(child)
        elif isinstance(node, list | tuple):
            stack.extend(node)


def parse_value(text: str) -> Any:
    """A ``--set`` value: TOML syntax (numbers, booleans, arrays, quoted strings), else a bare string."""
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text
    except RecursionError:
        raise InputError(f"{_shown(text)} is nested too deeply", field="--set") from None
    return value


def apply_overrides(document: Mapping[str, Any], overrides: Iterable[str]) -> Document:
    """A copy of ``document`` with each ``dotted.key=value`` applied; new keys are left to validation."""
    result: Document = copy.deepcopy(dict(document))
    for override in overrides:
        _check_text(override, "--set")
        key, sep, raw = override.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise InputError(f"expected key=value, got {_shown(override)}", field="--set")
        if key.count(".") >= MAX_KEY_PARTS:
            raise InputError(f"at most {MAX_KEY_PARTS} dotted parts in a key", field="--set")
        value = parse_value(raw.strip())
        if isinstance(value, float) and math.isnan(value):
            raise InputError("NaN is not a valid value", field=key)
        node = result
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if isinstance(child, list) and all(isinstance(entry, dict) for entry in child):
                raise InputError(
                    f"{part!r} is a list of entries: its keys are set in each [[{part}]] entry of the "
                    "scenario file, not by --set",
                    field=key,
                )
            if not isinstance(child, dict):
                raise InputError(f"{part!r} is a value, not a section", field=key)
            node = child
        node[parts[-1]] = value
    return result


def _location(loc: tuple[int | str, ...]) -> str:
    # pydantic puts the union member (e.g. 'tagged-union[...]', 'uniform', 'log-uniform', 'float') into
    # the location; users never wrote it.
    parts = [
        str(part)
        for part in loc
        if not (isinstance(part, str) and ("-" in part or "[" in part or part in _UNION_MEMBERS))
    ]
    return ".".join(parts) or "scenario"


_UNION_MEMBERS = frozenset({"float", "int", "uniform", "fixed", "lognormal", "beta", "grid"})


def _most_telling(errors: list[Any]) -> Any:
    """The error to show: for a table given where a number or a distribution may stand, pydantic lists
    "should be a valid number" first; the distribution's own complaint (low above high, ...) says more."""
    first = errors[0]
    if isinstance(first.get("input"), dict) and str(first["type"]).endswith(("_type", "_parsing")):
        prefix = first["loc"][:-1]
        deeper = [e for e in errors[1:] if e["loc"][: len(prefix)] == prefix and e is not first]
        if deeper:
            return deeper[0]
    return first


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (through Optional, lists, unions and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in get_args(annotation) for model in _models_in(argument)]


def _kind(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("kind")
    return None if field is None else field.annotation


def _known_keys(schema: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys the table at ``loc`` accepts (empty when it cannot be told, e.g. inside a union)."""
    models: list[type[BaseModel]] = [schema]
    for part in loc:
        if isinstance(part, int):
            continue
        fields = [model.model_fields[part] for model in models if part in model.model_fields]
        if not fields:  # a tagged union's member, named by its tag (a distribution's kind)
            tagged = [m for m in models if part in get_args(_kind(m))]
            if len(tagged) == 1:
                models = tagged
                continue
        if len(fields) != 1:
            return []
        models = _models_in(fields[0].annotation)
    if len(models) != 1:
        return []
    return [field.alias or name for name, field in models[0].model_fields.items()]


def validate_document(schema: type[SchemaT], document: Mapping[str, Any]) -> SchemaT:
    """Validate against ``schema``; the first problem becomes a one-line :class:`InputError`."""
    if _depth(document, MAX_DEPTH) > MAX_DEPTH:
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", field="scenario")
    _check_strings(document, "scenario")
    try:
        return schema.model_validate(document)
    except RecursionError:
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", field="scenario") from None
    except ValidationError as error:
        first = _most_telling(error.errors(include_url=False))
        field = _location(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            # The unknown key is the user's own (never a union member), whatever it is spelt like.
            parent = first["loc"][:-1]
            field = (_location(parent) + "." if parent else "") + str(first["loc"][-1])
            known = _known_keys(schema, first["loc"][:-1])
            message = "unknown key" + (f" (valid keys: {', '.join(known)})" if known else "")
        elif "input" in first and not isinstance(first["input"], dict | list) and "(got " not in message:
            shown = repr(first["input"])
            message = f"{message} (got {shown if len(shown) <= 80 else shown[:80] + '...'})"
        raise InputError(message, field=field) from None


def load_scenario(model: str, schema: type[SchemaT], source: str, overrides: Iterable[str] = ()) -> SchemaT:
    """Preset name or TOML path, plus overrides, validated against ``schema``."""
    return validate_document(schema, apply_overrides(read_document(model, source), overrides))
