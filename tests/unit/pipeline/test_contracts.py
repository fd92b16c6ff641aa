"""Contracts on the shared CV PDFs: three competency questions, an imported ontology, extraction under
contracts with a scripted model, and what `verify` then tells the user (answered CQs and why).

The scripted model makes the mistakes small models make — a wrong class, a class used as a thing, a
name the text does not contain — and corrects the first when told why; the rules are also checked
one by one on hand-written candidates.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kgstudio.domain import CompetencyQuestion, Ontology, OntologyClass, OntologyProperty
from kgstudio.edit import AddEntity, AddTriple, EditHistory
from kgstudio.llm.backend import ChatMessage, Completion
from kgstudio.ontology.owl import parse_ontology
from kgstudio.pipeline import contracts
from kgstudio.pipeline.extract import ExtractionSettings, run_extraction
from kgstudio.pipeline.importing import import_paths
from kgstudio.pipeline.verify import verify_project
from kgstudio.progress import CancelToken
from kgstudio.store import Project

CV_ONTOLOGY = """
@prefix cv: <https://example.org/cv#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
cv:Person a owl:Class .
cv:Organization a owl:Class .
cv:University a owl:Class ; rdfs:subClassOf cv:Organization .
cv:Place a owl:Class .
cv:Skill a owl:Class .
cv:worksFor a owl:ObjectProperty ; rdfs:domain cv:Person ; rdfs:range cv:Organization .
cv:studiedAt a owl:ObjectProperty ; rdfs:domain cv:Person ; rdfs:range cv:University .
cv:locatedIn a owl:ObjectProperty ; rdfs:domain cv:Organization ; rdfs:range cv:Place .
cv:hasSkill a owl:ObjectProperty ; rdfs:domain cv:Person ; rdfs:range cv:Skill .
cv:graduated a owl:DatatypeProperty ; rdfs:domain cv:Person ; rdfs:range xsd:date .
"""
QUESTIONS = [
    ("Who works for which organisation?",
     "SELECT ?person ?organisation WHERE { ?p cv:worksFor ?o . ?p rdfs:label ?person . ?o rdfs:label ?organisation }"),
    ("Where did each person study?",
     "SELECT ?person ?university WHERE { ?p cv:studiedAt ?u . ?p rdfs:label ?person . ?u rdfs:label ?university }"),
    ("Where is each organisation located?",
     "SELECT ?organisation ?place WHERE { ?o cv:locatedIn ?l . ?o rdfs:label ?organisation . ?l rdfs:label ?place }"),
]


def triple(s: str, sc: str, p: str, o: str, oc: str) -> dict[str, str]:
    return {"subject": s, "subject_class": sc, "predicate": p, "object": o, "object_class": oc, "evidence": o}


class CvModel:
    """Answers like a small model on the two CVs; corrects a wrong class when the feedback names it."""

    name = "scripted"
    identity = "scripted-cv:v1"

    def __init__(self) -> None:
        self.calls: list[list[ChatMessage]] = []

    def chat(self, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0,
             json_schema: dict[str, Any] | None = None, cancel: CancelToken | None = None) -> Completion:
        self.calls.append(messages)
        text = next(m.content for m in reversed(messages) if m.role == "user" and m.content.startswith("Text:"))
        retry = "break the rules" in messages[-1].content
        if "Jane Smith" in text and not retry:
            triples = [triple("Jane Smith", "Person", "worksFor", "XYZ Marketing", "Organization"),
                       triple("Jane Smith", "Person", "studiedAt", "New York University", "Place"),  # wrong class
                       triple("Jane Smith", "Person", "hasSkill", "Skill", "Skill"),  # a class as a thing
                       triple("Jane Smith", "Person", "worksFor", "Microsoft", "Organization")]  # not in the text
        elif "Jane Smith" in text:
            assert "must be a University" in messages[-1].content
            triples = [triple("Jane Smith", "Person", "studiedAt", "New York University", "University"),
                       triple("Jane Smith", "Person", "hasSkill", "SEO", "Skill")]
        elif "John Doe" in text:
            triples = [triple("John Doe", "Person", "worksFor", "ABC Corp", "Organization"),
                       triple("John Doe", "Person", "studiedAt", "University of California, Berkeley", "University")]
        else:
            triples = []
        return Completion(json.dumps({"triples": triples}), 200, 40, "stop")

    def close(self) -> None:
        pass


@pytest.fixture
def cv_project(tmp_path: Path, shared_data: Path) -> Project:
    project = Project.create(tmp_path / "cv.kgs")
    cvs = shared_data / "pdf" / "cv"
    assert import_paths(project, [cvs / "CV_Jane_Smith.pdf", cvs / "CV_John_Doe.pdf"]).count("imported") == 2
    ontology = parse_ontology(CV_ONTOLOGY)
    with project.transaction() as repos:
        repos.ontology.replace(ontology.classes, ontology.properties)
        for text, sparql in QUESTIONS:
            repos.questions.add(CompetencyQuestion(text, sparql, "accepted"))
    return project


def test_extraction_under_contracts_retries_once_and_keeps_what_still_fails_out(cv_project: Project) -> None:
    model = CvModel()
    report = run_extraction(cv_project, backend=model)
    assert report.chunks == 2 and report.model_calls == 3 and report.contract_retries == 1
    retry = next(call for call in model.calls if call[-1].content.startswith("Some of those triples"))
    assert retry[-2].role == "assistant" and "New York University" in retry[-2].content
    assert "does not occur in the text" in retry[-1].content  # Microsoft, in plain words
    with cv_project.repositories() as repos:
        candidates = repos.extraction.candidates()
        names = {(c.subject, c.predicate, c.object, c.error is None) for c in candidates}
        triples = {(repos.graph.entity(t.subject_id).name, t.predicate, repos.graph.entity(t.object_id).name)
                   for t in repos.graph.triples()}
        failures = {(f.rule, f.subject_id) for f in repos.contracts.failures()}
        rates = repos.contracts.pass_rates(report.run_id)[report.run_id]
    assert ("Jane Smith", "studiedAt", "New York University", False) in names  # the first answer, recorded
    assert ("Jane Smith", "studiedAt", "New York University", True) in names  # the corrected one
    assert triples == {("Jane Smith", "worksFor", "XYZ Marketing"), ("Jane Smith", "studiedAt", "New York University"),
                       ("Jane Smith", "hasSkill", "SEO"), ("John Doe", "worksFor", "ABC Corp"),
                       ("John Doe", "studiedAt", "University of California, Berkeley")}
    by_id = {c.id: c for c in candidates}
    assert {(rule, by_id[i].object) for rule, i in failures} == {
        ("domain_range", "New York University"), ("class_not_instance", "Skill"), ("grounded", "Microsoft")}
    assert rates["domain_range"] == (7, 8) and rates["grounded"] == (7, 8) and rates["literal_vs_entity"] == (8, 8)
    assert report.contract_checks["class_not_instance"] == [7, 8]


def test_a_rerun_and_a_rerun_after_undo_ask_the_model_nothing(cv_project: Project) -> None:
    run_extraction(cv_project, backend=CvModel())
    triples = cv_project.counts()["triples"]["total"]
    again = CvModel()
    assert run_extraction(cv_project, backend=again).model_calls == 0 and again.calls == []
    history = EditHistory(cv_project)
    while history.undo_entry() is not None and history.undo_entry().actor == "extraction":
        history.undo()
    with cv_project.repositories() as repos:
        assert repos.contracts.pass_rates() == {}  # the verdicts went with their candidates
    after_undo = CvModel()
    report = run_extraction(cv_project, backend=after_undo)
    assert after_undo.calls == [] and report.contract_retries == 1  # the retry's answer came from the cache
    assert cv_project.counts()["triples"]["total"] == triples


def test_contracts_off_or_other_retries_are_a_different_cache_key(cv_project: Project) -> None:
    run_extraction(cv_project, backend=CvModel())
    unchecked = CvModel()
    report = run_extraction(cv_project, ExtractionSettings(contracts=False), backend=unchecked)
    assert report.model_calls == 2 and report.contract_retries == 0 and report.contract_checks == {}


def test_verify_answers_the_questions_with_their_supporting_triples(cv_project: Project) -> None:
    run_extraction(cv_project, backend=CvModel())
    report = verify_project(cv_project)
    works, studied, located = report.questions
    assert works.answered and {tuple(a.values()) for a in works.answers} == {
        ("Jane Smith", "XYZ Marketing"), ("John Doe", "ABC Corp")}
    assert {(t["subject"], t["predicate"], t["object"]) for t in works.triples} == {
        ("Jane Smith", "worksFor", "XYZ Marketing"), ("John Doe", "worksFor", "ABC Corp")}
    assert studied.answered and studied.answer_count == 2
    assert not located.answered and located.triples == [] and located.problem is None
    assert report.answered == 2 and report.shacl_conforms
    (rates,) = report.contracts.values()
    assert rates["domain_range"]["rate"] == 0.875
    with cv_project.repositories() as repos:
        stored = repos.questions.list()
    assert stored[0].last_answer[0]["answered"] and not stored[2].last_answer[0]["answered"]


def test_shacl_lists_a_manual_edit_that_breaks_the_ontology(cv_project: Project) -> None:
    run_extraction(cv_project, backend=CvModel())
    history = EditHistory(cv_project)
    with cv_project.repositories() as repos:
        jane = repos.graph.find_entities("Jane Smith")[0]
    paris = history.execute(AddEntity("Paris", "Place")).changes.changes[0].key
    history.execute(AddTriple(jane.id, "worksFor", object_id=paris))
    report = verify_project(cv_project)
    assert not report.shacl_conforms
    assert [(v.focus, v.shape) for v in report.shacl_violations] == [("Paris", "worksFor-range")]


# --- the rules, one by one ------------------------------------------------------------------------

ONTOLOGY = Ontology(
    [OntologyClass("Agent", "x:Agent"), OntologyClass("Person", "x:Person", parent="Agent"),
     OntologyClass("Organization", "x:Organization", label="organisation", parent="Agent"),
     OntologyClass("Place", "x:Place"), OntologyClass("CalendarDate", "x:CalendarDate")],
    [OntologyProperty("worksFor", "x:worksFor", "object", "Person", "Organization"),
     OntologyProperty("memberOf", "x:memberOf", "object", "Agent", "Organization"),
     OntologyProperty("birthDate", "x:birthDate", "data", "Person", "xsd:date"),
     OntologyProperty("dockingDate", "x:dockingDate", "object", None, "CalendarDate")])
TEXT = ("Ada Lovelace worked for the Analytical Society in London from 1843-01-01. She was born on 10 December 1815 "
        "and wrote to ada@example.org. The company grew.")


@pytest.mark.parametrize(("candidate", "rule", "message"), [
    (("Ada Lovelace", "Person", "inventedComputing", "London", "Place"), "predicate_in_ontology", "not a property"),
    (("Ada Lovelace", "Place", "worksFor", "Analytical Society", "Organization"), "domain_range",
     "subject of worksFor must be a Person"),
    (("Ada Lovelace", "Person", "worksFor", "London", "Place"), "domain_range", "object of worksFor must be"),
    (("Ada Lovelace", "Person", "worksFor", "organisation", "Organization"), "class_not_instance", "is a class"),
    (("Ada Lovelace", "Person", "worksFor", "Royal Society", "Organization"), "grounded", "does not occur"),
    (("She", "Person", "worksFor", "Analytical Society", "Organization"), "names_normalised", "does not name"),
    (("Ada Lovelace", "Person", "worksFor", "the company", "Organization"), "names_normalised", "does not name"),
    (("Ada Lovelace", "Person", "worksFor", "Analytical Society.", "Organization"), "names_normalised",
     "should be written 'Analytical Society'"),
    (("Ada Lovelace", "Person", "worksFor", "1843-01-01", "Organization"), "literal_vs_entity", "needs an entity"),
    (("Ada Lovelace", "Person", "worksFor", "ada@example.org", "Organization"), "literal_vs_entity", "not the value"),
    (("Ada Lovelace", "Person", "birthDate", "London", None), "literal_vs_entity", "needs a date"),
    (("1843-01-01", "Person", "worksFor", "Analytical Society", "Organization"), "literal_vs_entity", "is a value"),
])
def test_each_rule_says_what_is_wrong_in_plain_words(candidate: tuple, rule: str, message: str) -> None:
    s, sc, p, o, oc = candidate
    verdicts = contracts.check(contracts.Candidate(s, p, o, sc, oc, TEXT), contracts.OntologyIndex(ONTOLOGY))
    broken = {v.rule: v.message for v in verdicts if not v.passed}
    assert rule in broken and message in broken[rule]


@pytest.mark.parametrize("candidate", [
    ("Ada Lovelace", "Person", "worksFor", "Analytical Society", "Organization"),
    ("Ada Lovelace", "Person", "memberOf", "Analytical Society", "Organization"),  # Person is an Agent
    ("Ada Lovelace", None, "worksFor", "Analytical Society", None),  # no class stated: nothing contradicted
    ("Ada Lovelace", "Person", "birthDate", "10 December 1815", None),
    ("Ada Lovelace", "Person", "dockingDate", "1843-01-01", "CalendarDate"),  # a range class that holds values
])
def test_a_good_triple_passes_every_rule(candidate: tuple) -> None:
    s, sc, p, o, oc = candidate
    verdicts = contracts.check(contracts.Candidate(s, p, o, sc, oc, TEXT), contracts.OntologyIndex(ONTOLOGY))
    assert [v for v in verdicts if not v.passed] == []


def test_names_are_normalised_without_eating_abbreviations() -> None:
    assert contracts.normalise_name(' "Acme Corp." ') == "Acme Corp."
    assert contracts.normalise_name("(London),") == "London"
    assert contracts.normalise_name("J. R. R. Tolkien") == "J. R. R. Tolkien"
    assert contracts.normalise_name("Berkeley.") == "Berkeley"
    assert re.fullmatch(r"[a-z_]+", contracts.RULE_NAMES[0])
