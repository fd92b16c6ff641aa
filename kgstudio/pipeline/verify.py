"""Verification (HyDRA): does the graph answer the competency questions, and does it fit the ontology?

:func:`verify_project` runs, on the project's graph (see
:mod:`kgstudio.pipeline.graph_rdf`):

- every competency question's SPARQL: answered or not, the answers, and the
  triples that support them (the query's triple patterns instantiated with
  each answer's bindings: the CQ's coverage, which the GUI highlights);
- the SHACL shapes generated from the ontology, validated with pySHACL: each
  violation with its focus node, path, value and message;
- the extraction contracts' pass rate per rule and run (table ``contract_result``).

Each CQ's outcome is stored as its ``last_answer``. Rejected CQs are skipped;
a CQ without SPARQL is reported as "no query" (draft one with ``kgstudio cq
PROJECT sparql``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from rdflib import Literal, URIRef, Variable

from kgstudio.domain import CompetencyQuestion, Ontology
from kgstudio.ontology.shacl import shapes_graph
from kgstudio.ontology.sparql import check_sparql, pattern_triples, with_prefixes
from kgstudio.pipeline.extract import project_ontology
from kgstudio.pipeline.graph_rdf import ProjectGraph, project_graph
from kgstudio.store import Project

MAX_ANSWERS = 50  # per CQ, shown and stored
MAX_SUPPORT = 200  # supporting triples per CQ
MAX_SHACL = 500  # violations listed


@dataclass
class CqOutcome:
    id: int
    text: str
    sparql: str | None
    answered: bool
    answers: list[dict[str, str]] = field(default_factory=list)  # variable -> what the user reads
    answer_count: int = 0
    triples: list[dict[str, Any]] = field(default_factory=list)  # {"id", "subject", "predicate", "object"}
    problem: str | None = None  # no query, a query that does not parse or leaves the ontology


@dataclass
class ShaclViolation:
    focus: str  # the entity (its name) or value the shape complains about
    path: str | None
    value: str | None
    message: str
    shape: str
    severity: str


@dataclass
class VerificationReport:
    questions: list[CqOutcome] = field(default_factory=list)
    shacl_conforms: bool = True
    shacl_violations: list[ShaclViolation] = field(default_factory=list)
    shacl_total: int = 0
    contracts: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)  # run -> rule -> figures

    @property
    def answered(self) -> int:
        return sum(q.answered for q in self.questions)

    def to_dict(self) -> dict[str, Any]:
        return {"questions": [asdict(q) for q in self.questions],
                "coverage": {"answered": self.answered, "questions": len(self.questions)},
                "shacl": {"conforms": self.shacl_conforms, "violations": self.shacl_total,
                          "listed": [asdict(v) for v in self.shacl_violations]},
                "contracts": {str(run): rules for run, rules in self.contracts.items()}}


def verify_project(project: Project, *, accepted_only: bool = False, shacl: bool = True) -> VerificationReport:
    """Answer the CQs, validate the SHACL shapes and gather the contract pass rates (module docstring)."""
    ontology = project_ontology(project)
    view = project_graph(project, ontology, accepted_only=accepted_only)
    report = VerificationReport()
    with project.repositories() as repos:
        questions = [q for q in repos.questions.list() if q.status != "rejected"]
        rates = repos.contracts.pass_rates()
    for question in questions:
        report.questions.append(answer_question(question, view, ontology))
    with project.transaction() as repos:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        for question, outcome in zip(questions, report.questions, strict=True):
            question.last_answer = [{"at": stamp, "answered": outcome.answered, "count": outcome.answer_count,
                                     "answers": outcome.answers[:10], "triples": [t["id"] for t in outcome.triples],
                                     "problem": outcome.problem}]
            repos.questions.update(question)
    if shacl and ontology.properties:
        _validate_shapes(view, ontology, report)
    report.contracts = {run: {rule: {"passed": p, "checked": n, "rate": round(p / n, 4) if n else 1.0}
                              for rule, (p, n) in rules.items()} for run, rules in rates.items()}
    return report


def answer_question(question: CompetencyQuestion, view: ProjectGraph, ontology: Ontology) -> CqOutcome:
    """Run one CQ's SPARQL on the graph; the answers and the triples behind them."""
    outcome = CqOutcome(question.id or 0, question.text, question.sparql, False)
    if not question.sparql:
        outcome.problem = "no SPARQL query yet"
        return outcome
    checked = check_sparql(question.sparql, ontology)
    if checked.problems and not checked.terms:
        outcome.problem = "; ".join(checked.problems)
        return outcome
    try:
        result = view.graph.query(with_prefixes(question.sparql, ontology))
    except Exception as exc:  # rdflib's evaluation raises many types for a query it cannot run
        outcome.problem = f"the query failed: {exc}"
        return outcome
    if result.type == "ASK":
        outcome.answered = bool(result.askAnswer)
        outcome.answer_count = int(outcome.answered)
        outcome.answers = [{"ask": "yes" if outcome.answered else "no"}]
    else:
        rows = [{str(k): v for k, v in row.asdict().items()} for row in result]  # type: ignore[union-attr]
        rows = [r for r in rows if any(_meaningful(v) for v in r.values())]  # COUNT(*) = 0 is no answer
        outcome.answered = bool(rows)
        outcome.answer_count = len(rows)
        outcome.answers = [{k: view.label(v) for k, v in r.items()} for r in rows[:MAX_ANSWERS]]
        if rows:
            outcome.triples = _support(question.sparql, rows, view, ontology)
    if checked.problems:
        outcome.problem = "; ".join(checked.problems)
    return outcome


