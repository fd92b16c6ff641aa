"""Reflection with the real embedded model on triples of a real CV (a fine one and three wrong ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgstudio.domain import TripleStatus
from kgstudio.edit import AddEntity, AddTriple, EditHistory
from kgstudio.pipeline.extract import ExtractionSettings, find_span, project_ontology
from kgstudio.pipeline.importing import import_paths
from kgstudio.pipeline.reflect import load_triples, run_reflection
from kgstudio.store import Project

pytestmark = pytest.mark.model


def test_reflection_raises_compliance_and_every_change_undoes(tmp_path: Path, shared_data: Path) -> None:
    with Project.create(tmp_path / "cv.kgs") as project:
        import_paths(project, [shared_data / "pdf" / "cv" / "CV_John_Doe.pdf"])
        project_ontology(project)
        with project.repositories() as repos:
            (chunk,) = repos.documents.chunks(repos.documents.list()[0].id)
        history = EditHistory(project)
        ids = {}
        for name in ("John Doe", "ABC Corp", "It"):
            ids[name] = history.execute(AddEntity(name, None, [])).changes.entity_ids.pop()
        for s, p, o in (("John Doe", "worksFor", "ABC Corp"), ("It", "knows", "John Doe"),
                        ("John Doe", "knows", "John Doe")):
            history.execute(AddTriple(ids[s], p, object_id=ids[o], status="candidate", origin="extracted",
                                      chunk_id=chunk.id, span=find_span(chunk.text, "John Doe")))
        before = load_triples(project)

        report = run_reflection(project, ExtractionSettings(n_threads=1), steps=1)
        assert report.model_calls == 2  # one passage: a critic request and a corrector request
        assert report.compliance_before == pytest.approx(1 / 3)  # the vague subject and the self-loop
        assert report.compliance_after == 1.0 and report.dropped + report.fixed >= 2
        with project.repositories() as repos:
            rejected = [t for t in repos.graph.triples() if t.status == TripleStatus.REJECTED]
        assert all(t.status_reason.startswith("reflection: ") for t in rejected)

        for _ in report.changes:
            assert history.undo().actor == "reflection"
        assert [(t.id, t.subject, t.predicate, t.object) for t in load_triples(project)] == [
            (t.id, t.subject, t.predicate, t.object) for t in before]
