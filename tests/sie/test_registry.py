"""The SIE settings are declared once (asara.models.sie.parameters) and everything else is derived from the
declarations: the scenario schema and its bounds, the engine's columns, SieOptions, the extensions, the
explanation groups, the CLI listing and the docs table."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from asara.analysis.sie_explain import SIE_GROUPS
from asara.cli.main import app
from asara.errors import InputError
from asara.models.registry import Parameter, columns, explanation_groups, markdown_table
from asara.models.sie import engine
from asara.models.sie.engine import PER_SAMPLE_OPTIONS, SieOptions, simulate
from asara.models.sie.parameters import (
    COLUMNS,
    CORE_INPUTS,
    OPTION_INPUTS,
    PARAMETERS,
    PARAMETERS_BY_KEY,
)
from asara.montecarlo.sampling import sample_inputs
from asara.scenarios.loader import validate_document
from asara.scenarios.sie import SieScenario
from asara.scenarios.sie_extensions import EXTENSIONS

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

NUMERIC = [p for p in PARAMETERS if p.type in ("number", "integer", "distribution")]
BOUNDED = [p for p in NUMERIC if p.low is not None or p.high is not None]


def document_with(key: str, value: Any) -> dict[str, Any]:
    """A scenario document that sets one dotted key."""
    *sections, name = key.split(".")
    document: dict[str, Any] = {name: value}
    for section in reversed(sections):
        document = {section: document}
    return document


def refusal(key: str, value: Any) -> str | None:
    """The error the schema gives for ``key = value`` when it is about ``key`` (None: accepted, or refused
    for another reason such as the run's ceiling)."""
    try:
        validate_document(SieScenario, document_with(key, value))
    except InputError as error:
        if error.field == key or (error.field or "").startswith(key + "."):
            return str(error)
    return None


def as_value(parameter: Parameter, number: float) -> Any:
    """``number`` as the setting takes it: a fixed distribution for a setting that is always one."""
    return {"kind": "fixed", "value": number} if parameter.type == "distribution" else number


def just_inside_and_outside(parameter: Parameter) -> list[tuple[float, float]]:
    """(just inside, just outside) pairs at each finite bound."""
    pairs = []
    if parameter.low is not None:
        low = parameter.low
        inside = math.nextafter(low, math.inf) if parameter.low_open else low
        outside = low if parameter.low_open else math.nextafter(low, -math.inf)
        pairs.append((inside, outside))
    if parameter.high is not None:
        high = parameter.high
        inside = math.nextafter(high, -math.inf) if parameter.high_open else high
        outside = high if parameter.high_open else math.nextafter(high, math.inf)
        pairs.append((inside, outside))
    return pairs


def within(parameter: Parameter, lowest: float, highest: float) -> bool:
    """The oracle: whether values from ``lowest`` to ``highest`` lie within the declared bounds."""
    if parameter.low is not None and not (
        lowest > parameter.low if parameter.low_open else lowest >= parameter.low
    ):
        return False
    return parameter.high is None or (
        highest < parameter.high if parameter.high_open else highest <= parameter.high
    )


# --- bounds -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("parameter", BOUNDED, ids=[p.key for p in BOUNDED])
def test_a_value_just_inside_a_bound_is_accepted_and_just_outside_refused(parameter: Parameter) -> None:
    for inside, outside in just_inside_and_outside(parameter):
        assert refusal(parameter.key, as_value(parameter, inside)) is None, (parameter.key, inside)
        message = refusal(parameter.key, as_value(parameter, outside))
        assert message is not None, (parameter.key, outside)
        assert parameter.bounds_note in message
        assert "must" in message


@pytest.mark.parametrize("parameter", [p for p in BOUNDED if p.uncertain], ids=lambda p: p.key)
def test_a_distribution_that_reaches_past_a_bound_is_refused(parameter: Parameter) -> None:
    for inside, outside in just_inside_and_outside(parameter):
        # A uniform distribution from the inside value inwards is accepted; one reaching past the bound not.
        step = 0.5 if parameter.high is None or inside < parameter.high else -0.5
        low, high = sorted((inside, inside + step))
        if within(parameter, low, high):
            accepted = {"kind": "uniform", "low": low, "high": high}
            assert refusal(parameter.key, accepted) is None, (parameter.key, accepted)
        low, high = sorted((outside, outside + step))
        refused = {"kind": "uniform", "low": low, "high": high}
        assert refusal(parameter.key, refused) is not None, (parameter.key, refused)


@settings(max_examples=150, deadline=None)
@given(
    parameter=st.sampled_from([p for p in NUMERIC if p.type == "number"]),
    value=st.floats(allow_nan=True, allow_infinity=True),
)
def test_fuzzed_numbers_are_accepted_exactly_when_within_bounds(parameter: Parameter, value: float) -> None:
    expected = (
        not math.isnan(value)
        and (math.isfinite(value) or parameter.infinite)
        and within(parameter, value, value)
    )
    try:
        validate_document(SieScenario, document_with(parameter.key, value))
        accepted = True
    except InputError as error:
        accepted = not (error.field or "").startswith(parameter.key)  # refused for the ceiling: not this key
    assert accepted == expected, (parameter.key, value)


@pytest.mark.parametrize("parameter", [p for p in NUMERIC if p.type == "number"], ids=lambda p: p.key)
def test_infinity_only_where_declared_and_nan_never(parameter: Parameter) -> None:
    assert (refusal(parameter.key, math.inf) is None) == parameter.infinite
    assert refusal(parameter.key, math.nan) is not None
    assert refusal(parameter.key, "48") is not None  # strict: a number must be written as a number
    if parameter.infinite:  # the JSON spelling that to_document writes reads back as inf
        scenario = validate_document(SieScenario, document_with(parameter.key, "Infinity"))
        document = scenario.to_document()
        *sections, name = parameter.key.split(".")
        for section in sections:
            document = document[section]
        assert document[name] == "Infinity"


@pytest.mark.parametrize("parameter", [p for p in PARAMETERS if p.type == "choice"], ids=lambda p: p.key)
def test_choices_are_exactly_the_declared_ones(parameter: Parameter) -> None:
    for choice in parameter.choices:
        assert refusal(parameter.key, choice) is None
    assert refusal(parameter.key, "zigzag") is not None


@pytest.mark.parametrize("parameter", [p for p in PARAMETERS if p.type == "switch"], ids=lambda p: p.key)
def test_switches_take_booleans_only(parameter: Parameter) -> None:
    assert refusal(parameter.key, True) is None and refusal(parameter.key, False) is None
    assert refusal(parameter.key, "yes") is not None and refusal(parameter.key, 1) is not None


def test_every_neutral_value_is_within_its_own_bounds_and_the_schema_default() -> None:
    defaults = SieScenario().to_document()
    for parameter in PARAMETERS:
        node: Any = defaults
        for part in parameter.key.split("."):
            node = node[part]
        expected = parameter.neutral
        if isinstance(expected, float) and math.isinf(expected):
            expected = "Infinity"
        if parameter.type == "distribution":
            assert node == {k: float(v) if isinstance(v, int) else v for k, v in expected.items()}
        else:
            assert node == expected, parameter.key
        if isinstance(parameter.neutral, float):
            assert parameter.check(parameter.neutral, parameter.neutral) is None


# --- engine columns and options -----------------------------------------------------------------------------


def test_every_input_has_its_own_engine_column() -> None:
    inputs = [p.input for p in PARAMETERS if p.input is not None]
    assert set(inputs) == set(COLUMNS) == {*CORE_INPUTS, *OPTION_INPUTS}
    assert sorted(COLUMNS.values()) == list(range(engine.N_PARAMETERS))
    assert engine.INPUT_NAMES == CORE_INPUTS == ("speedup", "returns", "limit_years", "parallel_penalty")
    assert {name: COLUMNS[name] for name in OPTION_INPUTS} == PER_SAMPLE_OPTIONS
    # The kernel's named columns are the declared ones (today's numbering).
    named = {
        "P_SPEEDUP": "speedup",
        "P_RETURNS": "returns",
        "P_LIMIT": "limit_years",
        "P_PENALTY": "parallel_penalty",
        "P_RAMP_MONTHS": "ramp_months",
        "P_RAMP_LEAD": "ramp_lead_months",
        "P_RAMP_START": "ramp_start_speedup",
        "P_COMPUTE_GROWTH": "compute_growth_per_year",
        "P_COMPUTE_HALVING": "compute_growth_halving_years",
        "P_LABOUR_SHARE": "labour_share",
        "P_COMPUTE_LABOUR": "compute_labour_exponent",
        "P_ELASTICITY": "substitution_elasticity",
        "P_RETRAIN_FRACTION": "retraining_fraction",
        "P_TRAINING_MONTHS": "training_months",
        "P_DATA_SHARE": "data_share",
        "P_DATA_RETURNS": "data_returns",
        "P_DATA_STOCK": "data_stock_years",
    }
    assert {constant: getattr(engine, constant) for constant in named} == {
        constant: COLUMNS[name] for constant, name in named.items()
    }
    assert list(COLUMNS.values()) == list(range(17))  # the numbering of the hand-written constants


def test_the_engine_knows_every_declared_choice() -> None:
    assert set(get_args(engine.Retraining)) == set(PARAMETERS_BY_KEY["retraining"].choices)
    assert set(engine._RETRAINING_CODES) == set(PARAMETERS_BY_KEY["retraining"].choices)
    assert set(get_args(engine.RampShape)) == set(PARAMETERS_BY_KEY["ramp.shape"].choices)
    assert set(engine._RAMP_CODES) == set(PARAMETERS_BY_KEY["ramp.shape"].choices)
    assert set(get_args(engine.InitialDoubling)) == set(PARAMETERS_BY_KEY["initial_doubling"].choices)


def test_cached_kernels_are_recompiled_when_the_columns_change() -> None:
    # The compiled code in use was made with today's column numbers ...
    assert engine._compiled_layout() == engine.COLUMN_LAYOUT
    assert not engine._refresh_stale_kernels()

    # ... and a cache made with other numbers (a declaration inserted since) is recompiled before use.
    class Kernel:
        def __init__(self, layout: int) -> None:
            self.layout, self.recompiled = layout, 0

        def __call__(self) -> int:
            return self.layout

        def recompile(self) -> None:
            self.recompiled += 1

    probe, kernel = Kernel(engine.COLUMN_LAYOUT), Kernel(0)
    assert not engine._refresh_stale_kernels(probe, (kernel,))
    assert (probe.recompiled, kernel.recompiled) == (0, 0)
    assert engine._refresh_stale_kernels(probe, (kernel,), expected=engine.COLUMN_LAYOUT + 1)
    assert (probe.recompiled, kernel.recompiled) == (1, 1)


def test_options_are_built_from_the_declarations() -> None:
    options = SieOptions(ramp="linear", ramp_months=24.0)
    assert options.ramp_months == 24.0 and options.lead_months == 24.0
    for name in OPTION_INPUTS:
        parameter = next(p for p in PARAMETERS if p.input == name)
        assert getattr(SieOptions(), name) == parameter.neutral
    assert options == SieOptions(ramp="linear", ramp_months=24.0)
    assert hash(options) == hash(SieOptions(ramp="linear", ramp_months=24.0))
    assert options != SieOptions(ramp="linear")
    assert pickle.loads(pickle.dumps(options)) == options
    assert dataclasses.replace(options, software_share=0.4).ramp_months == 24.0
    assert dataclasses.replace(options, ramp_months=12.0).ramp_months == 12.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.ramp_months = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="no setting 'ramp_lenght'"):
        SieOptions(ramp_lenght=3.0)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        _ = options.ramp_lenght
    assert "ramp_months=24.0" in repr(options)


