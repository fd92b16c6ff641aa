"""Reflection on a real CV's triples: rule findings, critic and corrector, one undoable edit per change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kgstudio.domain import TripleStatus
from kgstudio.edit import AddEntity, AddTriple, EditHistory
from kgstudio.llm.backend import ChatMessage, Completion
from kgstudio.ontology.owl import default_ontology
from kgstudio.pipeline.extract import find_span, project_ontology
from kgstudio.pipeline.importing import import_paths
from kgstudio.pipeline.reflect import (
    TripleView,
    apply_proposal,
    check,
    compliance,
    load_triples,
    propose_reflection,
    run_reflection,
)
from kgstudio.progress import CancelToken
from kgstudio.store import Project


class CriticBackend:
    """Critic: flags triples whose text says "livesIn" with an organisation; corrector: reverses them."""

    name = "scripted"
    identity = "scripted:critic"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def chat(self, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0,
             json_schema: dict[str, Any] | None = None, cancel: CancelToken | None = None) -> Completion:
        asked = messages[-1].content
        lines = asked.split("Triples:\n", 1)[1].split("\n")
        triples = {int(line.split(".", 1)[0]): line.split(". ", 1)[1].split(" | ")
                   for line in lines if line[:1].isdigit() and ". " in line and " | " in line}
        if "Rule findings:" in asked:
            self.calls.append("critic")
            issues = [{"triple": n, "problem": "reversed: the organisation does not live anywhere"}
                      for n, (s, p, o) in triples.items() if p == "livesIn" and s == "ABC Corp"]
            return Completion(json.dumps({"issues": issues}), 50, 10, "stop")
        self.calls.append("corrector")
        corrections = []
        for n, (s, p, o) in triples.items():
            if p == "livesIn" and s == "ABC Corp":
                corrections.append({"triple": n, "action": "fix", "subject": o, "predicate": "worksFor", "object": s})
            else:
                corrections.append({"triple": n, "action": "drop"})
        return Completion(json.dumps({"corrections": corrections}), 50, 10, "stop")

    def close(self) -> None:
        pass


@pytest.fixture
def messy(tmp_path: Path, shared_data: Path) -> dict:
    """John Doe's CV with four extracted-looking triples on its chunk: one fine, three wrong."""
    project = Project.create(tmp_path / "cv.kgs")
    import_paths(project, [shared_data / "pdf" / "cv" / "CV_John_Doe.pdf"])
    project_ontology(project)
    with project.repositories() as repos:
        (chunk,) = repos.documents.chunks(repos.documents.list()[0].id)
    history = EditHistory(project)

    def entity(name: str, cls: str | None = None) -> int:
        return history.execute(AddEntity(name, cls, [])).changes.entity_ids.pop()

    def triple(s: int, p: str, o: int, evidence: str) -> int:
        span = find_span(chunk.text, evidence)
        assert span is not None, evidence
        return history.execute(AddTriple(s, p, object_id=o, status="candidate", origin="extracted",
                                         chunk_id=chunk.id, span=span)).changes.keys("triple").pop()

    john, abc, sf, it = entity("John Doe", "Person"), entity("ABC Corp"), entity("San Francisco"), entity("It")
    ids = {
        "good": triple(john, "worksFor", abc, "ABC Corp"),
        "reversed": triple(abc, "livesIn", john, "ABC Corp"),
        "vague": triple(it, "locatedIn", sf, "San Francisco"),
        "loop": triple(john, "knows", john, "John Doe"),
    }
    yield {"project": project, "ids": ids, "history": history, "entity": entity, "triple": triple}
    project.close()


def test_rules_name_what_is_wrong() -> None:
    ontology = default_ontology()
    passage = "Ada Lovelace worked with Charles Babbage in London."

    def view(s: str, p: str, o: str, same: bool = False) -> TripleView:
        return TripleView(1, s, p, o, None, None, False, same, 1, passage)

    assert check(view("Ada Lovelace", "knows", "Charles Babbage"), ontology) == []
    assert check(view("It", "knows", "Charles Babbage"), ontology) == ['the subject "It" is vague']
    assert "not in the ontology" in check(view("Ada Lovelace", "invented", "London"), ontology)[0]
    assert "does not occur" in check(view("Ada Lovelace", "knows", "Paris"), ontology)[0]
    assert check(view("Ada Lovelace", "knows", "Ada Lovelace", same=True), ontology) == [
        "subject and object are the same entity"]
    long = "Ada Lovelace worked with Charles Babbage in London"
    assert "longer than a name" in check(view(long, "knows", "London"), ontology)[0]


