"""Fuse from the window: Run ▸ Fuse Entities, then the pairs fusion was unsure of, to merge or keep apart.

:class:`FusionActions` runs :func:`~kgstudio.pipeline.fuse.run_fusion` on a
worker thread (progress and Cancel in the status bar), with the model chosen
in the Run panel or, from Run ▸ Fuse Entities Without a Model, with the
rules alone. Its clear merges are edits (actor ``fusion``), so Edit ▸ Undo
takes them back. :class:`FusionView` then shows what was merged and lists the
unclear pairs; **Merge** and **Keep Apart** on a pair are the user's own edits
(``MergeEntities`` and ``MarkDistinct``), undoable like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from kgstudio.edit import MergeEntities
from kgstudio.edit.fusion_commands import MarkDistinct
from kgstudio.gui.tasks import replace_dialog
from kgstudio.pipeline.extract import make_backend, model_identity
from kgstudio.pipeline.fuse import FusionReport, FusionSettings, run_fusion
from kgstudio.store import Project

if TYPE_CHECKING:
    from kgstudio.gui.main_window import MainWindow

OPEN, MERGED, KEPT_APART = "unclear", "merged", "kept apart"


class FusionActions(QObject):
    """Run ▸ Fuse Entities (with the Run panel's model) and Fuse Entities Without a Model."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.with_model_action = QAction("&Fuse Entities…", self)
        self.with_model_action.setToolTip("Merge entities that are the same thing; the model chosen in the Run "
                                          "panel settles unclear pairs, breaks ties and proposes relations")
        self.with_model_action.triggered.connect(lambda _checked=False: self.fuse(use_model=True))
        self.rules_action = QAction("Fuse Entities &Without a Model…", self)
        self.rules_action.setToolTip("Merge the clear cases by names and addresses alone; unclear pairs are "
                                     "listed for you")
        self.rules_action.triggered.connect(lambda _checked=False: self.fuse(use_model=False))
        self.view: FusionView | None = None
        self.last_report: FusionReport | None = None
        self.update_actions()

    def update_actions(self) -> None:
        if self.view is not None and self.view.project is not self.window.project:
            self.view = replace_dialog(self.view, None)  # its project was closed
        for action in (self.with_model_action, self.rules_action):
            action.setEnabled(self.window.project is not None)

    def fuse(self, *, use_model: bool) -> None:
        """Fuse the open project's graph on a worker thread, then show a :class:`FusionView`."""
        project, panel = self.window.project, self.window.run_panel
        if project is None:
            self.window.show_error("no project is open")
            return
        factory: Any = None
        model = ""
        if use_model:
            problem = panel.problem()
            if problem:
                self.window.show_error(f"Fusion: {problem} (in the Run panel), or fuse without a model")
                self.window.show_panel("run")
                return
            extraction = panel.settings()
            factory = panel.backend_factory or (lambda: make_backend(extraction))
            model = model_identity(extraction) if panel.backend_factory is None else ""
        settings = FusionSettings(use_llm=use_model)

        def work(progress, cancel):  # type: ignore[no-untyped-def]
            return run_fusion(project, settings, backend_factory=factory, model=model, progress=progress,
                              cancel=cancel)

        self.window.start_task("Fusion", work, lambda report: self._done(project, report))  # type: ignore[arg-type]

    def _done(self, project: Project, report: FusionReport) -> None:
        if project is not self.window.project:
            return  # the project was closed meanwhile
        self.last_report = report
        self.window.reload()  # fusion wrote through its own history: the graph, undo and log are read again
        self.window.statusBar().showMessage(summary(report), 15_000)
        self.view = replace_dialog(self.view, FusionView(project, report, self.window))


def summary(report: FusionReport) -> str:
    """One line on what a fusion run did."""
    rejected = sum(len(conflict.rejected) for conflict in report.conflicts)
    return (f"Fusion: {len(report.merges)} groups merged, {len(report.suggestions)} unclear pairs left for you, "
            f"{rejected} conflicting values rejected, {len(report.proposals)} relations proposed for review")


class FusionView(QDialog):
    """What fusion merged, and the unclear pairs with Merge and Keep Apart."""

    def __init__(self, project: Project, report: FusionReport, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("fusionView")
        self.setWindowTitle("Fusion")
        self.setModal(False)
        self.project, self.report, self.window = project, report, window
        self.pairs = list(report.suggestions)
        self.states = [OPEN] * len(self.pairs)

        self.summary = QLabel(summary(report))
        self.summary.setWordWrap(True)
        self.merged = QTreeWidget()
        self.merged.setHeaderLabels(["Merged into", "Names"])
        self.merged.setRootIsDecorated(False)
        for plan in report.merges:
            QTreeWidgetItem(self.merged, [plan.name, ", ".join(name for name in plan.names if name != plan.name)])
        self.unclear = QTreeWidget()
        self.unclear.setObjectName("unclearPairs")
        self.unclear.setHeaderLabels(["Entity", "Other", "Score", "Why", "State"])
        self.unclear.setRootIsDecorated(False)
        self.unclear.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for pair in self.pairs:
            item = QTreeWidgetItem(self.unclear, [pair["name"], pair["other"], f"{pair['score']:.2f}", pair["reason"],
                                                  OPEN])
            item.setToolTip(3, pair["reason"])
        self.merge_button = QPushButton("&Merge")
        self.merge_button.setToolTip("They are the same thing: merge the second into the first (undoable)")
        self.merge_button.clicked.connect(lambda: self.merge(self.current()))
        self.apart_button = QPushButton("&Keep Apart")
        self.apart_button.setToolTip("They are different things: fusion will never merge them")
        self.apart_button.clicked.connect(lambda: self.keep_apart(self.current()))
        self.unclear.currentItemChanged.connect(lambda *_: self._update())

        buttons = QHBoxLayout()
        buttons.addWidget(self.merge_button)
        buttons.addWidget(self.apart_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel(f"Merged ({len(report.merges)}), undoable with Edit ▸ Undo:"))
        layout.addWidget(self.merged)
        layout.addWidget(QLabel(f"Unclear pairs ({len(self.pairs)}): the same thing, or not?"))
        layout.addWidget(self.unclear)
        layout.addLayout(buttons)
        self.resize(760, 460)
        if self.pairs:
            self.unclear.setCurrentItem(self.unclear.topLevelItem(0))
        self._update()

    def current(self) -> int | None:
        item = self.unclear.currentItem()
        return self.unclear.indexOfTopLevelItem(item) if item is not None else None

    def merge(self, row: int | None) -> bool:
        """Merge pair ``row``'s second entity into its first (an undoable edit); False when it was not done."""
        if row is None or self.states[row] != OPEN:
            return False
        pair = self.pairs[row]
        reason = f"fusion suggested it ({pair['reason']}); merged by the user"
        record = self.window.execute(MergeEntities(pair["entity_id"], [pair["other_id"]], reason=reason,
                                                   score=pair["score"]), reason)
        return self._settled(row, MERGED if record is not None else None)

    def keep_apart(self, row: int | None) -> bool:
        """Record that pair ``row`` is two different things; False when it was not done."""
        if row is None or self.states[row] != OPEN:
            return False
        pair = self.pairs[row]
        reason = "kept apart by the user after fusion"
        record = self.window.execute(MarkDistinct(pair["entity_id"], pair["other_id"], reason=reason), reason)
        return self._settled(row, KEPT_APART if record is not None else None)

    def _settled(self, row: int, state: str | None) -> bool:
        if state is None:
            return False  # the window said why
        self.states[row] = state
        self.unclear.topLevelItem(row).setText(4, state)
        following = next((n for n in range(row + 1, len(self.pairs)) if self.states[n] == OPEN), None)
        if following is not None:
            self.unclear.setCurrentItem(self.unclear.topLevelItem(following))
        self._update()
        return True

    def _update(self) -> None:
        row = self.current()
        open_pair = row is not None and self.states[row] == OPEN
        self.merge_button.setEnabled(open_pair)
        self.apart_button.setEnabled(open_pair)
