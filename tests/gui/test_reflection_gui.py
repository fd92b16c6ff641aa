"""Issue 9's "done when" in the window: select a messy neighbourhood on the canvas, reflect on it from the
context menu, see each proposed change with its reason, accept some, undo one."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from kgstudio.domain import TripleStatus
from kgstudio.edit import AddEntity, EditHistory
from kgstudio.gui.main_window import MainWindow
from kgstudio.llm.backend import Completion
from kgstudio.pipeline.extract import project_ontology
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project
from tests.gui.conftest import add_cited_triple, wait_for_tasks
from tests.unit.pipeline.test_reflect import CriticBackend

pytestmark = pytest.mark.gui


class ThreadRecordingBackend(CriticBackend):
    """The scripted critic/corrector of the core's tests, noting the thread each request runs on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def chat(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.threads.add(threading.get_ident())
        return super().chat(*args, **kwargs)


@pytest.fixture
def messy_cv(tmp_path: Path, shared_data: Path) -> tuple[Path, dict[str, int]]:
    """John Doe's CV with extracted-looking triples: around John Doe one fine and three wrong; one elsewhere."""
    path = tmp_path / "cv.kgs"
    with Project.create(path) as project:
        import_paths(project, [shared_data / "pdf" / "cv" / "CV_John_Doe.pdf"])
        project_ontology(project)
        EditHistory(project).execute(AddEntity("John Doe", "Person"))
        ids = {
            "good": add_cited_triple(project, "John Doe", "memberOf", "ABC Corp", "ABC Corp"),
            "reversed": add_cited_triple(project, "ABC Corp", "livesIn", "John Doe", "ABC Corp"),  # range: Place
            "loop": add_cited_triple(project, "John Doe", "knows", "John Doe", "John Doe"),
            "vague_near": add_cited_triple(project, "It", "knows", "John Doe", "John Doe"),
            "elsewhere": add_cited_triple(project, "this", "locatedIn", "San Francisco", "San Francisco"),
        }
    return path, ids


def statuses(window: MainWindow, ids: dict[str, int]) -> dict[str, str]:
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        return {name: str(repos.graph.triple(i).status) for name, i in ids.items()}  # type: ignore[union-attr]


def right_click(window: MainWindow, entity_id: int) -> None:
    """A real context-menu event on the canvas, over the entity's node."""
    canvas = window.canvas
    node = window.graph.node_index(entity_id)  # type: ignore[union-attr]
    x, y = window.graph.pos[node]  # type: ignore[union-attr]
    local = canvas.mapFromScene(canvas.layer.mapToScene(QPointF(float(x), float(y))))
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, local, canvas.viewport().mapToGlobal(local))
    QApplication.sendEvent(canvas.viewport(), event)


