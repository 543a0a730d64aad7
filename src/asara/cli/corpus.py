"""``asara corpus ...``: from a corpus spec through a model to a checked, deduplicated manifest whose
evidence the persona model weighs. Thin: parse, call asara.corpus, print."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from asara.cli.common import JsonOption, dask_option, out_option, print_presets, seed_option, workers_option
from asara.cli.progress import LazyProgress
from asara.corpus import spec as corpus_spec
from asara.corpus.costs import load_prices
from asara.corpus.folder import CorpusFolder
from asara.corpus.prompts import GenerationParams
from asara.errors import InputError

T = TypeVar("T")

corpus_app = typer.Typer(
    help="Training material: spec -> prompts -> model -> checks -> dedup -> manifest -> evidence.",
    no_args_is_help=True,
)

DirArgument = Annotated[Path, typer.Argument(help="The corpus folder.")]
PricesOption = Annotated[
    Path | None,
    typer.Option("--prices", help="Price table TOML (default: DIR/prices.toml when present)."),
]
BaseUrlOption = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.")
]
ModelOption = Annotated[str | None, typer.Option("--model", help="Model name sent in every request.")]
ApiKeyEnvOption = Annotated[
    str,
    typer.Option("--api-key-env", help="Environment variable holding the API key (never written anywhere)."),
]
ConcurrencyOption = Annotated[int, typer.Option("--concurrency", help="Requests in flight at once (1-256).")]
TimeoutOption = Annotated[float, typer.Option("--timeout", help="Seconds per request before it is retried.")]
RetriesOption = Annotated[
    int, typer.Option("--max-retries", help="Retries per request (0-20) before it fails.")
]
WorkersOption = Annotated[
    int | None,
    workers_option("Local worker processes (default: one per core; 1 runs in this process).", short=False),
]
DaskOption = Annotated[
    str | None,
    dask_option(
        "Run on the Dask cluster at this scheduler address (the corpus folder must be on a filesystem "
        "its workers share)."
    ),
]
MAX_CONCURRENCY = 256


def _workers(folder: CorpusFolder, workers: int | None) -> int | None:
    """Worker processes for a chunked stage: one plan chunk is one task, so a single chunk runs here."""
    if workers is not None and workers < 1:
        raise InputError(f"must be at least 1 (got {workers})", field="--workers")
    return 1 if workers is None and folder.chunks == 1 else workers


def _chunked_stage(
    folder: CorpusFolder,
    name: str,
    workers: int | None,
    dask: str | None,
    json_output: bool,
    prices: Path | None,
    work: Callable[[Callable[[int, int], None], Any], T],
) -> T:
    """Run a stage over plan chunks on local workers or a Dask cluster with a progress bar, then rebuild
    the manifest so it shows the stage's results."""
    from asara.sie import open_executor

    with (
        open_executor(_workers(folder, workers) if dask is None else workers, dask) as executor,
        LazyProgress(name, enabled=not json_output) as progress,
    ):
        result = work(progress.update, executor)
    _rebuild_manifest(folder, prices, quiet=True)
    return result


MAX_RETRIES = 20


def _console() -> Console:
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=160)
    return out


def _prices_path(folder: CorpusFolder, prices: Path | None) -> Path | None:
    if prices is not None:
        if not prices.is_file():
            raise InputError(f"no such file: {prices}", field="--prices")
        return prices
    return folder.path / "prices.toml"


def _rebuild_manifest(folder: CorpusFolder, prices: Path | None, quiet: bool) -> Path:
    from asara.corpus.manifest import build_manifest

    table = load_prices(_prices_path(folder, prices))
    with LazyProgress("manifest", enabled=not quiet) as progress:
        return build_manifest(folder, table, progress.update)


