"""A project saved by the previous schema opens, is upgraded in place, and a backup of it is kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kgstudio.domain import LlmCall, Run, RunStatus
from kgstudio.store import Project
from kgstudio.store.schema import SCHEMA_VERSION


def make_v1_project(path: Path) -> None:
    """A project as kgstudio with schema version 1 wrote it (the v2 additions taken out again)."""
    Project.create(path).close()
    db = sqlite3.connect(path)
    db.executescript("""
        DROP TABLE chunk_extraction;
        DROP TABLE entity_distinct;
        DROP TABLE candidate;
        DROP TABLE llm_call;
        CREATE TABLE candidate (
            id INTEGER NOT NULL, run_id INTEGER NOT NULL, chunk_id INTEGER NOT NULL, subject TEXT,
            predicate TEXT, object TEXT, span_start INTEGER, span_end INTEGER, confidence FLOAT, raw TEXT,
            error TEXT, PRIMARY KEY (id), FOREIGN KEY(run_id) REFERENCES run (id),
            FOREIGN KEY(chunk_id) REFERENCES chunk (id) ON DELETE CASCADE);
        CREATE INDEX ix_candidate_run_id ON candidate (run_id);
        CREATE INDEX ix_candidate_chunk_id ON candidate (chunk_id);
        ALTER TABLE run DROP COLUMN owner;
        UPDATE kgstudio_meta SET value = '1' WHERE key = 'schema_version';
    """)
    db.commit()
    db.close()


def test_a_version_1_project_is_upgraded_and_backed_up(tmp_path: Path) -> None:
    path = tmp_path / "old.kgs"
    make_v1_project(path)
    with Project.open(path) as project:
        assert project.schema_version == SCHEMA_VERSION
        with project.transaction() as repos:
            call = repos.extraction.add_call(LlmCall("k", "m", "p@1", "{}", 1, 10, 2, 0.5))
        with project.repositories() as repos:
            assert repos.extraction.calls_by_key(["k"])["k"].id == call.id
    backup = tmp_path / "old.kgs.schema-v1.bak"
    assert backup.is_file()
    old = sqlite3.connect(backup)
    assert old.execute("SELECT value FROM kgstudio_meta WHERE key = 'schema_version'").fetchone() == ("1",)
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(candidate)")}
    assert {"subject_class", "object_class", "llm_call_id"} <= columns
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "entity_distinct" in tables  # fusion's "do not merge" decisions


def make_v2_project(path: Path, running_stage: str) -> None:
    """A project as schema version 2 wrote it, with a run left ``running`` (by a process nobody can name)."""
    Project.create(path).close()
    db = sqlite3.connect(path)
    db.executescript(f"""
        ALTER TABLE run DROP COLUMN owner;
        INSERT INTO run (stage, params, status, started_at) VALUES ('{running_stage}', '{{}}', 'running',
                                                                     '2026-01-01 10:00:00');
        UPDATE kgstudio_meta SET value = '2' WHERE key = 'schema_version';
    """)
    db.commit()
    db.close()


def test_a_version_2_project_gets_run_owners_and_its_ownerless_running_run_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "v2.kgs"
    make_v2_project(path, "extract")
    with Project.open(path) as project:
        assert project.schema_version == SCHEMA_VERSION == 3
        with project.transaction() as repos:
            new = repos.runs.start(Run("fuse"))
        with project.repositories() as repos:
            old = repos.runs.get(1)
            assert old is not None and old.status == RunStatus.RUNNING and old.owner is None  # no way to tell
            assert repos.runs.get(new.id).owner is not None  # type: ignore[arg-type, union-attr]
        assert project.counts()["runs"]["by_status"]["running"] == 2
    assert (tmp_path / "v2.kgs.schema-v2.bak").is_file()
