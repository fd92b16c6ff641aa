"""``kgstudio edit PROJECT OPERATION ...``: graph edits from the command line (all undoable)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kgstudio.domain import Actor
from kgstudio.edit import (
    AcceptCandidate,
    AddEntity,
    AddTriple,
    DeleteEntity,
    EditCommand,
    EditHistory,
    MergeEntities,
    RejectCandidate,
    RenameEntity,
    RetractTriple,
    SplitEntity,
)
from kgstudio.store import Project


def register(commands: Any) -> None:
    edit = commands.add_parser("edit", help="change the graph (every edit can be undone)")
    edit.add_argument("project")
    edit.add_argument("--reason", help="why, for the audit log")
    operations = edit.add_subparsers(title="operations", metavar="OPERATION", required=True)

    op = operations.add_parser("add-entity", help="add an entity")
    op.add_argument("name")
    op.add_argument("--class", dest="class_name", help="ontology class")
    op.add_argument("--alias", action="append", default=[], help="another name (repeatable)")
    op.set_defaults(build=lambda a: AddEntity(a.name, a.class_name, a.alias))

    op = operations.add_parser("rename-entity", help="rename an entity (the old name stays as an alias)")
    op.add_argument("entity", type=int)
    op.add_argument("name")
    op.set_defaults(build=lambda a: RenameEntity(a.entity, a.name))

    op = operations.add_parser("delete-entity", help="delete an entity and its triples")
    op.add_argument("entity", type=int)
    op.set_defaults(build=lambda a: DeleteEntity(a.entity))

    op = operations.add_parser("merge-entities", help="merge entities into one")
    op.add_argument("into", type=int, help="the entity that stays")
    op.add_argument("sources", type=int, nargs="+", help="entities merged into it")
    op.set_defaults(build=lambda a: MergeEntities(a.into, a.sources, reason=a.reason))

    op = operations.add_parser("split-entity", help="move triples/aliases of an entity to a new entity")
    op.add_argument("entity", type=int)
    op.add_argument("name", help="name of the new entity")
    op.add_argument("--triple", type=int, action="append", default=[])
    op.add_argument("--alias", type=int, action="append", default=[])
    op.set_defaults(build=lambda a: SplitEntity(a.entity, a.name, a.triple, a.alias))

    op = operations.add_parser("add-triple", help="add a triple (object: --object ID or --literal TEXT)")
    op.add_argument("subject", type=int)
    op.add_argument("predicate")
    target = op.add_mutually_exclusive_group(required=True)
    target.add_argument("--object", type=int, dest="object_id")
    target.add_argument("--literal")
    op.add_argument("--datatype")
    op.add_argument("--lang")
    op.set_defaults(build=lambda a: AddTriple(a.subject, a.predicate, a.object_id, a.literal, a.datatype, a.lang))

    op = operations.add_parser("retract-triple", help="remove a triple")
    op.add_argument("triple", type=int)
    op.set_defaults(build=lambda a: RetractTriple(a.triple))

    op = operations.add_parser("accept", help="accept a candidate triple")
    op.add_argument("triple", type=int)
    op.set_defaults(build=lambda a: AcceptCandidate(a.triple))

    op = operations.add_parser("reject", help="reject a triple (kept, with the reason)")
    op.add_argument("triple", type=int)
    op.set_defaults(build=lambda a: RejectCandidate(a.triple, a.reason))

    edit.set_defaults(handler=run_edit)

    listing = commands.add_parser("entities", help="list the entities of a project")
    listing.add_argument("project")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_entities)

    listing = commands.add_parser("triples", help="list the triples of a project")
    listing.add_argument("project")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=list_triples)


def run_edit(args: argparse.Namespace) -> int:
    command: EditCommand = args.build(args)
    with Project.open(args.project) as project:
        record = EditHistory(project).execute(command, actor=Actor.USER, reason=args.reason)
    created = [c.key for c in record.changes.changes if c.before is None and c.table in ("entity", "triple")]
    suffix = f" → new id {', '.join(map(str, created))}" if created else ""
    print(f"#{record.id}: {record.description}{suffix}")
    return 0


def list_entities(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project, project.repositories() as repos:
        entities = repos.graph.entities()
        aliases = {e.id: [a.text for a in repos.graph.aliases(e.id)] for e in entities}  # type: ignore[arg-type]
    if args.json:
        print(json.dumps([{"id": e.id, "name": e.name, "class": e.class_name, "iri": e.iri,
                           "aliases": aliases[e.id]} for e in entities], indent=2))
        return 0
    for e in entities:
        extra = f"  (also: {', '.join(aliases[e.id])})" if aliases[e.id] else ""
        print(f"{e.id:>6}  {e.name}  [{e.class_name or '-'}]{extra}")
    return 0


def list_triples(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project, project.repositories() as repos:
        triples = repos.graph.triples()
        names = {e.id: e.name for e in repos.graph.entities(include_merged=True)}
    rows = [{
        "id": t.id, "subject": names.get(t.subject_id), "subject_id": t.subject_id, "predicate": t.predicate,
        "object": names.get(t.object_id) if t.object_id is not None else t.object_literal,
        "object_id": t.object_id, "status": str(t.status), "origin": str(t.origin),
    } for t in triples]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['id']:>6}  {row['subject']} —{row['predicate']}→ {row['object']}  [{row['status']}, {row['origin']}]")
    return 0
