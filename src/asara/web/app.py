"""The web playground: a JSON API over the library and one static page. No model code lives here.

Hardening: bodies are read with a byte limit (413), parsed as strict JSON (NaN and Infinity are rejected),
validated against request schemas that forbid unknown fields and coerce no types (422), scenario strings
name presets only (never files), samples are capped (configurable), a request's worst-case work
(evaluations x the scenario's most doublings per run) is capped (422), each computation runs in a worker
thread under a deadline (the Monte Carlo run checks it after every chunk of ``chunk_size`` samples and
stops; 503 when it passes), and at most ``concurrency`` computations run at once. Every
:class:`InputError` becomes a 400 with its message. The Host header and the POST content type are
checked before any route runs, and every error body is ``{"error": ...}`` (see ``asara.web.security``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import json
import math
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

import tomli_w
from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.background import BackgroundTask

from asara import __version__, sie
from asara.errors import InputError
from asara.models.sie.parameters import PARAMETERS as SIE_PARAMETERS
from asara.models.sie.parameters import PARAMETERS_BY_INPUT as SIE_PARAMETERS_BY_INPUT
from asara.scenarios.loader import list_presets, read_document, validate_document
from asara.scenarios.sie import SieScenario, worst_case_doublings
from asara.web.memory import release_memory
from asara.web.security import RequestGuard, error_response, install_error_handlers

STATIC = resources.files("asara.web").joinpath("static")
MAX_SEED = 2**63 - 1
STATIC_CACHE = "public, max-age=3600"
"""Cache-Control for the page's own script and style (short: they change with the package)."""
PLOTLY_CACHE = "public, max-age=86400"
"""Cache-Control for plotly.min.js (4.8 MB; it changes only when the plotly package does)."""

INPUT_LABELS: dict[str, str] = {name: p.label for name, p in SIE_PARAMETERS_BY_INPUT.items()}
"""Plain names for the model's uncertain inputs (the sensitivity answer's ``input_labels``): the declared
labels, which the page's sliders show too (it reads them from ``GET /api/sie/parameters``)."""


@dataclass(frozen=True)
class WebSettings:
    max_samples: int = 1_000_000
    """Largest ``samples`` a run request may ask for."""
    max_download_samples: int = 200_000
    """Largest ``samples`` for a CSV or Parquet download (the file holds one row per sample)."""
    max_explain_evaluations: int = 4_000_000
    """Bound on samples x 2^changes for an explanation (every subset of the changes is evaluated)."""
    max_sensitivity_samples: int = 8192
    """Largest Sobol' design (base points; the model runs N x (inputs + 2) times) or Morris trajectories."""
    max_body_bytes: int = 64 * 1024
    timeout_seconds: float = 30.0
    """Per-request bound on computing time."""
    concurrency: int = 2
    """Computations allowed at once; further requests wait (and count against their deadline)."""
    workers: int | None = None
    """Threads per Monte Carlo run (default: one per core)."""
    chunk_size: int = 8192
    """Samples per chunk: the time limit is checked between chunks (results do not depend on it)."""
    max_work: float = 4e9
    """Bound on evaluations x the scenario's most doublings per run (N = 4/s x limit_years), the
    worst-case number of model steps a request may ask for (about 10 to 30 s of computing)."""
    allowed_hosts: tuple[str, ...] | None = None
    """Host header names answered (DNS rebinding); None answers any (tests, behind a proxy)."""
    any_ip_host: bool = False
    """Also answer Host headers that are IP literals (a server bound to 0.0.0.0 or ::)."""


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class DeadlineExceeded(Exception):
    pass


_STRICT = ConfigDict(extra="forbid", strict=True)


class SieRunRequest(BaseModel):
    model_config = _STRICT
    scenario: str | dict[str, Any] = "paper-baseline"
    samples: int = Field(100_000, ge=1)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class SieSamplesRequest(SieRunRequest):
    format: Literal["csv", "parquet"] = "csv"
    samples: int = Field(10_000, ge=1)


class SieScenarioRequest(BaseModel):
    model_config = _STRICT
    scenario: str | dict[str, Any] = "paper-baseline"


class SieTomlRequest(SieScenarioRequest):
    samples: int | None = Field(None, ge=1)
    """Recorded in the file's first lines (with ``seed``) as the command that reproduces the run."""
    seed: int | None = Field(None, ge=0, le=MAX_SEED)


