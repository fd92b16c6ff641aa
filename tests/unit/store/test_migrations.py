"""A project saved by the previous schema opens, is upgraded in place, and a backup of it is kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kgstudio.domain import LlmCall
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
        UPDATE kgstudio_meta SET value = '1' WHERE key = 'schema_version';
    """)
    db.commit()
    db.close()


def test_a_version_1_project_is_upgraded_and_backed_up(tmp_path: Path) -> None:
    path = tmp_path / "old.kgs"
    make_v1_project(path)
    with Project.open(path) as project:
        assert project.schema_version == SCHEMA_VERSION == 2
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