def test_neutral_values_reproduce_the_paper_bit_for_bit() -> None:
    scenario = SieScenario()
    x = sample_inputs(scenario.distributions(), scenario.input_names(), 3, 0, 20_000)
    core = [x[name] for name in CORE_INPUTS]
    paper = simulate(*core)
    # Every extension setting passed per sample at its declared neutral value (the unset lead excepted).
    neutral = {
        name: np.full(20_000, PARAMETERS_BY_KEY[p.key].neutral)
        for p in PARAMETERS
        if (name := p.input) in OPTION_INPUTS and p.neutral is not None
    }
    explicit = simulate(*core, per_sample=neutral)
    for field in ("max_doublings", "doublings", "end_months", "end_reason", "final_returns"):
        np.testing.assert_array_equal(getattr(paper, field), getattr(explicit, field))
    # A scenario that writes every declared setting at its neutral value is the paper's scenario.
    document: dict[str, Any] = {}
    for p in PARAMETERS:
        if p.neutral is None:
            continue
        node = document
        *sections, name = p.key.split(".")
        for section in sections:
            node = node.setdefault(section, {})
        node[name] = p.neutral
    written = validate_document(SieScenario, document)
    assert written.options() == scenario.options() == SieOptions()
    assert written.input_names() == scenario.input_names()