class SieExplainRequest(BaseModel):
    model_config = _STRICT
    baseline: str | dict[str, Any] = "paper-baseline"
    scenario: str | dict[str, Any]
    samples: int = Field(20_000, ge=1)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class SieSensitivityRequest(BaseModel):
    model_config = _STRICT
    scenario: str | dict[str, Any] = "paper-baseline"
    method: Literal["sobol", "morris"] = "sobol"
    samples: int = Field(1024, ge=2)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class SiePairedRequest(SieRunRequest):
    reference: str | dict[str, Any] = "paper-baseline"


class SieTakeoffRequest(BaseModel):
    model_config = _STRICT
    scenario: str | dict[str, Any] = "paper-baseline"
    seed: int = Field(0, ge=0, le=MAX_SEED)
    runs: int = Field(500, ge=1, le=2000)
    shown: int = Field(12, ge=0, le=50)


class PersonaRunRequest(BaseModel):
    model_config = _STRICT
    scenario: str | dict[str, Any]


RequestT = TypeVar("RequestT", bound=BaseModel)


def _reject_constant(name: str) -> Any:
    raise ApiError(400, f"{name} is not allowed in JSON; numbers must be finite")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 overflows to infinity
        raise ApiError(400, f"{text} is out of range; numbers must be finite")
    return value


