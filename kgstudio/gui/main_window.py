"""The main window: the graph canvas in the middle, panels around it, and the project that is open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kgstudio import __version__
from kgstudio.domain import ChangeSet, EditRecord
from kgstudio.edit import EditHistory
from kgstudio.edit.commands import EditCommand
from kgstudio.errors import KgstudioError
from kgstudio.graph.data import GraphData
from kgstudio.graph.layouts import LAYOUTS, quick_layout
from kgstudio.graph.queries import triples_from_documents
from kgstudio.gui.audit_log import AuditLogPanel
from kgstudio.gui.canvas import GraphCanvas, PositionSaver
from kgstudio.gui.documents_panel import DocumentsPanel
from kgstudio.gui.editing import GraphEditor
from kgstudio.gui.export_dialog import EXPORT_ERROR, ExportDialog, ExportRequest
from kgstudio.gui.filter_panel import FilterPanel
from kgstudio.gui.fusion_ui import FusionActions
from kgstudio.gui.import_dialog import ImportDialog, ImportRequest
from kgstudio.gui.inspector import Inspector
from kgstudio.gui.recent import RecentProjectsMenu, remember_project
from kgstudio.gui.reflection_view import ReflectionActions
from kgstudio.gui.review import ReviewQueue
from kgstudio.gui.run_panel import RunPanel
from kgstudio.gui.scope_ui import install_scope
from kgstudio.gui.source_view import SourceView
from kgstudio.gui.status import count_summary, plural
from kgstudio.gui.tasks import BackgroundTask, TaskProgress, Work
from kgstudio.gui.undo import EditHistoryActions
from kgstudio.pipeline.importing import import_paths
from kgstudio.settings import Settings
from kgstudio.store import Project, default_project_path

APP_TITLE = "kgstudio"
PROJECT_FILTER = "kgstudio projects (*.kgs);;All files (*)"
NO_PROJECT_MESSAGE = "No project open. Use File ▸ New Project… or File ▸ Open Project…"
EMPTY_PROJECT_MESSAGE = "{summary}\nDrop PDFs, e-mails or spreadsheets here, or use File ▸ Import…"
AUTO_SPRING_LIMIT = 3_000  # graphs up to this size get a force-directed layout as soon as they open
BACKGROUND_LOAD_LIMIT = 20_000  # bigger graphs are read on a worker thread


class MainWindow(QMainWindow):
    """kgstudio's main window; holds at most one open :class:`~kgstudio.store.Project`.

    Every action has a method that does it without a dialog (:meth:`new_project`,
    :meth:`open_project`, :meth:`import_files`, :meth:`execute`, :meth:`undo`,
    :meth:`export`, ...), so tests drive the window as a user would. Errors
    meant for the user go through :meth:`show_error`. Long work (import,
    layout, extraction, export) runs as a :class:`BackgroundTask`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._project: Project | None = None
        self._history: EditHistory | None = None
        self.graph: GraphData | None = None
        self.tasks: list[BackgroundTask] = []
        self.edits = EditHistoryActions(self)
        self.edits.changed.connect(self._on_graph_changed)
        self.canvas = GraphCanvas(self)
        self.canvas.selection_changed.connect(self._on_selection)
        self.positions = PositionSaver(self)  # where the user left the nodes, kept in the project
        self.canvas.node_moved.connect(lambda _entity: self.positions.schedule(self.graph))
        self.setCentralWidget(self._build_centre())
        self.documents = DocumentsPanel()
        self.documents.itemSelectionChanged.connect(self._on_documents_selected)
        self.inspector = Inspector()
        self.source = SourceView()
        self.review = ReviewQueue(lambda command: self.execute(command))
        self.audit = AuditLogPanel()
        self.run_panel = RunPanel()
        self.run_panel.finished.connect(lambda _report: self.reload())
        self.filters = FilterPanel()
        self.filters.changed.connect(self.canvas.apply_filter)
        self.inspector.source_requested.connect(self.show_source)
        self.review.source_requested.connect(self.show_source)
        self.review.triple_focused.connect(self._focus_triple)
        self.editor = GraphEditor(self, self.execute, self._selection, self._entity_names)
        self.reflection = ReflectionActions(self)
        self.fusion = FusionActions(self)
        self.canvas.context_menu_requested.connect(self.reflection.show_canvas_menu)
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        self._docks_sized = False
        self._status = QLabel()
        self._status.setContentsMargins(4, 0, 4, 0)
        self.statusBar().addWidget(self._status, 1)
        self.task_progress = TaskProgress()
        self.statusBar().addPermanentWidget(self.task_progress)
        self._build_menus()
        self.scope = install_scope(self)  # Questions and Contracts panels, Ontology menu (HyDRA)
        self.canvas.set_graph(None, NO_PROJECT_MESSAGE)
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self._show_project_state()
        # Settle the size constraints before the native window exists; changing
        # them afterwards is a round trip to the window system (and a warning on
        # platforms that cannot do it, such as offscreen).
        self.layout().activate()

    # --- state -----------------------------------------------------------------

    @property
    def project(self) -> Project | None:
        """The open project, or None."""
        return self._project

    @property
    def history(self) -> EditHistory | None:
        """The open project's edit history (execute edits through it), or None."""
        return self._history

    @property
    def status_text(self) -> str:
        """What the status bar says about the project."""
        return self._status.text()

    # --- project lifecycle -------------------------------------------------------

    def new_project(self, path: str | Path) -> bool:
        """Create a project at ``path`` (``.kgs`` added when it has no suffix) and open it."""
        try:
            project = Project.create(default_project_path(path))
        except KgstudioError as exc:
            self.show_error(str(exc))
            return False
        self._set_project(project)
        return True

    def open_project(self, target: str | Path) -> bool:
        """Open a project file (or database URL); on failure the current project stays open."""
        try:
            project = Project.open(target)
        except KgstudioError as exc:
            self.show_error(str(exc))
            return False
        self._set_project(project)
        return True

    def close_project(self) -> None:
        """Close the open project, if any (running work is cancelled first)."""
        self.stop_tasks()
        if self._project is None:
            return
        self.positions.set_project(None)  # writes a layout change still waiting, while the project is open
        project, self._project, self._history = self._project, None, None
        self.edits.set_history(None)
        self.graph = None
        project.close()
        self.reload()

    def _set_project(self, project: Project) -> None:
        self.close_project()
        self._project = project
        self.positions.set_project(project)
        self._history = EditHistory(project)
        self.edits.set_history(self._history)
        remember_project(_recent_key(project))
        self.recent_menu.refresh()
        self.reload()

    def stop_tasks(self) -> None:
        """Cancel running background work and wait for it (it stops within about a second)."""
        for task in list(self.tasks):
            if task.running:
                task.cancel()
                task.wait(60_000)
        self.tasks.clear()

    # --- background work -----------------------------------------------------------

    def start_task(self, title: str, work: Work, done: Callable[[object], None] | None = None) -> BackgroundTask:
        """Run ``work(progress, cancel)`` on a worker thread; the status bar shows it with Cancel."""
        task = BackgroundTask(title, work, self)
        if done is not None:
            task.succeeded.connect(done)
        task.failed.connect(lambda message: self.show_error(f"{title}: {message}"))
        task.finished.connect(lambda: self.tasks.remove(task) if task in self.tasks else None)
        self.tasks.append(task)
        self.task_progress.follow(task)
        task.start()
        return task

    # --- import ---------------------------------------------------------------------

    def import_files(self, request: ImportRequest | list[str | Path]) -> BackgroundTask | None:
        """Import files and folders in the background; panels refresh when it ends."""
        if self._project is None:
            self.show_error("open or create a project first (File ▸ New Project…), then import into it")
            return None
        if not isinstance(request, ImportRequest):
            request = ImportRequest(tuple(Path(p) for p in request))
        project = self._project

        def work(progress, cancel):  # type: ignore[no-untyped-def]
            return import_paths(project, request.paths, request.options, progress, cancel)

        return self.start_task("Importing", work, self._on_imported)

    def ask_import(self, paths: list[Path] | None = None) -> None:
        dialog = ImportDialog(self, paths)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.import_files(dialog.request())

    def _on_imported(self, report: object) -> None:
        summary = report.to_dict()  # type: ignore[attr-defined]
        text = (f"Imported {summary['imported']} files ({summary['partial']} partly, {summary['failed']} failed, "
                f"{summary['unchanged'] + summary['duplicate']} already there) in {summary['seconds']} s")
        if report.cancelled:  # type: ignore[attr-defined]
            text += " — cancelled; import again to resume"
        self.statusBar().showMessage(text, 15_000)
        self.reload()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        if len(paths) == 1 and paths[0].endswith(".kgs"):
            self.open_project(paths[0])
        else:
            self.import_files(paths)

    # --- edits -------------------------------------------------------------------

    def execute(self, command: EditCommand, reason: str | None = None) -> EditRecord | None:
        """Run an edit command on the open project (undoable, audited); errors are shown, not raised."""
        if self._history is None:
            self.show_error("no project is open")
            return None
        try:
            return self._history.execute(command, reason=reason)
        except KgstudioError as exc:
            self.show_error(str(exc))
            return None

    def undo(self) -> None:
        """Undo the newest edit of the open project."""
        try:
            self.edits.undo()
        except KgstudioError as exc:
            self.show_error(str(exc))

    def redo(self) -> None:
        """Redo the most recently undone edit of the open project."""
        try:
            self.edits.redo()
        except KgstudioError as exc:
            self.show_error(str(exc))

    def _on_graph_changed(self, changes: ChangeSet) -> None:
        self.canvas.apply_changes(changes)
        self.inspector.refresh()
        if changes.entity_ids:
            self.review.refresh()  # names shown in the queue may have changed
        elif changes.triple_ids:
            self.review.apply_changes(changes)
        self.audit.refresh(self._history)
        self._show_status()
        self._update_actions()

    # --- selection, inspector, source ------------------------------------------------

    def _on_selection(self, entity_ids: list[int], triple_id: int | None) -> None:
        if entity_ids:
            self.inspector.show_entity(entity_ids[-1])
        elif triple_id is not None:
            self.inspector.show_triple(triple_id)
        else:
            self.inspector.clear()
        self._update_actions()

    def _selection(self) -> tuple[list[int], int | None]:
        return self.canvas.selected_entity_ids(), self.canvas.selected_triple_id()

    def _entity_names(self) -> dict[int, str]:
        graph = self.graph
        if graph is None:
            return {}
        return {int(i): graph.names[k] for k, i in enumerate(graph.node_ids) if graph.node_alive[k]}

    def _focus_triple(self, triple_id: int) -> None:
        if self.graph is not None and self.graph.edge_index(triple_id) is not None:
            edge = self.graph.edge_index(triple_id)
            self.canvas.layer.selected_edge = edge
            self.canvas.layer.selected_nodes = []
            self.canvas.layer.update()

    def show_source(self, evidence: object) -> None:
        """Jump to source: show the page, message or row of ``evidence`` in the Source panel."""
        if self._project is None:
            return
        self.source.show_evidence(self._project, evidence)  # type: ignore[arg-type]
        self.show_panel("source")

    def find(self, text: str | None = None) -> list[int]:
        """Search the graph by name and centre on the match (again: the next match)."""
        text = self.search.text() if text is None else text
        matches = self.canvas.find(text)
        if text and not matches:
            self.search_note.setText("no match")
        elif len(matches) > 1:
            self.search_note.setText(f"{self.canvas.match_position + 1} of {len(matches)}; Enter: next")
        else:
            self.search_note.setText("")
        return matches

    def _on_documents_selected(self) -> None:
        if self._project is None:
            return
        ids = [item.data(0, Qt.ItemDataRole.UserRole) for item in self.documents.selectedItems()]
        self.filters.set_document_triples(triples_from_documents(self._project, ids) if ids else None, len(ids))

    # --- layout -------------------------------------------------------------------------

    def lay_out(self, kind: str) -> BackgroundTask | None:
        """Compute a layout ("spring", "circular", "hierarchical", "quick") off the GUI thread."""
        graph = self.graph
        if graph is None or graph.node_count == 0:
            return None
        label, function = LAYOUTS[kind]
        n, src, dst = len(graph.node_ids), graph.src.copy(), graph.dst.copy()
        alive = graph.edge_alive.copy()
        version = graph

        def work(progress, cancel):  # type: ignore[no-untyped-def]
            return function(n, src[alive], dst[alive], progress, cancel)

        def done(pos: object) -> None:
            if self.graph is version:
                self.canvas.set_positions(np.asarray(pos))
                self.positions.schedule(self.graph)

        return self.start_task(f"{label} layout", work, done)

    # --- export -------------------------------------------------------------------------

    def export(self, request: ExportRequest) -> BackgroundTask | None:
        """Export the project's graph in the background (File ▸ Export…)."""
        if self._project is None:
            self.show_error("no project is open")
            return None
        if EXPORT_ERROR is not None:
            self.show_error(EXPORT_ERROR)
            return None
        from kgstudio.export import export_project

        project = self._project

        def work(progress, cancel):  # type: ignore[no-untyped-def]
            return export_project(project, request.format, request.path, status=request.status,
                                  provenance=request.provenance, progress=progress, cancel=cancel)

        def done(report: object) -> None:
            entities = plural(report.entities, "entity", "entities")  # type: ignore[attr-defined]
            triples = plural(report.triples, "triple", "triples")  # type: ignore[attr-defined]
            self.statusBar().showMessage(f"Exported {entities} and {triples} to {request.path}", 15_000)

        return self.start_task("Exporting", work, done)

    def ask_export(self) -> None:
        if self._project is None:
            return
        folder = self._project.location.path.parent if self._project.location.path else Path.home()
        dialog = ExportDialog(self._project.name, folder, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.export(dialog.request())

    def ask_export_view(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export View", str(Path.home() / "graph.png"),
                                              "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            try:
                self.canvas.export_image(path)
            except OSError as exc:
                self.show_error(str(exc))

    # --- dialogs -----------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """Tell the user what went wrong (a one-line message, never a traceback)."""
        QMessageBox.critical(self, APP_TITLE, message)

    def show_about(self) -> None:
        """Help ▸ About: the version and what kgstudio is."""
        QMessageBox.about(self, f"About {APP_TITLE}", about_text())

    def _ask_new_project(self) -> None:
        # Project.create refuses to overwrite, so the dialog must not offer to.
        path, _ = QFileDialog.getSaveFileName(
            self, "New Project", str(_start_folder()), PROJECT_FILTER,
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.new_project(path)

    def _ask_open_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Project", str(_start_folder()), PROJECT_FILTER)
        if path:
            self.open_project(path)

    # --- window --------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.close_project()
        super().closeEvent(event)

    def _build_centre(self) -> QWidget:
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Find an entity (Ctrl+F)")
        self.search.setMinimumWidth(170)
        self.search.returnPressed.connect(lambda: self.find())
        self.search_note = QLabel("")
        self.search_note.setFixedWidth(110)  # a changing hint would resize the window
        self.layout_choice = QComboBox()
        for key, (label, _function) in LAYOUTS.items():
            self.layout_choice.addItem(label, key)
        self.layout_button = QPushButton("Lay Out")
        self.layout_button.clicked.connect(lambda: self.lay_out(self.layout_choice.currentData()))
        fit = QPushButton("Fit")
        fit.setToolTip("Zoom to fit the whole graph")
        fit.clicked.connect(self.canvas.zoom_to_fit)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.search, 2)
        bar.addWidget(self.search_note)
        bar.addStretch(1)
        bar.addWidget(QLabel("Layout:"))
        bar.addWidget(self.layout_choice)
        bar.addWidget(self.layout_button)
        bar.addWidget(fit)
        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        return centre

    def _build_docks(self) -> None:
        # Panels that share a place are tabs of one dock: tabified dock widgets leave a stray
        # tab bar behind in Qt 6.11 when several are tabified before the window is shown.
        self.tabs: dict[str, tuple[QTabWidget, QWidget]] = {}
        areas = Qt.DockWidgetArea
        for key, title, panels, area in (
            ("documents", "Documents", (("documents", "Documents", self.documents),
                                        ("filters", "Filters", self.filters)), areas.LeftDockWidgetArea),
            ("work", "Review and Run", (("review", "Review", self.review), ("run", "Run", self.run_panel),
                                        ("log", "Audit Log", self.audit)), areas.BottomDockWidgetArea),
            ("inspector", "Inspector", (("inspector", "Inspector", self.inspector),), areas.RightDockWidgetArea),
            ("source", "Source", (("source", "Source", self.source),), areas.RightDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{key}Dock")
            if len(panels) == 1:
                dock.setWidget(panels[0][2])
            else:
                tab_widget = QTabWidget()
                tab_widget.setDocumentMode(True)
                for name, label, panel in panels:
                    tab_widget.addTab(panel, label)
                    self.tabs[name] = (tab_widget, panel)
                dock.setWidget(tab_widget)
            self.addDockWidget(area, dock)
            self.docks[key] = dock

    def show_panel(self, name: str) -> None:
        """Bring a panel to the front ("documents", "filters", "review", "run", "log", "inspector", "source")."""
        if name in self.tabs:
            tab_widget, panel = self.tabs[name]
            tab_widget.setCurrentWidget(panel)
            dock = next(d for d in self.docks.values() if d.widget() is tab_widget)
        else:
            dock = self.docks[name]
        dock.show()
        dock.raise_()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self._docks_sized:  # sizes only stick once the window has its own size
            self._docks_sized = True
            width, height = self.width(), self.height()
            self.resizeDocks([self.docks["documents"], self.docks["inspector"]],
                             [int(width * 0.2), int(width * 0.27)], Qt.Orientation.Horizontal)
            self.resizeDocks([self.docks["work"], self.docks["inspector"], self.docks["source"]],
                             [int(height * 0.24), int(height * 0.33), int(height * 0.4)], Qt.Orientation.Vertical)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._add(file_menu, "&New Project…", self._ask_new_project, QKeySequence.StandardKey.New)
        self._add(file_menu, "&Open Project…", self._ask_open_project, QKeySequence.StandardKey.Open)
        self.recent_menu = RecentProjectsMenu(self)
        self.recent_menu.project_chosen.connect(self.open_project)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        self.import_action = self._add(file_menu, "&Import Documents…", self.ask_import, "Ctrl+I")
        self.export_action = self._add(file_menu, "&Export Graph…", self.ask_export, "Ctrl+E")
        self.export_view_action = self._add(file_menu, "Export &View as Image…", self.ask_export_view)
        file_menu.addSeparator()
        self.close_action = self._add(file_menu, "&Close Project", self.close_project, QKeySequence.StandardKey.Close)
        file_menu.addSeparator()
        quit_action = self._add(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.undo_action = self.edits.undo_action
        self.redo_action = self.edits.redo_action
        self.undo_action.triggered.connect(self.undo)
        self.redo_action.triggered.connect(self.redo)
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        for action in self.editor.actions():
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        self.find_action = self._add(edit_menu, "&Find…", self._focus_search, QKeySequence.StandardKey.Find)

        view_menu = self.menuBar().addMenu("&View")
        self._add(view_menu, "Zoom to &Fit", self.canvas.zoom_to_fit, "Ctrl+0")
        layouts = view_menu.addMenu("&Layout")
        for key, (label, _function) in LAYOUTS.items():
            self._add(layouts, label, lambda key=key: self.lay_out(key))
        view_menu.addSeparator()
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())

        run_menu = self.menuBar().addMenu("&Run")
        self._add(run_menu, "&Extraction…", lambda: self.show_panel("run"))
        run_menu.addActions([self.reflection.selection_action, self.reflection.all_action])
        run_menu.addSeparator()
        run_menu.addActions([self.fusion.with_model_action, self.fusion.rules_action])

        help_menu = self.menuBar().addMenu("&Help")
        about = self._add(help_menu, f"&About {APP_TITLE}", self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)

    def _focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    @staticmethod
    def _add(menu: QMenu, text: str, slot: Callable[[], object],
             shortcut: QKeySequence.StandardKey | str | None = None) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(lambda _checked=False: slot())
        if isinstance(shortcut, str):
            action.setShortcut(QKeySequence(shortcut))
        elif shortcut is not None:
            action.setShortcuts(shortcut)  # every binding the platform has for it
        return action

    # --- refreshing ---------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read everything from the project (after opening it, or work written outside the window's history:
        an import, an extraction, a fusion)."""
        project = self._project
        self.documents.refresh(project)
        self.inspector.set_project(project)
        self.review.set_project(project)
        self.run_panel.set_project(project)
        self.scope.set_project(project)
        self.audit.refresh(self._history)
        self.edits.refresh()
        if project is None:
            self._show_graph(None, None)
        else:
            counts = project.counts()
            previous = self.graph
            if counts["entities"]["total"] <= BACKGROUND_LOAD_LIMIT:
                self._show_graph(project, _load_graph(project, previous))
            else:  # a big graph is read on a worker; the window stays usable meanwhile
                self.canvas.set_graph(None, f"{count_summary(counts)}\nReading the graph…")
                self.start_task("Reading the graph", lambda _progress, _cancel: _load_graph(project, previous),
                                lambda graph: self._show_graph(project, graph))  # type: ignore[arg-type]
        self._show_project_state()

    def _show_graph(self, project: Project | None, graph: GraphData | None) -> None:
        if project is not self._project:
            return  # the project was closed (or another opened) while its graph was read
        self.graph = graph
        if project is None or graph is None:
            self.canvas.set_graph(None, NO_PROJECT_MESSAGE)
        else:
            self.canvas.set_graph(graph, EMPTY_PROJECT_MESSAGE.format(summary=count_summary(project.counts())))
            if 1 < graph.node_count <= AUTO_SPRING_LIMIT and not graph.positions_restored:
                self.lay_out("spring")
        self.filters.set_graph(graph)

    def _show_project_state(self) -> None:
        project = self._project
        self.close_action.setEnabled(project is not None)
        for action in (self.import_action, self.export_action, self.export_view_action):
            action.setEnabled(project is not None)
        self.layout_button.setEnabled(project is not None)
        if project is None:
            self.setWindowTitle(APP_TITLE)
            self._status.setText("No project open")
        else:
            self.setWindowTitle(f"{project.name} — {APP_TITLE}")
            self._status.setToolTip(str(project.location))
            self._show_status()
        self._update_actions()

    def _show_status(self) -> None:
        if self._project is not None:
            self._status.setText(f"{self._project.name}: {count_summary(self._project.counts())}")

    def _update_actions(self) -> None:
        self.editor.update_actions(self._project is not None)
        self.reflection.update_actions()
        self.fusion.update_actions()


def _load_graph(project: Project, previous: GraphData | None) -> GraphData:
    """The project's graph, keeping the positions of nodes that were already laid out."""
    graph = GraphData.load(project)
    graph.pos = quick_layout(len(graph.node_ids), graph.src, graph.dst)
    graph.restore_positions(project)  # where the user left them when the project was last open
    if previous is not None and previous.node_count:
        for k, entity_id in enumerate(graph.node_ids.tolist()):
            old = previous.node_index(entity_id)
            if old is not None:
                graph.pos[k] = previous.pos[old]
    return graph


def about_text() -> str:
    """The text of Help ▸ About."""
    return (
        f"<h3>{APP_TITLE} {__version__}</h3>"
        "<p>A desktop workbench for turning your own documents into a knowledge graph with a local LLM.</p>"
    )


def _recent_key(project: Project) -> str:
    """How the project is remembered: an absolute file path, or its URL without the password."""
    location = project.location
    if location.path is not None:
        return str(location.path.resolve())
    return location.url.set(password=None).render_as_string(hide_password=False)


def _start_folder() -> Path:
    recent = Settings.load().recent_projects
    folder = Path(recent[0]).parent if recent and "://" not in recent[0] else Path.home()
    return folder if folder.is_dir() else Path.home()
