"""The audit log / undo history as the core sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kgstudio.domain.changes import ChangeSet


class Actor(StrEnum):
    """Who made a change; every audit entry names one."""

    USER = "user"
    IMPORT = "import"
    EXTRACTION = "extraction"
    FUSION = "fusion"
    CONTRACTS = "contracts"
    REFLECTION = "reflection"


class EditState(StrEnum):
    DONE = "done"  # applied; on the undo stack
    UNDONE = "undone"  # reverted; on the redo stack
    DISCARDED = "discarded"  # undone, then a new edit was made: kept for the audit, not redoable


@dataclass
class EditRecord:
    """One entry of the edit log: what was done, by whom, why, and its exact row changes."""

    actor: Actor
    command: dict[str, Any]  # {"op": name, ...arguments}
    description: str
    changes: ChangeSet
    reason: str | None = None
    state: EditState = EditState.DONE
    created_at: datetime | None = None
    state_changed_at: datetime | None = None
    id: int | None = None
