"""Creating and opening projects, and refusing anything that is not one without touching it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from kgstudio.edit import AddEntity, EditHistory
from kgstudio.errors import ProjectError, SchemaTooNewError
from kgstudio.store import SCHEMA_VERSION, Project
from kgstudio.store import migrations, project as project_module
from kgstudio.store.schema import SQLITE_APPLICATION_ID
from tests.conftest import sha256_of


def test_new_project_is_empty_sqlite_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "p.kgs"
    with Project.create(path) as project:
        counts = project.counts()
        assert project.schema_version == SCHEMA_VERSION
        assert project.base_iri.startswith("urn:kgstudio:")
    assert counts["documents"]["total"] == 0
    assert counts["entities"]["total"] == 0
    assert counts["triples"]["total"] == 0
    assert set(counts["triples"]["by_status"]) == {"candidate", "accepted", "rejected", "inferred"}
    assert set(counts["triples"]["by_origin"]) == {"extracted", "table", "header", "fused", "reflected", "manual"}
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA application_id").fetchone()[0] == SQLITE_APPLICATION_ID


def test_create_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.kgs"
    path.write_text("my notes")
    before = sha256_of(path)
    with pytest.raises(ProjectError, match="already exists"):
        Project.create(path)
    assert sha256_of(path) == before


def test_create_in_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="does not exist"):
        Project.create(tmp_path / "nowhere" / "p.kgs")


def test_custom_base_iri_is_used_for_entity_iris(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.kgs", base_iri="https://example.org/kg/") as project:
        record = EditHistory(project).execute(AddEntity("Ada Lovelace"))
        iri = record.changes.changes[0].after["iri"]
    assert iri.startswith("https://example.org/kg/entity/ada-lovelace-")


def _future_project(tmp_path: Path) -> Path:
    path = tmp_path / "future.kgs"
    Project.create(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE kgstudio_meta SET value = '99' WHERE key = 'schema_version'")
    connection.close()
    return path


def _truncated_project(tmp_path: Path) -> Path:
    path = tmp_path / "truncated.kgs"
    with Project.create(path) as project:
        history = EditHistory(project)
        for number in range(200):
            history.execute(AddEntity(f"Entity number {number} with a reasonably long name"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


BAD_FILES = {
    "text file": (lambda tmp: _write(tmp / "notes.txt", b"just some notes\n"), "not an SQLite database"),
    "empty file": (lambda tmp: _write(tmp / "empty.kgs", b""), "empty"),
    "truncated project": (_truncated_project, "truncated"),
    "future schema": (_future_project, "newer kgstudio"),
    "other SQLite database": (lambda tmp: _other_sqlite(tmp / "other.db"), "without kgstudio's tables"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _other_sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    return path


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_files_give_a_clear_error_and_stay_byte_for_byte_unchanged(tmp_path: Path, kind: str) -> None:
    make, message = BAD_FILES[kind]
    path = make(tmp_path)
    before = sha256_of(path)
    siblings_before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ProjectError, match=message) as error:
        Project.open(path)
    assert str(path) in str(error.value)
    assert sha256_of(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == siblings_before


def test_future_schema_error_is_its_own_type(tmp_path: Path) -> None:
    with pytest.raises(SchemaTooNewError, match="schema version 99"):
        Project.open(_future_project(tmp_path))


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no such project file"):
        Project.open(tmp_path / "missing.kgs")
    with pytest.raises(ProjectError, match="is a folder"):
        Project.open(tmp_path)


def test_sqlite_url_is_the_same_as_a_path(tmp_path: Path) -> None:
    path = tmp_path / "p.kgs"
    Project.create(f"sqlite:///{path}").close()
    with Project.open(path) as project:
        assert project.location.path == path


def test_older_schema_is_migrated_after_a_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The migration path: a version-1 project opened by a kgstudio whose schema is version 2."""
    path = tmp_path / "old.kgs"
    with Project.create(path) as project:
        EditHistory(project).execute(AddEntity("Kept through the upgrade"))
    original = sha256_of(path)

    def add_note_column(connection) -> None:  # what a real step looks like: plain DDL
        connection.exec_driver_sql("ALTER TABLE entity ADD COLUMN note TEXT")

    monkeypatch.setattr(project_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(migrations.MIGRATIONS, SCHEMA_VERSION, add_note_column)
    with Project.open(path) as project:
        assert project.schema_version == SCHEMA_VERSION + 1
        with project.repositories() as repos:
            assert [e.name for e in repos.graph.entities()] == ["Kept through the upgrade"]
    backup = tmp_path / f"old.kgs.schema-v{SCHEMA_VERSION}.bak"
    assert backup.is_file()
    with sqlite3.connect(backup) as connection:
        assert connection.execute("SELECT value FROM kgstudio_meta WHERE key='schema_version'").fetchone()[0] == str(
            SCHEMA_VERSION
        )
        columns = [row[1] for row in connection.execute("PRAGMA table_info(entity)")]
    assert "note" not in columns
    assert original  # the backup, not the original bytes, is what a user restores


def test_missing_migration_step_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.kgs"
    Project.create(path).close()
    before = sha256_of(path)
    monkeypatch.setattr(project_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(ProjectError, match="cannot upgrade"):
        Project.open(path)
    assert sha256_of(path) == before


def test_a_write_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: another process cannot write between an edit's check and its write."""
    path = tmp_path / "p.kgs"
    with Project.create(path) as project:
        with project.transaction() as repos:
            repos.session.execute(select(1))  # only a read so far, yet the lock is held
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
        with project.read() as session:  # reads take no write lock
            session.execute(select(1))
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            other.close()


def test_create_where_nothing_can_be_written_is_a_clear_error() -> None:
    # /proc refuses new files even to root, unlike a chmod-ed folder.
    with pytest.raises(ProjectError, match="/proc/kgstudio-test.kgs: cannot create the project: .*unable to open"):
        Project.create("/proc/kgstudio-test.kgs")

