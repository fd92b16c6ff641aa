"""Schema migrations: one step per schema version, applied in one transaction.

A step upgrades from version N to N + 1 with plain DDL/DML on a connection
(not the ORM, whose models always describe the newest schema). Before an
SQLite project is migrated, a copy is saved next to it as
``NAME.schema-vN.bak`` so a user can go back to the older kgstudio.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

MigrationStep = Callable[[Connection], None]


def _v1_to_v2(connection: Connection) -> None:
    """Extraction: the ``llm_call`` answer cache, ``chunk_extraction``, and classes on candidates; fusion's
    ``entity_distinct`` ("do not merge" decisions).

    The new tables are declared here as they were in version 2 (not taken from
    the ORM models, which follow later versions).
    """
    meta = MetaData()
    # Stand-ins so the foreign keys resolve; they are not created.
    Table("chunk", meta, Column("id", Integer, primary_key=True))
    Table("run", meta, Column("id", Integer, primary_key=True))
    Table(
        "llm_call", meta,
        Column("id", Integer, primary_key=True),
        Column("key", String(64), nullable=False, unique=True),
        Column("model", Text, nullable=False),
        Column("prompt_version", Text, nullable=False),
        Column("params", JSON, nullable=False),
        Column("raw", Text, nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("error", Text),
        Column("prompt_tokens", Integer, nullable=False),
        Column("completion_tokens", Integer, nullable=False),
        Column("seconds", Float, nullable=False),
        Column("created_at", DateTime, nullable=False),
    )
    Table(
        "chunk_extraction", meta,
        Column("id", Integer, primary_key=True),
        Column("chunk_id", Integer, ForeignKey("chunk.id", ondelete="CASCADE"), nullable=False, index=True),
        Column("llm_call_id", Integer, ForeignKey("llm_call.id"), nullable=False),
        Column("run_id", Integer, ForeignKey("run.id"), nullable=False),
        UniqueConstraint("chunk_id", "llm_call_id"),
    )
    Table(
        "entity_distinct", meta,
        Column("id", Integer, primary_key=True),
        Column("entity_id", Integer, nullable=False, index=True),
        Column("other_id", Integer, nullable=False, index=True),
        Column("actor", String(16), nullable=False),
        Column("reason", Text),
        sqlite_autoincrement=True,
    )
    meta.create_all(connection, tables=[meta.tables[name] for name in ("llm_call", "chunk_extraction",
                                                                      "entity_distinct")])
    for column in ("subject_class TEXT", "object_class TEXT", "llm_call_id INTEGER REFERENCES llm_call(id)"):
        connection.execute(text(f"ALTER TABLE candidate ADD COLUMN {column}"))
    connection.execute(text("CREATE INDEX ix_candidate_llm_call_id ON candidate (llm_call_id)"))


def _v2_to_v3(connection: Connection) -> None:
    """``run.owner``: the process running a run, so a run whose process was killed shows as interrupted.

    Runs from before have no owner; one left ``running`` stays so (nothing can tell whose it was).
    """
    connection.execute(text("ALTER TABLE run ADD COLUMN owner TEXT"))


# from_version -> step that upgrades that version to from_version + 1.
MIGRATIONS: dict[int, MigrationStep] = {1: _v1_to_v2, 2: _v2_to_v3}


def pending_steps(from_version: int, to_version: int) -> list[MigrationStep]:
    """The steps from ``from_version`` to ``to_version``; KeyError names a missing step."""
    steps = []
    for version in range(from_version, to_version):
        if version not in MIGRATIONS:
            raise KeyError(f"no migration from schema version {version} to {version + 1}")
        steps.append(MIGRATIONS[version])
    return steps


def migrate(connection: Connection, from_version: int, to_version: int) -> None:
    """Run the steps and record the new version (the caller owns the transaction)."""
    for step in pending_steps(from_version, to_version):
        step(connection)
    connection.execute(
        text("UPDATE kgstudio_meta SET value = :version WHERE key = 'schema_version'"),
        {"version": str(to_version)},
    )


def backup_sqlite(path: Path, from_version: int) -> Path:
    """Copy the project with SQLite's online backup (consistent even in WAL mode)."""
    target = path.with_name(f"{path.name}.schema-v{from_version}.bak")
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    return target
