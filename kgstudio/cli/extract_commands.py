"""``kgstudio extract PROJECT`` (chunks to candidate triples with an LLM) and ``kgstudio build FOLDER -o OUT.ttl``.

Ctrl+C stops an extraction within a second; what was answered is kept, and
running the same command again resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import Any

from kgstudio.cli.terminal_progress import TerminalProgress
from kgstudio.errors import KgstudioError
from kgstudio.pipeline.extract import (
    Estimate,
    ExtractionReport,
    ExtractionSettings,
    estimate_extraction,
    make_backend,
    measure_speed,
    run_extraction,
)
from kgstudio.progress import CancelToken
from kgstudio.settings import Settings
from kgstudio.store import Project


def register(commands: Any) -> None:
    extract = commands.add_parser(
        "extract", help="extract candidate triples from the imported documents with a local LLM",
        description="Send every chunk not extracted yet to the model and add what it finds as candidate "
        "triples (to review, accept or reject). Answers are cached: re-running on unchanged input asks "
        "the model nothing, and an interrupted run resumes.",
    )
    extract.add_argument("project")
    _model_arguments(extract)
    extract.add_argument("--limit", type=int, metavar="N", help="only the first N chunks")
    extract.add_argument("--estimate", action="store_true",
                         help="only say what a run would do: chunks, tokens and time at this model's speed here")
    extract.add_argument("--json", action="store_true", help="print machine-readable JSON")
    extract.set_defaults(handler=run_extract_command)

    build = commands.add_parser(
        "build", help="import a folder, extract with the embedded model and write Turtle, in one go",
        description="Creates (or updates) the project OUT.kgs next to OUT, imports FOLDER recursively, "
        "computes seed concepts, extracts candidate triples and exports them with their provenance.",
    )
    build.add_argument("folder", type=Path)
    build.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.ttl")
    _model_arguments(build)
    build.add_argument("--limit", type=int, metavar="N", help="extract from only the first N chunks")
    build.set_defaults(handler=run_build_command)


def _model_arguments(command: Any) -> None:
    command.add_argument("--model", type=Path, metavar="GGUF", help="a GGUF model file (default: your default model)")
    command.add_argument("--server", metavar="URL", help="an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    command.add_argument("--server-model", metavar="NAME", help="the model name the server should use")
    command.add_argument("--concurrency", type=int, default=2, metavar="N",
                         help="requests in flight at once on a server (default 2)")
    command.add_argument("--server-timeout", type=float, default=120.0, metavar="SECONDS",
                         help="how long a server may stay silent before the request is retried (default 120); "
                         "after a few failed tries the run pauses, and running it again resumes")
    command.add_argument("--no-contracts", dest="contracts", action="store_false",
                         help="do not check the ontology contracts (kgstudio.pipeline.contracts) on each triple")
    command.add_argument("--contract-retries", type=int, default=1, metavar="N",
                         help="answers asked again with the contract violations as feedback (default 1; 0: none)")
    command.add_argument("--ask-classes", action="store_true",
                         help="ask the model for each entity's class (worth it with bigger models); by default the "
                         "classes come from the predicate's domain and range")


def settings_from(args: argparse.Namespace) -> ExtractionSettings:
    if args.model is not None and args.server:
        raise KgstudioError("give either --model or --server, not both")
    model = args.model
    if model is None and not args.server:
        default = Settings.load().default_model
        model = Path(default) if default else None
    return ExtractionSettings(model_path=model, server_url=args.server, server_model=args.server_model,
                              concurrency=max(1, args.concurrency), limit=args.limit,
                              server_timeout=max(0.1, getattr(args, "server_timeout", 120.0)),
                              contracts=getattr(args, "contracts", True),
                              contract_retries=max(0, getattr(args, "contract_retries", 1)),
                              ask_classes=getattr(args, "ask_classes", False))


def run_extract_command(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with Project.open(args.project) as project:
        if args.estimate:
            estimate = estimate_extraction(project, settings, calibrate=lambda: _calibrate(settings))
            print(json.dumps(estimate.to_dict(), indent=2) if args.json else _describe_estimate(estimate))
            return 0
        report = _extract(project, settings)
    print(json.dumps(report.to_dict(), indent=2) if args.json else _describe_report(report))
    return 130 if report.cancelled else 0


def run_build_command(args: argparse.Namespace) -> int:
    from kgstudio.pipeline.importing import ImportOptions, import_paths
    from kgstudio.pipeline.seeds import run_seeds

    if not args.folder.is_dir():
        raise KgstudioError(f"{args.folder}: not a folder")
    settings = settings_from(args)
    project_path = args.output.with_suffix(".kgs")
    project = Project.open(project_path) if project_path.exists() else Project.create(project_path)
    with project:
        print(f"Project: {project_path}", file=sys.stderr)
        bar = TerminalProgress()
        try:
            imported = import_paths(project, [args.folder], ImportOptions(recursive=True), progress=bar)
        finally:
            bar.close()
        counts = {status: imported.count(status) for status in ("imported", "partial", "unchanged", "failed")}
        print("Import: " + ", ".join(f"{n} {status}" for status, n in counts.items() if n), file=sys.stderr)
        for outcome in imported.files:
            if outcome.outcome in ("failed", "partial") and outcome.message:
                print(f"  {outcome.path}: {outcome.message}", file=sys.stderr)
        with project.repositories() as repos:
            has_seeds = repos.seeds.count() > 0
        if not has_seeds:
            run_seeds(project)
        report = _extract(project, settings)
        print(_describe_report(report), file=sys.stderr)
        if report.cancelled:
            return 130
        _export_turtle(project, args.output)
    print(f"Wrote {args.output}")
    return 0


def _export_turtle(project: Project, output: Path) -> None:
    from kgstudio.export import export_project

    export_project(project, "ttl", output, status="all", provenance=True)


def _extract(project: Project, settings: ExtractionSettings) -> ExtractionReport:
    cancel = CancelToken()
    bar = TerminalProgress()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        return run_extraction(project, settings, progress=bar, cancel=cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.close()


def _calibrate(settings: ExtractionSettings) -> dict[str, float]:
    backend = make_backend(settings)
    try:
        return measure_speed(backend)
    finally:
        backend.close()


def _describe_estimate(estimate: Estimate) -> str:
    lines = [f"{estimate.chunks} chunks: {estimate.model_calls} to send to the model, {estimate.cached} answered before",
             f"about {estimate.prompt_tokens} prompt tokens to read and {estimate.output_tokens} to generate"]
    if estimate.seconds is not None:
        minutes = estimate.seconds / 60
        lines.append(f"about {minutes:.1f} minutes at this model's speed here" if minutes >= 1
                     else f"about {estimate.seconds:.0f} seconds at this model's speed here")
    return "\n".join(lines)


def _describe_report(report: ExtractionReport) -> str:
    text = (f"Extraction: {report.chunks} chunks, {report.model_calls} model calls, {report.cached} from the cache, "
            f"{report.skipped} done before; {report.candidates} candidate triples"
            f" ({report.rejected_candidates} proposals not grounded or not in the ontology), {report.failed} failed")
    if report.contract_checks:
        broken = {rule: n - p for rule, (p, n) in report.contract_checks.items() if n - p}
        text += (f"; contracts: {report.contract_rejected} proposals kept out, {report.contract_retries} retries"
                 + (" (" + ", ".join(f"{rule} {n}" for rule, n in broken.items()) + ")" if broken else ""))
    if report.completion_tokens:
        text += f"; {report.tokens_per_second:.0f} tokens/s"
    if report.cancelled:
        text += ". Stopped: run the same command again to resume"
    return "\n".join([text, *(f"  not extracted: {problem}" for problem in report.problems)])
