"""Inserting many rows fast and getting their ids back, on SQLite and on a server.

SQLite: ids are assigned here, after the largest id the table has ever used
(``sqlite_sequence`` for AUTOINCREMENT tables), and the rows go in with one
``executemany``. That is safe because every writer holds the database's write
lock from the start of its transaction (``BEGIN IMMEDIATE``, see
``Project.transaction``). Elsewhere: ``INSERT ... RETURNING`` in batches.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, func, select, text


def insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (without ids) and return the new ids in the same order."""
    if not rows:
        return []
    if connection.dialect.name != "sqlite":
        statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        return [int(key) for key in connection.scalars(statement, rows)]
    start = _largest_id(connection, table)
    ids = list(range(start + 1, start + 1 + len(rows)))
    connection.execute(table.insert(), [{"id": key, **row} for key, row in zip(ids, rows, strict=True)])
    return ids


def _largest_id(connection: Connection, table: Table) -> int:
    largest = connection.scalar(select(func.max(table.c.id))) or 0
    if table.dialect_options["sqlite"].get("autoincrement"):
        # AUTOINCREMENT never reuses an id, not even of a row deleted since.
        used = connection.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :name"),
                                  {"name": table.name}).scalar()
        largest = max(largest, used or 0)
    return int(largest)
