"""The Inspector: everything about the selected entity or triple, and where each fact came from."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kgstudio.domain import Entity, Triple
from kgstudio.graph.queries import Evidence, entity_view, evidence
from kgstudio.store import Project


TITLE_CHARS = 70


def _confidence(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


class Inspector(QWidget):
    """Shows one entity (with its statements) or one triple, and the evidence of the chosen statement.

    :attr:`source_requested` carries an :class:`Evidence` when the user asks to see it in its source.
    """

    source_requested = Signal(object)
    triple_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self._project: Project | None = None
        self.entity: Entity | None = None
        self.triple: Triple | None = None
        self.title = QLabel("Nothing selected")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fields: dict[str, QLabel] = {}
        self.form = form = QFormLayout()
        for name in ("Class", "IRI", "Status", "Aliases", "Origin", "Confidence", "Reason"):
            label = QLabel()
            # One line each (the tooltip has all of it): long IRIs and names must neither widen
            # the panel (and with it the window) nor squeeze the rows below.
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[name] = label
            form.addRow(f"{name}:", label)
        self.statements = QTreeWidget()
        self.statements.setObjectName("statements")
        self.statements.setHeaderLabels(("Predicate", "Object", "Status", "Origin", "Conf."))
        self.statements.setRootIsDecorated(False)
        self.statements.currentItemChanged.connect(self._on_statement)
        self.evidence_list = QListWidget()
        self.evidence_list.setObjectName("evidence")
        self.evidence_list.itemActivated.connect(lambda _item: self.show_source())
        self.source_button = QPushButton("Show Source")
        self.source_button.setEnabled(False)
        self.source_button.clicked.connect(self.show_source)
        self.evidence_list.currentRowChanged.connect(lambda row: self.source_button.setEnabled(row >= 0))
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(QLabel("Statements:"))
        layout.addWidget(self.statements, 2)
        evidence_row = QHBoxLayout()
        evidence_row.addWidget(QLabel("Where it came from:"))
        evidence_row.addStretch(1)
        evidence_row.addWidget(self.source_button)
        layout.addLayout(evidence_row)
        layout.addWidget(self.evidence_list, 1)
        self._evidence: list[Evidence] = []
        self._names: dict[int, str] = {}
        # A fixed minimum: rows shown and hidden must not change the window's size constraints.
        self.setMinimumSize(240, 320)
        self.clear()

    # --- what is shown ------------------------------------------------------------

    def set_project(self, project: Project | None) -> None:
        self._project = project
        self.clear()

    def clear(self) -> None:
        self.entity, self.triple = None, None
        self.title.setText("Nothing selected")
        self._show_rows()
        for label in self.fields.values():
            label.setText("")
        self.statements.clear()
        self._set_evidence([])

    def show_entity(self, entity_id: int) -> None:
        """Show an entity: its names, class, IRI, status and every statement about it."""
        project = self._project
        if project is None:
            return
        view = entity_view(project, entity_id)
        if view is None:
            self.clear()
            return
        entity, aliases, triples, hidden = view.entity, view.aliases, view.triples, view.hidden
        self._names = view.names
        self.entity, self.triple = entity, None
        self._set_title(entity.name)
        self._show_rows("Class", "IRI", "Status", "Aliases")
        self.fields["Class"].setText(entity.class_name or "—")
        self.fields["IRI"].setText(entity.iri)
        self.fields["Status"].setText(str(entity.status))
        self.fields["Aliases"].setText(", ".join(a.text for a in aliases) or "—")
        for name in ("Origin", "Confidence", "Reason"):
            self.fields[name].setText("")
        self.statements.clear()
        for triple in triples:
            self._add_statement(triple, entity_id)
        if hidden:
            more = QTreeWidgetItem(["…", f"and {hidden:,} more statements (export the graph to see them all)"])
            more.setFlags(Qt.ItemFlag.NoItemFlags)
            self.statements.addTopLevelItem(more)
        self._set_evidence([])
        if self.statements.topLevelItemCount():
            self.statements.setCurrentItem(self.statements.topLevelItem(0))

    def show_triple(self, triple_id: int) -> None:
        """Show one triple and its evidence."""
        project = self._project
        if project is None:
            return
        with project.repositories() as repos:
            triple = repos.graph.triple(triple_id)
            if triple is None:
                self.clear()
                return
            subject = repos.graph.entity(triple.subject_id)
            obj = repos.graph.entity(triple.object_id) if triple.object_id else None
        self.entity, self.triple = None, triple
        object_text = obj.name if obj else repr(triple.object_literal)
        self._set_title(f"{subject.name if subject else '?'} — {triple.predicate} → {object_text}")
        self._show_rows("Status", "Origin", "Confidence", "Reason")
        self._show_triple_fields(triple)
        self.statements.clear()
        self._names = {triple.subject_id: subject.name if subject else "?"}
        if obj is not None:
            self._names[obj.id] = obj.name  # type: ignore[index]
        self._add_statement(triple, triple.subject_id)
        self.statements.setCurrentItem(self.statements.topLevelItem(0))

    def refresh(self) -> None:
        """Re-read what is shown (after an edit)."""
        if self.entity is not None and self.entity.id is not None:
            self.show_entity(self.entity.id)
        elif self.triple is not None and self.triple.id is not None:
            self.show_triple(self.triple.id)

    def evidence_rows(self) -> list[str]:
        """The evidence list as shown."""
        return [self.evidence_list.item(i).text() for i in range(self.evidence_list.count())]

    def current_evidence(self) -> Evidence | None:
        row = self.evidence_list.currentRow()
        return self._evidence[row] if 0 <= row < len(self._evidence) else None

    def current_triple_id(self) -> int | None:
        item = self.statements.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def show_source(self) -> None:
        chosen = self.current_evidence()
        if chosen is not None:
            self.source_requested.emit(chosen)

    # --- internals --------------------------------------------------------------------

    def _show_rows(self, *names: str) -> None:
        """Only the fields that apply (an entity has no origin, a triple no IRI): the rest keep their room."""
        for name, label in self.fields.items():
            self.form.setRowVisible(label, name in names)

    def _set_title(self, text: str) -> None:
        # At most about two lines, so the fields below keep their room; the whole text is the tooltip.
        self.title.setText(text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…")
        self.title.setToolTip(text)

    def _add_statement(self, triple: Triple, about: int) -> None:
        if triple.subject_id == about:
            predicate = triple.predicate
            other = self._names.get(triple.object_id, "?") if triple.object_id else repr(triple.object_literal)
        else:
            predicate = f"← {triple.predicate}"
            other = self._names.get(triple.subject_id, "?")
        item = QTreeWidgetItem([predicate, other, str(triple.status), str(triple.origin),
                                _confidence(triple.confidence)])
        item.setData(0, Qt.ItemDataRole.UserRole, triple.id)
        item.setToolTip(1, other)
        self.statements.addTopLevelItem(item)

    def _show_triple_fields(self, triple: Triple) -> None:
        self.fields["Status"].setText(str(triple.status))
        self.fields["Origin"].setText(str(triple.origin))
        self.fields["Confidence"].setText(_confidence(triple.confidence))
        self.fields["Reason"].setText(triple.status_reason or "")

    def _on_statement(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        if current is None or self._project is None:
            self._set_evidence([])
            return
        triple_id = current.data(0, Qt.ItemDataRole.UserRole)
        self._set_evidence(evidence(self._project, triple_id))
        self.triple_chosen.emit(triple_id)

    def _set_evidence(self, items: list[Evidence]) -> None:
        self._evidence = items
        self.evidence_list.clear()
        for item in items:
            row = QListWidgetItem(f"{item.describe()}: “{' '.join(item.quote.split())[:90]}”")
            row.setToolTip(item.passage[:1000])
            self.evidence_list.addItem(row)
        if items:
            self.evidence_list.setCurrentRow(0)
        self.source_button.setEnabled(bool(items))
