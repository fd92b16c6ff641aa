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

from sqlalchemy import Connection, text

MigrationStep = Callable[[Connection], None]

# from_version -> step that upgrades that version to from_version + 1.
# Version 1 is the first schema; add ``MIGRATIONS[1] = _v1_to_v2`` with the next change.
MIGRATIONS: dict[int, MigrationStep] = {}


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