def client_settings(
    base_url: str | None, api_key_env: str, concurrency: int, timeout: float, max_retries: int
) -> Any:
    """The OpenAI-compatible client's settings, checked here so bad flags fail before any request."""
    if not base_url:
        raise InputError("is required with the openai backend", field="--base-url")
    if not base_url.startswith(("http://", "https://")):
        raise InputError(f"must start with http:// or https:// (got {base_url!r})", field="--base-url")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InputError(
            f"must be between 1 and {MAX_CONCURRENCY} (got {concurrency})", field="--concurrency"
        )
    if not (math.isfinite(timeout) and 0 < timeout <= 3600):
        raise InputError(f"must be in (0, 3600] seconds (got {timeout})", field="--timeout")
    if not 0 <= max_retries <= MAX_RETRIES:
        raise InputError(f"must be between 0 and {MAX_RETRIES} (got {max_retries})", field="--max-retries")
    from asara.corpus.pipeline import _network_module

    backend = _network_module("backends.openai")
    settings = backend.ClientSettings(
        base_url=base_url,
        api_key_env=api_key_env,
        concurrency=concurrency,
        timeout=timeout,
        max_retries=max_retries,
    )
    # One GET of {base}/models first: a closed port, a host that does not resolve or a server that is not
    # OpenAI-compatible fails here in seconds, not after every request's retries.
    backend.check_server(settings)
    return settings


@corpus_app.command("presets")
def presets_command(json_output: JsonOption = False) -> None:
    """List the shipped corpus specs, one line each."""
    print_presets("corpus", json_output)


@corpus_app.command("new")
def new_command(
    directory: DirArgument,
    spec: Annotated[
        str,
        typer.Option("--spec", help="Corpus spec: preset name (see `asara corpus presets`) or TOML path."),
    ],
    documents: Annotated[
        int, typer.Option("--documents", help=f"Number of documents (1 to {corpus_spec.MAX_DOCUMENTS:,}).")
    ],
    seed: Annotated[int, seed_option("Seed: the same seed gives the same document specs.", short=False)] = 0,
) -> None:
    """Expand a corpus spec into N document specs (DIR/plan.parquet), deterministic for the seed."""
    loaded = corpus_spec.load_spec(spec)
    corpus_spec.check_document_count(documents)
    corpus_spec.check_seed(seed)
    with LazyProgress("plan") as progress:
        folder, created = CorpusFolder.create(directory, loaded, documents, seed, progress.update)
    if created or not (directory / "manifest.parquet").is_file():
        _rebuild_manifest(folder, None, quiet=True)  # status works from the start: every document planned
    verb = "Planned" if created else "Already planned"
    typer.echo(
        f"{verb} {folder.documents:,} documents of {loaded.name} in {directory} "
        f"({folder.corpus_id}, seed {seed})"
    )


