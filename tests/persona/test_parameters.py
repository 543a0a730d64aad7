"""The persona model's declarations (models/persona/parameters.py) are what the scenario schema enforces:
every bound accepts a value just inside it and refuses one just outside, every default and description is
the declared one, and every scalar setting of the schema is declared."""

from __future__ import annotations

import json
import math
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from asara.errors import InputError
from asara.models.persona import parameters as declared
from asara.models.persona.weights import calibrated_weights
from asara.models.registry import Parameter, markdown_table
from asara.scenarios import persona as schema
from asara.scenarios.loader import validate_document

SECTIONS: dict[str | None, type[BaseModel]] = {
    None: schema.PersonaScenario,
    "families": schema.FamilyEntry,
    "stage_weights": schema.StageWeights,
    "optimize": schema.OptimizeSpec,
    "calibration": schema.CalibrationSection,
    "uncertainty": schema.Uncertainty,
}
SCALARS = [p for p in declared.PARAMETERS if p.type in ("number", "integer")]
DISTRIBUTIONS = [p for p in declared.PARAMETERS if p.type == "distribution"]


def document_with(parameter: Parameter, value: Any) -> dict[str, Any]:
    """The smallest valid scenario, with ``parameter`` set to ``value``."""
    document: dict[str, Any] = {"families": [{"family": "patient", "tau": {"kind": "fixed", "value": 1}}]}
    section, name = parameter.section, parameter.name
    if section is None:
        document[name] = value
    elif section == "families":
        document["families"][0][name] = value
    elif section == "optimize":
        document["optimize"] = {"menu": [{}], name: value}
    else:
        document[section] = {name: value}
    return document


def validate(parameter: Parameter, value: Any) -> schema.PersonaScenario:
    return validate_document(schema.PersonaScenario, document_with(parameter, value))


def edges(parameter: Parameter) -> list[tuple[float, bool]]:
    """(value, accepted) pairs just inside and just outside each declared bound."""
    pairs: list[tuple[float, bool]] = []
    integer = parameter.type == "integer"
    for bound, is_open, outward in (
        (parameter.low, parameter.low_open, -math.inf),
        (parameter.high, parameter.high_open, math.inf),
    ):
        if bound is None:
            continue
        step = 1.0 if integer else abs(math.nextafter(bound, outward) - bound)
        direction = 1.0 if outward > 0 else -1.0
        if is_open:
            pairs += [(bound - direction * step, True), (bound, False)]
        else:
            pairs += [(bound, True), (bound + direction * step, False)]
    return [(int(v) if integer else v, ok) for v, ok in pairs]


def test_every_scalar_has_a_bound_to_check() -> None:
    assert len(SCALARS) >= 20
    for parameter in SCALARS:
        assert parameter.low is not None or parameter.high is not None, parameter.key


@pytest.mark.parametrize("parameter", SCALARS, ids=lambda p: p.key)
def test_bounds_are_enforced_just_inside_and_just_outside(parameter: Parameter) -> None:
    checked = edges(parameter)
    assert checked, parameter.key
    for value, accepted in checked:
        assert (parameter.check(value, value) is None) == accepted, (parameter.key, value)
        if accepted:
            scenario = validate(parameter, value)
            node: Any = scenario if parameter.section is None else getattr(scenario, parameter.section)
            if parameter.section == "families":
                node = node[0]
            assert getattr(node, parameter.name) == value
        else:
            with pytest.raises(InputError) as refused:
                validate(parameter, value)
            assert refused.value.field is not None and refused.value.field.endswith(parameter.name)


