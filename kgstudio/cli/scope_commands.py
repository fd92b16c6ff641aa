"""``kgstudio cq``, ``kgstudio ontology`` and ``kgstudio verify``: scope, schema and verification (HyDRA).

- ``kgstudio cq PROJECT add|list|import|propose|edit|accept|reject|delete|sparql``: the competency
  questions, written by the user or proposed by the model; each gets a checked SPARQL query.
- ``kgstudio ontology PROJECT import FILE|derive|show|export FILE|check``: the ontology extraction
  is bound to, from a Turtle/OWL file or derived from the CQs by the model, always validated.
- ``kgstudio verify PROJECT [--json]``: which CQs the graph answers and by which triples, the SHACL
  report, and the contracts' pass rate per rule and run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kgstudio.cli.extract_commands import settings_from
from kgstudio.domain import CompetencyQuestion, Ontology
from kgstudio.errors import KgstudioError
from kgstudio.ontology.owl import load_ontology, write_ontology
from kgstudio.ontology.sparql import check_sparql
from kgstudio.ontology.validate import errors, validate_ontology
from kgstudio.pipeline import scope
from kgstudio.pipeline.extract import make_backend, project_ontology
from kgstudio.pipeline.verify import VerificationReport, verify_project
from kgstudio.store import Project

STATUSES = ("proposed", "accepted", "rejected")


def register(commands: Any) -> None:
    _register_cq(commands)
    _register_ontology(commands)
    verify = commands.add_parser(
        "verify", help="which competency questions the graph answers, SHACL report, contract pass rates",
        description="Run every competency question's SPARQL on the graph (answered or not, the answers and "
        "the triples behind them), validate SHACL shapes generated from the ontology with pySHACL, and "
        "show the extraction contracts' pass rate per rule and run.")
    verify.add_argument("project")
    verify.add_argument("--accepted-only", action="store_true", help="only accepted triples (default: all but rejected)")
    verify.add_argument("--no-shacl", action="store_true", help="skip the SHACL validation")
    verify.add_argument("--json", action="store_true", help="print machine-readable JSON")
    verify.set_defaults(handler=run_verify_command)


def _model_arguments(command: Any) -> None:
    command.add_argument("--model", type=Path, metavar="GGUF", help="a GGUF model file (default: your default model)")
    command.add_argument("--server", metavar="URL", help="an OpenAI-compatible server")
    command.add_argument("--server-model", metavar="NAME", help="the model name the server should use")
    command.set_defaults(concurrency=1, limit=None)


# --- kgstudio cq ------------------------------------------------------------------------------


def _register_cq(commands: Any) -> None:
    cq = commands.add_parser("cq", help="competency questions: what the graph must be able to answer")
    cq.add_argument("project")
    cq.add_argument("--json", action="store_true", help="print machine-readable JSON")
    actions = cq.add_subparsers(title="actions", metavar="ACTION", required=True)

    op = actions.add_parser("add", help="add a question (accepted), optionally with its SPARQL")
    op.add_argument("text")
    op.add_argument("--sparql", help="the query that answers it (checked against the ontology)")
    op.set_defaults(action=_cq_add)

    op = actions.add_parser("list", help="list the questions with their status and SPARQL")
    op.set_defaults(action=_cq_list)

    op = actions.add_parser("import", help="add the questions of a text file (one a line, # comments)")
    op.add_argument("file", type=Path)
    op.set_defaults(action=_cq_import)

    op = actions.add_parser("propose", help="let the model propose questions from a description and sample chunks")
    op.add_argument("--description", default="", help="a few words on the domain and who will use the graph")
    op.add_argument("--count", type=int, default=8, help="how many questions (default 8)")
    op.add_argument("--samples", type=int, default=3, help="sample chunks shown to the model (default 3)")
    _model_arguments(op)
    op.set_defaults(action=_cq_propose)

    op = actions.add_parser("edit", help="change a question's text or SPARQL")
    op.add_argument("id", type=int)
    op.add_argument("--text")
    op.add_argument("--sparql")
    op.set_defaults(action=_cq_edit)

    for name, status in (("accept", "accepted"), ("reject", "rejected")):
        op = actions.add_parser(name, help=f"{name} proposed questions")
        op.add_argument("ids", type=int, nargs="+")
        op.set_defaults(action=_cq_set_status, status=status)

    op = actions.add_parser("delete", help="delete questions")
    op.add_argument("ids", type=int, nargs="+")
    op.set_defaults(action=_cq_delete)

    op = actions.add_parser("sparql", help="let the model draft the SPARQL of questions that have none (or --all)")
    op.add_argument("ids", type=int, nargs="*", help="only these questions")
    op.add_argument("--all", action="store_true", help="redraft queries that exist too")
    _model_arguments(op)
    op.set_defaults(action=_cq_sparql)
    cq.set_defaults(handler=run_cq_command)


def run_cq_command(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        return args.action(project, args)


def _cq_add(project: Project, args: argparse.Namespace) -> int:
    sparql = _checked_query(project, args.sparql) if args.sparql else None
    with project.transaction() as repos:
        question = repos.questions.add(CompetencyQuestion(" ".join(args.text.split()), sparql, "accepted"))
    return _show([question], args.json)


def _cq_list(project: Project, args: argparse.Namespace) -> int:
    with project.repositories() as repos:
        return _show(repos.questions.list(), args.json)


def _cq_import(project: Project, args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as exc:
        raise KgstudioError(f"{args.file}: cannot read ({exc.strerror or exc})") from None
    with project.transaction() as repos:
        existing = [q.text for q in repos.questions.list()]
        added = [repos.questions.add(CompetencyQuestion(t, None, "accepted"))
                 for t in scope.dedupe_questions(scope.read_questions(text), existing)]
    return _show(added, args.json)


def _cq_propose(project: Project, args: argparse.Namespace) -> int:
    with project.repositories() as repos:
        existing = [q.text for q in repos.questions.list()]
        samples = [t for _, t in zip(range(max(0, args.samples)), repos.documents.current_chunk_texts(), strict=False)]
    backend = make_backend(settings_from(args))
    try:
        proposal = scope.propose_questions(backend, args.description, samples, count=args.count, existing=existing)
    finally:
        backend.close()
    with project.transaction() as repos:
        added = [repos.questions.add(CompetencyQuestion(t, None, "proposed")) for t in proposal.questions]
    if not args.json:
        if proposal.personas:
            print("Personas: " + "; ".join(proposal.personas))
        if proposal.scope:
            print("Scope: " + "; ".join(proposal.scope))
        print("Proposed (accept with: kgstudio cq PROJECT accept ID...):")
    return _show(added, args.json)


def _cq_edit(project: Project, args: argparse.Namespace) -> int:
    sparql = _checked_query(project, args.sparql) if args.sparql else None
    with project.transaction() as repos:
        question = repos.questions.get(args.id)
        if args.text:
            question.text = " ".join(args.text.split())
        if args.sparql is not None:
            question.sparql = sparql or None
        return _show([repos.questions.update(question)], args.json)


def _cq_set_status(project: Project, args: argparse.Namespace) -> int:
    with project.transaction() as repos:
        changed = []
        for question_id in args.ids:
            question = repos.questions.get(question_id)
            question.status = args.status
            changed.append(repos.questions.update(question))
    return _show(changed, args.json)


def _cq_delete(project: Project, args: argparse.Namespace) -> int:
    with project.transaction() as repos:
        for question_id in args.ids:
            repos.questions.delete(question_id)
    if not args.json:
        print(f"Deleted {len(args.ids)} question(s)")
    return 0


def _cq_sparql(project: Project, args: argparse.Namespace) -> int:
    ontology = project_ontology(project)
    with project.repositories() as repos:
        questions = [q for q in repos.questions.list() if q.status != "rejected"
                     and (not args.ids or q.id in args.ids) and (args.all or not q.sparql)]
    if not questions:
        print("No question needs a query (--all redrafts existing ones).")
        return 0
    backend = make_backend(settings_from(args))
    drafted, failed = [], 0
    try:
        for question in questions:
            query, checked = scope.draft_sparql(backend, question.text, ontology)
            if checked.ok:
                question.sparql = query
                drafted.append(question)
            else:
                failed += 1
                if not args.json:
                    print(f"[{question.id}] {question.text}\n    no usable query: {'; '.join(checked.problems)}")
    finally:
        backend.close()
    with project.transaction() as repos:
        for question in drafted:
            repos.questions.update(question)
    _show(drafted, args.json)
    return 1 if failed and not drafted else 0


def _checked_query(project: Project, query: str) -> str:
    checked = check_sparql(query, project_ontology(project))
    if not checked.ok:
        raise KgstudioError("the query cannot be used: " + "; ".join(checked.problems))
    return query.strip()


def _show(questions: list[CompetencyQuestion], as_json: bool) -> int:
    if as_json:
        print(json.dumps([{"id": q.id, "text": q.text, "status": q.status, "sparql": q.sparql,
                           "last_answer": q.last_answer} for q in questions], indent=2))
        return 0
    for q in questions:
        print(f"[{q.id}] ({q.status}) {q.text}")
        if q.sparql:
            print("    " + " ".join(q.sparql.split()))
    return 0


# --- kgstudio ontology ------------------------------------------------------------------------


def _register_ontology(commands: Any) -> None:
    command = commands.add_parser("ontology", help="the ontology extraction is bound to: import, derive, show, export")
    command.add_argument("project")
    command.add_argument("--json", action="store_true", help="print machine-readable JSON")
    actions = command.add_subparsers(title="actions", metavar="ACTION", required=True)

    op = actions.add_parser("import", help="replace the project's ontology with a Turtle/OWL/RDF file's")
    op.add_argument("file", type=Path)
    op.add_argument("--force", action="store_true", help="import even when the validator finds errors")
    op.set_defaults(action=_ontology_import)

    op = actions.add_parser("derive", help="derive an ontology from the competency questions with the model")
    op.add_argument("--dry-run", action="store_true", help="show it without storing it")
    _model_arguments(op)
    op.set_defaults(action=_ontology_derive)

    op = actions.add_parser("show", help="classes and properties (domain -> range), with the validator's findings")
    op.set_defaults(action=_ontology_show)

    op = actions.add_parser("check", help="only the validator's findings (exit 1 on errors)")
    op.add_argument("--allow-disconnected", action="store_true", help="do not report disconnected classes")
    op.set_defaults(action=_ontology_check)

    op = actions.add_parser("export", help="write the ontology (Turtle; .owl/.rdf: RDF/XML; .nt; .jsonld)")
    op.add_argument("file", type=Path)
    op.set_defaults(action=_ontology_export)
    command.set_defaults(handler=run_ontology_command)


def run_ontology_command(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        return args.action(project, args)


def _ontology_import(project: Project, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise KgstudioError(f"{args.file}: no such file")
    ontology = load_ontology(args.file)
    if not ontology.properties:
        raise KgstudioError(f"{args.file}: no properties (owl:ObjectProperty, owl:DatatypeProperty, rdf:Property)")
    problems = validate_ontology(ontology)
    if errors(problems) and not args.force:
        _print_problems(problems)
        raise KgstudioError(f"{args.file}: {len(errors(problems))} error(s) in the ontology; fix them or use --force")
    _store(project, ontology)
    if not args.json:
        print(f"Imported {len(ontology.classes)} classes and {len(ontology.properties)} properties from {args.file}")
        _print_problems(problems)
    else:
        print(json.dumps(_ontology_dict(ontology, problems), indent=2))
    return 0


def _ontology_derive(project: Project, args: argparse.Namespace) -> int:
    with project.repositories() as repos:
        questions = [q.text for q in repos.questions.list() if q.status != "rejected"]
    backend = make_backend(settings_from(args))
    try:
        ontology, problems = scope.derive_ontology(backend, questions, f"{project.base_iri}ontology#")
    finally:
        backend.close()
    if args.json:
        print(json.dumps(_ontology_dict(ontology, problems), indent=2))
    else:
        print(_describe(ontology))
        _print_problems(problems)
    if errors(problems):
        raise KgstudioError("the derived ontology has errors and was not stored; edit the questions and try again, "
                            "or import an ontology")
    if not args.dry_run:
        _store(project, ontology)
        if not args.json:
            print("Stored as the project's ontology.")
    return 0


def _ontology_show(project: Project, args: argparse.Namespace) -> int:
    ontology = project_ontology(project)
    problems = validate_ontology(ontology)
    if args.json:
        print(json.dumps(_ontology_dict(ontology, problems), indent=2))
    else:
        print(_describe(ontology))
        _print_problems(problems)
    return 0


def _ontology_check(project: Project, args: argparse.Namespace) -> int:
    problems = validate_ontology(project_ontology(project), allow_disconnected=args.allow_disconnected)
    if args.json:
        print(json.dumps([{"severity": p.severity, "term": p.term, "message": p.message} for p in problems], indent=2))
    else:
        _print_problems(problems) if problems else print("No problems.")
    return 1 if errors(problems) else 0


def _ontology_export(project: Project, args: argparse.Namespace) -> int:
    write_ontology(project_ontology(project), args.file, iri=f"{project.base_iri}ontology")
    if not args.json:
        print(f"Wrote {args.file}")
    return 0


def _store(project: Project, ontology: Ontology) -> None:
    with project.transaction() as repos:
        repos.ontology.replace(ontology.classes, ontology.properties)


def _describe(ontology: Ontology) -> str:
    lines = [f"{len(ontology.classes)} classes:"]
    for cls in ontology.classes:
        lines.append(f"  {cls.name}" + (f" ⊂ {cls.parent}" if cls.parent else "")
                     + (f"  ({cls.label})" if cls.label and cls.label != cls.name else ""))
    lines.append(f"{len(ontology.properties)} properties:")
    for prop in ontology.properties:
        lines.append(f"  {prop.name}: {prop.domain or 'any'} -> {prop.range or 'any'}"
                     + f"  [{prop.kind}{', functional' if prop.functional else ''}]")
    return "\n".join(lines)


def _ontology_dict(ontology: Ontology, problems: list) -> dict[str, Any]:
    return {"classes": [{"name": c.name, "iri": c.iri, "label": c.label, "parent": c.parent} for c in ontology.classes],
            "properties": [{"name": p.name, "iri": p.iri, "kind": p.kind, "domain": p.domain, "range": p.range,
                            "functional": p.functional, "label": p.label} for p in ontology.properties],
            "problems": [{"severity": p.severity, "term": p.term, "message": p.message} for p in problems]}


def _print_problems(problems: list) -> None:
    for problem in problems:
        print(f"  {problem}")


# --- kgstudio verify --------------------------------------------------------------------------


def run_verify_command(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        report = verify_project(project, accepted_only=args.accepted_only, shacl=not args.no_shacl)
    print(json.dumps(report.to_dict(), indent=2) if args.json else describe_verification(report))
    return 0


def describe_verification(report: VerificationReport) -> str:
    lines = [f"Competency questions: {report.answered} of {len(report.questions)} answered"]
    for q in report.questions:
        mark = "answered" if q.answered else "UNANSWERED"
        lines.append(f"  [{q.id}] {mark}: {q.text}")
        if q.problem:
            lines.append(f"      {q.problem}")
        for answer in q.answers[:5]:
            lines.append("      = " + ", ".join(f"{k}: {v}" for k, v in answer.items()))
        if q.answer_count > 5:
            lines.append(f"      ... {q.answer_count - 5} more")
        if q.triples:
            lines.append("      because: " + "; ".join(f"#{t['id']} {t['subject']} {t['predicate']} {t['object']}"
                                                       for t in q.triples[:5])
                         + (f"; ... {len(q.triples) - 5} more" if len(q.triples) > 5 else ""))
    lines.append("SHACL: " + ("conforms" if report.shacl_conforms else f"{report.shacl_total} violation(s)"))
    for v in report.shacl_violations[:20]:
        lines.append(f"  {v.focus}" + (f" {v.path}" if v.path else "") + (f" = {v.value}" if v.value else "")
                     + f": {v.message}")
    if report.shacl_total > 20:
        lines.append(f"  ... {report.shacl_total - 20} more (--json lists up to 500)")
    if report.contracts:
        lines.append("Contracts (passed/checked per rule):")
        for run, rules in report.contracts.items():
            lines.append(f"  run {run}: " + ", ".join(f"{rule} {f['passed']}/{f['checked']}"
                                                      for rule, f in rules.items()))
    else:
        lines.append("Contracts: no extraction under contracts yet")
    return "\n".join(lines)