@corpus_app.command("generate")
def generate_command(
    directory: DirArgument,
    backend: Annotated[
        str, typer.Option("--backend", help="template (offline, not training material) or openai.")
    ] = "template",
    base_url: BaseUrlOption = None,
    model: ModelOption = None,
    api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY",
    concurrency: ConcurrencyOption = 8,
    timeout: TimeoutOption = 60.0,
    max_retries: RetriesOption = 6,
    temperature: Annotated[float, typer.Option("--temperature", help="Sampling temperature (0-2).")] = 0.8,
    prices: PricesOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Generate every planned document not yet stored (resumable: stored responses are never re-sent)."""
    from asara.corpus import pipeline

    folder = CorpusFolder.open(directory)
    if backend == "template":
        with LazyProgress("template", enabled=not quiet) as progress:
            summary = pipeline.generate_template(folder, progress.update)
    elif backend == "openai":
        if not model:
            raise InputError("is required with the openai backend", field="--model")
        params = GenerationParams(model=model, temperature=temperature)
        params.check()
        settings = client_settings(base_url, api_key_env, concurrency, timeout, max_retries)
        try:
            with LazyProgress(model, enabled=not quiet) as progress:
                summary = pipeline.generate_openai(folder, params, settings, progress.update)
        except InputError:
            # The run ended early (no server, every request failed, ...): what was stored stays stored,
            # and the manifest shows it before the error is reported.
            _rebuild_manifest(folder, prices, quiet=True)
            raise
    else:
        raise InputError(f"must be template or openai (got {backend!r})", field="--backend")
    _rebuild_manifest(folder, prices, quiet)
    typer.echo(
        f"{summary.stored:,} responses stored, {summary.already_stored:,} already stored, "
        f"{summary.failed:,} failed (run generate again to retry them); "
        f"manifest: {directory / 'manifest.parquet'}"
    )
    if summary.failed and summary.stored == 0 and summary.already_stored == 0:
        raise InputError(f"every request failed ({summary.failed:,}); nothing was stored", field="generate")


@corpus_app.command("export")
def export_command(
    directory: DirArgument,
    fmt: Annotated[str, typer.Option("--format", help="openai-batch or anthropic-batch.")],
    out: Annotated[Path, out_option("The JSONL file to write (split at the provider's limits).")],
    model: ModelOption = None,
    temperature: Annotated[float, typer.Option("--temperature", help="Sampling temperature (0-2).")] = 0.8,
) -> None:
    """Write the provider's batch request file(s) for every request whose response is not stored."""
    from asara.corpus import pipeline

    if fmt not in ("openai-batch", "anthropic-batch"):
        raise InputError(f"must be openai-batch or anthropic-batch (got {fmt!r})", field="--format")
    folder = CorpusFolder.open(directory)
    params = GenerationParams(model=model, temperature=temperature) if model else None
    paths = pipeline.export_batches(folder, fmt, out, params)
    _rebuild_manifest(folder, None, quiet=True)  # the manifest follows the exported model's requests
    if params is not None:
        typer.echo(
            f"note: {model} is now this corpus's active generation: status, check, dedupe and evidence read "
            "its responses (`generate --model` with another model switches back)",
            err=True,
        )
    for path in paths:
        typer.echo(str(path))
    if not paths:
        typer.echo("every response is already stored: nothing to export")


@corpus_app.command("import")
def import_command(
    directory: DirArgument,
    results: Annotated[Path, typer.Argument(help="A provider's results JSONL file.")],
    prices: PricesOption = None,
) -> None:
    """Store the successful lines of a provider's batch results file (either format, any order)."""
    from asara.corpus import pipeline

    folder = CorpusFolder.open(directory)
    if not results.is_file():
        raise InputError(f"no such file: {results}", field="FILE")
    try:
        summary = pipeline.import_batch(folder, results)
    except InputError:
        # a refused line (another corpus's, malformed, ...): the lines stored before it stay stored, and
        # the manifest shows them before the error is reported
        _rebuild_manifest(folder, prices, quiet=True)
        raise
    _rebuild_manifest(folder, prices, quiet=True)
    counts = summary.to_json() if hasattr(summary, "to_json") else vars(summary)
    typer.echo(json.dumps(counts, default=str))


@corpus_app.command("check")
def check_command(
    directory: DirArgument,
    judge_base_url: Annotated[
        str | None, typer.Option("--judge-base-url", help="OpenAI-compatible server for the LLM judge.")
    ] = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model", help="Judge model name.")] = None,
    api_key_env: ApiKeyEnvOption = "OPENAI_API_KEY",
    concurrency: ConcurrencyOption = 8,
    timeout: TimeoutOption = 60.0,
    max_retries: RetriesOption = 6,
    prices: PricesOption = None,
    workers: WorkersOption = None,
    dask: DaskOption = None,
    json_output: JsonOption = False,
) -> None:
    """Cheap checks on every generated document and, optionally, an LLM judge; disagreements are flagged.

    The checks: length against the spec, placeholders, refusals and meta-text, the AI taking the turn when
    the spec says it never does, the year and the years in production mentioned."""
    from asara.corpus import pipeline

    folder = CorpusFolder.open(directory)
    judge = None
    if judge_base_url or judge_model:
        if not (judge_base_url and judge_model):
            raise InputError("--judge-base-url and --judge-model go together", field="--judge-model")
        settings = client_settings(judge_base_url, api_key_env, concurrency, timeout, max_retries)
        judge = pipeline.JudgeSettings(model=judge_model, client=settings)
    counts = _chunked_stage(
        folder, "check", workers, dask, json_output, prices,
        lambda progress, executor: pipeline.run_checks(folder, judge, progress, executor),
    )  # fmt: skip
    if json_output:
        typer.echo(json.dumps(counts, indent=2))
        return
    typer.echo(
        f"checked {counts['checked']:,} documents: {counts['flagged']:,} flagged"
        + (f"; judged {counts['judged']:,}, judge failed on {counts['judge_failed']:,}" if judge else "")
    )


@corpus_app.command("dedupe")
def dedupe_command(
    directory: DirArgument,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            help="Jaccard similarity of word 5-grams above which documents are near-duplicates (0.5-1).",
        ),
    ] = 0.8,
    prices: PricesOption = None,
    workers: WorkersOption = None,
    dask: DaskOption = None,
    json_output: JsonOption = False,
) -> None:
    """Exact and near-duplicate clusters (MinHash LSH), and name and trigram frequency tables."""
    from asara.corpus import pipeline

    folder = CorpusFolder.open(directory)
    if not (math.isfinite(threshold) and 0.5 <= threshold <= 1):
        raise InputError(f"must lie in [0.5, 1] (got {threshold})", field="--threshold")
    report = _chunked_stage(
        folder, "dedupe", workers, dask, json_output, prices,
        lambda progress, executor: pipeline.run_dedupe(folder, threshold, progress, executor),
    )  # fmt: skip
    if json_output:
        typer.echo(json.dumps(report, indent=2))
        return
    out = _console()
    out.print(
        f"{report['documents']:,} documents: {report['exact_duplicates']:,} exact duplicates, "
        f"{report['clusters']:,} near-duplicate clusters holding {report['documents_in_clusters']:,} "
        f"documents, {report['duplicates']:,} dropped (threshold {threshold:g}; "
        f"{report['bands']} bands x {report['rows']} rows)"
    )
    for title, key in (
        ("most frequent names (documents)", "names"),
        ("most frequent word trigrams (sampled documents)", "trigrams"),
    ):
        table = Table(title=title)
        table.add_column(key[:-1])
        table.add_column("documents", justify="right")
        table.add_column("share", justify="right")
        for entry in report[key][:10]:
            table.add_row(escape(entry["key"]), f"{entry['documents']:,}", f"{entry['share']:.3f}")
        out.print(table)
    out.print(f"Full report: {directory / 'dedupe.json'}")