def _meaningful(value: object) -> bool:
    return not (isinstance(value, Literal) and value.toPython() in (0, "0"))


def _support(query: str, rows: list[dict[str, Any]], view: ProjectGraph, ontology: Ontology) -> list[dict[str, Any]]:
    """The stored triples that match the query's patterns under bindings consistent with an answer."""
    try:
        patterns = pattern_triples(query, ontology)
    except Exception:  # noqa: BLE001 - a query rdflib ran but cannot take apart: no support listed
        return []
    patterns = [p for p in patterns if all(isinstance(t, URIRef | Literal | Variable) for t in p)]
    if not patterns:
        return []
    where = " .\n".join(" ".join(t.n3() for t in p) for p in patterns)
    try:
        bindings = [{str(k): v for k, v in row.asdict().items()}
                    for row in view.graph.query(f"SELECT * WHERE {{ {where} }}")]  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001
        return []
    answers = [{k: v for k, v in r.items() if isinstance(v, URIRef | Literal)} for r in rows]
    found: dict[int, dict[str, Any]] = {}
    for binding in bindings:
        if not any(all(binding.get(k, v) == v for k, v in answer.items()) for answer in answers):
            continue
        for pattern in patterns:
            key = tuple(binding.get(str(t), t) if isinstance(t, Variable) else t for t in pattern)
            triple_id = view.triple_ids.get(key)  # type: ignore[arg-type]
            if triple_id is not None and triple_id not in found:
                found[triple_id] = {"id": triple_id, "subject": view.label(key[0]),
                                    "predicate": view.label(key[1]), "object": view.label(key[2])}
        if len(found) >= MAX_SUPPORT:
            break
    return sorted(found.values(), key=lambda t: t["id"])


def _validate_shapes(view: ProjectGraph, ontology: Ontology, report: VerificationReport) -> None:
    from pyshacl import validate  # imported here: it loads a lot and only verify needs it
    from rdflib import RDF, Namespace

    sh = Namespace("http://www.w3.org/ns/shacl#")
    conforms, results, _ = validate(view.graph, shacl_graph=shapes_graph(ontology), inference="none",
                                    abort_on_first=False, allow_warnings=True)
    report.shacl_conforms = bool(conforms)
    found = list(results.subjects(RDF.type, sh.ValidationResult))
    report.shacl_total = len(found)
    for node in found[:MAX_SHACL]:
        path, value = results.value(node, sh.resultPath), results.value(node, sh.value)
        report.shacl_violations.append(ShaclViolation(
            focus=view.label(results.value(node, sh.focusNode)),
            path=view.label(path) if path is not None else None,
            value=view.label(value) if value is not None else None,
            message=str(results.value(node, sh.resultMessage) or ""),
            shape=str(results.value(node, sh.sourceShape) or "").rsplit(":", 1)[-1],
            severity=str(results.value(node, sh.resultSeverity) or "").rsplit("#", 1)[-1]))
    report.shacl_violations.sort(key=lambda v: (v.shape, v.focus))
