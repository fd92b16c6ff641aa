"""The main window as a user drives it: projects, recent projects, undo/redo, errors."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from kgstudio import __version__
from kgstudio.edit import AddEntity, EditHistory
from kgstudio.gui import main_window as main_window_module
from kgstudio.gui.main_window import MainWindow
from kgstudio.settings import Settings
from kgstudio.store import Project
from tests.conftest import sha256_of

pytestmark = pytest.mark.gui


def plain(text: str) -> str:
    """An action's text as the menu shows it (mnemonic markers removed, "&&" back to "&")."""
    return re.sub(r"&(.)", r"\1", text)


# --- projects ------------------------------------------------------------------------


def test_starts_without_a_project(window: MainWindow) -> None:
    assert window.project is None
    assert window.windowTitle() == "kgstudio"
    assert window.status_text == "No project open"
    assert not window.close_action.isEnabled()
    assert not window.undo_action.isEnabled() and not window.redo_action.isEnabled()


def test_new_project_creates_the_file_and_shows_it(window: MainWindow, tmp_path: Path) -> None:
    assert window.new_project(tmp_path / "p.kgs")
    assert (tmp_path / "p.kgs").is_file()
    assert window.windowTitle() == "p — kgstudio"
    assert window.status_text == "p: 0 documents · 0 entities · 0 triples"
    assert window.close_action.isEnabled()
    assert window.errors == []


def test_new_project_adds_the_suffix(window: MainWindow, tmp_path: Path) -> None:
    window.new_project(tmp_path / "notes")
    assert (tmp_path / "notes.kgs").is_file()
    assert window.windowTitle() == "notes — kgstudio"


def test_new_project_never_overwrites(window: MainWindow, tmp_path: Path) -> None:
    existing = tmp_path / "taken.kgs"
    existing.write_text("mine\n")
    assert not window.new_project(existing)
    assert window.errors == [f"{existing}: already exists; choose another name or open it"]
    assert existing.read_text() == "mine\n"
    assert window.project is None


def test_open_project_shows_its_counts(window: MainWindow, graph_project: Path) -> None:
    assert window.open_project(graph_project)
    assert window.windowTitle() == "acme — kgstudio"
    assert window.status_text == "acme: 0 documents · 2 entities · 1 triple"
    assert window.canvas.message == ""  # the graph is drawn instead
    assert window.canvas.graph is not None and window.canvas.graph.node_count == 2
    assert sorted(window.canvas.graph.names) == ["Armonk", "IBM"]