@corpus_app.command("manifest")
def manifest_command(directory: DirArgument, prices: PricesOption = None) -> None:
    """Rebuild DIR/manifest.parquet and the text shards from everything stored."""
    folder = CorpusFolder.open(directory)
    path = _rebuild_manifest(folder, prices, quiet=False)
    typer.echo(str(path))


@corpus_app.command("status")
def status_command(directory: DirArgument, json_output: JsonOption = False) -> None:
    """Counts by stage and status, tokens and cost (from the manifest)."""
    from asara.corpus.manifest import status

    folder = CorpusFolder.open(directory)
    result = status(folder).to_dict()
    if json_output:
        typer.echo(json.dumps(result, indent=2, allow_nan=False))
        return
    table = Table(title=escape(f"{folder.meta['name']} ({folder.corpus_id})"))
    table.add_column("stage")
    table.add_column("documents", justify="right")
    for key in ("planned", "generated", "failed", "checked", "flagged", "duplicates", "kept"):
        table.add_row(key, f"{result[key]:,}")
    table.add_row("prompt tokens", f"{result['prompt_tokens']:,}")
    table.add_row("completion tokens", f"{result['completion_tokens']:,}")
    table.add_row(
        "cost", "unknown (a model lacks a price)" if result["cost"] is None else f"{result['cost']:.2f}"
    )
    _console().print(table)


PersonaOption = Annotated[
    str | None,
    typer.Option(
        "--persona", help="Persona scenario (preset or TOML) whose population and weights are used."
    ),
]


def _estimate_text(entry: dict[str, Any], never: str = "never") -> str:
    def fmt(value: float | None) -> str:
        return never if value is None else f"{value:.4g}"

    text = fmt(entry["estimate"])
    if entry["interval"] is not None:
        low, high = entry["interval"]
        if low != high or entry["estimate"] != low:
            text += f"  [{fmt(low)}, {fmt(high)}]"
    return text