def test_reflection_fixes_drops_and_raises_compliance(messy: dict) -> None:
    project, ids = messy["project"], messy["ids"]
    backend = CriticBackend()
    report = run_reflection(project, backend=backend, steps=2)
    assert report.triples == 4 and report.compliance_before == 0.25  # reversed (range), vague and loop break rules
    assert report.compliance_after == 1.0
    assert report.fixed == 1 and report.dropped == 2  # reversed fixed by the corrector; vague and loop dropped
    with project.repositories() as repos:
        status = {name: repos.graph.triple(i).status for name, i in ids.items()}
        assert status == {"good": TripleStatus.CANDIDATE, "reversed": TripleStatus.REJECTED,
                          "vague": TripleStatus.REJECTED, "loop": TripleStatus.REJECTED}
        assert repos.graph.triple(ids["vague"]).status_reason == 'reflection: the subject "It" is vague'
        reflected = [t for t in repos.graph.triples() if t.origin == "reflected"]
        assert len(reflected) == 0  # the fix (John Doe worksFor ABC Corp) was already known: it gained evidence
        good_evidence = repos.graph.provenance(ids["good"])
    assert len(good_evidence) == 2
    assert backend.calls[:2] == ["critic", "corrector"]


def test_each_change_undoes_on_its_own(messy: dict) -> None:
    project, ids, history = messy["project"], messy["ids"], messy["history"]
    report = run_reflection(project, backend=CriticBackend())
    log = [entry for entry in history.log() if entry.actor == "reflection"]
    assert [entry.id for entry in sorted(log, key=lambda e: e.id)] == report.changes
    undone = history.undo()  # the newest correction only
    assert undone.id == report.changes[-1]
    with project.repositories() as repos:
        back = [name for name, i in ids.items() if repos.graph.triple(i).status == TripleStatus.CANDIDATE]
    assert len(back) == 2  # "good" and the one just restored


def test_multi_mode_asks_no_critic(messy: dict) -> None:
    backend = CriticBackend()
    report = run_reflection(messy["project"], backend=backend, mode="multi")
    assert backend.calls == ["corrector"] and report.steps == 1
    # Only the rule findings go to the corrector; domain/range alone catches the reversed triple.
    assert report.dropped == 2 and report.fixed == 1
    assert report.compliance_after == 1.0


def test_domain_and_range_on_the_cv(messy: dict) -> None:
    """The contracts' domain/range rule, with the subclass closure, judges the CV's triples."""
    project, ids, entity, triple = messy["project"], messy["ids"], messy["entity"], messy["triple"]
    with project.repositories() as repos:
        john = repos.graph.find_entities("John Doe")[0].id
    berkeley = entity("University of California, Berkeley", "Organization")
    sf = entity("San Francisco, CA", "Place")
    member = triple(john, "memberOf", berkeley, "Berkeley")  # domain Agent: a Person is an Agent
    located = triple(john, "locatedIn", sf, "San Francisco")  # domain Organization: a Person is not one
    works_at_place = triple(john, "worksFor", sf, "San Francisco")  # range Organization: a Place is not one
    views = {t.id: t for t in load_triples(project)}
    ontology = project_ontology(project)
    assert check(views[member], ontology) == []
    assert check(views[located], ontology) == [
        "the subject of locatedIn must be a Organization, and 'John Doe' is a Person"]
    assert check(views[works_at_place], ontology) == [
        "the object of worksFor must be a Organization, and 'San Francisco, CA' is a Place"]
    assert check(views[ids["reversed"]], ontology) == [
        "the object of livesIn must be a Place, and 'John Doe' is a Person"]  # ABC Corp has no class: no verdict
    assert check(views[ids["good"]], ontology) == []  # ABC Corp has no class: it cannot contradict the range
    assert compliance([views[i] for i in (member, located, works_at_place, ids["good"])], ontology) == 0.5


