"""The Documents panel: every imported file with its kind, status, counts and, for a failed file, why."""

from __future__ import annotations

from pathlib import PurePath

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from kgstudio.graph.queries import DocumentInfo, documents
from kgstudio.store import Project

COLUMNS = ("Document", "Kind", "Status", "Passages", "Chunks", "Problem")
_PROBLEM_STATUSES = {"failed": QColor(190, 30, 30), "partial": QColor(170, 110, 0)}


class DocumentsPanel(QTreeWidget):
    """A tree of documents (messages of an mbox and attachments under their file)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("documentsPanel")
        self.setHeaderLabels(COLUMNS)
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 220)
        header.setStretchLastSection(True)
        self._documents: list[DocumentInfo] = []

    def refresh(self, project: Project | None) -> None:
        """Re-read the documents of ``project`` (empty when None)."""
        self.clear()
        self._documents = documents(project) if project is not None else []
        items: dict[int, QTreeWidgetItem] = {}
        for doc in self._documents:
            parent = items.get(doc.parent_id) if doc.parent_id is not None else None
            name = doc.title if parent is not None and doc.title else PurePath(doc.path).name or doc.path
            item = QTreeWidgetItem([name, doc.kind, doc.status, str(doc.segments), str(doc.chunks), doc.error or ""])
            item.setData(0, Qt.ItemDataRole.UserRole, doc.id)
            item.setToolTip(0, doc.path)
            if doc.error:
                item.setToolTip(5, doc.error)
            color = _PROBLEM_STATUSES.get(doc.status)
            if color is not None:
                for column in (2, 5):
                    item.setForeground(column, QBrush(color))
            for column in (3, 4):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            (parent.addChild(item) if parent is not None else self.addTopLevelItem(item))
            items[doc.id] = item

    def rows(self) -> list[dict[str, str]]:
        """What the panel shows, top-level documents first in import order (for tests and copy)."""
        result = []
        for index in range(self.topLevelItemCount()):
            stack = [self.topLevelItem(index)]
            while stack:
                item = stack.pop(0)
                result.append({column: item.text(i) for i, column in enumerate(COLUMNS)})
                stack[0:0] = [item.child(i) for i in range(item.childCount())]
        return result