async def read_json(request: Request, schema: type[RequestT], limit: int) -> RequestT:
    """The request body, size-limited, parsed strictly and validated against ``schema``."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise ApiError(413, f"request body larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"request body larger than {limit} bytes")
    try:
        data = json.loads(
            bytes(body).decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"the body is not valid JSON: {error}") from None
    except ValueError as error:  # an integer literal longer than Python converts (4,300 digits)
        raise ApiError(400, f"the body has a number out of range: {error}") from None
    except RecursionError:
        raise ApiError(400, "the body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(422, "the body must be a JSON object")
    try:
        return schema.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise ApiError(422, message, field) from None


def _preset_names(model: str) -> list[str]:
    return [preset.name for preset in list_presets(model)]


def sie_scenario(value: str | dict[str, Any], field: str = "scenario") -> SieScenario:
    """A preset name (never a path: the server reads no file a client names) or a scenario object."""
    if isinstance(value, str):
        if value not in _preset_names("sie"):
            raise InputError(f"unknown preset {value!r} (presets: {', '.join(_preset_names('sie'))})", field)
        return sie.load(value)
    try:
        return validate_document(SieScenario, value)
    except InputError as error:
        raise InputError(error.message, f"{field}.{error.field}" if error.field else field) from None
    except RecursionError:
        raise InputError("nested too deeply", field) from None


def persona_scenario(value: str | dict[str, Any]) -> Any:
    from asara.scenarios import persona as persona_scenarios
    from asara.scenarios.persona import PersonaScenario

    if isinstance(value, str):
        if value not in _preset_names("persona"):
            names = ", ".join(_preset_names("persona"))
            raise InputError(f"unknown preset {value!r} (presets: {names})", "scenario")
        return persona_scenarios.load(value)
    try:
        return validate_document(PersonaScenario, value)
    except InputError as error:
        raise InputError(error.message, f"scenario.{error.field}" if error.field else "scenario") from None


def _finite_json(data: Any) -> Any:
    """JSON has no NaN or infinity: such values become null (the CLI never prints them either)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: _finite_json(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite_json(value) for value in data]
    return data


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The FastAPI application (``asara web`` serves it with uvicorn)."""
    config = settings or WebSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load the compiled kernels once, so the first visitor does not wait for them.
        await asyncio.to_thread(sie.run, "paper-baseline", 2048, 0, workers=config.workers)
        await asyncio.to_thread(_plotly_gzip)  # compressed before the first visitor asks for it
        yield

    app = FastAPI(
        title="asara playground",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    # The page's plotly.min.js is 4.8 MB; compressed it is about a third of that.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(RequestGuard, allowed_hosts=config.allowed_hosts, wildcard=config.any_ip_host)
    install_error_handlers(app)
    gate = threading.BoundedSemaphore(config.concurrency)

    async def compute(work: Callable[[Callable[[int, int], None]], Any]) -> Any:
        """Run ``work(check)`` in a thread under the deadline; ``check`` raises once the deadline passes."""
        deadline = time.monotonic() + config.timeout_seconds
        cancelled = threading.Event()

        def check(done: int = 0, total: int = 0) -> None:
            if cancelled.is_set() or time.monotonic() > deadline:
                raise DeadlineExceeded

        def guarded() -> Any:
            if not gate.acquire(timeout=max(0.0, deadline - time.monotonic())):
                raise DeadlineExceeded
            try:
                check()
                return work(check)
            finally:
                gate.release()
                release_memory()

        try:
            return await asyncio.wait_for(asyncio.to_thread(guarded), timeout=config.timeout_seconds + 1.0)
        except (DeadlineExceeded, TimeoutError):
            cancelled.set()
            raise ApiError(
                503,
                f"the computation took longer than {config.timeout_seconds:g} s (this server's limit) and "
                "was stopped, or waited that long for a free slot; ask for fewer samples, or try again later",
            ) from None

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> Response:
        return error_response(error.status, error.message, error.field)

    @app.exception_handler(InputError)
    async def _input_error(request: Request, error: InputError) -> Response:
        return error_response(400, error.message, error.field)

    def check_work(scenario: SieScenario, evaluations: int, field: str = "samples") -> None:
        """Refuse a request whose worst case (every run going all the way to the limit) is too much."""
        work = evaluations * worst_case_doublings(scenario)
        if work > config.max_work:
            raise ApiError(
                422,
                f"{evaluations:,} model runs of up to {worst_case_doublings(scenario):,.0f} doublings each "
                f"could need {work:.3g} steps; this server allows {config.max_work:.3g} (ask for fewer "
                "samples, or a larger software_share or smaller limit_years)",
                field,
            )

    def check_samples(samples: int, limit: int, field: str = "samples") -> None:
        if samples > limit:
            raise ApiError(422, f"at most {limit:,} samples on this server (got {samples:,})", field)

    # ------------------------------------------------------------------ page and assets

    @app.get("/", include_in_schema=False)
    async def index() -> Response:
        return Response(STATIC.joinpath("index.html").read_bytes(), media_type="text/html; charset=utf-8")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str, request: Request) -> Response:
        types = {"app.js": "text/javascript", "app.css": "text/css"}
        if name == "plotly.min.js":
            if "gzip" in request.headers.get("accept-encoding", ""):
                # Compressed once per process: gzipping 4.8 MB per request costs a quarter second of CPU.
                return Response(
                    _plotly_gzip(),
                    media_type="text/javascript",
                    headers={
                        "Cache-Control": PLOTLY_CACHE,
                        "Content-Encoding": "gzip",
                        "Vary": "Accept-Encoding",
                    },
                )
            return FileResponse(
                plotly_js(), media_type="text/javascript", headers={"Cache-Control": PLOTLY_CACHE}
            )
        if name not in types:
            raise ApiError(404, "not found")
        return Response(
            STATIC.joinpath(name).read_bytes(),
            media_type=f"{types[name]}; charset=utf-8",
            headers={"Cache-Control": STATIC_CACHE},
        )

    # ------------------------------------------------------------------ SIE

    @app.get("/api/sie/presets")
    async def sie_presets() -> list[dict[str, str]]:
        return [{"name": p.name, "description": p.description} for p in list_presets("sie")]

    @app.get("/api/sie/presets/{name}")
    async def sie_preset(name: str) -> Any:
        """The preset's fully resolved scenario object (what the page's controls edit)."""
        return _finite_json(sie_scenario(name).to_document()) | {"name": name}

    @app.get("/api/sie/parameters")
    async def sie_parameters() -> dict[str, Any]:
        """Every setting of the SIE model as declared (label, unit, help, bounds, slider range, ...)."""
        return {"model": "sie", "parameters": [p.to_dict() for p in SIE_PARAMETERS]}

    @app.get("/api/limits")
    async def limits() -> dict[str, Any]:
        return {
            "max_samples": config.max_samples,
            "max_download_samples": config.max_download_samples,
            "max_explain_evaluations": config.max_explain_evaluations,
            "max_sensitivity_samples": config.max_sensitivity_samples,
            "timeout_seconds": config.timeout_seconds,
            "version": __version__,
        }

    @app.post("/api/sie/run")
    async def sie_run(request: Request) -> Any:
        """The JSON of ``asara sie run --json`` for ``{"scenario", "samples", "seed"}``."""
        body = await read_json(request, SieRunRequest, config.max_body_bytes)
        check_samples(body.samples, config.max_samples)
        scenario = sie_scenario(body.scenario)
        check_work(scenario, body.samples)

        def work(check: Callable[[int, int], None]) -> Any:
            started = time.perf_counter()
            summary = sie.run(
                scenario,
                body.samples,
                body.seed,
                workers=config.workers,
                chunk_size=config.chunk_size,
                on_progress=check,
            )
            return summary.to_dict(), time.perf_counter() - started

        record, elapsed = await compute(work)
        return JSONResponse(_finite_json(record), headers={"X-Compute-Seconds": f"{elapsed:.4f}"})

    @app.post("/api/sie/toml")
    async def sie_toml(request: Request) -> Response:
        """The scenario as a TOML file that ``asara sie run FILE.toml`` reads back.

        Its first lines are comments naming the command that reproduces the page's run, with ``--samples``
        and ``--seed`` when the request gives them (both are optional: older clients send neither)."""
        body = await read_json(request, SieTomlRequest, config.max_body_bytes)
        scenario = sie_scenario(body.scenario)
        filename = f"{_safe_name(scenario.name)}.toml"
        command = f"asara sie run {filename}"
        if body.samples is not None:
            command += f" --samples {body.samples}"
        if body.seed is not None:
            command += f" --seed {body.seed}"
        header = (
            f"# Written by the asara {__version__} playground. The same run from the command line:\n"
            f"# {command}\n\n"
        )
        text = header + tomli_w.dumps(
            _without_none(scenario.model_dump())  # Python values: infinite settings become TOML's inf
        )
        return Response(
            text,
            media_type="application/toml; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @app.post("/api/sie/samples")
    async def sie_samples(request: Request) -> Response:
        """One row per sample (inputs, per-window doublings, end reason, cell indicators), CSV or Parquet."""
        body = await read_json(request, SieSamplesRequest, config.max_body_bytes)
        check_samples(body.samples, config.max_download_samples)
        scenario = sie_scenario(body.scenario)
        check_work(scenario, body.samples)
        directory = Path(tempfile.mkdtemp(prefix="asara-web-"))

        def work(check: Callable[[int, int], None]) -> Path:
            sie.run(
                scenario,
                body.samples,
                body.seed,
                workers=config.workers,
                chunk_size=config.chunk_size,
                out_dir=directory,
                on_progress=check,
            )
            parquet = directory / "samples.parquet"
            if body.format == "parquet":
                return parquet
            import pyarrow.csv as pacsv
            import pyarrow.parquet as pq

            csv = directory / "samples.csv"
            pacsv.write_csv(_readable_end_reasons(pq.read_table(parquet)), csv)
            return csv

        try:
            path = await compute(work)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        media = "text/csv" if body.format == "csv" else "application/vnd.apache.parquet"
        return FileResponse(
            path,
            media_type=media,
            filename=f"{_safe_name(scenario.name)}-seed{body.seed}-n{body.samples}.{body.format}",
            background=BackgroundTask(shutil.rmtree, directory, ignore_errors=True),
        )

    @app.post("/api/sie/explain")
    async def sie_explain(request: Request) -> Any:
        """The JSON of ``asara sie explain --json``: B = ``scenario`` against A = ``baseline``."""
        body = await read_json(request, SieExplainRequest, config.max_body_bytes)
        baseline = sie_scenario(body.baseline, "baseline")
        changed = sie_scenario(body.scenario)
        changes = sie.explanation_changes(baseline, changed)
        cost = body.samples * 2 ** len(changes)
        check_work(changed, cost)
        check_work(baseline, cost, "baseline")
        if cost > config.max_explain_evaluations:
            raise ApiError(
                422,
                f"{len(changes)} changed groups x {body.samples:,} samples needs {cost:,} evaluations; "
                f"this server allows {config.max_explain_evaluations:,}",
                "samples",
            )

        def work(check: Callable[[int, int], None]) -> Any:
            # ``check`` (the request's time limit) runs between the subsets of the changes.
            return sie.explain(baseline, changed, body.samples, body.seed, on_progress=check).to_record()

        return _finite_json(await compute(work))

    @app.post("/api/sie/sensitivity")
    async def sie_sensitivity(request: Request) -> Any:
        """``{"method", "labels", "outputs", ...}``: ``outputs`` is what ``sie sensitivity --json`` prints."""
        body = await read_json(request, SieSensitivityRequest, config.max_body_bytes)
        check_samples(body.samples, config.max_sensitivity_samples)
        scenario = sie_scenario(body.scenario)
        check_work(scenario, body.samples * (len(scenario.input_names()) + 2))

        def work(check: Callable[[int, int], None]) -> Any:
            result = sie.sensitivity(scenario, body.method, body.samples, body.seed, on_progress=check)
            input_labels = {name: INPUT_LABELS.get(name, name) for name in scenario.input_names()}
            return result.to_record() | {"input_labels": input_labels}

        return _finite_json(await compute(work))

    @app.post("/api/sie/paired")
    async def sie_paired(request: Request) -> Any:
        """Each cell of ``scenario`` minus ``reference`` on common random numbers, with the paired SE."""
        body = await read_json(request, SiePairedRequest, config.max_body_bytes)
        check_samples(body.samples, config.max_samples)
        reference, scenario = sie_scenario(body.reference, "reference"), sie_scenario(body.scenario)
        result = await compute(
            lambda check: sie.paired(reference, scenario, body.samples, body.seed, on_progress=check)
        )
        return _finite_json(result.to_dict())

    @app.post("/api/sie/takeoff")
    async def sie_takeoff(request: Request) -> Any:
        """Years of progress against months since ASARA: sample runs and quantile bands."""
        from asara.analysis.sie_takeoff import takeoff

        body = await read_json(request, SieTakeoffRequest, config.max_body_bytes)
        scenario = sie_scenario(body.scenario)
        shown = min(body.shown, body.runs)
        return _finite_json(
            await compute(lambda check: takeoff(scenario, body.seed, body.runs, shown, on_progress=check))
        )

    # ------------------------------------------------------------------ persona

    @app.get("/api/persona/presets")
    async def persona_presets() -> list[dict[str, str]]:
        return [{"name": p.name, "description": p.description} for p in list_presets("persona")]

    @app.get("/api/persona/presets/{name}")
    async def persona_preset(name: str) -> Any:
        if name not in _preset_names("persona"):
            raise InputError(f"unknown preset {name!r}", "scenario")
        return _finite_json(read_document("persona", name))

    @app.get("/api/persona/parameters")
    async def persona_parameters() -> dict[str, Any]:
        """Every scalar setting and uncertain input of the persona model as declared."""
        from asara.models.persona.parameters import PARAMETERS as PERSONA_PARAMETERS

        return {"model": "persona", "parameters": [p.to_dict() for p in PERSONA_PARAMETERS]}

    @app.post("/api/persona/run")
    async def persona_run(request: Request) -> Any:
        """The JSON of ``asara persona run --json``."""
        from asara import persona

        body = await read_json(request, PersonaRunRequest, config.max_body_bytes)
        scenario = persona_scenario(body.scenario)
        return _finite_json(await compute(lambda check: persona.run(scenario).to_dict()))

    return app


def _readable_end_reasons(table: Any) -> Any:
    """The table with ``end_reason`` as words (horizon, ceiling, overflow) rather than the Parquet codes."""
    import pyarrow as pa

    from asara.models.sie import END_REASONS

    if "end_reason" not in table.column_names:  # pragma: no cover - every run writes it
        return table
    index = table.column_names.index("end_reason")
    codes = table.column(index).to_pylist()
    words = pa.array([END_REASONS.get(code, str(code)) for code in codes], type=pa.string())
    return table.set_column(index, "end_reason", words)


def _without_none(document: dict[str, Any]) -> dict[str, Any]:
    """TOML has no null: an unset optional setting (None) is left out, which reads back as unset."""
    return {
        key: _without_none(value) if isinstance(value, dict) else value
        for key, value in document.items()
        if value is not None
    }


def _safe_name(name: str) -> str:
    # ASCII only: a header must be Latin-1, and a file name travels best as ASCII.
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in name)[:60]
    return cleaned or "scenario"


@functools.cache
def _plotly_gzip() -> bytes:
    return gzip.compress(plotly_js().read_bytes(), compresslevel=6)


def plotly_js() -> Path:
    """plotly.js as shipped inside the plotly Python package (served locally; the page needs no network)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():  # pragma: no cover - a broken plotly install
        raise ApiError(500, "plotly.min.js is missing from the plotly package")
    return path
