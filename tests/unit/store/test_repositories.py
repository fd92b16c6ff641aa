"""Repositories take and return domain objects, locators included."""

from __future__ import annotations

from pathlib import Path

from kgstudio.domain import (
    Candidate,
    Chunk,
    CompetencyQuestion,
    Document,
    DocumentStatus,
    EmailLocator,
    OntologyClass,
    OntologyProperty,
    PdfLocator,
    Run,
    RunStatus,
    Segment,
    SheetLocator,
)
from kgstudio.store import Project


def test_documents_segments_chunks_round_trip(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.kgs") as project:
        with project.transaction() as repos:
            doc = repos.documents.add(Document("/data/report.pdf", "pdf", "ab" * 32, title="Report",
                                               metadata={"author": "Ada"}))
            locators = [
                PdfLocator(page=2, bbox=(10.0, 20.5, 300.0, 40.0), char_start=0, char_end=42),
                EmailLocator("<m1@example.com>", "invoice.pdf", 3, 9, inner=PdfLocator(page=1)),
                SheetLocator("Sales", "A2:D2", row=2),
            ]
            repos.documents.add_segments(Segment(doc.id, i, f"text {i}", loc) for i, loc in enumerate(locators))
            repos.documents.add_chunks([Chunk(doc.id, 0, 2, "text 0 text 1 text 2", 9, "cd" * 32)])
            repos.documents.set_status(doc.id, DocumentStatus.FAILED, "page 3: cannot decode font")
        with project.repositories() as repos:
            stored = repos.documents.get(doc.id)
            segments = repos.documents.segments(doc.id)
            chunks = repos.documents.chunks(doc.id)
        counts = project.counts()
    assert stored.title == "Report" and stored.metadata == {"author": "Ada"}
    assert stored.status is DocumentStatus.FAILED and stored.error == "page 3: cannot decode font"
    assert [s.locator for s in segments] == locators
    assert chunks[0].segment_end == 2
    assert counts["documents"]["by_status"]["failed"] == 1
    assert counts["errors"]["documents"] == 1
    assert counts["segments"] == 3 and counts["chunks"] == 1


def test_runs_candidates_ontology_questions(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.kgs") as project:
        with project.transaction() as repos:
            doc = repos.documents.add(Document("a.pdf", "pdf", "0" * 64))
            repos.documents.add_chunks([chunk := Chunk(doc.id, 0, 0, "Ada met Babbage.", 5, "1" * 64)])
            run = repos.runs.start(Run("extract", model="SmolLM2", prompt_version="extract-v1", params={"t": 0}))
            repos.runs.add_candidates([
                Candidate(run.id, chunk.id, "Ada", "knows", "Babbage", 0, 15, 0.8, '{"ok": 1}'),
                Candidate(run.id, chunk.id, None, None, None, raw="not json", error="invalid JSON"),
            ])
            repos.runs.finish(run.id, RunStatus.DONE, "2 candidates")
            repos.ontology.add_class(OntologyClass("Person", "https://w3id.org/kgstudio/ontology#Person"))
            repos.ontology.add_property(OntologyProperty("knows", "https://w3id.org/kgstudio/ontology#knows",
                                                         domain="Person", range="Person"))
            repos.questions.add(CompetencyQuestion("Who knows whom?"))
        with project.repositories() as repos:
            finished = repos.runs.get(run.id)
            classes, properties = repos.ontology.classes(), repos.ontology.properties()
            questions = repos.questions.list()
        counts = project.counts()
    assert finished.status is RunStatus.DONE and finished.finished_at is not None
    assert counts["candidates"] == {"total": 2, "failed": 1}
    assert [c.name for c in classes] == ["Person"] and properties[0].range == "Person"
    assert questions[0].text == "Who knows whom?"
