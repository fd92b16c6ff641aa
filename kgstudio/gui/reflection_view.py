"""Reflect on selection: reflection as a proposal on a worker, then a diff the user accepts change by change.

:class:`ReflectionActions` holds Run ▸ Reflect on Selection and Run ▸
Reflect on Whole Graph and the canvas's context menu. It runs
:func:`~kgstudio.pipeline.reflect.propose_reflection` on a worker thread
(progress and Cancel in the status bar) with the model chosen in the Run
panel; nothing changes in the graph yet. :class:`ReflectionView` then lists
each proposed change (old → new or drop, and the critic's reason) with
Accept, Reject and Accept All, and the compliance before, if all were
accepted, and now. Each accepted change is one edit (actor ``reflection``),
so Edit ▸ Undo takes them back one at a time; the view follows undo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kgstudio.domain import EditRecord, TripleStatus
from kgstudio.errors import KgstudioError
from kgstudio.gui.status import plural
from kgstudio.gui.tasks import replace_dialog
from kgstudio.pipeline.extract import project_ontology
from kgstudio.pipeline.contracts import OntologyIndex
from kgstudio.pipeline.reflect import (
    ProposedChange,
    ReflectionReport,
    apply_proposal,
    check,
    load_triples,
    propose_reflection,
)
from kgstudio.store import Project

if TYPE_CHECKING:
    from kgstudio.gui.main_window import MainWindow

PROPOSED, ACCEPTED, REJECTED = "proposed", "accepted", "rejected"
COLUMNS = ("Change", "Old", "New", "Reason", "State")


def neighbourhood(project: Project, entity_ids: list[int], triple_id: int | None) -> list[int]:
    """The triples to reflect on: every triple touching the selected entities, or the selected triple."""
    if not entity_ids:
        return [triple_id] if triple_id is not None else []
    with project.repositories() as repos:
        return sorted({t.id for entity_id in entity_ids for t in repos.graph.triples(entity_id=entity_id)
                       if t.status != TripleStatus.REJECTED})


class ReflectionActions(QObject):
    """The window's reflection actions and the canvas's context menu; opens a :class:`ReflectionView`."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.selection_action = QAction("Reflect on &Selection…", self)
        self.selection_action.setToolTip("Check the selected entities' triples with rules and the critic, "
                                         "then review each proposed change")
        self.selection_action.triggered.connect(lambda _checked=False: self.reflect_on_selection())
        self.all_action = QAction("Reflect on Whole &Graph…", self)
        self.all_action.triggered.connect(lambda _checked=False: self.reflect(None))
        self.menu: QMenu | None = None
        self.view: ReflectionView | None = None
        self.last_report: ReflectionReport | None = None
        self.steps = 2
        window.edits.changed.connect(self._follow_graph)
        self.update_actions()

    def update_actions(self) -> None:
        if self.view is not None and self.view.project is not self.window.project:
            self.view = replace_dialog(self.view, None)  # its project was closed
        has_project = self.window.project is not None
        entities, triple = self._selection()
        self.selection_action.setEnabled(has_project and (bool(entities) or triple is not None))
        self.all_action.setEnabled(has_project)

    def show_canvas_menu(self, position: QPoint) -> QMenu:
        """The canvas's context menu at ``position`` (global): reflection, then the edit actions."""
        self.update_actions()
        self.menu = QMenu(self.window)
        self.menu.addAction(self.selection_action)
        self.menu.addSeparator()
        editor = self.window.editor
        for action in (editor.rename_action, editor.set_class_action, editor.merge_action, editor.delete_action):
            self.menu.addAction(action)
        self.menu.popup(position)
        return self.menu

    def reflect_on_selection(self) -> None:
        """Reflect on the neighbourhood of the canvas's selection."""
        entities, triple = self._selection()
        if not entities and triple is None:
            self.window.show_error("select entities or a triple on the canvas first, then Reflect on Selection")
            return
        self.reflect((entities, triple))

    def reflect(self, selection: tuple[list[int], int | None] | None) -> None:
        """Propose reflection on ``selection`` (entity ids, triple id) or on every extracted triple (None)."""
        project, panel = self.window.project, self.window.run_panel
        if project is None:
            self.window.show_error("no project is open")
            return
        problem = panel.problem()
        if problem:
            self.window.show_error(f"Reflection: {problem} (in the Run panel)")
            self.window.show_panel("run")
            return
        settings, factory, steps = panel.settings(), panel.backend_factory, self.steps

        def work(progress, cancel):  # type: ignore[no-untyped-def]
            progress(0, None, "reading the triples")
            views = load_triples(project, neighbourhood(project, *selection) if selection is not None else None)
            # Which judged triples pass every rule, worked out here once: the view then counts the
            # compliance "now" without reading the store on the GUI thread.
            index = OntologyIndex(project_ontology(project))
            passes = {view.id: not check(view, index) for view in views}
            if not views:
                return passes, ReflectionReport(applied=False)
            backend = factory() if factory is not None else None  # created on this thread, as the Run panel does
            model = getattr(backend, "identity", None) if backend is not None else None
            try:
                return passes, propose_reflection(project, settings, steps=steps, triple_ids=list(passes),
                                                  progress=progress, cancel=cancel, backend=backend, model=model)
            finally:
                if backend is not None:
                    backend.close()

        self.window.start_task("Reflection", work, lambda result: self._show(project, *result))  # type: ignore[misc]

    def _show(self, project: Project, passes: dict[int, bool], report: ReflectionReport) -> None:
        if project is not self.window.project:
            return  # the project was closed meanwhile
        self.last_report = report
        self.view = replace_dialog(self.view, ReflectionView(project, report, passes, self._apply, self.window))

    def _follow_graph(self, _changes: object = None) -> None:
        if self.view is not None and self.view.project is self.window.project:
            self.view.follow_graph()

    def _apply(self, change: ProposedChange, run_id: int | None) -> EditRecord | None:
        history = self.window.history
        if history is None:
            self.window.show_error("no project is open")
            return None
        try:
            return apply_proposal(history, change, run_id)
        except KgstudioError as exc:
            self.window.show_error(str(exc))
            return None

    def _selection(self) -> tuple[list[int], int | None]:
        canvas = self.window.canvas
        return canvas.selected_entity_ids(), canvas.selected_triple_id()


