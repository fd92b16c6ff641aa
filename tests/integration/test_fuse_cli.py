"""`kgstudio fuse` from the command line: on the shared e-mails without a model, and with the real embedded model.

The model test does not grade SmolLM2-135M's judgement; it checks that the
real model is asked only about the unclear pairs, that its answers parse,
are cached (a re-run asks nothing), and that whatever it decided is an
undoable edit or a listed suggestion.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kgstudio.edit import AddEntity, EditHistory
from kgstudio.store import Project

KGSTUDIO = [sys.executable, "-m", "kgstudio.cli.main"]


def cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([*KGSTUDIO, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_fuse_dry_run_then_fuse_then_undo_on_the_shared_mail(tmp_path: Path, shared_data: Path) -> None:
    assert cli("new", "mail.kgs", cwd=tmp_path).returncode == 0
    assert cli("import", "mail.kgs", str(shared_data / "email"), cwd=tmp_path).returncode == 0
    plan = cli("fuse", "mail.kgs", "--dry-run", "--no-llm", "--json", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    merges = json.loads(plan.stdout)["merges"]
    assert sorted(m["name"] for m in merges) == ["Gary D. Gregory", "Sebastian Bazley"]
    assert "would merge 2 groups" in cli("fuse", "mail.kgs", "--dry-run", "--no-llm", cwd=tmp_path).stdout
    done = cli("fuse", "mail.kgs", "--no-llm", cwd=tmp_path)
    assert "merged 2 groups" in done.stdout and "'Sebastian Bazley' <- 'sebb'" in done.stdout
    listed = cli("entities", "mail.kgs", cwd=tmp_path).stdout
    assert "Sebastian Bazley  [Person]  (also: mailto:sebb@apache.org, mailto:sebbaz@gmail.com, sebb)" in listed
    assert "fuse entities" in cli("undo", "mail.kgs", cwd=tmp_path).stdout
    assert "fuse entities" in cli("undo", "mail.kgs", cwd=tmp_path).stdout
    listed = cli("entities", "mail.kgs", cwd=tmp_path).stdout
    assert "  sebb  [Person]" in listed and "Gary Gregory  [Person]" in listed
    # "do not merge", then a full run: only the other pair comes back
    with Project.open(tmp_path / "mail.kgs") as project, project.repositories() as repos:
        ids = {e.name: e.id for e in repos.graph.entities()}
    kept = cli("fuse", "mail.kgs", "--distinct", str(ids["sebb"]), str(ids["Sebastian Bazley"]),
               "--reason", "not sure it is him", cwd=tmp_path)
    assert kept.returncode == 0 and "keep entities" in kept.stdout
    again = json.loads(cli("fuse", "mail.kgs", "--no-llm", "--full", "--json", cwd=tmp_path).stdout)
    assert [m["name"] for m in again["merges"]] == ["Gary D. Gregory"]


@pytest.mark.model
def test_the_embedded_model_adjudicates_unclear_pairs_once(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.kgs") as project:
        history = EditHistory(project)
        for name, cls in (("John Smith", "Person"), ("J. Smith", "Person"), ("Employee Engagement", "Topic"),
                          ("Employee Engagement Surveys", "Topic"), ("IBM", "Organization"),
                          ("I.B.M. Corp.", "Organization")):
            history.execute(AddEntity(name, cls))
    first = cli("fuse", "p.kgs", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["questions"] == 2  # the two unclear pairs; IBM / I.B.M. Corp. needs no model
    decided = {frozenset(m["names"]) for m in report["merges"]}
    decided |= {frozenset((s["name"], s["other"])) for s in report["suggestions"]}
    assert {frozenset(("IBM", "I.B.M. Corp.")), frozenset(("J. Smith", "John Smith")),
            frozenset(("Employee Engagement", "Employee Engagement Surveys"))} == decided
    with Project.open(tmp_path / "p.kgs") as project, project.read() as session:
        from sqlalchemy import select

        from kgstudio.store.schema import LlmCallRow
        calls = session.execute(select(LlmCallRow.prompt_version, LlmCallRow.error)).all()
    assert len(calls) == 2 and all(version == "fuse@1" for version, _ in calls)
    # everything undone, asked again: answered from the cache
    for _ in report["merges"]:
        assert cli("undo", "p.kgs", cwd=tmp_path).returncode == 0
    second = json.loads(cli("fuse", "p.kgs", "--full", "--json", cwd=tmp_path).stdout)
    assert second["questions"] == 0
    assert sorted(m["name"] for m in second["merges"]) == sorted(m["name"] for m in report["merges"])