# --- derived tables -----------------------------------------------------------------------------------------


def test_explanation_groups_are_those_of_before_the_registry() -> None:
    before = {
        "speedup distribution": ["inputs.speedup"],
        "returns (r0) distribution": ["inputs.returns"],
        "distance-to-limit distribution": ["inputs.limit_years"],
        "parallel-penalty distribution": ["inputs.parallel_penalty"],
        "pre-ASARA ramp": ["ramp"],
        "retraining": ["retraining", "continual_learning"],
        "constant r": ["constant_r"],
        "horizon": ["horizon_months"],
        "software share": ["software_share"],
        "recent doubling time": ["recent_doubling_months"],
        "first doubling time": ["initial_doubling"],
        "compute growth": ["compute"],
        "compute bottlenecks": ["bottlenecks"],
        "data": ["data"],
        "correlations": ["correlations"],
    }
    # In the same order too: it fixes which random numbers an input that only B has draws.
    assert list(SIE_GROUPS.items()) == list(before.items())


def test_explanation_groups_collapse_only_whole_sections() -> None:
    made_up = [
        Parameter("a.x", "number", 1.0, "x", "x", group="one"),
        Parameter("a.y", "number", 1.0, "y", "y", group="two"),
        Parameter("b.z", "number", 1.0, "z", "z", group="one"),
        Parameter("top", "switch", False, "t", "t", group="two"),
    ]
    assert explanation_groups(made_up) == {"one": ["a.x", "b"], "two": ["a.y", "top"]}
    assert list(explanation_groups(made_up, ["two"])) == ["two", "one"]
    with pytest.raises(ValueError, match="three"):
        explanation_groups(made_up, ["three"])