class ReflectionView(QDialog):
    """What reflection proposes, one row per change: Accept, Reject, Accept All; compliance before and after.

    ``passes`` says for each triple reflection judged whether it passed every
    rule (the compliance before; "now" leaves out the accepted changes'
    triples, as the core's compliance after does); ``apply(change, run_id)`` carries out one accepted change (an edit) and
    returns its record, or None when it failed (the caller says why).
    """

    def __init__(self, project: Project, report: ReflectionReport, passes: dict[int, bool],
                 apply: Callable[[ProposedChange, int | None], EditRecord | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reflectionView")
        self.setWindowTitle("Reflection: proposed changes")
        self.setModal(False)
        self.project, self.report, self._apply = project, report, apply
        self.changes = list(report.proposals)
        self.states = [PROPOSED] * len(self.changes)
        self._passes = passes

        self.summary = QLabel(self._summary())
        self.summary.setWordWrap(True)
        self.compliance_label = QLabel()
        self.list = QTreeWidget()
        self.list.setHeaderLabels(list(COLUMNS))
        self.list.setRootIsDecorated(False)
        self.list.setWordWrap(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for change in self.changes:
            item = QTreeWidgetItem([change.action.capitalize(), _triple_text(change.old),
                                    _triple_text(change.new) if change.new else "(dropped)", change.reason,
                                    PROPOSED])
            item.setToolTip(3, change.reason)
            self.list.addTopLevelItem(item)
        for column, width in enumerate((50, 230, 230, 320)):
            self.list.setColumnWidth(column, width)
        if self.changes:
            self.list.setCurrentItem(self.list.topLevelItem(0))
        self.accept_button = QPushButton("&Accept")
        self.reject_button = QPushButton("&Reject")
        self.accept_all_button = QPushButton("Accept A&ll")
        close = QPushButton("Close")
        self.accept_button.clicked.connect(lambda: self.accept_rows(self._selected_rows()))
        self.reject_button.clicked.connect(lambda: self.reject_rows(self._selected_rows()))
        self.accept_all_button.clicked.connect(self.accept_all)
        close.clicked.connect(self.close)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        buttons = QHBoxLayout()
        for button in (self.accept_button, self.reject_button, self.accept_all_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.compliance_label)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.resize(980, 420)
        self._refresh()
        # Settle the size constraints before the native window exists (see MainWindow.__init__).
        self.layout().activate()

    # --- what tests and buttons call --------------------------------------------------------

    def row_texts(self) -> list[dict[str, str]]:
        """Each row as the user reads it, by column title."""
        return [{title: self.list.topLevelItem(row).text(column) for column, title in enumerate(COLUMNS)}
                for row in range(self.list.topLevelItemCount())]

    def accept_rows(self, rows: list[int]) -> None:
        """Carry out these proposed changes, one edit each, in order."""
        for row in rows:
            if self.states[row] != ACCEPTED:
                if self._apply(self.changes[row], self.report.run_id) is not None:
                    self.states[row] = ACCEPTED
        self._refresh()

    def reject_rows(self, rows: list[int]) -> None:
        """Leave these changes out (nothing is edited; an accepted one is rejected by undoing it)."""
        for row in rows:
            if self.states[row] == PROPOSED:
                self.states[row] = REJECTED
        self._refresh()

    def accept_all(self) -> None:
        """Accept every change still proposed."""
        self.accept_rows([row for row, state in enumerate(self.states) if state == PROPOSED])

    def compliance_now(self) -> float:
        """Share of the judged triples not taken out by an accepted change that pass every rule."""
        out = {change.triple_id for change, state in zip(self.changes, self.states) if state == ACCEPTED}
        left = [passed for triple_id, passed in self._passes.items() if triple_id not in out]
        return sum(left) / len(left) if left else 1.0

    def follow_graph(self) -> None:
        """After an edit elsewhere: an accepted change that Edit ▸ Undo took back is proposed again, and
        one that Edit ▸ Redo carried out again is accepted again."""
        if not self.changes:
            return
        with self.project.repositories() as repos:
            for row, change in enumerate(self.changes):
                triple = repos.graph.triple(change.triple_id)
                if triple is None:
                    continue
                if self.states[row] == ACCEPTED and triple.status != TripleStatus.REJECTED:
                    self.states[row] = PROPOSED
                elif self.states[row] == PROPOSED and triple.status == TripleStatus.REJECTED \
                        and triple.status_reason == f"reflection: {change.reason}":
                    self.states[row] = ACCEPTED
        self._refresh()

    # --- refreshing ---------------------------------------------------------------------------

    def _summary(self) -> str:
        report = self.report
        text = (f"Reflection on {plural(report.triples, 'triple', 'triples')}: "
                f"{plural(len(self.changes), 'change', 'changes')} proposed "
                f"({report.fixed} fixed, {report.dropped} dropped), "
                f"{plural(report.model_calls, 'model call', 'model calls')}"
                f"{f' ({report.cached} cached)' if report.cached else ''}.")
        if report.cancelled:
            text += " Cancelled: these are the changes found before it stopped."
        if not self.changes:
            text += " Nothing to change."
        return text

    def _refresh(self) -> None:
        for row, state in enumerate(self.states):
            item = self.list.topLevelItem(row)
            item.setText(4, state)
            for column in range(len(COLUMNS)):
                item.setForeground(column, self.palette().placeholderText() if state == REJECTED
                                   else self.palette().text())
        counts = {state: self.states.count(state) for state in (ACCEPTED, REJECTED)}
        self.compliance_label.setText(
            f"Compliance: {self.report.compliance_before:.0%} before, "
            f"{self.report.compliance_after:.0%} if all are accepted, {self.compliance_now():.0%} now "
            f"({counts[ACCEPTED]} accepted, {counts[REJECTED]} rejected).")
        self._update_buttons()

    def _selected_rows(self) -> list[int]:
        return sorted(self.list.indexOfTopLevelItem(item) for item in self.list.selectedItems())

    def _update_buttons(self) -> None:
        rows = self._selected_rows()
        self.accept_button.setEnabled(any(self.states[r] != ACCEPTED for r in rows))
        self.reject_button.setEnabled(any(self.states[r] == PROPOSED for r in rows))
        self.accept_all_button.setEnabled(PROPOSED in self.states)


def _triple_text(triple: tuple[str, str, str] | None) -> str:
    return f"{triple[0]} —{triple[1]}→ {triple[2]}" if triple else ""
