"""ChangeSet: the exact rows an edit inserted, updated or deleted.

Every mutation of the graph returns one. Views refresh from it; undo applies
its inverse; it is stored (as JSON) in the edit log so undo survives a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class RowChange:
    """One row of one table, before and after. ``before is None`` = inserted; ``after is None`` = deleted."""

    table: str
    key: int
    before: Row | None
    after: Row | None

    def inverted(self) -> "RowChange":
        return RowChange(self.table, self.key, self.after, self.before)


@dataclass
class ChangeSet:
    """An ordered list of row changes; apply in order, undo in reverse order."""

    changes: list[RowChange] = field(default_factory=list)

    def inverted(self) -> "ChangeSet":
        return ChangeSet([change.inverted() for change in reversed(self.changes)])

    def keys(self, table: str) -> set[int]:
        """Ids of the rows of ``table`` this change set touches."""
        return {change.key for change in self.changes if change.table == table}

    @property
    def entity_ids(self) -> set[int]:
        return self.keys("entity")

    @property
    def triple_ids(self) -> set[int]:
        return self.keys("triple")

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def to_list(self) -> list[Any]:
        """JSON-ready and compact: ``[columns, rows]`` with each table's column names once.

        ``columns`` maps a table to its column names; each row is ``[table,
        key, before, after]`` with the images as value lists in that order
        (or null). An import of 200,000 facts would otherwise repeat every
        column name in every row image.
        """
        columns: dict[str, list[str]] = {}
        getters: dict[str, Any] = {}
        rows = []
        for change in self.changes:
            table = change.table
            names = columns.get(table)
            if names is None:
                image = change.after if change.after is not None else change.before
                names = columns[table] = list(image) if image else []
                getters[table] = itemgetter(*names) if len(names) > 1 else None
            getter = getters[table]
            rows.append([table, change.key, _values(change.before, names, getter), _values(change.after, names, getter)])
        return [columns, rows]

    @classmethod
    def from_list(cls, data: list[Any]) -> "ChangeSet":
        columns, rows = data
        return cls([
            RowChange(table, int(key), _image(before, columns[table]), _image(after, columns[table]))
            for table, key, before, after in rows
        ])


def _values(image: Row | None, names: list[str], getter: Any = None) -> list[Any] | None:
    if image is None:
        return None
    if getter is not None:  # one C call per row image (an import writes millions of them)
        try:
            return list(getter(image))
        except KeyError:
            pass
    return [image.get(name) for name in names]


def _image(values: list[Any] | None, names: list[str]) -> Row | None:
    return None if values is None else dict(zip(names, values, strict=True))
