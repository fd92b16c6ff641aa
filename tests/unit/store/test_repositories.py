"""Repositories take and return domain objects, locators included."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    Seed,
    SeedOrigin,
    SeedStatus,
    Segment,
    SheetLocator,
)
from kgstudio.errors import EditError
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


def test_seeds_replace_only_machine_proposals(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.kgs") as project:
        with project.transaction() as repos:
            first = repos.seeds.replace_proposed([Seed("heat flow", 0.9), Seed("wall", 0.8), Seed("air gap", 0.7),
                                                  Seed("Heat Flow", 0.1)])  # same phrase: kept once
            assert [s.text for s in first] == ["heat flow", "wall", "air gap"]
            repos.seeds.set_status(first[1].id, SeedStatus.REJECTED)
            repos.seeds.set_status(first[2].id, SeedStatus.ACCEPTED)
            mine = repos.seeds.add(Seed("hemp wool", origin=SeedOrigin.USER))
            with pytest.raises(EditError, match="already exists"):
                repos.seeds.add(Seed("  HEMP wool"))
            with pytest.raises(EditError, match="no seed #99"):
                repos.seeds.set_status(99, SeedStatus.ACCEPTED)
        with project.transaction() as repos:
            new = repos.seeds.replace_proposed([Seed("WALL", 1.0), Seed("air gap", 0.95), Seed("brick", 0.5),
                                                Seed("clay", 0.4)], limit=1)
            listed = repos.seeds.list()
            every = repos.seeds.list(include_rejected=True)
        counts = project.counts()
    assert [s.text for s in new] == ["brick"]  # the rejected "wall" is not proposed again
    assert [(s.text, s.status) for s in listed] == [
        ("air gap", SeedStatus.ACCEPTED), ("brick", SeedStatus.PROPOSED), ("hemp wool", SeedStatus.PROPOSED)]
    assert listed[0].score == 0.95 and listed[2].id == mine.id  # a kept machine seed takes the new score
    assert [s.text for s in every if s.status is SeedStatus.REJECTED] == ["wall"]
    assert counts["seeds"] == {"total": 4, "by_status": {"proposed": 2, "accepted": 1, "rejected": 1}}


def test_current_chunk_texts_skip_replaced_and_failed_documents(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.kgs") as project:
        with project.transaction() as repos:
            for status, text in ((DocumentStatus.IMPORTED, "now"), (DocumentStatus.REPLACED, "old"),
                                 (DocumentStatus.FAILED, "broken"), (DocumentStatus.PARTIAL, "part")):
                doc = repos.documents.add(Document(f"{text}.pdf", "pdf", text.ljust(64, "0"), status))
                repos.documents.add_chunks([Chunk(doc.id, 0, 0, text, 1, text.ljust(64, "1"))])
        with project.repositories() as repos:
            assert list(repos.documents.current_chunk_texts(batch=1)) == ["now", "part"]
            assert repos.documents.count_current_chunks() == 2


def test_a_run_whose_process_was_killed_shows_as_interrupted_and_the_next_run_marks_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    from kgstudio.domain import Run, RunStatus
    from kgstudio.store import owners

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    killed_owner = owners._owner(child.pid)
    with Project.create(tmp_path / "p.kgs") as project:
        with project.transaction() as repos:
            killed = repos.runs.start(Run("extract", owner=killed_owner))
            alive = repos.runs.start(Run("fuse"))  # this process's: still going
        assert project.counts()["runs"]["by_status"]["running"] == 2
        child.kill()
        child.wait()
        by_status = project.counts()["runs"]["by_status"]
        assert (by_status["running"], by_status["interrupted"]) == (1, 1)
        with project.transaction() as repos:
            repos.runs.start(Run("extract"))  # the next run closes the books on the killed one
        with project.repositories() as repos:
            run = repos.runs.get(killed.id)  # type: ignore[arg-type]
            assert run is not None and run.status == RunStatus.INTERRUPTED and "killed or crashed" in (run.message or "")
            assert repos.runs.get(alive.id).status == RunStatus.RUNNING  # type: ignore[arg-type, union-attr]
