"""``kgstudio fuse PROJECT``: merge duplicate entities, resolve conflicting values, propose relations.

Every merge is its own edit (``kgstudio undo`` takes the last one back);
``--distinct A B`` records that two entities are different, which every later
run respects. ``--dry-run`` prints the plan and changes nothing.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kgstudio.cli.extract_commands import _model_arguments, settings_from
from kgstudio.cli.terminal_progress import TerminalProgress
from kgstudio.domain import Actor
from kgstudio.edit import EditHistory
from kgstudio.edit.fusion_commands import MarkDistinct
from kgstudio.pipeline.extract import make_backend, model_identity
from kgstudio.pipeline.fuse import FusionReport, FusionSettings, run_fusion
from kgstudio.store import Project


def register(commands: Any) -> None:
    fuse = commands.add_parser(
        "fuse", help="merge duplicate entities, resolve conflicting values, propose relations across documents",
        description="Global fusion over the whole graph. Clear duplicates are merged (names kept as aliases, "
        "the oldest IRI survives), unclear ones are put to the model or listed as suggestions; functional "
        "properties keep one value (the others are rejected with the reason); the model proposes relations "
        "between entities that meet across documents. Every decision is an undoable edit.",
    )
    fuse.add_argument("project")
    fuse.add_argument("--dry-run", action="store_true", help="print what would be merged, resolved and proposed")
    fuse.add_argument("--no-llm", action="store_true",
                      help="no model: unclear pairs stay suggestions, no relations are proposed")
    fuse.add_argument("--full", action="store_true", help="compare all entities, not only those new since the last run")
    fuse.add_argument("--max-questions", type=int, default=40, metavar="N",
                      help="new questions to the model per run (default 40; cached answers are free)")
    fuse.add_argument("--distinct", nargs=2, type=int, metavar=("ID", "OTHER"),
                      help="record that two entities are different: fusion never merges them")
    fuse.add_argument("--reason", help="why (with --distinct)")
    fuse.add_argument("--json", action="store_true", help="print machine-readable JSON")
    _model_arguments(fuse)
    fuse.set_defaults(handler=run_fuse_command, limit=None)


def run_fuse_command(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        if args.distinct:
            record = EditHistory(project).execute(MarkDistinct(*args.distinct, reason=args.reason),
                                                  actor=Actor.USER, reason=args.reason)
            print(json.dumps({"edit": record.id}) if args.json else f"#{record.id} {record.description}")
            return 0
        settings = FusionSettings(use_llm=not args.no_llm, max_questions=args.max_questions, full=args.full)
        factory, model = None, ""
        if not args.no_llm:
            extraction = settings_from(args)
            factory, model = (lambda: make_backend(extraction)), model_identity(extraction)
        bar = TerminalProgress()
        try:
            report = run_fusion(project, settings, dry_run=args.dry_run, backend_factory=factory, model=model,
                                progress=bar)
        finally:
            bar.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print(report)
    return 0


def _print(report: FusionReport) -> None:
    verb = "would merge" if report.dry_run else "merged"
    print(f"Looked at {report.entities} entities ({report.compared} pairs compared); "
          f"{verb} {len(report.merges)} groups.")
    for plan in report.merges:
        print(f"  {plan.name!r} <- " + ", ".join(repr(n) for n in plan.names if n != plan.name)
              + f"  [entity {plan.into_id}; " + "; ".join(f"{m['score']:.2f} {m['reason']}" for m in plan.members)
              + "]")
    if report.suggestions:
        print(f"Unclear, not merged ({len(report.suggestions)}; merge with `kgstudio edit PROJECT merge-entities`, "
              "or keep apart with `kgstudio fuse PROJECT --distinct ID OTHER`):")
        for s in report.suggestions:
            print(f"  {s['entity_id']} {s['name']!r} ~ {s['other_id']} {s['other']!r}: {s['score']:.2f} {s['reason']}")
    for conflict in report.conflicts:
        values = ", ".join(f"{v['value']!r} ({v['evidence']} sources)" for v in conflict.values)
        outcome = f"kept {conflict.kept!r}" if conflict.kept is not None else "left for you (a tie)"
        print(f"Conflict: {conflict.subject} {conflict.predicate}: {values}; {outcome}")
    verb = "would propose" if report.dry_run else "proposed"
    if report.proposals:
        print(f"{verb.capitalize()} {len(report.proposals)} relations across documents (candidates to review):")
        for p in report.proposals:
            print(f"  {p.subject} {p.predicate} {p.object}  (via {p.via})")
    if report.questions:
        print(f"Asked the model {report.questions} new questions.")
