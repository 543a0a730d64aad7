"""The persona planner for a scenario: its ``[optimize]`` menu, corpus, weights and evaluation set, passed
to :func:`asara.models.persona.plan.plan`. ``asara persona plan`` and ``asara corpus plan`` both call it."""

from __future__ import annotations

from asara.errors import InputError
from asara.models.persona.optimize import MenuItem
from asara.models.persona.plan import OBJECTIVES, Objective, PlanResult, plan
from asara.scenarios.persona import PersonaScenario


def plan_scenario(scenario: PersonaScenario, target: float, objective: str) -> PlanResult:
    """How many documents of each menu kind bring ``objective`` below ``target`` at least cost."""
    if objective not in OBJECTIVES:
        raise InputError(f"must be one of {', '.join(OBJECTIVES)} (got {objective!r})", field="objective")
    if scenario.optimize is None:
        raise InputError("this scenario has no [optimize] menu of document kinds", field="optimize")
    chosen: Objective = objective  # checked against OBJECTIVES above
    menu = [
        MenuItem(entry.label(i), entry.document(1.0), entry.cost)
        for i, entry in enumerate(scenario.optimize.menu)
    ]
    return plan(
        scenario.population(),
        scenario.document_list(),
        menu,
        target,
        chosen,
        scenario.evidence_weights(),
        scenario.evaluation_contexts(),
        scenario.evaluation_weights(),
        scenario.noise,
        scenario.fiction_diagnosticity,
    )
