"""Every edit command round-trips through undo and redo, also after the project is closed and reopened."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from kgstudio.domain import Actor, Chunk, Document, EditState, LlmCall, PdfLocator, Run, Segment
from kgstudio.edit import (
    AcceptCandidate,
    AddFusedTriples,
    FuseCluster,
    MarkDistinct,
    RejectConflicting,
    AddEntity,
    AddExtractedTriples,
    AddTriple,
    ApplyReflection,
    DeleteEntity,
    EditCommand,
    EditHistory,
    ImportStructuralFacts,
    MergeEntities,
    RejectCandidate,
    RenameEntity,
    RepointTriple,
    RetractDocumentFacts,
    RetractTriple,
    SetEntityClass,
    SplitEntity,
    command_from_dict,
    command_names,
)
from kgstudio.edit.rdf_import import ImportRdfGraph
from kgstudio.errors import EditConflictError, EditError
from kgstudio.store import Project
from kgstudio.store.schema import JOURNALED_TABLES


def graph_snapshot(project: Project) -> dict[str, list[tuple]]:
    """Every row of every graph table: what undo must restore exactly."""
    with project.read() as session:
        return {
            name: [tuple(row) for row in session.execute(select(table).order_by(table.c.id))]
            for name, table in JOURNALED_TABLES.items()
        }


def build_graph(project: Project) -> dict[str, int]:
    """A small graph: IBM, I.B.M., Armonk, Ada; triples with provenance, a candidate, an alias.

    Also used by tests/integration/test_postgres.py to run every command on PostgreSQL.
    """
    with project.transaction() as repos:
        doc = repos.documents.add(Document("memo.pdf", "pdf", "0" * 64))
        repos.documents.add_segments([segment := Segment(doc.id, 0, "IBM is in Armonk.", PdfLocator(1))])
        repos.documents.add_chunks([chunk := Chunk(doc.id, 0, 0, "IBM is in Armonk.", 6, "1" * 64)])
        run = repos.runs.start(Run("extract"))
        call = repos.extraction.add_call(LlmCall("k" * 64, "model", "extract@1", "{}", 1, 100, 20, 0.5))
    history = EditHistory(project)

    def new_entity(name: str, cls: str | None = None, aliases: list[str] | None = None) -> int:
        return history.execute(AddEntity(name, cls, aliases or [])).changes.entity_ids.pop()

    ibm = new_entity("IBM", "Organization", ["Big Blue"])
    ibm2 = new_entity("I.B.M.", "Organization", ["Big Blue", "IBM Corp"])
    armonk = new_entity("Armonk", "Place")
    ada = new_entity("Ada", "Person")

    def new_triple(*args, **kwargs) -> int:
        return history.execute(AddTriple(*args, **kwargs)).changes.keys("triple").pop()

    t_hq = new_triple(ibm2, "locatedIn", object_id=armonk, status="candidate", origin="extracted",
                      confidence=0.7, chunk_id=chunk.id, span=(0, 16), run_id=run.id)
    t_founded = new_triple(ibm, "foundingDate", object_literal="1911-06-16", datatype="xsd:date")
    t_knows = new_triple(ada, "knows", object_id=ibm2, status="candidate")
    return dict(ibm=ibm, ibm2=ibm2, armonk=armonk, ada=ada, t_hq=t_hq, t_founded=t_founded, t_knows=t_knows,
                chunk=chunk.id, run=run.id, segment=segment.id, document=doc.id, call=call.id)


@pytest.fixture
def graph(tmp_path: Path) -> dict:
    path = tmp_path / "g.kgs"
    project = Project.create(path)
    ids = build_graph(project)
    history = EditHistory(project)
    yield {"path": path, "project": project, "history": history, "ids": ids}
    project.close()


COMMANDS: dict[str, Callable[[dict], EditCommand]] = {
    "add_entity": lambda i: AddEntity("Charles Babbage", "Person", ["C. Babbage"]),
    "rename_entity": lambda i: RenameEntity(i["ibm"], "International Business Machines"),
    "set_entity_class": lambda i: SetEntityClass(i["armonk"], "Town"),
    "delete_entity": lambda i: DeleteEntity(i["ibm2"]),
    "merge_entities": lambda i: MergeEntities(i["ibm"], [i["ibm2"]], reason="same company", score=0.93),
    "split_entity": lambda i: SplitEntity(i["ibm2"], "IBM Research", [i["t_hq"]], []),
    "add_triple": lambda i: AddTriple(i["ada"], "livesIn", object_id=i["armonk"], chunk_id=i["chunk"],
                                      span=[3, 9], run_id=i["run"]),
    "retract_triple": lambda i: RetractTriple(i["t_hq"]),
    "repoint_triple": lambda i: RepointTriple(i["t_knows"], predicate="worksFor", object_id=i["ibm"]),
    "accept_candidate": lambda i: AcceptCandidate(i["t_hq"]),
    "reject_candidate": lambda i: RejectCandidate(i["t_knows"], reason="not stated in the text"),
    "import_structural_facts": lambda i: ImportStructuralFacts(i["document"], [
        {"subject": {"key": "mailto:ada@example.com", "name": "Ada", "class": "Person"}, "predicate": "email",
         "object": {"literal": "ada@example.com", "datatype": None, "lang": None}, "origin": "header",
         "segment_id": i["segment"]},
        {"subject": {"key": "message:<1@x>", "name": "Hello", "class": "EmailMessage"}, "predicate": "sender",
         "object": {"key": "mailto:ada@example.com", "name": "Ada", "class": "Person"}, "origin": "header",
         "segment_id": i["segment"]},
    ]),
    "apply_reflection": lambda i: ApplyReflection(i["t_hq"], "fix", "reversed", i["run"],
                                                  {"subject": "Armonk", "predicate": "partOf", "object": "I.B.M."}),
    "add_extracted_triples": lambda i: AddExtractedTriples(i["document"], i["run"], [{
        "chunk_id": i["chunk"], "llm_call_id": i["call"], "candidates": [
            {"subject": "IBM", "predicate": "locatedIn", "object": "Yorktown", "object_class": "Place",
             "span_start": 0, "span_end": 16, "segment_id": i["segment"], "raw": "{}"},
            {"subject": "IBM", "predicate": "invented", "object": "PC", "raw": "{}", "error": "not in the ontology"},
        ]}]),
    "retract_document_facts": lambda i: RetractDocumentFacts(i["document"], [i["segment"]], [i["chunk"]]),
    "fuse_cluster": lambda i: FuseCluster(i["ibm"], [{"id": i["ibm2"], "score": 0.93, "reason": "acronym"}],
                                          "International Business Machines"),
    "reject_conflicting": lambda i: RejectConflicting([{"triple_id": i["t_knows"], "reason": "functional: kept another"}]),
    "add_fused_triples": lambda i: AddFusedTriples([{"subject_id": i["ada"], "predicate": "worksFor",
                                                     "object_id": i["ibm"], "confidence": 0.5, "run_id": i["run"],
                                                     "evidence": [{"chunk_id": i["chunk"], "segment_id": None}]}]),
    "import_rdf_graph": lambda i: ImportRdfGraph("babbage.ttl", entities=[
        {"iri": "https://example.org/babbage", "name": "Charles Babbage", "class": "Person",
         "aliases": [["C. Babbage", "rdf"]], "same_as": None}], triples=[
        {"subject": "https://example.org/babbage", "predicate": "birthDate", "literal": "1791-12-26",
         "datatype": "http://www.w3.org/2001/XMLSchema#date", "lang": None}]),
    "mark_distinct": lambda i: MarkDistinct(i["ibm"], i["ibm2"], reason="IBM and its research arm"),
}


def test_every_command_is_covered() -> None:
    assert sorted(COMMANDS) == command_names()


@pytest.mark.parametrize("op", sorted(COMMANDS))
def test_undo_redo_round_trip_survives_reopening(graph: dict, op: str) -> None:
    project, history = graph["project"], graph["history"]
    before = graph_snapshot(project)
    record = history.execute(COMMANDS[op](graph["ids"]), actor=Actor.USER, reason=f"testing {op}")
    after = graph_snapshot(project)
    assert after != before, f"{op} changed nothing"

    history.undo()
    assert graph_snapshot(project) == before
    history.redo()
    assert graph_snapshot(project) == after

    project.close()
    reopened = Project.open(graph["path"])
    graph["project"] = reopened  # the fixture closes whatever is current
    history = EditHistory(reopened)
    assert graph_snapshot(reopened) == after
    assert history.undo().id == record.id
    assert graph_snapshot(reopened) == before
    assert history.redo().id == record.id
    assert graph_snapshot(reopened) == after
    command = COMMANDS[op](graph["ids"])
    if type(command).to_dict is EditCommand.to_dict:  # bulk commands log a summary, not their arguments
        assert command_from_dict(record.command) == command


def test_undo_everything_then_redo_everything_across_a_restart(graph: dict) -> None:
    project, history = graph["project"], graph["history"]
    full = graph_snapshot(project)
    done = project.counts()["edits"]["undoable"]
    while history.undo_entry() is not None:
        history.undo()
    assert all(rows == [] for rows in graph_snapshot(project).values())
    project.close()
    reopened = graph["project"] = Project.open(graph["path"])
    history = EditHistory(reopened)
    for _ in range(done):
        history.redo()
    assert graph_snapshot(reopened) == full
    with pytest.raises(EditError, match="nothing to redo"):
        history.redo()


def test_merge_keeps_aliases_iri_and_a_record(graph: dict) -> None:
    project, history, ids = graph["project"], graph["history"], graph["ids"]
    history.execute(MergeEntities(ids["ibm"], [ids["ibm2"]], reason="same company", score=0.93), actor=Actor.FUSION)
    with project.repositories() as repos:
        aliases = sorted(a.text for a in repos.graph.aliases(ids["ibm"]))
        merged = repos.graph.entity(ids["ibm2"])
        merges = repos.graph.merges(ids["ibm"])
        hq = repos.graph.triple(ids["t_hq"])
    assert aliases == ["Big Blue", "I.B.M.", "IBM Corp"]  # no duplicate "Big Blue"
    assert merged.status == "merged" and merged.merged_into == ids["ibm"] and merged.iri
    assert [(m.from_id, m.actor, m.reason, m.score) for m in merges] == [(ids["ibm2"], "fusion", "same company", 0.93)]
    assert hq.subject_id == ids["ibm"]
    with pytest.raises(EditError, match="was merged into"):
        history.execute(RenameEntity(ids["ibm2"], "Something"))


def test_audit_log_records_actor_reason_and_states(graph: dict) -> None:
    history, ids = graph["history"], graph["ids"]
    history.execute(RejectCandidate(ids["t_knows"], "vague"), actor=Actor.CONTRACTS, reason="domain violation")
    history.undo()
    history.execute(AcceptCandidate(ids["t_hq"]), actor=Actor.REFLECTION, reason="critic agreed")
    newest, discarded = history.log(2)
    assert (newest.actor, newest.reason, newest.state) == (Actor.REFLECTION, "critic agreed", EditState.DONE)
    assert (discarded.actor, discarded.reason, discarded.state) == (Actor.CONTRACTS, "domain violation",
                                                                    EditState.DISCARDED)
    with pytest.raises(EditError, match="nothing to redo"):
        history.redo()  # a new edit ends the redo branch


def test_undo_refuses_to_overwrite_a_change_it_did_not_make(graph: dict) -> None:
    project, history, ids = graph["project"], graph["history"], graph["ids"]
    history.execute(RenameEntity(ids["armonk"], "Armonk, NY"))
    with sqlite3.connect(graph["path"]) as connection:  # someone else changed the row behind our back
        connection.execute("UPDATE entity SET name = 'Armonk (hamlet)' WHERE id = ?", (ids["armonk"],))
    connection.close()
    before = graph_snapshot(project)
    with pytest.raises(EditConflictError, match=f"entity {ids['armonk']} changed"):
        history.undo()
    assert graph_snapshot(project) == before
    assert history.undo_entry().description.startswith("rename entity")


def test_bad_edits_change_nothing(graph: dict) -> None:
    project, history, ids = graph["project"], graph["history"], graph["ids"]
    before = graph_snapshot(project)
    entries = len(history.log())
    for command in (
        RenameEntity(999, "x"), AddTriple(ids["ibm"], "knows"), AddEntity("   "),
        MergeEntities(ids["ibm"], [ids["ibm"]]), SplitEntity(ids["ibm"], "x", [ids["t_knows"]]),
        RepointTriple(ids["t_founded"], object_id=ids["ada"]), AcceptCandidate(ids["t_founded"]),
    ):
        with pytest.raises(EditError):
            history.execute(command)
    assert graph_snapshot(project) == before
    assert len(history.log()) == entries


def test_listeners_get_the_change_set(graph: dict) -> None:
    history, ids = graph["history"], graph["ids"]
    seen = []
    history.subscribe(lambda record, changes: seen.append((record.description, changes.entity_ids)))
    history.execute(RenameEntity(ids["ada"], "Ada Lovelace"))
    history.undo()
    assert seen == [("rename entity %d to 'Ada Lovelace'" % ids["ada"], {ids["ada"]})] * 2


def test_a_second_process_sees_edits_not_yet_checkpointed(graph: dict) -> None:
    """The GUI holds the project open (WAL not checkpointed) while the CLI opens it."""
    graph["history"].execute(AddEntity("Only in the WAL so far"))
    with Project.open(graph["path"]) as other, other.repositories() as repos:
        assert "Only in the WAL so far" in [e.name for e in repos.graph.entities()]


def test_imported_entities_are_found_again_by_key_and_cleaned_up_only_if_import_made_them(graph: dict) -> None:
    project, history, ids = graph["project"], graph["history"], graph["ids"]
    history.execute(COMMANDS["import_structural_facts"](ids), actor=Actor.IMPORT)
    history.execute(COMMANDS["import_structural_facts"](ids), actor=Actor.IMPORT)  # the same facts again
    with project.repositories() as repos:
        (ada_person,) = repos.graph.find_entities("mailto:ada@example.com")  # found by its import key
        triples = repos.graph.triples(entity_id=ada_person.id)
        evidence = {t.id: len(repos.graph.provenance(t.id)) for t in triples}
    assert len(triples) == 2 and set(evidence.values()) == {2}  # no duplicates, two pieces of evidence each
    history.execute(COMMANDS["retract_document_facts"](ids), actor=Actor.IMPORT)
    with project.repositories() as repos:
        names = [e.name for e in repos.graph.entities()]
        hq = repos.graph.triple(ids["t_hq"])
    assert "Hello" not in names and names.count("Ada") == 1  # imported message and person went; the user's Ada stayed
    assert ("Armonk" in names) and hq is None  # its only evidence was the chunk; the user's Armonk stays
