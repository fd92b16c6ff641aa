"""``kgstudio new | status | undo | redo | log``: projects and their history."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kgstudio.edit import EditHistory
from kgstudio.store import Project


def register(commands: Any) -> None:
    new = commands.add_parser("new", help="create an empty project file (.kgs)")
    new.add_argument("project", help="path of the new project file, or a database URL")
    new.add_argument("--base-iri", help="namespace for the IRIs of this project's entities")
    new.set_defaults(handler=new_project)

    status = commands.add_parser("status", help="show what a project holds")
    status.add_argument("project")
    status.add_argument("--json", action="store_true", help="print machine-readable JSON")
    status.set_defaults(handler=show_status)

    for name, verb in (("undo", "undo the newest edit"), ("redo", "redo the most recently undone edit")):
        command = commands.add_parser(name, help=verb)
        command.add_argument("project")
        command.set_defaults(handler=undo if name == "undo" else redo)

    log = commands.add_parser("log", help="show the edit log (audit trail), newest first")
    log.add_argument("project")
    log.add_argument("--limit", type=int, default=50, help="how many entries (default 50; 0 = all)")
    log.add_argument("--json", action="store_true")
    log.set_defaults(handler=show_log)


def new_project(args: argparse.Namespace) -> int:
    with Project.create(args.project, base_iri=args.base_iri) as project:
        print(f"Created {project.location} (base IRI {project.base_iri})")
    return 0


def show_status(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        counts = project.counts()
    if args.json:
        print(json.dumps(counts, indent=2))
        return 0
    print(format_status(counts))
    return 0


def format_status(counts: dict[str, Any]) -> str:
    """Human-readable summary of :meth:`Project.counts`."""

    def breakdown(values: dict[str, int]) -> str:
        return ", ".join(f"{key} {value}" for key, value in values.items())

    documents, entities, triples = counts["documents"], counts["entities"], counts["triples"]
    errors = sum(counts["errors"].values())
    return "\n".join([
        f"Project   {counts['project']} (schema {counts['schema_version']})",
        f"Documents {documents['total']} ({breakdown(documents['by_status'])})",
        f"Segments  {counts['segments']}   Chunks {counts['chunks']}   "
        f"Candidates {counts['candidates']['total']} ({counts['candidates']['failed']} failed)",
        f"Entities  {entities['total']} ({breakdown(entities['by_status'])})",
        f"Triples   {triples['total']}",
        f"  by status: {breakdown(triples['by_status'])}",
        f"  by origin: {breakdown(triples['by_origin'])}",
        f"Runs      {counts['runs']['total']} "
        f"({breakdown({k: v for k, v in counts['runs']['by_status'].items() if v}) or 'none yet'})",
        *(["  interrupted: their process stopped before they ended; run the stage again to go on"]
          if counts["runs"]["by_status"].get("interrupted") else []),
        f"Errors    {errors} ({breakdown(counts['errors'])})",
        f"Edits     {counts['edits']['undoable']} undoable, {counts['edits']['redoable']} redoable",
        *(f"  {p['status']}: {p['path']}: {p['error']}" for p in counts["problems"]),
    ])


def undo(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        record = EditHistory(project).undo()
    print(f"Undid #{record.id}: {record.description} (by {record.actor})")
    return 0


def redo(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        record = EditHistory(project).redo()
    print(f"Redid #{record.id}: {record.description} (by {record.actor})")
    return 0


def show_log(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        records = EditHistory(project).log(args.limit or None)
    if args.json:
        print(json.dumps([
            {"id": r.id, "time": r.created_at.isoformat() if r.created_at else None, "actor": str(r.actor),
             "reason": r.reason, "state": str(r.state), "description": r.description, "command": r.command,
             "rows_changed": len(r.changes)}
            for r in records
        ], indent=2))
        return 0
    if not records:
        print("No edits yet.")
    for r in records:
        when = r.created_at.strftime("%Y-%m-%d %H:%M:%S") if r.created_at else "?"
        reason = f" — {r.reason}" if r.reason else ""
        print(f"#{r.id:<5} {when}  {r.state:<9} {r.actor:<10} {r.description}{reason}")
    return 0