# A context menu is a popup: it raises itself and grabs the keyboard, which the offscreen platform cannot do.
@pytest.mark.qt_log_ignore(r"This plugin does not support (raise\(\)|grabbing the keyboard)")
def test_reflect_on_a_selection_accept_some_and_undo_one(
    window: MainWindow, messy_cv: tuple[Path, dict[str, int]], qtbot,  # type: ignore[no-untyped-def]
) -> None:
    path, ids = messy_cv
    window.show()
    qtbot.waitExposed(window)
    assert window.open_project(path)
    wait_for_tasks(window, qtbot)  # the layout
    backend = ThreadRecordingBackend()
    window.run_panel.backend_factory = lambda: backend
    all_before = statuses(window, ids)
    assert set(all_before.values()) == {"candidate"}

    with window.project.repositories() as repos:  # type: ignore[union-attr]
        john = repos.graph.find_entities("John Doe")[0].id
        abc = repos.graph.find_entities("ABC Corp")[0].id
    window.canvas.select_entities([john, abc])  # the messy neighbourhood
    right_click(window, john)
    menu = window.reflection.menu
    assert menu is not None and menu.isVisible()
    reflect = next(a for a in menu.actions() if a.text().startswith("Reflect on &Selection"))
    assert reflect.isEnabled()
    menu.close()
    reflect.trigger()
    assert window.tasks  # it runs in the background, with the status bar's progress and Cancel
    assert window.task_progress.isVisible() and window.task_progress.cancel_button.isEnabled()
    wait_for_tasks(window, qtbot)
    assert threading.get_ident() not in backend.threads  # the model never ran on the GUI thread

    view = window.reflection.view
    assert view is not None and view.isVisible() and window.errors == []
    assert statuses(window, ids) == all_before  # a proposal: nothing changed yet
    rows = {row["Old"]: row for row in view.row_texts()}
    assert set(rows) == {"ABC Corp —livesIn→ John Doe", "John Doe —knows→ John Doe", "It —knows→ John Doe"}
    fix = rows["ABC Corp —livesIn→ John Doe"]
    assert (fix["Change"], fix["New"], fix["State"]) == ("Fix", "John Doe —worksFor→ ABC Corp", "proposed")
    assert fix["Reason"] == "the object of livesIn must be a Place, and 'John Doe' is a Person"
    assert rows["John Doe —knows→ John Doe"]["Reason"] == "subject and object are the same entity"
    assert rows["It —knows→ John Doe"] == {"Change": "Drop", "Old": "It —knows→ John Doe", "New": "(dropped)",
                                           "Reason": 'the subject "It" is vague', "State": "proposed"}
    assert "25% before, 100% if all are accepted, 25% now" in view.compliance_label.text()  # 1 of 4 complies

    # Accept the fix and the self-loop's drop; reject the third.
    order = [row["Old"] for row in view.row_texts()]
    view.list.clearSelection()
    for old in ("ABC Corp —livesIn→ John Doe", "John Doe —knows→ John Doe"):
        view.list.topLevelItem(order.index(old)).setSelected(True)
    view.accept_button.click()
    view.list.clearSelection()
    view.list.topLevelItem(order.index("It —knows→ John Doe")).setSelected(True)
    view.reject_button.click()
    assert [row["State"] for row in view.row_texts()] == [
        {"ABC Corp —livesIn→ John Doe": "accepted", "John Doe —knows→ John Doe": "accepted",
         "It —knows→ John Doe": "rejected"}[old] for old in order]
    assert statuses(window, ids) == {"good": "candidate", "reversed": "rejected", "loop": "rejected",
                                     "vague_near": "candidate", "elsewhere": "candidate"}
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        (fixed,) = [t for t in repos.graph.triples() if t.origin == "reflected"]
        assert (fixed.subject_id, fixed.predicate, fixed.object_id) == (john, "worksFor", abc)
        assert repos.graph.triple(ids["reversed"]).status_reason.startswith(  # type: ignore[union-attr]
            "reflection: the object of livesIn must be a Place")
    assert window.graph.edge_index(fixed.id) is not None  # type: ignore[union-attr]  # the canvas shows the fix
    assert window.graph.edge_index(ids["loop"]) is not None  # rejected edges stay, hidden by the filter
    assert "50% now" in view.compliance_label.text()  # of the two left, "good" complies and "It knows" not
    history = window.history
    reflection_edits = [e for e in history.log() if e.actor == "reflection"]  # type: ignore[union-attr]
    assert len(reflection_edits) == 2  # one edit per accepted change
    assert all(e.reason for e in reflection_edits)

    # Undo one: the newest (the self-loop's drop) comes back; the fix stays.
    assert window.undo_action.text().startswith("&Undo reflection: drop triple")
    window.undo_action.trigger()
    assert statuses(window, ids)["loop"] == "candidate"
    assert statuses(window, ids)["reversed"] == "rejected"
    states = {row["Old"]: row["State"] for row in view.row_texts()}
    assert states["John Doe —knows→ John Doe"] == "proposed"  # the view follows the undo: it can be accepted again
    assert states["ABC Corp —livesIn→ John Doe"] == "accepted"
    assert "33% now" in view.compliance_label.text()  # good of good, loop and "It knows"
    window.redo_action.trigger()  # and back again: the view follows the redo too
    assert {row["Old"]: row["State"] for row in view.row_texts()}["John Doe —knows→ John Doe"] == "accepted"
    assert statuses(window, ids)["loop"] == "rejected"
    window.undo_action.trigger()
    assert window.errors == []


