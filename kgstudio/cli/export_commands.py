"""``kgstudio export``, ``kgstudio push`` (Neo4j over Bolt, or a SPARQL 1.1 store) and ``kgstudio import-rdf``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kgstudio.cli.terminal_progress import TerminalProgress
from kgstudio.edit.rdf_import import import_rdf
from kgstudio.errors import KgstudioError
from kgstudio.export import STATUS_CHOICES, export_formats, export_project
from kgstudio.export.bolt import Neo4jTarget, push_to_neo4j
from kgstudio.export.sparql import SparqlTarget, push_to_sparql
from kgstudio.progress import CancelToken, Cancelled
from kgstudio.store import Project

FORMAT_NAMES = ("ttl", "nt", "jsonld", "xml", "owl", "cypher", "neo4j-csv", "graphml", "csv")


def register(commands: Any) -> None:
    export = commands.add_parser("export", help="write the graph as RDF, Neo4j Cypher/CSV, GraphML or CSV",
                                 description="Formats: " + ", ".join(FORMAT_NAMES)
                                 + " (and any an installed plugin adds; see --list)")
    export.add_argument("project", nargs="?")
    export.add_argument("--format", "-f", dest="fmt", metavar="FORMAT", help="one of " + "|".join(FORMAT_NAMES))
    export.add_argument("-o", "--output", metavar="OUT", help="file (or folder for neo4j-csv and csv); - for stdout")
    _graph_options(export)
    export.add_argument("--list", action="store_true", help="list the formats and exit")
    export.add_argument("--json", action="store_true", help="print the report as JSON")
    export.set_defaults(handler=run_export)

    push = commands.add_parser(
        "push", help="push the graph into Neo4j over Bolt or into a SPARQL 1.1 triple store (safe to repeat)",
        description="Neo4j: MERGE over Bolt. SPARQL: replace one named graph through the Graph Store Protocol "
        "(--gsp, the default: URL is the graph-store endpoint, e.g. .../sparql-graph-crud, .../DATASET/data) or "
        "SPARQL 1.1 Update (--update: URL is the update endpoint, e.g. .../sparql, .../DATASET/update).")
    push.add_argument("project")
    where = push.add_mutually_exclusive_group(required=True)
    where.add_argument("--neo4j", metavar="URI", help="e.g. bolt://localhost:7687 or neo4j+s://...")
    where.add_argument("--sparql", metavar="URL", help="a SPARQL store's graph-store or update endpoint")
    push.add_argument("--graph", metavar="IRI", help="SPARQL: the named graph to replace (default: the project's "
                      "base IRI); the store's default graph is never written")
    protocol = push.add_mutually_exclusive_group()
    protocol.add_argument("--gsp", dest="protocol", action="store_const", const="gsp",
                          help="SPARQL: Graph Store Protocol, PUT then POST of N-Triples (the default)")
    protocol.add_argument("--update", dest="protocol", action="store_const", const="update",
                          help="SPARQL: SPARQL 1.1 Update, DROP GRAPH then INSERT DATA in batches")
    push.add_argument("--batch", type=int, metavar="N", help="SPARQL: statements a request (default 20000 for "
                      "--gsp, 2000 for --update)")
    push.add_argument("--user", "-u", help="Neo4j user (default: neo4j when a password is given); SPARQL: the "
                      "store's user, with HTTP Digest or Basic authentication as the store asks")
    push.add_argument("--password", "-p", help="the password (default: $NEO4J_PASSWORD, or $SPARQL_PASSWORD "
                      "with --sparql)")
    push.add_argument("--database", "-d", help="the database (default: the server's default)")
    _graph_options(push)
    push.add_argument("--json", action="store_true", help="print the report as JSON")
    push.set_defaults(handler=run_push)

    load = commands.add_parser("import-rdf", help="load a Turtle/N-Triples/RDF file into a project (undoable)")
    load.add_argument("project")
    load.add_argument("file")
    load.add_argument("--format", dest="fmt", help="turtle, n-triples, rdf/xml, json-ld, ... (default: from the suffix)")
    load.add_argument("--json", action="store_true", help="print the report as JSON")
    load.set_defaults(handler=run_import_rdf)


def _graph_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--status", choices=STATUS_CHOICES, default="accepted",
                         help="accepted (default: accepted and inferred triples) or all (every triple not rejected)")
    command.add_argument("--provenance", action="store_true",
                         help="include where each fact came from (PROV-O in RDF)")


@contextmanager
def _interruptible() -> Iterator[tuple[TerminalProgress, CancelToken]]:
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    bar = TerminalProgress()
    try:
        yield bar, cancel
    except Cancelled:
        raise KeyboardInterrupt from None
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)


def run_export(args: argparse.Namespace) -> int:
    if args.list:
        for fmt in export_formats():
            kind = "folder" if fmt.folder else fmt.suffix
            print(f"{fmt.name:10} {fmt.label} ({kind}){': ' + fmt.description if fmt.description else ''}")
        return 0
    if not args.project or not args.fmt or not args.output:
        raise KgstudioError("export needs PROJECT, --format and -o OUT (or --list)")
    with Project.open(args.project) as project, _interruptible() as (bar, cancel):
        out: Any = sys.stdout.buffer if args.output == "-" else args.output
        report = export_project(project, args.fmt, out, status=args.status, provenance=args.provenance,
                                progress=bar, cancel=cancel)
    _print(report.to_dict(), args.json, _export_summary, args.output == "-")
    return 0


def _export_summary(data: dict[str, Any]) -> str:
    lines = [f"{data['format']}: {data['entities']} entities, {data['triples']} triples "
             f"({data['statements']} written) to {data['target'] or 'stdout'} in {data['seconds']} s"]
    lines += [f"  warning: {w}" for w in data["warnings"]]
    return "\n".join(lines)


def run_push(args: argparse.Namespace) -> int:
    if args.sparql:
        return _push_sparql(args)
    target = Neo4jTarget(args.neo4j, args.user, args.password or os.environ.get("NEO4J_PASSWORD"), args.database)
    with Project.open(args.project) as project, _interruptible() as (bar, cancel):
        report = push_to_neo4j(project, target, status=args.status, provenance=args.provenance,
                               progress=bar, cancel=cancel)
    _print(report.to_dict(), args.json, lambda d: f"pushed {d['entities']} entities and {d['triples']} triples "
           f"({d['statements']} rows) to {d['target']} in {d['seconds']} s", False)
    return 0


def _push_sparql(args: argparse.Namespace) -> int:
    target = SparqlTarget(args.sparql, args.graph, args.protocol or "gsp", user=args.user,
                          password=args.password or os.environ.get("SPARQL_PASSWORD"))
    with Project.open(args.project) as project, _interruptible() as (bar, cancel):
        report = push_to_sparql(project, target, status=args.status, provenance=args.provenance, batch=args.batch,
                                progress=bar, cancel=cancel)
    _print(report.to_dict(), args.json, lambda d: f"pushed {d['entities']} entities and {d['triples']} triples "
           f"({d['statements']} statements) to {d['target']} in {d['seconds']} s", False)
    return 0


def run_import_rdf(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project, _interruptible() as (bar, cancel):
        report = import_rdf(project, args.file, fmt=args.fmt, progress=bar, cancel=cancel)
    _print(report.to_dict(), args.json, lambda d: f"{d['statements']} statements read: {d['entities']} entities and "
           f"{d['triples']} triples added, {d['ontology_terms']} ontology terms; undo with kgstudio undo", False)
    return 0


def _print(data: dict[str, Any], as_json: bool, summary: Callable[[dict[str, Any]], str], to_stderr: bool) -> None:
    stream = sys.stderr if to_stderr else sys.stdout  # with -o -, stdout carries the export itself
    print(json.dumps(data, indent=2) if as_json else summary(data), file=stream)
