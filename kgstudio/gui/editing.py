"""Edit ▸ Add/Rename/Delete/Merge entities and Add/Delete/Re-point triples, as edit commands.

Every action here builds one command from :mod:`kgstudio.edit` and hands it
to :meth:`GraphEditor.execute`, which runs it through the project's
:class:`~kgstudio.edit.EditHistory`: the change is undoable (Ctrl+Z), in the
audit log, and comes back to every view as a change set. The ``*_dialog``
methods ask the user; the others are what tests and the dialogs call.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QLineEdit,
    QWidget,
)

from kgstudio.domain import EditRecord
from kgstudio.edit import (
    AddEntity,
    AddTriple,
    DeleteEntity,
    MergeEntities,
    RenameEntity,
    RepointTriple,
    RetractTriple,
    SetEntityClass,
)
from kgstudio.edit.commands import EditCommand


class GraphEditor(QObject):
    """The edit actions of the window, over the selection of the canvas.

    ``execute(command, reason)`` runs a command (the window's, which reports
    errors); ``selection()`` returns ``(entity_ids, triple_id)``;
    ``names()`` returns the project's entity names by id, for pickers.
    """

    def __init__(self, parent: QWidget, execute: Callable[[EditCommand, str | None], EditRecord | None],
                 selection: Callable[[], tuple[list[int], int | None]],
                 names: Callable[[], dict[int, str]]) -> None:
        super().__init__(parent)
        self._parent, self._execute, self._selection, self._names = parent, execute, selection, names
        self.add_entity_action = self._action("Add &Entity…", self.add_entity_dialog, "Ctrl+Shift+E")
        self.rename_action = self._action("&Rename Entity…", self.rename_dialog, "F2")
        self.set_class_action = self._action("Set &Class…", self.set_class_dialog)
        self.delete_action = self._action("&Delete", self.delete_selected, QKeySequence.StandardKey.Delete)
        self.merge_action = self._action("&Merge Selected Entities", self.merge_selected, "Ctrl+M")
        self.add_triple_action = self._action("Add &Triple…", self.add_triple_dialog, "Ctrl+T")
        self.repoint_action = self._action("Re-&point Triple…", self.repoint_dialog)
        self.update_actions()

    def actions(self) -> list[QAction]:
        return [self.add_entity_action, self.rename_action, self.set_class_action, self.delete_action,
                self.merge_action, self.add_triple_action, self.repoint_action]

    def update_actions(self, has_project: bool = False) -> None:
        entities, triple = self._selection() if has_project else ([], None)
        self.add_entity_action.setEnabled(has_project)
        self.rename_action.setEnabled(len(entities) == 1)
        self.set_class_action.setEnabled(len(entities) >= 1)
        self.delete_action.setEnabled(bool(entities) or triple is not None)
        self.merge_action.setEnabled(len(entities) >= 2)
        self.add_triple_action.setEnabled(has_project and len(entities) <= 2)
        self.repoint_action.setEnabled(triple is not None)

    # --- the edits (no dialogs) -------------------------------------------------------

    def add_entity(self, name: str, class_name: str | None = None) -> EditRecord | None:
        return self._execute(AddEntity(name, class_name=class_name or None), None)

    def rename(self, entity_id: int, name: str) -> EditRecord | None:
        return self._execute(RenameEntity(entity_id, name), None)

    def set_class(self, entity_ids: list[int], class_name: str | None) -> None:
        for entity_id in entity_ids:
            self._execute(SetEntityClass(entity_id, class_name or None), None)

    def delete_selected(self) -> None:
        """Delete the selected entities (with their triples), or the selected triple."""
        entities, triple = self._selection()
        for entity_id in entities:
            self._execute(DeleteEntity(entity_id), None)
        if not entities and triple is not None:
            self._execute(RetractTriple(triple), None)

    def merge_selected(self, reason: str | None = "merged on the canvas") -> EditRecord | None:
        """Merge the selected entities into the first one selected."""
        entities, _ = self._selection()
        if len(entities) < 2:
            return None
        return self._execute(MergeEntities(entities[0], entities[1:], reason=reason), reason)

    def add_triple(self, subject_id: int, predicate: str, object_id: int | None = None,
                   literal: str | None = None) -> EditRecord | None:
        return self._execute(AddTriple(subject_id, predicate.strip(), object_id=object_id,
                                       object_literal=literal if object_id is None else None), None)

    def repoint(self, triple_id: int, subject_id: int | None = None, predicate: str | None = None,
                object_id: int | None = None) -> EditRecord | None:
        return self._execute(RepointTriple(triple_id, subject_id, predicate, object_id), None)

    # --- dialogs ----------------------------------------------------------------------------

    def add_entity_dialog(self) -> None:
        name, ok = QInputDialog.getText(self._parent, "Add Entity", "Name:")
        if ok and name.strip():
            self.add_entity(name.strip())

    def rename_dialog(self) -> None:
        entities, _ = self._selection()
        if len(entities) != 1:
            return
        current = self._names().get(entities[0], "")
        name, ok = QInputDialog.getText(self._parent, "Rename Entity", "New name (the old one stays as an alias):",
                                        text=current)
        if ok and name.strip() and name.strip() != current:
            self.rename(entities[0], name.strip())

    def set_class_dialog(self) -> None:
        entities, _ = self._selection()
        if not entities:
            return
        name, ok = QInputDialog.getText(self._parent, "Set Class", "Class (empty for none):")
        if ok:
            self.set_class(entities, name.strip() or None)

    def add_triple_dialog(self) -> None:
        entities, _ = self._selection()
        dialog = _TripleDialog(self._parent, self._names(), entities[0] if entities else None,
                               entities[1] if len(entities) > 1 else None)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            subject, predicate, obj, literal = dialog.values()
            if subject is not None and predicate:
                self.add_triple(subject, predicate, obj, literal)

    def repoint_dialog(self) -> None:
        _, triple = self._selection()
        if triple is None:
            return
        dialog = _TripleDialog(self._parent, self._names(), None, None, repoint=True)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            subject, predicate, obj, _ = dialog.values()
            self.repoint(triple, subject, predicate or None, obj)

    def _action(self, text: str, slot: Callable[[], object], shortcut: object = None) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(lambda _checked=False: slot())
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(shortcut)
        elif shortcut:
            action.setShortcut(QKeySequence(shortcut))
        return action


class _TripleDialog(QDialog):
    """Subject, predicate and object (an entity or a literal) of a triple."""

    def __init__(self, parent: QWidget, names: dict[int, str], subject: int | None, obj: int | None,
                 repoint: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Re-point Triple" if repoint else "Add Triple")
        self.subject, self.object = QComboBox(), QComboBox()
        self.subject.setEditable(True)
        self.object.setEditable(True)
        keep = "(unchanged)" if repoint else ""
        for combo in (self.subject, self.object):
            if repoint:
                combo.addItem(keep, None)
            for entity_id, name in sorted(names.items(), key=lambda kv: kv[1].casefold())[:5000]:
                combo.addItem(f"{name}  [#{entity_id}]", entity_id)
        if subject is not None:
            self.subject.setCurrentIndex(max(0, self.subject.findData(subject)))
        if obj is not None:
            self.object.setCurrentIndex(max(0, self.object.findData(obj)))
        self.predicate = QLineEdit()
        self.predicate.setPlaceholderText("(unchanged)" if repoint else "e.g. worksFor")
        form = QFormLayout(self)
        form.addRow("Subject:", self.subject)
        form.addRow("Predicate:", self.predicate)
        form.addRow("Object (an entity, or type a value):", self.object)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[int | None, str, int | None, str | None]:
        def chosen(combo: QComboBox) -> tuple[int | None, str]:
            index = combo.findText(combo.currentText())
            return (combo.itemData(index), "") if index >= 0 else (None, combo.currentText().strip())

        subject, _ = chosen(self.subject)
        obj, literal = chosen(self.object)
        return subject, self.predicate.text().strip(), obj, literal or None