@corpus_app.command("evidence")
def evidence_command(
    directory: DirArgument,
    persona: PersonaOption = None,
    with_scenario_documents: Annotated[
        bool,
        typer.Option(
            "--with-scenario-documents",
            help="Count the persona scenario's own documents as already seen (the 'before' state).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """What the kept documents do to the persona prior, with intervals over the evidence weights.

    Misaligned share before and after, odds ratio, half-life and residual."""
    from asara.cli.persona import load_warned
    from asara.corpus.evidence import DEFAULT_PERSONA, corpus_evidence

    folder = CorpusFolder.open(directory)
    scenario = load_warned(persona or DEFAULT_PERSONA, None)  # says where weights leave the calibration
    report = corpus_evidence(folder, scenario, with_scenario_documents).to_dict()
    if json_output:
        typer.echo(json.dumps(report, indent=2, allow_nan=False))
        return
    out = _console()
    table = Table(
        title=escape(
            f"{report['documents']:,} kept documents of {folder.meta['name']} "
            f"({report['judged_documents']:,} judged) under persona scenario {report['persona_scenario']}"
        )
    )
    table.add_column("quantity")
    table.add_column(escape("estimate [interval over the weights]"), justify="right", no_wrap=True)
    table.add_row("misaligned share before", _estimate_text(report["misaligned_share_before"]))
    table.add_row("misaligned share after", _estimate_text(report["misaligned_share_after"]))
    table.add_row("odds ratio (after / before)", _estimate_text(report["odds_ratio"]))
    table.add_row("half-life (further documents of this mix)", _estimate_text(report["half_life"]))
    table.add_row("residual (share no amount of this mix removes)", _estimate_text(report["residual"]))
    out.print(table)
    weights = ", ".join(
        f"{stage} {w['value']:.3g}"
        + (f" [{w['interval'][0]:.3g}, {w['interval'][1]:.3g}]" if w["interval"] else "")
        for stage, w in report["evidence_weights"].items()
    )
    out.print(escape(f"evidence weights ({report['evidence_weights']['pretraining']['source']}): {weights}"))


@corpus_app.command("plan")
def plan_command(
    directory: DirArgument,
    target: Annotated[float, typer.Option("--target", help="Misaligned share to get below (0-1).")] = 0.05,
    persona: PersonaOption = None,
    objective: Annotated[
        str,
        typer.Option("--objective", help="share, residual or misbehaviour (passed to the persona planner)."),
    ] = "share",
    json_output: JsonOption = False,
) -> None:
    """How many documents bring the misaligned share below a target.

    Of this corpus's mix scaled up (computed here), and of which of its kinds, how many (the persona
    planner, `asara persona plan`, with the corpus's kinds as its menu)."""
    from asara.cli.persona import load_warned, print_plan
    from asara.corpus.evidence import DEFAULT_PERSONA
    from asara.corpus.plan import kinds_menu, persona_planner, plan_mix
    from asara.scenarios.persona import OptimizeSpec

    if objective not in ("share", "residual", "misbehaviour"):
        raise InputError(f"must be share, residual or misbehaviour (got {objective!r})", field="--objective")
    folder = CorpusFolder.open(directory)
    scenario = load_warned(persona or DEFAULT_PERSONA, None)  # says where weights leave the calibration
    mix = plan_mix(folder, scenario, target)
    budget = scenario.optimize.budget if scenario.optimize else OptimizeSpec.model_fields["budget"].default
    # the corpus's kinds against the scenario's prior, as `corpus evidence` weighs them (the scenario's own
    # documents are not a baseline here either)
    with_menu = scenario.model_copy(
        update={"optimize": OptimizeSpec(budget=budget, menu=kinds_menu(folder)), "documents": []}
    )
    planned = persona_planner()(with_menu, target=target, objective=objective)
    record = {**mix.to_dict(), "persona_scenario": scenario.name, "objective": objective}
    record["planner"] = planned.to_dict()
    if json_output:
        typer.echo(json.dumps(record, indent=2, allow_nan=False))
        return
    needed = mix.to_dict()["mix_documents_needed"]
    typer.echo(
        f"documents of this corpus's mix to bring the misaligned share to {target:g} "
        f"(persona scenario {scenario.name}): {_estimate_text(needed, never='never (below the residual)')}"
    )
    print_plan(f"{scenario.name} with this corpus's kinds", objective, target, planned, unit="tokens")
    if not planned.feasible and needed["estimate"] is not None:
        typer.echo(
            "note: the planner stands each kind in for its mean document (mean years, rounded "
            "opportunities), which can miss the long spans of a kind's longest documents; the mix line "
            "above weighs every kept document"
        )
