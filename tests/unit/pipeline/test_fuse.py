"""Fusion on the shared e-mails and CVs: what a user sees after `kgstudio fuse`, and that it all undoes.

The model's part is played by a scripted backend here (it answers from the
question, like a model would); tests/integration/test_fuse_model.py asks the
real embedded model.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from kgstudio.domain import Actor, LlmCall, Run, TripleStatus
from kgstudio.edit import AddEntity, AddExtractedTriples, AddTriple, EditHistory, MarkDistinct, SplitEntity
from kgstudio.llm.backend import ChatMessage, Completion
from kgstudio.pipeline.fuse import FusionSettings, run_fusion
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project
from tests.unit.edit.test_undo_redo import graph_snapshot

NO_LLM = FusionSettings(use_llm=False)


class ScriptedModel:
    """Says "same" for the pairs it is told, picks the first value of a tie, and a fixed relation."""

    name = "scripted"

    def __init__(self, same: set[frozenset[str]] = frozenset(), relation: str = "livesIn") -> None:
        self.same, self.relation = same, relation
        self.questions: list[str] = []

    def chat(self, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0,
             json_schema: dict[str, Any] | None = None, grammar: str | None = None, cancel: Any = None) -> Completion:
        question = messages[-1].content
        self.questions.append(question)
        if "Are A and B the same" in question:
            a, b = re.findall(r'^[AB]: "([^"]+)"', question, re.MULTILINE)
            return Completion(json.dumps({"same": frozenset((a, b)) in self.same}), 50, 5, "stop")
        if "can have only one" in question:
            return Completion('{"choice": 1}', 50, 5, "stop")
        return Completion(json.dumps({"predicate": self.relation}), 50, 5, "stop")

    def close(self) -> None:
        pass


@pytest.fixture
def mail(tmp_path: Path, shared_data: Path) -> Project:
    project = Project.create(tmp_path / "mail.kgs")
    report = import_paths(project, [shared_data / "email"])
    assert report.count("imported") + report.count("partial") >= 10
    yield project
    project.close()


def people(project: Project) -> dict[str, list[str]]:
    """Active Person entities: name -> sorted aliases (what `kgstudio entities` shows)."""
    with project.repositories() as repos:
        return {e.name: sorted(a.text for a in repos.graph.aliases(e.id))
                for e in repos.graph.entities() if e.class_name == "Person"}


def test_one_person_under_several_spellings_becomes_one_entity_with_aliases(mail: Project) -> None:
    before = people(mail)
    assert "Gary Gregory" in before and "Gary D. Gregory" in before and "sebb" in before
    trio = "Test: Part of a trio of identical messages"
    with mail.repositories() as repos:
        messages = len([e for e in repos.graph.entities() if e.name == trio])
    report = run_fusion(mail, NO_LLM)
    after = people(mail)
    assert after["Gary D. Gregory"] == ["Gary Gregory", "mailto:garydgregory@gmail.com", "mailto:ggregory@apache.org"]
    assert after["Sebastian Bazley"] == ["mailto:sebb@apache.org", "mailto:sebbaz@gmail.com", "sebb"]
    assert "Gary Gregory" not in after and "sebb" not in after
    # hard negatives of the same corpus stay apart: two mailing lists, role addresses, same-subject messages
    assert {"users@ponymail.apache.org", "users@ponymail.incubator.apache.org", "user@example.com",
            "dev@ponymail.incubator.apache.org", "core-user@hadoop.apache.org"} <= set(after)
    with mail.repositories() as repos:
        same_subject = [e for e in repos.graph.entities() if e.name == trio]
        gary = next(e for e in repos.graph.entities() if e.name == "Gary D. Gregory")
        merged = [e for e in repos.graph.entities(include_merged=True) if e.name == "Gary Gregory"]
        merge_records = repos.graph.merges(gary.id)
    assert len(same_subject) == messages == 3  # different messages (Message-IDs), one subject
    assert len(report.merges) == 2
    # the surviving entity keeps its IRI; the merged one stays (its IRI resolves) with a reasoned record
    assert merged[0].status == "merged" and merged[0].merged_into == gary.id and merged[0].iri != gary.iri
    (record,) = merge_records
    assert record.actor == "fusion" and record.score == 0.97 and "middle initial" in record.reason


def test_every_merge_undoes_one_at_a_time_and_all_of_it_exactly(mail: Project) -> None:
    history = EditHistory(mail)
    before = graph_snapshot(mail)
    report = run_fusion(mail, NO_LLM)
    fused, fused_people = graph_snapshot(mail), len(people(mail))
    undone = history.undo()  # `kgstudio undo`: the last merge only
    assert undone.actor == Actor.FUSION and undone.description.startswith("fuse entities")
    assert len(people(mail)) == fused_people + 1
    for _ in report.merges[1:]:
        history.undo()
    assert graph_snapshot(mail) == before
    for _ in report.merges:
        history.redo()
    assert graph_snapshot(mail) == fused


def test_dry_run_changes_nothing_and_plans_the_same(mail: Project) -> None:
    before = graph_snapshot(mail)
    plan = run_fusion(mail, NO_LLM, dry_run=True)
    assert graph_snapshot(mail) == before
    done = run_fusion(mail, NO_LLM)
    assert [m.names for m in plan.merges] == [m.names for m in done.merges]


def test_new_mail_from_a_fused_person_lands_on_the_fused_entity(mail: Project, tmp_path: Path) -> None:
    run_fusion(mail, NO_LLM)
    count = len(people(mail))
    letter = tmp_path / "new" / "later.eml"
    letter.parent.mkdir()
    letter.write_text("From: sebb <sebbaz@gmail.com>\nTo: Gary Gregory <garydgregory@gmail.com>\n"
                      "Subject: later\nMessage-ID: <later-1@example.org>\n\nHello again.\n", encoding="utf-8")
    assert import_paths(mail, [letter]).count("imported") == 1
    assert len(people(mail)) == count  # found by their addresses: no new "sebb", no new "Gary Gregory"
    report = run_fusion(mail, NO_LLM)  # incremental: only what is new is compared
    assert report.merges == [] and report.compared <= 2


def test_do_not_merge_and_a_manual_split_are_respected_by_later_runs(mail: Project) -> None:
    history = EditHistory(mail)
    with mail.repositories() as repos:
        ids = {e.name: e.id for e in repos.graph.entities()}
    history.execute(MarkDistinct(ids["Gary D. Gregory"], ids["Gary Gregory"], "two people"))
    report = run_fusion(mail, FusionSettings(use_llm=False, full=True))
    assert [m.names for m in report.merges] == [["Sebastian Bazley", "sebb"]]
    assert {"Gary D. Gregory", "Gary Gregory"} <= set(people(mail))
    # split "sebb" back off Sebastian Bazley by hand: the next full run does not merge it again
    with mail.repositories() as repos:
        sebb_alias = next(a.id for a in repos.graph.aliases(ids["Sebastian Bazley"]) if a.text == "mailto:sebbaz@gmail.com")
    history.execute(SplitEntity(ids["Sebastian Bazley"], "sebb", alias_ids=[sebb_alias]))
    again = run_fusion(mail, FusionSettings(use_llm=False, full=True))
    assert again.merges == [] and "sebb" in people(mail)


@pytest.fixture
def cvs(tmp_path: Path, shared_data: Path) -> Project:
    folder = tmp_path / "cvs"
    folder.mkdir()
    for name in ("CV_John_Doe.pdf", "CV_Jane_Smith.pdf"):
        shutil.copy(shared_data / "pdf" / "cv" / name, folder / name)
    project = Project.create(tmp_path / "cv.kgs")
    assert import_paths(project, [folder]).count("imported") == 2
    yield project
    project.close()


def extract(project: Project, facts: dict[str, list[tuple]]) -> None:
    """Candidate triples as extraction adds them, on the first chunk of each CV (file stem -> facts)."""
    history = EditHistory(project)
    with project.transaction() as repos:
        run = repos.runs.start(Run("extract"))
        calls = [repos.extraction.add_call(LlmCall(f"{run.id}-{stem}", "m", "extract@1", "{}", 1, 1, 1, 0.1)).id
                 for stem in facts]
    with project.repositories() as repos:
        documents = {Path(d.path).stem: d for d in repos.documents.list()}
        for call, (stem, triples) in zip(calls, facts.items(), strict=True):
            document = documents[stem]
            chunk = repos.documents.chunks(document.id)[0]
            candidates = [{"subject": s, "subject_class": sc, "predicate": p, "object": o, "object_class": oc,
                           "literal": oc is None, "datatype": "xsd:date" if oc is None else None, "raw": "{}",
                           "span_start": 0, "span_end": 10}
                          for s, sc, p, o, oc in triples]
            history.execute(AddExtractedTriples(document.id, run.id, [{"chunk_id": chunk.id, "llm_call_id": call,
                                                                  "candidates": candidates}]), actor=Actor.EXTRACTION)


def test_cv_organisations_merge_across_spellings_but_not_across_companies(cvs: Project) -> None:
    extract(cvs, {
        "CV_John_Doe": [("John Doe", "Person", "worksFor", "ABC Corp", "Organization"),
                        ("JOHN DOE", "Person", "worksFor", "XYZ Tech", "Organization"),
                        ("John Doe", "Person", "livesIn", "Paris", "Place")],
        "CV_Jane_Smith": [("Jane Smith", "Person", "worksFor", "ABC Corporation", "Organization"),
                          ("Jane Smith", "Person", "worksFor", "ABC Marketing", "Organization"),
                          ("Jane Smith", "Person", "worksFor", "XYZ Marketing", "Organization")],
    })
    EditHistory(cvs).execute(AddEntity("Paris", "Person"))  # Paris Hilton, say
    report = run_fusion(cvs, NO_LLM)
    merged = sorted(sorted(m.names) for m in report.merges)
    assert merged == [["ABC Corp", "ABC Corporation"], ["JOHN DOE", "John Doe"]]
    with cvs.repositories() as repos:
        names = sorted((e.name, e.class_name) for e in repos.graph.entities())
    assert ("Paris", "Person") in names and ("Paris", "Place") in names  # type-aware
    assert ("ABC Marketing", "Organization") in names and ("XYZ Tech", "Organization") in names


def test_functional_property_keeps_the_best_supported_value_and_rejects_the_other(cvs: Project) -> None:
    extract(cvs, {"CV_John_Doe": [("John Doe", "Person", "birthDate", "1990-01-01", None)],
                  "CV_Jane_Smith": [("Jane Smith", "Person", "knows", "John Doe", "Person"),
                                    ("John Doe", "Person", "birthDate", "1991-02-02", None)]})
    history = EditHistory(cvs)
    with cvs.repositories() as repos:
        john = next(e.id for e in repos.graph.entities() if e.name == "John Doe")
    history.execute(AddTriple(john, "birthDate", object_literal="1990-01-01", datatype="xsd:date",
                              status="candidate", origin="extracted", chunk_id=1, run_id=1))  # a second source
    before = graph_snapshot(cvs)
    report = run_fusion(cvs, NO_LLM)
    (conflict,) = report.conflicts
    assert conflict.kept == "1990-01-01" and conflict.decided_by == "evidence"
    with cvs.repositories() as repos:
        dates = {t.object_literal: t for t in repos.graph.triples(entity_id=john) if t.predicate == "birthDate"}
    loser = dates["1991-02-02"]
    assert loser.status == TripleStatus.REJECTED and "kept '1990-01-01'" in loser.status_reason
    assert dates["1990-01-01"].status == TripleStatus.CANDIDATE
    history.undo()
    assert graph_snapshot(cvs) == before


def test_the_model_settles_unclear_pairs_and_ties_and_proposes_relations_once(cvs: Project) -> None:
    extract(cvs, {
        "CV_John_Doe": [("John Doe", "Person", "worksFor", "ABC Corp", "Organization"),
                        ("J. Doe", "Person", "birthDate", "1990-01-01", None)],
        "CV_Jane_Smith": [("ABC Corp", "Organization", "locatedIn", "San Francisco", "Place"),
                          ("John Doe", "Person", "birthDate", "1991-02-02", None)],
    })
    model = ScriptedModel(same={frozenset(("J. Doe", "John Doe"))})
    report = run_fusion(cvs, FusionSettings(), backend=model, model="scripted:v1")
    assert [sorted(m.names) for m in report.merges] == [["J. Doe", "John Doe"]]
    (conflict,) = report.conflicts
    assert conflict.decided_by == "model" and conflict.kept is not None
    (proposal,) = report.proposals
    assert (proposal.subject, proposal.predicate, proposal.object, proposal.via) == \
        ("John Doe", "livesIn", "San Francisco", "ABC Corp")
    with cvs.repositories() as repos:
        fused = [t for t in repos.graph.triples() if t.origin == "fused"]
        evidence = repos.graph.provenance(fused[0].id)
    assert len(fused) == 1 and fused[0].status == TripleStatus.CANDIDATE and len(evidence) == 2
    asked = len(model.questions)
    assert asked == report.questions == 3
    # the same questions again (after undoing everything) are answered from the cache
    history = EditHistory(cvs)
    while history.undo_entry() is not None and history.undo_entry().actor == Actor.FUSION:
        history.undo()
    again = run_fusion(cvs, FusionSettings(full=True), backend=model, model="scripted:v1")
    assert again.questions == 0 and len(model.questions) == asked
    assert [sorted(m.names) for m in again.merges] == [["J. Doe", "John Doe"]]


def test_unclear_pairs_without_a_model_are_suggestions_not_merges(tmp_path: Path) -> None:
    project = Project.create(tmp_path / "p.kgs")
    history = EditHistory(project)
    for name in ("Employee Engagement", "Employee Engagement Surveys", "J. Smith", "John Smith", "HR Audits",
                 "Human Resources Audits"):
        history.execute(AddEntity(name, "Person" if "Smith" in name else "Topic"))
    report = run_fusion(project, NO_LLM)
    assert [m.names for m in report.merges] == [["HR Audits", "Human Resources Audits"]]
    assert sorted((s["name"], s["other"]) for s in report.suggestions) == [
        ("Employee Engagement", "Employee Engagement Surveys"), ("J. Smith", "John Smith")]
    project.close()
