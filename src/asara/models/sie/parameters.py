"""Every setting of the SIE model, declared once (see :mod:`asara.models.registry`).

The order matters: the four core inputs come first and, with every setting that has an ``input``, give the
engine's parameter columns in this order (``COLUMNS``). Adding a setting means one declaration here plus
the engine line that reads it.
"""

from __future__ import annotations

from asara.models.registry import Parameter, Slider, by_input, by_key, columns, explanation_groups

INF = float("inf")

PARAMETERS: tuple[Parameter, ...] = (
    # The paper's four uncertain inputs (always distributions; neutral: the paper's).
    Parameter(
        "inputs.speedup",
        "distribution",
        {"kind": "log-uniform", "low": 2, "high": 32},
        "initial speed-up f",
        "Initial speed-up f of software progress at ASARA.",
        unit="x",
        low=0.0,
        low_open=True,
        group="speedup distribution",
        input="speedup",
        slider=Slider(1, 100, log=True),
    ),
    Parameter(
        "inputs.returns",
        "distribution",
        {"kind": "log-uniform", "low": 0.4, "high": 3.6},
        "returns to software R&D r\u2080",
        "Returns to software R&D r0 at ASARA; they fall linearly to 0 at the effective limit.",
        low=0.0,
        low_open=True,
        group="returns (r0) distribution",
        input="returns",
        slider=Slider(0.1, 10, log=True),
    ),
    Parameter(
        "inputs.limit_years",
        "distribution",
        {"kind": "uniform", "low": 6, "high": 16},
        "distance to the limit (years of progress)",
        "Distance to the effective limit, in years of recent AI progress.",
        unit="years",
        low=0.0,
        low_open=True,
        group="distance-to-limit distribution",
        input="limit_years",
        slider=Slider(1, 40),
    ),
    Parameter(
        "inputs.parallel_penalty",
        "distribution",
        {"kind": "log-uniform", "low": 0.15, "high": 0.6},
        "parallel penalty p",
        "Penalty p for parallel work (lambda * alpha).",
        low=0.0,
        low_open=True,
        group="parallel-penalty distribution",
        input="parallel_penalty",
        slider=Slider(0.05, 1, log=True),
    ),
    # Settings of the paper's model.
    Parameter(
        "software_share",
        "number",
        0.5,
        "software share of progress s",
        "Share of recent AI progress that came from software; a year of progress is 4/s doublings.",
        low=0.0,
        high=1.0,
        low_open=True,
        group="software share",
        slider=Slider(0.1, 1),
    ),
    Parameter(
        "horizon_months",
        "number",
        48.0,
        "horizon (months after ASARA)",
        "Simulated time after ASARA (after the end of the ramp, when there is one).",
        unit="months",
        low=0.0,
        low_open=True,
        group="horizon",
        slider=Slider(6, 120, integer=True),
    ),
    Parameter(
        "recent_doubling_months",
        "number",
        3.0,
        "software doubling time before ASARA (months)",
        "Software doubling time before ASARA.",
        unit="months",
        low=0.0,
        low_open=True,
        group="recent doubling time",
        slider=Slider(0.5, 12, log=True),
    ),
    Parameter(
        "constant_r",
        "switch",
        False,
        "constant r",
        "Returns stay at r0 until the ceiling instead of falling linearly to 0.",
        group="constant r",
    ),
    Parameter(
        "retraining",
        "choice",
        "none",
        "retraining cost",
        "Retraining cost: 'paper' damps the exponent to x/(1 + c|x|), 'reference' uses x/|x+1|.",
        choices=("none", "paper", "reference"),
        group="retraining",
        extension="continual_learning",
        switches_off=True,
    ),
    Parameter(
        "initial_doubling",
        "choice",
        "speedup",
        "first doubling",
        "First doubling time after ASARA: 3/f months ('speedup', the paper's Monte Carlo) "
        "or 3/(1+f) ('pace').",
        choices=("speedup", "pace"),
        group="first doubling time",
    ),
    # Pre-ASARA ramp.
    Parameter(
        "ramp.shape",
        "choice",
        "none",
        "pre-ASARA ramp",
        "Pre-ASARA acceleration: the speed-up ramps up to f ('none': a step at ASARA).",
        choices=("none", "step", "linear", "exponential", "logistic"),
        group="pre-ASARA ramp",
        extension="ramp",
        switches_off=True,
    ),
    Parameter(
        "ramp.months",
        "number",
        60.0,
        "ramp length (months)",
        "Length of the ramp.",
        unit="months",
        low=0.0,
        low_open=True,
        group="pre-ASARA ramp",
        input="ramp_months",
        extension="ramp",
        slider=Slider(6, 240),
        bounds_note="a ramp cannot end before it starts",
    ),
    Parameter(
        "ramp.lead_months",
        "number",
        None,
        "ramp start before ASARA (months)",
        "How long before ASARA the ramp starts (unset: the ramp's length, so it ends at ASARA).",
        unit="months",
        low=0.0,
        group="pre-ASARA ramp",
        input="ramp_lead_months",
        extension="ramp",
        slider=Slider(1, 240),
        optional=True,
    ),
    Parameter(
        "ramp.start_speedup",
        "number",
        0.1,
        "ramp starting speed-up",
        "Speed-up at the start of the ramp.",
        unit="x",
        low=0.0,
        low_open=True,
        group="pre-ASARA ramp",
        input="ramp_start_speedup",
        extension="ramp",
        slider=Slider(0.01, 10),
    ),
    Parameter(
        "ramp.horizon_includes_ramp",
        "switch",
        False,
        "horizon includes the ramp",
        "If true (the reference code), the horizon counts from the start of the ramp, not from ASARA.",
        group="pre-ASARA ramp",
        extension="ramp",
    ),
    # Compute growth after ASARA.
    Parameter(
        "compute.growth_per_year",
        "number",
        1.0,
        "compute growth per year (\u00d7)",
        "Factor by which experiment and training compute grow per year after ASARA (1: fixed, the paper).",
        unit="x per year",
        low=0.0,
        low_open=True,
        group="compute growth",
        input="compute_growth_per_year",
        extension="compute",
        switches_off=True,
        slider=Slider(1, 20),
    ),
    Parameter(
        "compute.halving_years",
        "number",
        INF,
        "compute growth halving time (years)",
        "Years over which the growth rate of compute halves (inf: it never slows).",
        unit="years",
        low=0.0,
        low_open=True,
        group="compute growth",
        input="compute_growth_halving_years",
        extension="compute",
        infinite=True,
    ),
    Parameter(
        "compute.labour_share",
        "number",
        0.5,
        "labour share of research",
        "alpha: elasticity of research input to cognitive labour at ASARA (r_comp = r (1 - alpha) / alpha).",
        low=0.0,
        high=1.0,
        low_open=True,
        group="compute growth",
        input="labour_share",
        extension="compute",
        slider=Slider(0.01, 1),
    ),
    Parameter(
        "compute.labour_exponent",
        "number",
        0.0,
        "compute-labour exponent",
        "gamma: AI labour grows as software x compute^(1 + gamma).",
        low=-1.0,
        group="compute growth",
        input="compute_labour_exponent",
        extension="compute",
    ),
    # Compute bottlenecks.
    Parameter(
        "bottlenecks.substitution_elasticity",
        "number",
        1.0,
        "substitution elasticity (labour vs compute)",
        "sigma: elasticity of substitution between labour and compute (1: Cobb-Douglas, the paper).",
        low=0.0,
        low_open=True,
        group="compute bottlenecks",
        input="substitution_elasticity",
        extension="bottlenecks",
        switches_off=True,
        slider=Slider(0.05, 10),
    ),
    # Continual learning (with retraining on).
    Parameter(
        "continual_learning.retraining_fraction",
        "number",
        1.0,
        "retraining fraction \u03c6",
        "phi: share of improvements that need a new training run (0: full continual learning).",
        low=0.0,
        high=1.0,
        group="retraining",
        input="retraining_fraction",
        extension="continual_learning",
        slider=Slider(0.01, 1),
    ),
    Parameter(
        "continual_learning.training_months",
        "number",
        3.0,
        "training run length (months)",
        "Length of a training run at ASARA; c = phi * training_months / recent_doubling_months.",
        unit="months",
        low=0.0,
        low_open=True,
        group="retraining",
        input="training_months",
        extension="continual_learning",
        slider=Slider(0.25, 24),
    ),
    # Data as its own input.
    Parameter(
        "data.share",
        "number",
        0.0,
        "data share of progress",
        "Share of software progress that comes from data rather than algorithms (0: the paper).",
        low=0.0,
        high=1.0,
        high_open=True,
        group="data",
        input="data_share",
        extension="data",
        switches_off=True,
        slider=Slider(0.01, 0.95),
    ),
    Parameter(
        "data.returns",
        "number",
        1.0,
        "returns to data",
        "Returns to AI labour in producing data (each doubling of labour doubles data this many times).",
        low=0.0,
        low_open=True,
        group="data",
        input="data_returns",
        extension="data",
        slider=Slider(0.1, 10),
    ),
    Parameter(
        "data.stock_years",
        "number",
        INF,
        "data stock (years of progress)",
        "Years of progress' worth of data doublings that can be found or made at all (inf: unbounded).",
        unit="years",
        low=0.0,
        low_open=True,
        group="data",
        input="data_stock_years",
        extension="data",
        infinite=True,
    ),
)

