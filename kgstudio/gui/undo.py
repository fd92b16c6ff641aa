"""Undo and Redo actions over the core's :class:`~kgstudio.edit.EditHistory`.

The core owns undo: the edit log lives in the project, survives restarts and
is shared with the CLI. A ``QUndoStack`` would keep a second, diverging copy,
so this adapter only turns the core's state into two ``QAction``\\ s and a
signal.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence

from kgstudio.domain import ChangeSet, EditRecord
from kgstudio.edit import EditHistory
from kgstudio.errors import EditError

_MAX_DESCRIPTION = 60


class EditHistoryActions(QObject):
    """Undo/Redo actions whose text and enabled state follow an :class:`EditHistory`.

    :attr:`changed` is emitted on the GUI thread after every execute, undo and
    redo of the history (whoever made it) with the change set that was applied.
    """

    changed = Signal(object)  # ChangeSet
    # Edits may come from worker threads; a queued signal brings them to the GUI thread.
    _edited = Signal(object, object)  # EditRecord, ChangeSet

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._history: EditHistory | None = None
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = QAction("&Redo", self)
        self.redo_action.setShortcuts(QKeySequence.StandardKey.Redo)
        self._edited.connect(self._on_edited)
        self.refresh()

    @property
    def history(self) -> EditHistory | None:
        return self._history

    def set_history(self, history: EditHistory | None) -> None:
        """Follow ``history`` (None when no project is open)."""
        if self._history is not None:
            self._history.unsubscribe(self._listen)
        self._history = history
        if history is not None:
            history.subscribe(self._listen)
        self.refresh()

    def undo(self) -> EditRecord:
        """Undo the newest edit; raises :class:`~kgstudio.errors.EditError` when there is none."""
        return self._require_history().undo()

    def redo(self) -> EditRecord:
        """Redo the most recently undone edit; raises :class:`~kgstudio.errors.EditError` when there is none."""
        return self._require_history().redo()

    def refresh(self) -> None:
        """Read what can be undone and redone from the project and update both actions."""
        history = self._history
        undo = history.undo_entry() if history is not None else None
        redo = history.redo_entry() if history is not None else None
        _show(self.undo_action, "Undo", undo)
        _show(self.redo_action, "Redo", redo)

    def _require_history(self) -> EditHistory:
        if self._history is None:
            raise EditError("no project is open")
        return self._history

    def _listen(self, record: EditRecord, changes: ChangeSet) -> None:
        self._edited.emit(record, changes)

    def _on_edited(self, _record: EditRecord, changes: ChangeSet) -> None:
        self.refresh()
        self.changed.emit(changes)


def _show(action: QAction, verb: str, entry: EditRecord | None) -> None:
    action.setEnabled(entry is not None)
    if entry is None:
        action.setText(f"&{verb}")
        action.setToolTip(f"Nothing to {verb.lower()}")
        return
    description = entry.description
    if len(description) > _MAX_DESCRIPTION:
        description = description[: _MAX_DESCRIPTION - 1] + "…"
    # "&" would otherwise mark a mnemonic inside an entity's name.
    action.setText(f"&{verb} {description.replace('&', '&&')}")
    action.setToolTip(f"{verb} {entry.description}")