@pytest.mark.qt_log_ignore(r"This plugin does not support (raise\(\)|grabbing the keyboard)")
def test_reflect_on_whole_graph_from_the_run_menu(
    window: MainWindow, messy_cv: tuple[Path, dict[str, int]], qtbot,  # type: ignore[no-untyped-def]
) -> None:
    path, ids = messy_cv
    assert window.open_project(path)
    wait_for_tasks(window, qtbot)
    window.run_panel.backend_factory = CriticBackend
    assert not window.reflection.selection_action.isEnabled()  # nothing selected
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        john = repos.graph.find_entities("John Doe")[0].id
    right_click(window, john)  # on a node outside the selection: it becomes the selection
    assert window.canvas.selected_entity_ids() == [john] and window.reflection.selection_action.isEnabled()
    window.reflection.menu.close()  # type: ignore[union-attr]
    run_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    whole = next(a for a in run_menu.actions() if a.text() == "Reflect on Whole &Graph…")
    whole.trigger()
    wait_for_tasks(window, qtbot)
    view = window.reflection.view
    olds = {row["Old"] for row in view.row_texts()}  # type: ignore[union-attr]
    assert "this —locatedIn→ San Francisco" in olds  # outside John Doe's neighbourhood, inside the graph
    view.accept_all_button.click()  # type: ignore[union-attr]
    after = statuses(window, ids)
    assert after["good"] == "candidate" and all(after[name] == "rejected" for name in ids if name != "good")
    assert "100% now" in view.compliance_label.text()  # type: ignore[union-attr]
    for _ in range(len(olds)):  # every accepted change undoes on its own
        window.undo_action.trigger()
    assert set(statuses(window, ids).values()) == {"candidate"}
    assert view.accept_all_button.isEnabled()  # type: ignore[union-attr]  # all proposed again
    assert window.errors == []
    window.close_project()
    assert not view.isVisible() and window.reflection.view is None  # type: ignore[union-attr]


class StallingCritic(CriticBackend):
    """Answers only once cancelled, as a generation stopped by the cancel token does."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()

    def chat(self, messages, *, max_tokens=256, temperature=0.0, json_schema=None, cancel=None):  # type: ignore[no-untyped-def]
        self.asked.set()
        while cancel is not None and not cancel.cancelled:
            time.sleep(0.01)
        return Completion("", 0, 0, "cancelled")


def test_cancel_stops_reflection_and_changes_nothing(
    window: MainWindow, messy_cv: tuple[Path, dict[str, int]], qtbot,  # type: ignore[no-untyped-def]
) -> None:
    path, ids = messy_cv
    assert window.open_project(path)
    wait_for_tasks(window, qtbot)
    backend = StallingCritic()
    window.run_panel.backend_factory = lambda: backend
    window.reflection.reflect(None)
    qtbot.waitUntil(backend.asked.is_set, timeout=60_000)
    window.task_progress.cancel_button.click()
    wait_for_tasks(window, qtbot, timeout=10_000)
    view = window.reflection.view
    assert view is not None and window.reflection.last_report.cancelled  # type: ignore[union-attr]
    assert "Cancelled" in view.summary.text() and view.row_texts() == []  # no drop made up from a cut answer
    assert set(statuses(window, ids).values()) == {"candidate"}


def test_reflect_without_a_selection_or_model_says_why(window: MainWindow, messy_cv, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, _ids = messy_cv
    assert window.open_project(path)
    window.reflection.reflect_on_selection()
    assert window.errors == ["select entities or a triple on the canvas first, then Reflect on Selection"]
    window.run_panel.gguf.setChecked(True)
    window.run_panel.gguf_path.setText(str(tmp_path / "missing.gguf"))
    window.reflection.reflect(None)
    assert window.errors[-1] == "Reflection: choose a GGUF model file (in the Run panel)"
    assert all(task.title != "Reflection" for task in window.tasks)  # only the layout