PARAMETERS_BY_KEY: dict[str, Parameter] = by_key(PARAMETERS)
PARAMETERS_BY_INPUT: dict[str, Parameter] = by_input(PARAMETERS)

CORE_INPUTS: tuple[str, ...] = tuple(p.input for p in PARAMETERS if p.type == "distribution" and p.input)
"""The paper's four uncertain inputs, in engine-column order."""

COLUMNS: dict[str, int] = columns(PARAMETERS)
"""Per-sample input name -> column of the engine's parameter matrix."""

OPTION_INPUTS: tuple[str, ...] = tuple(name for name in COLUMNS if name not in CORE_INPUTS)
"""Extension settings that may be uncertain (each is fixed by the options unless sampled)."""

EXPLANATION_ORDER: tuple[str, ...] = (
    "speedup distribution",
    "returns (r0) distribution",
    "distance-to-limit distribution",
    "parallel-penalty distribution",
    "pre-ASARA ramp",
    "retraining",
    "constant r",
    "horizon",
    "software share",
    "recent doubling time",
    "first doubling time",
    "compute growth",
    "compute bottlenecks",
    "data",
)
"""The order in which explanations list the groups. It also fixes which common random numbers an input
that only scenario B has draws, so it is kept as it was; a new group needs no entry (unlisted groups
follow in declaration order)."""

EXPLANATION_GROUPS: dict[str, list[str]] = explanation_groups(PARAMETERS, EXPLANATION_ORDER)
"""Group label -> the scenario keys (or whole sections) whose changes explanations attribute together."""


def set_help() -> str:
    """The ``--set`` option's help: what it does and every key it may set."""
    sections: dict[str | None, list[str]] = {}
    for parameter in PARAMETERS:
        sections.setdefault(parameter.section, []).append(parameter.name)
    keys = [
        *sections.pop(None, []),
        *(f"{section}.{{{', '.join(names)}}}" for section, names in sections.items()),
    ]
    return (
        "Override one scenario value by dotted key, e.g. inputs.returns.high=5 or ramp.shape=linear "
        f"(repeatable). Settings: {'; '.join(keys)}; `asara sie parameters` explains each."
    )