def test_opening_a_text_file_shows_the_error_and_leaves_the_file_alone(window: MainWindow, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a project, just notes\n")
    before = sha256_of(notes)
    assert not window.open_project(notes)
    assert len(window.errors) == 1
    assert window.errors[0].startswith(str(notes)) and "not a kgstudio project" in window.errors[0]
    assert "Traceback" not in window.errors[0]
    assert sha256_of(notes) == before
    assert window.project is None and window.windowTitle() == "kgstudio"
    assert Settings.load().recent_projects == []


def test_a_failed_open_keeps_the_current_project(window: MainWindow, graph_project: Path, tmp_path: Path) -> None:
    window.open_project(graph_project)
    assert not window.open_project(tmp_path / "missing.kgs")
    assert window.errors == [f"{tmp_path / 'missing.kgs'}: no such project file"]
    assert window.project is not None and window.windowTitle() == "acme — kgstudio"


def test_close_project(window: MainWindow, graph_project: Path) -> None:
    window.open_project(graph_project)
    window.close_action.trigger()
    assert window.project is None and window.history is None
    assert window.windowTitle() == "kgstudio" and window.status_text == "No project open"
    assert not window.undo_action.isEnabled()
    assert Project.open(graph_project).counts()["entities"]["total"] == 2  # released and intact


def test_closing_the_window_closes_the_project(window: MainWindow, graph_project: Path) -> None:
    window.open_project(graph_project)
    window.close()
    assert window.project is None


# --- recent projects -------------------------------------------------------------------


def test_recent_menu_lists_opened_projects_in_a_new_window(
    make_window: Callable[[], MainWindow], graph_project: Path, tmp_path: Path,
) -> None:
    first = make_window()
    first.new_project(tmp_path / "older.kgs")
    first.open_project(graph_project)
    first.close()

    second = make_window()
    assert second.recent_menu.projects() == [
        (str(graph_project.resolve()), True),
        (str((tmp_path / "older.kgs").resolve()), True),
    ]


def test_recent_menu_shows_missing_projects_disabled(
    make_window: Callable[[], MainWindow], tmp_path: Path,
) -> None:
    first = make_window()
    first.new_project(tmp_path / "gone.kgs")
    first.close_project()
    (tmp_path / "gone.kgs").unlink()

    second = make_window()
    assert second.recent_menu.projects() == [(str((tmp_path / "gone.kgs").resolve()), False)]
    entry = next(a for a in second.recent_menu.actions() if a.data())
    assert "(missing)" in entry.text()


def test_choosing_a_recent_project_opens_it(make_window: Callable[[], MainWindow], graph_project: Path) -> None:
    make_window().open_project(graph_project)
    window = make_window()
    entry = next(a for a in window.recent_menu.actions() if a.data())
    entry.trigger()
    assert window.project is not None and window.windowTitle() == "acme — kgstudio"


def test_clear_recent_menu(window: MainWindow, graph_project: Path) -> None:
    window.open_project(graph_project)
    window.recent_menu.clear_recent()
    assert window.recent_menu.projects() == []
    assert Settings.load().recent_projects == []


# --- undo / redo --------------------------------------------------------------------------


def test_undo_and_redo_through_the_actions(window: MainWindow, graph_project: Path) -> None:
    window.open_project(graph_project)
    assert window.history is not None
    window.history.execute(AddEntity("IBM Research"))
    assert window.status_text == "acme: 0 documents · 3 entities · 1 triple"
    assert plain(window.undo_action.text()) == "Undo add entity 'IBM Research'"
    assert window.undo_action.isEnabled() and not window.redo_action.isEnabled()

    window.undo_action.trigger()
    assert window.status_text == "acme: 0 documents · 2 entities · 1 triple"
    assert plain(window.redo_action.text()) == "Redo add entity 'IBM Research'"
    assert window.redo_action.isEnabled()
    # The edits made by the core before the window opened the project are undoable too.
    assert plain(window.undo_action.text()).startswith("Undo add triple")

    window.redo_action.trigger()
    assert window.status_text == "acme: 0 documents · 3 entities · 1 triple"
    assert plain(window.undo_action.text()) == "Undo add entity 'IBM Research'"
    assert not window.redo_action.isEnabled() and plain(window.redo_action.text()) == "Redo"
    assert window.errors == []


def test_undo_everything_then_nothing_is_left(window: MainWindow, graph_project: Path) -> None:
    window.open_project(graph_project)
    for _ in range(3):
        window.undo_action.trigger()
    assert window.status_text == "acme: 0 documents · 0 entities · 0 triples"
    assert not window.undo_action.isEnabled() and plain(window.undo_action.text()) == "Undo"
    window.undo()  # as a stale shortcut would: the core says why, in the error dialog
    assert window.errors == ["nothing to undo"]


def test_ampersands_in_names_are_shown_not_taken_as_mnemonics(window: MainWindow, tmp_path: Path) -> None:
    window.new_project(tmp_path / "p.kgs")
    window.history.execute(AddEntity("AT&T"))  # type: ignore[union-attr]
    assert plain(window.undo_action.text()) == "Undo add entity 'AT&T'"


def test_undo_and_redo_use_the_standard_shortcuts(window: MainWindow) -> None:
    assert window.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert window.redo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Redo)
    assert QKeySequence("Ctrl+Z") in window.undo_action.shortcuts()
    assert QKeySequence("Ctrl+Shift+Z") in window.redo_action.shortcuts()


