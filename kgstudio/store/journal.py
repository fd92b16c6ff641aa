"""The row journal: graph writes that record their exact before/after images.

Edit commands never write graph tables any other way. Each insert, update and
delete returns nothing but appends a :class:`RowChange`; the command's
:class:`ChangeSet` is those changes in order, and its inverse is the same
changes reversed. Applying a change set first checks that each row is still
what the change expects, so undo never overwrites work it does not know about.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Table, select
from sqlalchemy.orm import Session

from kgstudio.domain import ChangeSet, RowChange
from kgstudio.domain.changes import Row
from kgstudio.errors import EditConflictError, EditError
from kgstudio.store.schema import JOURNALED_TABLES


class RowJournal:
    """Write graph rows inside one session and remember every change exactly."""

    def __init__(self, session: Session) -> None:
        self._connection = session.connection()
        self.changes = ChangeSet()

    def get(self, table: str, key: int) -> Row | None:
        """The row as a JSON-ready dict, or None."""
        sa_table = _table(table)
        found = self._connection.execute(select(sa_table).where(sa_table.c.id == key)).mappings().first()
        return _to_json(sa_table, found) if found is not None else None

    def require(self, table: str, key: int) -> Row:
        row = self.get(table, key)
        if row is None:
            raise EditError(f"there is no {table} with id {key}")
        return row

    def keys(self, table: str, **equal: Any) -> list[int]:
        """Ids of rows whose columns equal the given values (ordered by id)."""
        sa_table = _table(table)
        query = select(sa_table.c.id).order_by(sa_table.c.id)
        for column, value in equal.items():
            query = query.where(sa_table.c[column] == value)
        return list(self._connection.scalars(query))

    def keys_in(self, table: str, column: str, values: Iterable[Any], **equal: Any) -> list[tuple[Any, int]]:
        """``(value, id)`` for rows whose ``column`` is one of ``values`` (queried in batches)."""
        sa_table = _table(table)
        wanted = list(dict.fromkeys(values))
        found: list[tuple[Any, int]] = []
        for start in range(0, len(wanted), 500):
            query = select(sa_table.c[column], sa_table.c.id).where(sa_table.c[column].in_(wanted[start:start + 500]))
            for name, value in equal.items():
                query = query.where(sa_table.c[name] == value)
            found.extend((row[0], row[1]) for row in self._connection.execute(query))
        return found

    def insert(self, table: str, values: Row) -> int:
        sa_table = _table(table)
        result = self._connection.execute(sa_table.insert().values(**_from_json(sa_table, values)))
        key = int(result.inserted_primary_key[0])
        self.changes.changes.append(RowChange(table, key, None, self.require(table, key)))
        return key

    def update(self, table: str, key: int, **values: Any) -> None:
        sa_table = _table(table)
        before = self.require(table, key)
        if all(before.get(column) == value for column, value in values.items()):
            return  # nothing changes: record nothing
        self._connection.execute(sa_table.update().where(sa_table.c.id == key).values(**_from_json(sa_table, values)))
        self.changes.changes.append(RowChange(table, key, before, self.require(table, key)))

    def delete(self, table: str, key: int) -> None:
        sa_table = _table(table)
        before = self.require(table, key)
        self._connection.execute(sa_table.delete().where(sa_table.c.id == key))
        self.changes.changes.append(RowChange(table, key, before, None))


def apply_changes(session: Session, changes: ChangeSet) -> None:
    """Apply row changes in order, after checking each row is as ``before`` says.

    Used for undo (with the inverted change set) and redo. Raises
    :class:`EditConflictError` when a row differs; the caller's transaction
    then rolls back, so nothing is half-applied.
    """
    journal = RowJournal(session)
    connection = journal._connection
    for change in changes.changes:
        sa_table = _table(change.table)
        current = journal.get(change.table, change.key)
        if current != change.before:
            raise EditConflictError(
                f"{change.table} {change.key} changed since this edit was made; "
                "undo/redo would overwrite that change, so it was refused"
            )
        where = sa_table.c.id == change.key
        if change.after is None:
            connection.execute(sa_table.delete().where(where))
        elif change.before is None:
            connection.execute(sa_table.insert().values(**_from_json(sa_table, change.after)))
        else:
            connection.execute(sa_table.update().where(where).values(**_from_json(sa_table, change.after)))


def _table(name: str) -> Table:
    try:
        return JOURNALED_TABLES[name]
    except KeyError:
        raise EditError(f"{name!r} is not a graph table") from None


def _to_json(table: Table, row: Any) -> Row:
    return {key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in row.items()}


def _from_json(table: Table, row: Row) -> Row:
    values = dict(row)
    for column in table.columns:
        if isinstance(column.type, DateTime) and isinstance(values.get(column.name), str):
            values[column.name] = datetime.fromisoformat(values[column.name])
    return values
