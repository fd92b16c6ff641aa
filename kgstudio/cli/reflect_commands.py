"""``kgstudio reflect PROJECT``: critic and corrector passes over extracted triples (FinReflectKG).

Each correction is its own edit (actor ``reflection``, with the reason), so
``kgstudio log`` lists them and ``kgstudio undo`` takes them back one by one.
"""

from __future__ import annotations

import argparse
import json
import signal
from typing import Any

from kgstudio.cli.extract_commands import _model_arguments, settings_from
from kgstudio.cli.terminal_progress import TerminalProgress
from kgstudio.errors import KgstudioError
from kgstudio.pipeline.reflect import ReflectionReport, run_reflection
from kgstudio.progress import CancelToken
from kgstudio.store import Project


def register(commands: Any) -> None:
    command = commands.add_parser(
        "reflect", help="check extracted triples with rules and a critic/corrector model pass",
        description="Rule checks (vague subject, long names, self-loops, ontology, domain/range, grounding), then "
        "the model critiques each passage's triples and corrects or drops what is wrong. Every change is an "
        "undoable edit. (The window's Reflect on Selection shows the changes first, to accept one by one.)",
    )
    command.add_argument("project")
    command.add_argument("--mode", choices=("reflect", "multi"), default="reflect",
                         help="reflect: critic + corrector, repeated (default); multi: one normalising pass "
                         "from the rule findings only")
    command.add_argument("--steps", type=int, default=2, metavar="N", help="critic/corrector rounds (default 2)")
    command.add_argument("--select", metavar="QUERY",
                         help="only these triples: ids (12,15,40) or the neighbourhood of entities whose name "
                         "contains the text")
    command.add_argument("--dry-run", action="store_true",
                         help="change nothing: list the changes reflection proposes, with their reasons")
    _model_arguments(command)
    command.add_argument("--json", action="store_true", help="print machine-readable JSON")
    command.set_defaults(handler=run_reflect_command, limit=None)


def run_reflect_command(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with Project.open(args.project) as project:
        triple_ids = _selection(project, args.select) if args.select else None
        cancel = CancelToken()
        bar = TerminalProgress()
        previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
        try:
            report = run_reflection(project, settings, mode=args.mode, steps=args.steps, triple_ids=triple_ids,
                                    progress=bar, cancel=cancel, apply=not args.dry_run)
        finally:
            signal.signal(signal.SIGINT, previous)
            bar.close()
    print(json.dumps(report.to_dict(), indent=2) if args.json else _describe(report))
    return 130 if report.cancelled else 0


def _selection(project: Project, query: str) -> list[int]:
    parts = [p.strip() for p in query.split(",")]
    if all(p.isdigit() for p in parts):
        return [int(p) for p in parts]
    needle = query.casefold()
    with project.repositories() as repos:
        entities = {e.id for e in repos.graph.entities() if needle in e.name.casefold()}
        if not entities:
            raise KgstudioError(f"no entity's name contains {query!r}")
        return sorted({t.id for entity_id in entities for t in repos.graph.triples(entity_id=entity_id)})


def _describe(report: ReflectionReport) -> str:
    if not report.applied:
        lines = [f"Reflection on {report.triples} triples, {report.steps} step(s) would fix {report.fixed} and "
                 f"drop {report.dropped}; compliance {report.compliance_before:.0%} -> "
                 f"{report.compliance_after:.0%} if all were applied; {report.model_calls} model calls "
                 f"({report.cached} cached). Nothing was changed."]
        for change in report.proposals:
            new = f" -> ({', '.join(change.new)})" if change.new else ""
            lines.append(f"  {change.action} triple {change.triple_id} ({', '.join(change.old)}){new}: {change.reason}")
        return "\n".join(lines)
    return (f"Reflection on {report.triples} triples, {report.steps} step(s): {report.fixed} fixed, "
            f"{report.dropped} dropped; compliance {report.compliance_before:.0%} -> {report.compliance_after:.0%}; "
            f"{report.model_calls} model calls ({report.cached} cached). "
            "Each change is an edit: `kgstudio log` lists them, `kgstudio undo` takes the newest back.")
