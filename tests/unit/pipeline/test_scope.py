"""Scoping with a scripted model: proposed CQs deduplicated, SPARQL drafts checked and repaired, a derived
ontology validated and repaired from the validator's own words."""

from __future__ import annotations

import json
from typing import Any

from kgstudio.llm.backend import ChatMessage, Completion
from kgstudio.ontology.owl import default_ontology
from kgstudio.ontology.validate import errors
from kgstudio.pipeline import scope
from kgstudio.progress import CancelToken


class Script:
    """Gives the scripted answers in order and records what it was asked."""

    name = "scripted"

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = [json.dumps(a) for a in answers]
        self.calls: list[list[ChatMessage]] = []

    def chat(self, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0,
             json_schema: dict[str, Any] | None = None, cancel: CancelToken | None = None) -> Completion:
        self.calls.append(messages)
        return Completion(self.answers.pop(0), 100, 50, "stop")

    def close(self) -> None:
        pass


def test_proposed_questions_are_deduplicated_against_each_other_and_the_project() -> None:
    model = Script({"personas": ["recruiter"], "scope": ["jobs", "degrees"], "questions": [
        "Who works for which organisation?", "Which organisation does each person work for", "Who works for which "
        "organisation", "Which university did each person graduate from?", "Which skills does each person list?"]})
    proposal = scope.propose_questions(model, "CVs of job applicants", ["Jane Smith, XYZ Marketing, New York"],
                                       count=5, existing=["Which skills does each person list?"])
    assert proposal.personas == ["recruiter"]
    assert proposal.questions == ["Who works for which organisation?",
                                  "Which organisation does each person work for?",
                                  "Which university did each person graduate from?"]
    assert "Jane Smith, XYZ Marketing" in model.calls[0][-1].content and "5 competency" in model.calls[0][-1].content


def test_read_questions_from_a_text_file() -> None:
    text = "# CV questions\n1. Who works where?\n- Where did each person study?\n\n  * Which skills?  \n"
    assert scope.read_questions(text) == ["Who works where?", "Where did each person study?", "Which skills?"]


def test_a_sparql_draft_outside_the_ontology_is_sent_back_once() -> None:
    model = Script({"sparql": "SELECT ?p WHERE { ?p kgs:employedBy ?o }"},
                   {"sparql": "SELECT ?p ?o WHERE { ?p kgs:worksFor ?o }"})
    query, checked = scope.draft_sparql(model, "Who works for which organisation?", default_ontology())
    assert checked.ok and "kgs:worksFor" in query and len(model.calls) == 2
    assert "kgs:employedBy is not a term of the ontology" in model.calls[1][-1].content
    assert "kgs:worksFor: kgs:Person -> kgs:Organization" in model.calls[0][0].content


def test_a_derived_ontology_is_validated_and_repaired_with_the_validators_words() -> None:
    broken = {"classes": [{"name": "Person", "parent": "Agent"}, {"name": "Agent", "parent": "Person"}],
              "properties": [{"name": "works for", "kind": "object", "domain": "Person", "range": "Company"}]}
    fixed = {"classes": [{"name": "Person"}, {"name": "Company"}],
             "properties": [{"name": "works for", "kind": "object", "domain": "Person", "range": "Company"},
                            {"name": "graduated", "kind": "data", "domain": "person", "range": "xsd:date"}]}
    model = Script(broken, fixed)
    ontology, problems = scope.derive_ontology(model, ["Who works for which company?"], "urn:x:ontology#")
    assert errors(problems) == []
    assert [(p.name, p.domain, p.range, p.iri) for p in ontology.properties] == [
        ("worksFor", "Person", "Company", "urn:x:ontology#worksFor"),
        ("graduated", "Person", "xsd:date", "urn:x:ontology#graduated")]
    feedback = model.calls[1][-1].content
    assert "cycle in the class hierarchy" in feedback and "the range Company is not a class" in feedback
