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
from kgstudio.store.bulk import insert_rows
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
            query = (select(sa_table.c[column], sa_table.c.id)
                     .where(sa_table.c[column].in_(wanted[start:start + 500])).order_by(sa_table.c.id))
            for name, value in equal.items():
                query = query.where(sa_table.c[name] == value)
            found.extend((row[0], row[1]) for row in self._connection.execute(query))
        return found

    def columns_in(self, table: str, column: str, values: Iterable[Any], columns: tuple[str, ...],
                   **equal: Any) -> list[tuple[Any, ...]]:
        """``columns`` of the rows whose ``column`` is one of ``values`` (queried in batches, ordered by id).

        The bulk counterpart of :meth:`get` for a command that needs a few
        columns of thousands of rows: one query per 500 values instead of one per row.
        """
        sa_table = _table(table)
        wanted = list(dict.fromkeys(values))
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(wanted), 500):
            query = (select(*(sa_table.c[name] for name in columns))
                     .where(sa_table.c[column].in_(wanted[start:start + 500])).order_by(sa_table.c.id))
            for name, value in equal.items():
                query = query.where(sa_table.c[name] == value)
            found.extend(tuple(row) for row in self._connection.execute(query))
        return found

    def rows_in(self, table: str, column: str, values: Iterable[Any]) -> list[Row]:
        """Whole rows whose ``column`` is one of ``values`` (queried in batches)."""
        sa_table = _table(table)
        wanted = list(dict.fromkeys(values))
        rows: list[Row] = []
        for start in range(0, len(wanted), 500):
            query = select(sa_table).where(sa_table.c[column].in_(wanted[start:start + 500]))
            rows.extend(_to_json(sa_table, row) for row in self._connection.execute(query).mappings())
        return rows

    def insert(self, table: str, values: Row) -> int:
        return self.insert_many(table, [values])[0]

    def insert_many(self, table: str, rows: list[Row]) -> list[int]:
        """Insert rows in one statement; returns their new ids in order.

        Every column of a journaled table is given by the commands (none has a
        server default), so the stored row is exactly the values plus the id:
        the after-image is built from them instead of being read back.
        """
        if not rows:
            return []
        sa_table = _table(table)
        columns = [c.name for c in sa_table.columns if c.name != "id"]
        # One pass per row (an import inserts millions): plain values, the common case, are kept as they are.
        full = [{name: value if (value := row.get(name)) is None or type(value) in _PLAIN else _json_value(value)
                 for name in columns} for row in rows]
        dates = _date_columns(sa_table)
        ids = insert_rows(self._connection, sa_table, [_from_json(sa_table, r) for r in full] if dates else full)
        append = self.changes.changes.append
        for key, row in zip(ids, full, strict=True):
            append(RowChange(table, key, None, {"id": key, **row}))
        return ids

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
    then rolls back, so nothing is half-applied. Consecutive changes of one
    kind to one table (an import's thousands of inserts) are checked with one
    query and written with one statement per batch.
    """
    connection = session.connection()
    for (table, kind), run in _runs(changes.changes):
        sa_table = _table(table)
        keys = [change.key for change in run]
        current = {}
        for start in range(0, len(keys), 500):
            query = select(sa_table).where(sa_table.c.id.in_(keys[start:start + 500]))
            current.update((row["id"], _to_json(sa_table, row)) for row in connection.execute(query).mappings())
        for change in run:
            if current.get(change.key) != change.before:
                raise EditConflictError(
                    f"{change.table} {change.key} changed since this edit was made; "
                    "undo/redo would overwrite that change, so it was refused"
                )
        if kind == "delete":
            for start in range(0, len(keys), 500):
                connection.execute(sa_table.delete().where(sa_table.c.id.in_(keys[start:start + 500])))
        elif kind == "insert":
            connection.execute(sa_table.insert(), [_from_json(sa_table, change.after) for change in run])
        else:
            for change in run:
                connection.execute(sa_table.update().where(sa_table.c.id == change.key)
                                   .values(**_from_json(sa_table, change.after)))


def _runs(changes: list[RowChange]) -> list[tuple[tuple[str, str], list[RowChange]]]:
    """Consecutive changes grouped by (table, insert/update/delete), order kept."""
    runs: list[tuple[tuple[str, str], list[RowChange]]] = []
    for change in changes:
        kind = "insert" if change.before is None else "delete" if change.after is None else "update"
        if runs and runs[-1][0] == (change.table, kind):
            runs[-1][1].append(change)
        else:
            runs.append(((change.table, kind), [change]))
    return runs


def _table(name: str) -> Table:
    try:
        return JOURNALED_TABLES[name]
    except KeyError:
        raise EditError(f"{name!r} is not a graph table") from None


_PLAIN = frozenset((str, int, float, bool))


def _json_value(value: Any) -> Any:
    """A value as a row image holds it: datetimes as ISO text, enum members as their plain values."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and type(value) is not str:
        return str(value)  # a StrEnum member: store and compare the plain string
    return value


def _to_json(table: Table, row: Any) -> Row:
    """A JSON-ready copy: datetimes as ISO text, enum members as their plain values."""
    return {key: _json_value(value) for key, value in row.items()}


def _date_columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if isinstance(c.type, DateTime)]


def _from_json(table: Table, row: Row) -> Row:
    dates = _date_columns(table)
    if not dates:
        return row
    values = dict(row)
    for name in dates:
        if isinstance(values.get(name), str):
            values[name] = datetime.fromisoformat(values[name])
    return values
