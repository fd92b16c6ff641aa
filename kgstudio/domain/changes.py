"""ChangeSet: the exact rows an edit inserted, updated or deleted.

Every mutation of the graph returns one. Views refresh from it; undo applies
its inverse; it is stored (as JSON) in the edit log so undo survives a restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "key": self.key, "before": self.before, "after": self.after}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RowChange":
        return cls(data["table"], int(data["key"]), data["before"], data["after"])


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

    def to_list(self) -> list[dict[str, Any]]:
        return [change.to_dict() for change in self.changes]

    @classmethod
    def from_list(cls, data: list[dict[str, Any]]) -> "ChangeSet":
        return cls([RowChange.from_dict(item) for item in data])
