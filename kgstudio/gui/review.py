"""The review queue: candidate triples by confidence, accepted with A, rejected with R, skipped with N.

Each decision is an edit command (AcceptCandidate / RejectCandidate) run
through the project's history, so it is undoable and in the audit log.
The passage a candidate came from is shown beside it.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kgstudio.domain import ChangeSet
from kgstudio.edit import AcceptCandidate, RejectCandidate
from kgstudio.edit.commands import EditCommand
from kgstudio.graph.queries import CandidateInfo, Evidence, candidates, evidence
from kgstudio.gui.status import plural
from kgstudio.store import Project


class ReviewQueue(QWidget):
    """Candidates, most confident first, with the source passage of the current one beside the list."""

    source_requested = Signal(object)  # Evidence
    triple_focused = Signal(int)

    def __init__(self, execute: Callable[[EditCommand], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewQueue")
        self._execute = execute
        self._project: Project | None = None
        self.list = QTreeWidget()
        self.list.setObjectName("candidates")
        self.list.setHeaderLabels(("Subject", "Predicate", "Object", "Conf."))
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.currentItemChanged.connect(self._on_current)
        self.passage = QTextBrowser()
        self.passage.setObjectName("candidatePassage")
        self.count = QLabel()
        self.accept_button = QPushButton("Accept (A)")
        self.reject_button = QPushButton("Reject (R)")
        self.next_button = QPushButton("Next (N)")
        self.source_button = QPushButton("Show Source")
        self.accept_button.clicked.connect(self.accept_current)
        self.reject_button.clicked.connect(self.reject_current)
        self.next_button.clicked.connect(self.next)
        self.source_button.clicked.connect(self._show_source)
        buttons = QHBoxLayout()
        buttons.addWidget(self.count, 1)
        for button in (self.accept_button, self.reject_button, self.next_button, self.source_button):
            buttons.addWidget(button)
        splitter = QSplitter()
        splitter.addWidget(self.list)
        splitter.addWidget(self.passage)
        splitter.setSizes([500, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(buttons)
        layout.addWidget(splitter, 1)
        for key, slot in (("A", self.accept_current), ("R", self.reject_current), ("N", self.next)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self._evidence: list[Evidence] = []
        self._update_buttons()

    def set_project(self, project: Project | None) -> None:
        self._project = project
        self.refresh()

    def refresh(self) -> None:
        """Re-read the candidates, keeping the current one (or the one after it) selected."""
        keep = self.current_triple_id()
        row = max(self.list.indexOfTopLevelItem(self.list.currentItem()), 0) if self.list.currentItem() else 0
        self.list.blockSignals(True)
        self.list.clear()
        items = candidates(self._project) if self._project is not None else []
        for info in items:
            self.list.addTopLevelItem(_item(info))
        self.list.blockSignals(False)
        self.count.setText(f"{plural(len(items), 'candidate', 'candidates')} to review" if items
                           else "No candidates to review")
        target = None
        for i in range(self.list.topLevelItemCount()):
            if self.list.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == keep:
                target = self.list.topLevelItem(i)
        if target is None and self.list.topLevelItemCount():
            target = self.list.topLevelItem(min(row, self.list.topLevelItemCount() - 1))
        self.list.setCurrentItem(target)
        if target is None:
            self._on_current(None, None)
        self._update_buttons()

    def apply_changes(self, changes: ChangeSet) -> None:
        """Follow an edit: decided candidates leave the list; a new or restored candidate re-reads it."""
        items = {self.list.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole): self.list.topLevelItem(i)
                 for i in range(self.list.topLevelItemCount())}
        removed = False
        for change in changes.changes:
            if change.table != "triple":
                continue
            is_candidate = change.after is not None and change.after.get("status") == "candidate"
            if is_candidate:
                # New, restored by an undo, or re-pointed (its names changed): read the queue again.
                self.refresh()
                return
            item = items.pop(change.key, None)
            if item is not None:
                row = self.list.indexOfTopLevelItem(item)
                was_current = item is self.list.currentItem()
                self.list.takeTopLevelItem(row)
                removed = True
                if was_current and self.list.topLevelItemCount():
                    self.list.setCurrentItem(self.list.topLevelItem(min(row, self.list.topLevelItemCount() - 1)))
        if removed:
            count = self.list.topLevelItemCount()
            self.count.setText(f"{plural(count, 'candidate', 'candidates')} to review" if count
                               else "No candidates to review")
            if not count:
                self._on_current(None, None)
            self._update_buttons()

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The queue as shown: (subject, predicate, object, confidence)."""
        return [tuple(self.list.topLevelItem(i).text(c) for c in range(4))  # type: ignore[misc]
                for i in range(self.list.topLevelItemCount())]

    def current_triple_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    # --- decisions ----------------------------------------------------------------------

    def accept_current(self) -> None:
        triple_id = self.current_triple_id()
        if triple_id is not None:
            self._execute(AcceptCandidate(triple_id))

    def reject_current(self) -> None:
        triple_id = self.current_triple_id()
        if triple_id is not None:
            self._execute(RejectCandidate(triple_id, reason="rejected in the review queue"))

    def next(self) -> None:
        """Skip to the next candidate (wrapping around)."""
        count = self.list.topLevelItemCount()
        if not count:
            return
        row = self.list.indexOfTopLevelItem(self.list.currentItem()) if self.list.currentItem() else -1
        self.list.setCurrentItem(self.list.topLevelItem((row + 1) % count))

    # --- internals -------------------------------------------------------------------------

    def _on_current(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        self._update_buttons()
        if current is None or self._project is None:
            self.passage.setHtml("")
            self._evidence = []
            return
        triple_id = current.data(0, Qt.ItemDataRole.UserRole)
        self._evidence = evidence(self._project, triple_id)
        parts = []
        for item in self._evidence[:3]:
            text = item.passage
            if item.span is not None:
                s, e = item.span
                body = (html.escape(text[:s]) + "<b style='background:#fff3a0'>" + html.escape(text[s:e])
                        + "</b>" + html.escape(text[e:]))
            else:
                body = html.escape(text)
            parts.append(f"<p><i>{html.escape(item.describe())}</i></p><p style='white-space: pre-wrap'>{body}</p>")
        self.passage.setHtml("".join(parts) or "<p><i>No recorded source for this candidate.</i></p>")
        self.triple_focused.emit(triple_id)

    def _show_source(self) -> None:
        if self._evidence:
            self.source_requested.emit(self._evidence[0])

    def _update_buttons(self) -> None:
        has = self.list.currentItem() is not None
        for button in (self.accept_button, self.reject_button, self.source_button):
            button.setEnabled(has)
        self.next_button.setEnabled(self.list.topLevelItemCount() > 1)


def _item(info: CandidateInfo) -> QTreeWidgetItem:
    confidence = "—" if info.confidence is None else f"{info.confidence:.2f}"
    item = QTreeWidgetItem([info.subject, info.predicate, info.object, confidence])
    item.setData(0, Qt.ItemDataRole.UserRole, info.triple_id)
    item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item
