"""The audit log panel: every edit, newest first, with who made it, why, and whether it is undone."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from kgstudio.edit import EditHistory

SHOWN = 500  # the newest entries; `kgstudio log` has them all


class AuditLogPanel(QTreeWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditLog")
        self.setHeaderLabels(("#", "When (UTC)", "Who", "What", "Why", "State"))
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.header().resizeSection(0, 50)
        self.header().resizeSection(1, 140)
        self.header().resizeSection(3, 320)

    def refresh(self, history: EditHistory | None) -> None:
        self.clear()
        if history is None:
            return
        for record in history.log(SHOWN):
            when = record.created_at.strftime("%Y-%m-%d %H:%M:%S") if record.created_at else ""
            item = QTreeWidgetItem([str(record.id), when, str(record.actor), record.description,
                                    record.reason or "", str(record.state)])
            item.setToolTip(3, record.description)
            if str(record.state) != "done":
                for column in range(6):
                    item.setForeground(column, QBrush(QColor(140, 140, 140)))
            item.setData(0, Qt.ItemDataRole.UserRole, record.id)
            self.addTopLevelItem(item)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(who, what, why, state) of each entry shown, newest first."""
        return [tuple(self.topLevelItem(i).text(c) for c in (2, 3, 4, 5))  # type: ignore[misc]
                for i in range(self.topLevelItemCount())]
