"""The Filters panel: which classes, predicates, statuses, confidences and documents the canvas shows."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kgstudio.graph.data import GraphData
from kgstudio.gui.canvas import GraphFilter

STATUSES = ("accepted", "candidate", "inferred", "rejected")


class FilterPanel(QWidget):
    """Emits :attr:`changed` with a :class:`GraphFilter` whenever a choice changes.

    The document restriction comes from outside (:meth:`set_document_triples`),
    from the documents selected in the Documents panel.
    """

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterPanel")
        self.classes = QListWidget()
        self.predicates = QListWidget()
        self.status_boxes = {name: QCheckBox(name) for name in STATUSES}
        for name, box in self.status_boxes.items():
            box.setChecked(name != "rejected")
            box.toggled.connect(self._emit)
        self.min_confidence = QDoubleSpinBox()
        self.min_confidence.setRange(0.0, 1.0)
        self.min_confidence.setSingleStep(0.05)
        self.min_confidence.valueChanged.connect(self._emit)
        self.only_documents = QCheckBox("Only facts from the documents selected in the Documents panel")
        self.only_documents.toggled.connect(self._emit)
        self.document_note = QLabel("")
        reset = QPushButton("Show Everything")
        reset.clicked.connect(self.reset)
        for widget in (self.classes, self.predicates):
            widget.itemChanged.connect(self._emit)
        statuses = QHBoxLayout()
        for box in self.status_boxes.values():
            statuses.addWidget(box)
        form = QFormLayout()
        form.addRow("Statuses:", statuses)
        form.addRow("Confidence at least:", self.min_confidence)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Classes:"))
        layout.addWidget(self.classes, 1)
        layout.addWidget(QLabel("Predicates:"))
        layout.addWidget(self.predicates, 1)
        layout.addLayout(form)
        layout.addWidget(self.only_documents)
        layout.addWidget(self.document_note)
        layout.addWidget(reset)
        self._document_triples: set[int] | None = None
        self._quiet = False

    def set_graph(self, graph: GraphData | None) -> None:
        """List the classes and predicates of ``graph`` (all checked, unless unchecked before)."""
        self._quiet = True
        for widget, names in ((self.classes, graph.class_names() if graph else []),
                              (self.predicates, graph.predicates() if graph else [])):
            unchecked = {widget.item(i).data(Qt.ItemDataRole.UserRole) for i in range(widget.count())
                         if widget.item(i).checkState() != Qt.CheckState.Checked}
            widget.clear()
            for name in names:
                item = QListWidgetItem(name or "(no class)")
                item.setData(Qt.ItemDataRole.UserRole, name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked if name in unchecked else Qt.CheckState.Checked)
                widget.addItem(item)
        self._quiet = False

    def set_document_triples(self, triple_ids: set[int] | None, documents: int) -> None:
        self._document_triples = triple_ids
        self.document_note.setText(f"{documents} documents selected, {len(triple_ids or ())} facts" if documents else "")
        if self.only_documents.isChecked():
            self._emit()

    def current(self) -> GraphFilter:
        def checked(widget: QListWidget) -> set[str] | None:
            names = {widget.item(i).data(Qt.ItemDataRole.UserRole) for i in range(widget.count())
                     if widget.item(i).checkState() == Qt.CheckState.Checked}
            return None if len(names) == widget.count() else names

        return GraphFilter(
            classes=checked(self.classes), predicates=checked(self.predicates),
            statuses={name for name, box in self.status_boxes.items() if box.isChecked()},
            min_confidence=self.min_confidence.value(),
            triple_ids=self._document_triples if self.only_documents.isChecked() else None,
        )

    def reset(self) -> None:
        self._quiet = True
        for widget in (self.classes, self.predicates):
            for i in range(widget.count()):
                widget.item(i).setCheckState(Qt.CheckState.Checked)
        for name, box in self.status_boxes.items():
            box.setChecked(name != "rejected")
        self.min_confidence.setValue(0.0)
        self.only_documents.setChecked(False)
        self._quiet = False
        self._emit()

    def _emit(self, *_args: object) -> None:
        if not self._quiet:
            self.changed.emit(self.current())
