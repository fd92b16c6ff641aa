"""The main window: menus, the graph canvas, and the project that is open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox, QWidget

from kgstudio import __version__
from kgstudio.domain import ChangeSet
from kgstudio.edit import EditHistory
from kgstudio.errors import KgstudioError
from kgstudio.gui.canvas import GraphCanvas
from kgstudio.gui.recent import RecentProjectsMenu, remember_project
from kgstudio.gui.status import count_summary
from kgstudio.gui.undo import EditHistoryActions
from kgstudio.settings import Settings
from kgstudio.store import Project, default_project_path

APP_TITLE = "kgstudio"
PROJECT_FILTER = "kgstudio projects (*.kgs);;All files (*)"
NO_PROJECT_MESSAGE = "No project open. Use File ▸ New Project… or File ▸ Open Project…"


class MainWindow(QMainWindow):
    """kgstudio's main window; holds at most one open :class:`~kgstudio.store.Project`.

    Every action has a method that does it without a dialog (:meth:`new_project`,
    :meth:`open_project`, :meth:`close_project`, :meth:`undo`, :meth:`redo`), so
    tests and later panels drive the window as a user would. Errors meant for
    the user go through :meth:`show_error`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._project: Project | None = None
        self._history: EditHistory | None = None
        self.edits = EditHistoryActions(self)
        self.edits.changed.connect(self._on_graph_changed)
        self.canvas = GraphCanvas(self)
        self.setCentralWidget(self.canvas)
        self._status = QLabel()
        self._status.setContentsMargins(4, 0, 4, 0)
        self.statusBar().addWidget(self._status, 1)
        self._build_menus()
        self.resize(1100, 720)
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
        """Close the open project, if any."""
        if self._project is None:
            return
        project, self._project, self._history = self._project, None, None
        self.edits.set_history(None)
        project.close()
        self._show_project_state()

    def _set_project(self, project: Project) -> None:
        self.close_project()
        self._project = project
        self._history = EditHistory(project)
        self.edits.set_history(self._history)
        remember_project(_recent_key(project))
        self.recent_menu.refresh()
        self._show_project_state()

    # --- edits -------------------------------------------------------------------

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

    def _on_graph_changed(self, _changes: ChangeSet) -> None:
        self._show_project_state()

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

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._add(file_menu, "&New Project…", self._ask_new_project, QKeySequence.StandardKey.New)
        self._add(file_menu, "&Open Project…", self._ask_open_project, QKeySequence.StandardKey.Open)
        self.recent_menu = RecentProjectsMenu(self)
        self.recent_menu.project_chosen.connect(self.open_project)
        file_menu.addMenu(self.recent_menu)
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

        help_menu = self.menuBar().addMenu("&Help")
        about = self._add(help_menu, f"&About {APP_TITLE}", self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)

    @staticmethod
    def _add(
        menu: QMenu, text: str, slot: Callable[[], object], shortcut: QKeySequence.StandardKey | None = None,
    ) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(lambda _checked=False: slot())
        if shortcut is not None:
            action.setShortcuts(shortcut)  # every binding the platform has for it
        return action

    def _show_project_state(self) -> None:
        project = self._project
        self.close_action.setEnabled(project is not None)
        if project is None:
            self.setWindowTitle(APP_TITLE)
            self._status.setText("No project open")
            self.canvas.show_message(NO_PROJECT_MESSAGE)
            return
        summary = count_summary(project.counts())
        self.setWindowTitle(f"{project.name} — {APP_TITLE}")
        self._status.setText(f"{project.name}: {summary}")
        self._status.setToolTip(str(project.location))
        self.canvas.show_message(f"{summary}\nThe graph view is not built yet.")


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
