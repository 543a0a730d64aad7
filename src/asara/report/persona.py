"""The persona model's run record (the JSON of ``asara persona run --json``) for figures and the web page;
:func:`asara.persona.run` computes it."""

from __future__ import annotations

from typing import Any

from asara import persona
from asara.persona import evidence_weights_record, point_inputs, run_result
from asara.scenarios.persona import PersonaScenario

__all__ = ["evidence_weights_record", "point_inputs", "run", "run_record", "run_result"]


def run(scenario: PersonaScenario) -> dict[str, Any]:
    """Analyze a validated persona scenario: the same record as ``asara persona run --json``."""
    return persona.run(scenario).to_dict()


def run_record(source: str) -> dict[str, Any]:
    """A preset name or TOML path, analyzed."""
    return persona.run(source).to_dict()
