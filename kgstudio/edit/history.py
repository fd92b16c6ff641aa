"""Undo, redo and the audit log, in the core (the GUI's QUndoStack only adapts this).

The edit log table is both the audit trail and the undo stack: entries in
state ``done`` can be undone (newest first), ``undone`` ones redone (most
recently undone first); a new edit after an undo marks the redo branch
``discarded``, which keeps it in the audit trail. Because the log lives in
the project, undo/redo survive closing and reopening the project.
"""

from __future__ import annotations

from collections.abc import Callable

from kgstudio.domain import Actor, ChangeSet, EditRecord, EditState
from kgstudio.edit.commands import EditCommand, EditContext
from kgstudio.errors import EditError
from kgstudio.store import Project, Repositories
from kgstudio.store.journal import RowJournal, apply_changes

Listener = Callable[[EditRecord, ChangeSet], None]


class EditHistory:
    """Executes edit commands on a project and undoes/redoes them.

    Listeners (e.g. the GUI adapter) are called after each execute, undo and
    redo with the log entry and the change set that was applied, so views
    refresh exactly what changed.
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def execute(self, command: EditCommand, *, actor: Actor = Actor.USER, reason: str | None = None) -> EditRecord:
        """Run a command in one transaction and log it; returns the log entry (with its ChangeSet)."""
        with self.project.transaction() as repos:
            record = self.execute_in(repos, command, actor=actor, reason=reason)
        self._notify(record, record.changes)
        return record

    def execute_in(self, repos: Repositories, command: EditCommand, *, actor: Actor = Actor.USER,
                   reason: str | None = None) -> EditRecord:
        """Run a command and log it inside a write transaction the caller holds (``Project.transaction``).

        For a writer that stores other rows in the same transaction (the import: a
        document, its segments and the facts read from it). Listeners are not
        called: the edit is not committed yet, and the caller refreshes its views
        when it has committed.
        """
        journal = RowJournal(repos.session)
        command.run(EditContext(journal, self.project.base_iri, str(actor)))
        if not journal.changes:
            raise EditError(f"{command.describe()}: nothing to change")
        repos.edit_log.discard_redo()
        return repos.edit_log.append(EditRecord(
            actor=Actor(actor), command=command.to_dict(), description=command.describe(),
            changes=journal.changes, reason=reason,
        ))

    def undo(self) -> EditRecord:
        """Revert the newest edit still done; raises :class:`EditError` when there is none."""
        with self.project.transaction() as repos:
            record = repos.edit_log.last_done()
            if record is None:
                raise EditError("nothing to undo")
            applied = record.changes.inverted()
            apply_changes(repos.session, applied)
            repos.edit_log.set_state(record.id, EditState.UNDONE)  # type: ignore[arg-type]
            record.state = EditState.UNDONE
        self._notify(record, applied)
        return record

    def redo(self) -> EditRecord:
        """Re-apply the most recently undone edit; raises :class:`EditError` when there is none."""
        with self.project.transaction() as repos:
            record = repos.edit_log.first_undone()
            if record is None:
                raise EditError("nothing to redo")
            apply_changes(repos.session, record.changes)
            repos.edit_log.set_state(record.id, EditState.DONE)  # type: ignore[arg-type]
            record.state = EditState.DONE
        self._notify(record, record.changes)
        return record

    def undo_entry(self) -> EditRecord | None:
        """The entry :meth:`undo` would revert, or None."""
        with self.project.repositories() as repos:
            return repos.edit_log.last_done()

    def redo_entry(self) -> EditRecord | None:
        """The entry :meth:`redo` would re-apply, or None."""
        with self.project.repositories() as repos:
            return repos.edit_log.first_undone()

    def log(self, limit: int | None = None) -> list[EditRecord]:
        """The audit log, newest first."""
        with self.project.repositories() as repos:
            return repos.edit_log.list(limit)

    def _notify(self, record: EditRecord, changes: ChangeSet) -> None:
        for listener in list(self._listeners):
            listener(record, changes)
