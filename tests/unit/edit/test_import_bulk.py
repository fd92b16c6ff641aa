"""ImportStructuralFacts at size: known keys are looked up in batches, merged entities are followed, nothing doubles."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from kgstudio.domain import Actor, Document, DocumentStatus, Segment, SheetLocator
from kgstudio.edit import EditHistory, ImportStructuralFacts, MergeEntities
from kgstudio.store import Project

KEYS = 1500


def facts(segment_id: int) -> list[dict]:
    def ref(n: int) -> dict:
        return {"key": f"row:{n}", "name": f"Person {n}", "class": "Person"}

    return [{"subject": ref(n), "predicate": "knows", "object": ref((n + 1) % KEYS), "origin": "table",
             "segment_id": segment_id} for n in range(KEYS)]


def test_a_second_import_of_known_keys_is_batched_and_adds_evidence_not_triples(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.kgs") as project:
        with project.transaction() as repos:
            document = repos.documents.add(Document("sheet.csv", "spreadsheet", "0" * 64, DocumentStatus.PENDING))
            segment = Segment(document.id, 0, "row 2", SheetLocator("Sheet1", "A2:B2", 2), "row")
            repos.documents.add_segments([segment])
        history = EditHistory(project)
        history.execute(ImportStructuralFacts(document.id, facts(segment.id)), actor=Actor.IMPORT)
        with project.repositories() as repos:
            [first] = repos.graph.find_entities("row:0")
            [second] = repos.graph.find_entities("row:1")
        history.execute(MergeEntities(first.id, [second.id]))

        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
        event.listen(Engine, "before_cursor_execute", listener)  # every engine: only this one runs
        try:
            record = history.execute(ImportStructuralFacts(document.id, facts(segment.id)), actor=Actor.IMPORT)
        finally:
            event.remove(Engine, "before_cursor_execute", listener)
        counts = project.counts()

    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # Batches of 500 keys/ids: a handful of queries, where one query per known key would be ~3,000.
    assert len(selects) < 40, len(selects)
    assert not record.changes.keys("entity") and not record.changes.keys("triple"), "every key was known"
    assert len(record.changes.keys("provenance")) == KEYS  # one more piece of evidence per fact
    assert counts["entities"]["total"] == KEYS and counts["triples"]["total"] == KEYS