def test_a_proposal_changes_nothing_until_accepted(messy: dict) -> None:
    project, ids, history = messy["project"], messy["ids"], messy["history"]
    before = len(history.log())
    report = propose_reflection(project, backend=CriticBackend(), steps=2)
    assert not report.applied and report.changes == []
    assert len(history.log()) == before  # no edit yet
    with project.repositories() as repos:
        assert {repos.graph.triple(i).status for i in ids.values()} == {TripleStatus.CANDIDATE}
    by_triple = {change.triple_id: change for change in report.proposals}
    assert set(by_triple) == {ids["reversed"], ids["vague"], ids["loop"]}
    fix = by_triple[ids["reversed"]]
    assert fix.action == "fix" and fix.old == ("ABC Corp", "livesIn", "John Doe")
    assert fix.new == ("John Doe", "worksFor", "ABC Corp")
    assert "must be a Place" in fix.reason
    assert by_triple[ids["vague"]].action == "drop" and by_triple[ids["vague"]].reason == 'the subject "It" is vague'
    assert report.compliance_before == 0.25 and report.compliance_after == 1.0  # if all were accepted

    # Accept two of three: each is its own edit by "reflection", with its reason.
    first = apply_proposal(history, fix, report.run_id)
    second = apply_proposal(history, by_triple[ids["vague"]], report.run_id)
    assert (first.actor, first.reason) == ("reflection", fix.reason)
    with project.repositories() as repos:
        status = {name: repos.graph.triple(i).status for name, i in ids.items()}
    assert status == {"good": TripleStatus.CANDIDATE, "reversed": TripleStatus.REJECTED,
                      "vague": TripleStatus.REJECTED, "loop": TripleStatus.CANDIDATE}  # the loop was not accepted
    assert history.undo().id == second.id  # undo one: the vague triple is back, the fix stays
    with project.repositories() as repos:
        assert repos.graph.triple(ids["vague"]).status == TripleStatus.CANDIDATE
        assert repos.graph.triple(ids["reversed"]).status == TripleStatus.REJECTED


def test_a_selection_reflects_on_those_triples_only(messy: dict) -> None:
    project, ids = messy["project"], messy["ids"]
    report = run_reflection(project, backend=CriticBackend(), triple_ids=[ids["good"], ids["vague"]])
    assert report.triples == 2 and report.dropped == 1
    with project.repositories() as repos:
        assert repos.graph.triple(ids["loop"]).status == TripleStatus.CANDIDATE  # outside the selection
    assert {t.id for t in load_triples(project, [ids["good"]])} == {ids["good"]}


class CancellingCritic(CriticBackend):
    """The user cancels while the critic is answering: the generation stops as llama.cpp's does."""

    def __init__(self, token: CancelToken) -> None:
        super().__init__()
        self.token = token

    def chat(self, messages: list[ChatMessage], **kwargs: Any) -> Completion:
        self.token.cancel()
        self.calls.append("cancelled")
        return Completion("", 10, 0, "cancelled")


@pytest.mark.parametrize("apply", [True, False])
def test_cancel_during_the_critic_changes_nothing(messy: dict, apply: bool) -> None:
    project, ids = messy["project"], messy["ids"]
    token = CancelToken()
    backend = CancellingCritic(token)
    report = run_reflection(project, backend=backend, cancel=token, apply=apply)
    assert report.cancelled and backend.calls == ["cancelled"]  # no corrector request after the cancel
    assert report.proposals == [] and report.changes == []  # the rule findings are not dropped unasked
    with project.repositories() as repos:
        assert {repos.graph.triple(i).status for i in ids.values()} == {TripleStatus.CANDIDATE}


class OverEagerCritic(CriticBackend):
    """A small model's critic: it also faults the fine triple, and the corrector would drop it."""

    def chat(self, messages: list[ChatMessage], **kwargs: Any) -> Completion:
        completion = super().chat(messages, **kwargs)
        if self.calls[-1] == "critic":
            issues = json.loads(completion.text)["issues"]
            lines = messages[-1].content.split("Triples:\n", 1)[1].split("\n")
            fine = next(int(line.split(".")[0]) for line in lines if "| worksFor |" in line)
            issues.append({"triple": fine, "problem": "looks wrong to me"})
            return Completion(json.dumps({"issues": issues}), 50, 10, "stop")
        return completion


def test_the_critic_alone_never_drops_a_triple_that_passes_every_rule(messy: dict) -> None:
    project, ids = messy["project"], messy["ids"]
    report = propose_reflection(project, backend=OverEagerCritic(), steps=1)
    assert {change.triple_id for change in report.proposals} == {ids["reversed"], ids["vague"], ids["loop"]}
    assert report.compliance_after == 1.0  # the kept triple passes every rule