@pytest.mark.parametrize("parameter", DISTRIBUTIONS, ids=lambda p: p.key)
def test_distribution_bounds_are_enforced_on_the_support(parameter: Parameter) -> None:
    low = -5.0 if parameter.low is None else parameter.low
    high = 5.0 if parameter.high is None else parameter.high
    validate(parameter, {"kind": "uniform", "low": low, "high": high})
    if parameter.low is not None:
        with pytest.raises(InputError, match=f"{parameter.name}'s distribution must (lie in|be [<>]=?)"):
            validate(parameter, {"kind": "uniform", "low": math.nextafter(low, -1.0), "high": high})
    if parameter.high is not None:
        with pytest.raises(InputError, match=f"{parameter.name}'s distribution must (lie in|be [<>]=?)"):
            validate(parameter, {"kind": "uniform", "low": low, "high": math.nextafter(high, 2.0)})


@pytest.mark.parametrize("parameter", declared.PARAMETERS, ids=lambda p: p.key)
def test_defaults_and_descriptions_are_the_declared_ones(parameter: Parameter) -> None:
    field = SECTIONS[parameter.section].model_fields[parameter.name]
    assert field.default == (None if parameter.optional else parameter.neutral)
    assert field.description == parameter.help
    if parameter.type == "choice":
        assert typing.get_args(field.annotation) == parameter.choices
    if not parameter.optional:  # the default itself is valid and lies within the bounds
        if parameter.type in ("number", "integer"):
            assert parameter.check(parameter.neutral, parameter.neutral) is None
        validate(parameter, parameter.neutral)


def test_every_scalar_setting_of_the_schema_is_declared() -> None:
    """The classes that hold settings have no undeclared scalar field (structure: lists, sections, names)."""
    structure = {"name", "description", "families", "documents", "evaluation", "stage_weights", "optimize",
                 "calibration", "uncertainty", "menu", "family", "weight", "q", "a", "tau"}  # fmt: skip
    for section, model in SECTIONS.items():
        for name in model.model_fields:
            if name in structure:
                continue
            key = name if section is None else f"{section}.{name}"
            assert key in declared.PARAMETERS_BY_KEY, key


def test_inputs_are_the_models_in_order_and_neutral_values_are_the_unset_defaults() -> None:
    from asara.models.persona.model import INPUT_NAMES

    assert INPUT_NAMES == declared.INPUT_NAMES
    assert INPUT_NAMES == ("w_pretraining", "w_midtraining", "w_fine_tuning", "credibility", "prior_shift")
    scenario = validate_document(schema.PersonaScenario, {"families": [{"family": "luigi"}]})
    defaults = scenario.distributions()
    assert list(defaults) == list(INPUT_NAMES)
    for name, parameter in declared.PARAMETERS_BY_INPUT.items():
        assert defaults[name].model_dump() == parameter.neutral, name
    calibrated = calibrated_weights()["fine-tuning"]
    assert declared.PARAMETERS_BY_INPUT["w_fine_tuning"].neutral["low"] == calibrated.low


def test_declarations_are_json_ready() -> None:
    import json

    for parameter in declared.PARAMETERS:
        record = json.loads(json.dumps(parameter.to_dict(), allow_nan=False))
        assert record["key"] == parameter.key and record["label"] and record["help"]


def test_docs_table_is_generated_from_the_declarations() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "persona.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- parameters:persona:start -->\n(.*?)<!-- parameters:persona:end -->", docs, re.S)
    assert match is not None, "docs/persona.md lost its <!-- parameters:persona:start/end --> markers"
    assert match.group(1) == markdown_table(declared.PARAMETERS), (
        "docs/persona.md's settings table differs from asara/models/persona/parameters.py: replace the "
        "lines between the markers with the output of `asara persona parameters --markdown`"
    )


def test_parameters_command() -> None:
    from typer.testing import CliRunner

    from asara.cli.main import app

    runner = CliRunner()
    result = runner.invoke(app, ["persona", "parameters", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [json.loads(json.dumps(p.to_dict())) for p in declared.PARAMETERS]
    narrow = runner.invoke(app, ["persona", "parameters"], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0 and all(p.key in narrow.output for p in declared.PARAMETERS)
    assert max(len(line) for line in narrow.output.splitlines()) <= 80