def test_ctrl_z_undoes(window: MainWindow, graph_project: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.open_project(graph_project)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.status_text == "acme: 0 documents · 2 entities · 0 triples"


def test_edits_from_another_thread_refresh_the_window(
    window: MainWindow, graph_project: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    window.open_project(graph_project)
    history: EditHistory = window.history  # type: ignore[assignment]
    worker = threading.Thread(target=lambda: history.execute(AddEntity("Big Blue")))
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: "3 entities" in window.status_text)
    assert plain(window.undo_action.text()) == "Undo add entity 'Big Blue'"


# --- the rest of the window -----------------------------------------------------------------


def test_canvas_is_an_empty_pyqtgraph_view(window: MainWindow) -> None:
    assert window.centralWidget().isAncestorOf(window.canvas)
    assert isinstance(window.canvas, pg.PlotWidget)
    plot = window.canvas.getPlotItem()
    assert not plot.getAxis("left").isVisible() and not plot.getAxis("bottom").isVisible()
    assert "No project open" in window.canvas.message


def test_about_shows_the_version(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(main_window_module.QMessageBox, "about", lambda _parent, _title, text: shown.append(text))
    about = next(a for a in window.menuBar().actions() if plain(a.text()) == "Help").menu().actions()[0]
    about.trigger()
    assert len(shown) == 1 and __version__ in shown[0]


def test_menus(window: MainWindow) -> None:
    menus = {plain(a.text()): [plain(b.text()) for b in a.menu().actions() if b.text()]
             for a in window.menuBar().actions()}
    assert menus == {
        "File": ["New Project…", "Open Project…", "Open Recent", "Import Documents…", "Export Graph…",
                 "Export View as Image…", "Close Project", "Quit"],
        "Edit": ["Undo", "Redo", "Add Entity…", "Rename Entity…", "Set Class…", "Delete",
                 "Merge Selected Entities", "Add Triple…", "Re-point Triple…", "Find…"],
        "View": ["Zoom to Fit", "Layout", "Documents", "Review and Run", "Inspector", "Source"],
        "Run": ["Extraction…", "Reflect on Selection…", "Reflect on Whole Graph…", "Fuse Entities…",
                "Fuse Entities Without a Model…"],
        "Ontology": ["Import Ontology…", "Derive from Competency Questions", "Show Ontology…", "Export Ontology…",
                     "Competency Questions", "Contract Results"],
        "Help": ["About kgstudio"],
    }


def test_a_hub_entity_lists_its_first_statements_and_says_how_many_more(window: MainWindow, tmp_path: Path) -> None:
    """The list address of a whole mailbox can have tens of thousands of statements; selecting it must not stall."""
    from kgstudio.domain import Actor, Document, DocumentStatus, PdfLocator, Segment
    from kgstudio.edit.import_commands import ImportStructuralFacts
    from kgstudio.graph.queries import SHOWN_STATEMENTS

    path = tmp_path / "team.kgs"
    members = SHOWN_STATEMENTS + 250
    with Project.create(path) as project:
        with project.transaction() as repos:
            document = repos.documents.add(Document("team.csv", "spreadsheet", "0" * 64, DocumentStatus.IMPORTED))
            repos.documents.add_segments([Segment(document.id, 0, "row 2", PdfLocator(1))])
            (segment,) = repos.documents.segments(document.id)
        EditHistory(project).execute(ImportStructuralFacts(document.id, [
            {"subject": {"key": "list:team", "name": "Team", "class": "Group"}, "predicate": "hasMember",
             "object": {"key": f"person:{n}", "name": f"Member {n}", "class": "Person"}, "origin": "table",
             "segment_id": segment.id} for n in range(members)]), actor=Actor.IMPORT)
        with project.repositories() as repos:
            (team,) = repos.graph.find_entities("Team")
    assert window.open_project(path)
    window.inspector.show_entity(team.id)  # type: ignore[arg-type]
    statements = window.inspector.statements
    assert statements.topLevelItemCount() == SHOWN_STATEMENTS + 1
    first = statements.topLevelItem(0)
    assert (first.text(0), first.text(1)) == ("hasMember", "Member 0")  # names of the other side, looked up in bulk
    assert statements.topLevelItem(SHOWN_STATEMENTS).text(1).startswith("and 250 more statements")