def test_extensions_are_read_from_the_declarations() -> None:
    by_name = {e.name: e for e in EXTENSIONS}
    assert {name: e.neutral for name, e in by_name.items()} == {
        "data": ("data.share=0",),
        "ramp": ("ramp.shape=none",),
        "compute": ("compute.growth_per_year=1",),
        "bottlenecks": ("bottlenecks.substitution_elasticity=1",),
        "continual_learning": ("retraining=none",),
        "correlations": ("correlations=[]",),
    }
    for extension in EXTENSIONS:
        assert list(extension.parameters) == [p.key for p in PARAMETERS if p.extension == extension.name]
    assert {p.extension for p in PARAMETERS if p.extension} <= set(by_name)


def test_extensions_json_shape() -> None:
    result = runner.invoke(app, ["sie", "extensions", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    for record in records:
        assert set(record) == {"name", "description", "neutral", "preset", "parameters"}
        assert all(key in PARAMETERS_BY_KEY for key in record["parameters"])
    assert next(r for r in records if r["name"] == "ramp")["parameters"][0] == "ramp.shape"


def test_parameters_command() -> None:
    result = runner.invoke(app, ["sie", "parameters", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert records == [json.loads(json.dumps(p.to_dict())) for p in PARAMETERS]
    assert [r["key"] for r in records] == [p.key for p in PARAMETERS]
    halving = next(r for r in records if r["key"] == "compute.halving_years")
    assert halving["neutral"] == "Infinity" and halving["bounds"] == "(0, inf]" and halving["infinite"]
    assert {
        "key", "type", "neutral", "label", "help", "unit", "low", "high", "bounds", "group", "input",
        "choices", "extension", "slider", "infinite", "optional",
    } <= set(records[0])  # fmt: skip
    markdown = runner.invoke(app, ["sie", "parameters", "--markdown"])
    assert markdown.exit_code == 0 and markdown.output == markdown_table(PARAMETERS)
    table = runner.invoke(app, ["sie", "parameters"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and all(p.key in table.output for p in PARAMETERS)
    narrow = runner.invoke(app, ["sie", "parameters"], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0 and all(p.label in narrow.output.replace("\n    ", " ") for p in PARAMETERS)
    assert max(len(line) for line in narrow.output.splitlines()) <= 80
    both = runner.invoke(app, ["sie", "parameters", "--json", "--markdown"])
    assert isinstance(both.exception, InputError) and "not both" in str(both.exception)


def test_set_help_lists_every_settable_key() -> None:
    from asara.models.sie.parameters import set_help

    text = set_help()
    for parameter in PARAMETERS:
        assert parameter.name in text
    assert "asara sie parameters" in text


def test_docs_table_is_generated_from_the_declarations() -> None:
    docs = (ROOT / "docs" / "sie.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- parameters:sie:start -->\n(.*?)<!-- parameters:sie:end -->", docs, flags=re.S)
    assert match is not None, "docs/sie.md lost its <!-- parameters:sie:start/end --> markers"
    assert match.group(1) == markdown_table(PARAMETERS), (
        "docs/sie.md's settings table differs from the declarations in asara/models/sie/parameters.py: "
        "replace the lines between the markers with the output of `asara sie parameters --markdown`"
    )


# --- a new declaration --------------------------------------------------------------------------------------


def test_appending_a_declaration_keeps_every_column() -> None:
    extra = Parameter(
        "data.quality", "number", 1.0, "data quality", "A made-up setting.", input="data_quality"
    )
    extended = columns((*PARAMETERS, extra))
    assert {name: extended[name] for name in COLUMNS} == COLUMNS
    assert extended["data_quality"] == len(COLUMNS)


def test_a_new_declaration_needs_no_other_edit() -> None:
    """One declaration appended to PARAMETERS (before the other modules load): the schema, its bounds, the
    options, the engine's columns, the extension and the explanation group all have it."""
    script = textwrap.dedent(
        """
        import asara.models.sie.parameters as P
        from asara.models import registry

        extra = registry.Parameter(
            "data.quality", "number", 1.0, "data quality", "A made-up setting.", low=0.0, low_open=True,
            group="data", input="data_quality", extension="data",
        )
        P.PARAMETERS = (*P.PARAMETERS, extra)
        P.PARAMETERS_BY_KEY = registry.by_key(P.PARAMETERS)
        P.PARAMETERS_BY_INPUT = registry.by_input(P.PARAMETERS)
        P.COLUMNS = registry.columns(P.PARAMETERS)
        P.OPTION_INPUTS = tuple(name for name in P.COLUMNS if name not in P.CORE_INPUTS)
        P.EXPLANATION_GROUPS = registry.explanation_groups(P.PARAMETERS, P.EXPLANATION_ORDER)

        from asara.analysis.sie_explain import SIE_GROUPS
        from asara.errors import InputError
        from asara.models.sie import engine
        from asara.scenarios.loader import validate_document
        from asara.scenarios.sie import SieScenario
        from asara.scenarios.sie_extensions import EXTENSIONS

        assert engine.N_PARAMETERS == 18 and engine.PER_SAMPLE_OPTIONS["data_quality"] == 17
        assert engine.SieOptions().data_quality == 1.0
        assert engine.SieOptions(data_quality=2.0).data_quality == 2.0
        scenario = validate_document(SieScenario, {"data": {"quality": 2.0}})
        assert scenario.data.quality == 2.0 and scenario.options().data_quality == 2.0
        assert scenario.to_document()["data"]["quality"] == 2.0
        try:
            validate_document(SieScenario, {"data": {"quality": -1.0}})
        except InputError as error:
            assert error.field == "data.quality" and "must be > 0" in str(error), error
        else:
            raise AssertionError("a value out of the declared bounds was accepted")
        uncertain = validate_document(
            SieScenario, {"data": {"quality": {"kind": "uniform", "low": 1.0, "high": 2.0}}}
        )
        assert uncertain.input_names()[-1] == "data_quality"
        assert uncertain.model().run(
            {name: [1.0] * 3 for name in ("speedup", "returns", "limit_years", "parallel_penalty")}
            | {"data_quality": [1.5] * 3}
        ).doublings.shape == (3,)
        assert [e for e in EXTENSIONS if e.name == "data"][0].parameters[-1] == "data.quality"
        assert SIE_GROUPS["data"] == ["data"]
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_the_recursion_switches_are_the_declared_ones() -> None:
    """The kernel skips an extension's code when its switch sits at the declared neutral value: the
    switches the engine checks are the declared ones (compute growth 1, elasticity 1, data share 0)."""
    from asara.models.sie import engine

    assert set(engine.RECURSION_SWITCHES) == {
        (engine.P_COMPUTE_GROWTH, 1.0),
        (engine.P_ELASTICITY, 1.0),
        (engine.P_DATA_SHARE, 0.0),
    }
