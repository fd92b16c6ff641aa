"""`kgstudio reflect` with the real embedded model: a dry run lists the changes and changes nothing; the real
run applies them (from the answer cache: the same questions) as edits that `kgstudio undo` takes back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgstudio.domain import TripleStatus
from kgstudio.edit import AddEntity, AddTriple, EditHistory
from kgstudio.pipeline.extract import find_span, project_ontology
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project
from tests.integration.test_fuse_cli import cli

pytestmark = pytest.mark.model


def test_dry_run_then_apply_then_undo(tmp_path: Path, shared_data: Path) -> None:
    with Project.create(tmp_path / "cv.kgs") as project:
        import_paths(project, [shared_data / "pdf" / "cv" / "CV_John_Doe.pdf"])
        project_ontology(project)
        with project.repositories() as repos:
            (chunk,) = repos.documents.chunks(repos.documents.list()[0].id)
        history = EditHistory(project)
        john = history.execute(AddEntity("John Doe", "Person")).changes.entity_ids.pop()
        it = history.execute(AddEntity("It")).changes.entity_ids.pop()
        vague = history.execute(AddTriple(it, "knows", object_id=john, status="candidate", origin="extracted",
                                          chunk_id=chunk.id, span=find_span(chunk.text, "John Doe"))
                                ).changes.keys("triple").pop()

    proposed = cli("reflect", "cv.kgs", "--dry-run", "--select", str(vague), "--steps", "1", "--json",
                   cwd=tmp_path)
    assert proposed.returncode == 0, proposed.stderr
    plan = json.loads(proposed.stdout)
    assert plan["applied"] is False and plan["changes"] == []
    (change,) = plan["proposals"]  # the vague subject is a rule finding, whatever the model says
    assert change["triple_id"] == vague and change["old"] == ["It", "knows", "John Doe"]
    assert change["reason"].startswith('the subject "It" is vague')
    with Project.open(tmp_path / "cv.kgs") as project, project.repositories() as repos:
        assert repos.graph.triple(vague).status == TripleStatus.CANDIDATE  # nothing changed

    done = cli("reflect", "cv.kgs", "--select", str(vague), "--steps", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "0 model calls" in done.stdout  # the dry run's answers, from the cache
    with Project.open(tmp_path / "cv.kgs") as project, project.repositories() as repos:
        assert repos.graph.triple(vague).status == TripleStatus.REJECTED
    assert "reflection" in cli("undo", "cv.kgs", cwd=tmp_path).stdout
    with Project.open(tmp_path / "cv.kgs") as project, project.repositories() as repos:
        assert repos.graph.triple(vague).status == TripleStatus.CANDIDATE
