"""Editing on the canvas with undo/redo and the audit log; the review queue driven by the keyboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from kgstudio.gui.main_window import MainWindow
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project
from tests.gui.conftest import add_cited_triple, wait_for_tasks

pytestmark = pytest.mark.gui


def node(window: MainWindow, name: str) -> int:
    return window.graph.names.index(name)  # type: ignore[union-attr]


def entity(window: MainWindow, name: str) -> int:
    return int(window.graph.node_ids[node(window, name)])  # type: ignore[union-attr]


@pytest.fixture
def opened(window: MainWindow, graph_project: Path, qtbot) -> MainWindow:  # type: ignore[no-untyped-def]
    window.open_project(graph_project)
    window.show()
    qtbot.waitExposed(window)
    wait_for_tasks(window, qtbot)
    return window


def test_rename_then_ctrl_z_restores_the_name(opened: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = opened
    ibm = entity(window, "IBM")
    window.canvas.select_entities([ibm])
    window.editor.rename(ibm, "International Business Machines")
    assert window.inspector.title.text() == "International Business Machines"
    assert "IBM" in window.inspector.fields["Aliases"].text()  # the old name stays as an alias
    assert window.graph.names[node(window, "International Business Machines")]  # type: ignore[union-attr]
    assert window.audit.rows()[0][:2] == ("user", f"rename entity {ibm} to 'International Business Machines'")

    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "IBM" in window.graph.names  # type: ignore[union-attr]
    assert window.inspector.title.text() == "IBM"
    assert window.audit.rows()[0][3] == "undone"
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.inspector.title.text() == "International Business Machines"
    assert window.audit.rows()[0][3] == "done"


def test_add_delete_and_merge_entities_and_undo_them(opened: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window = opened
    window.editor.add_entity("Big Blue", "Organization")
    assert window.graph.node_count == 3  # type: ignore[union-attr]
    big_blue, ibm = entity(window, "Big Blue"), entity(window, "IBM")
    window.canvas.select_entities([ibm, big_blue])
    assert window.editor.merge_action.isEnabled()
    window.editor.merge_action.trigger()
    assert window.graph.node_count == 2 and "Big Blue" not in [  # type: ignore[union-attr]
        n for k, n in enumerate(window.graph.names) if window.graph.node_alive[k]]  # type: ignore[union-attr]
    window.canvas.select_entities([ibm])
    assert "Big Blue" in window.inspector.fields["Aliases"].text()
    window.undo()
    assert window.graph.node_count == 3  # type: ignore[union-attr]
    window.canvas.select_entities([big_blue])
    window.editor.delete_action.trigger()
    assert window.graph.node_count == 2  # type: ignore[union-attr]
    window.undo()
    assert window.graph.node_count == 3 and window.errors == []  # type: ignore[union-attr]


def test_fix_a_wrong_triple_by_repointing_it_then_undo(opened: MainWindow) -> None:
    window = opened
    window.editor.add_entity("New York", "Place")
    triple = int(window.graph.edge_ids[0])  # type: ignore[union-attr]
    window.editor.repoint(triple, object_id=entity(window, "New York"))
    window.inspector.show_triple(triple)
    assert window.inspector.title.text() == "IBM — headquarteredIn → New York"
    edge = window.graph.edge_index(triple)  # type: ignore[union-attr]
    assert window.graph.names[window.graph.dst[edge]] == "New York"  # type: ignore[union-attr,index]
    window.undo()
    assert window.inspector.title.text() == "IBM — headquarteredIn → Armonk"
    window.editor.add_triple(entity(window, "IBM"), "foundedIn", literal="1911")
    window.inspector.show_entity(entity(window, "IBM"))
    texts = [(window.inspector.statements.topLevelItem(i).text(0), window.inspector.statements.topLevelItem(i).text(1))
             for i in range(window.inspector.statements.topLevelItemCount())]
    assert ("foundedIn", "'1911'") in texts


def test_edit_errors_are_shown_not_raised(opened: MainWindow) -> None:
    opened.editor.rename(entity(opened, "IBM"), "IBM")
    assert opened.errors and "already called" in opened.errors[0]


@pytest.fixture
def candidates_project(tmp_path: Path, shared_data: Path) -> Path:
    path = tmp_path / "cv.kgs"
    with Project.create(path) as project:
        import_paths(project, [shared_data / "pdf" / "cv" / "CV_John_Doe.pdf"])
        add_cited_triple(project, "John Doe", "worksFor", "ABC Corp", "ABC Corp, San Francisco, CA", confidence=0.9)
        add_cited_triple(project, "John Doe", "studiedAt", "University of California, Berkeley",
                         "University of California, Berkeley", confidence=0.7)
        add_cited_triple(project, "John Doe", "livesIn", "Coursera", "Coursera", confidence=0.2)
    return path


def test_review_queue_accept_reject_next_by_keyboard(
    window: MainWindow, candidates_project: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    window.open_project(candidates_project)
    window.show()
    qtbot.waitExposed(window)
    wait_for_tasks(window, qtbot)
    review = window.review
    assert [row[2] for row in review.rows()] == ["ABC Corp", "University of California, Berkeley", "Coursera"]
    assert [row[3] for row in review.rows()] == ["0.90", "0.70", "0.20"]  # most confident first
    assert "ABC Corp, San Francisco, CA" in review.passage.toPlainText()  # the source passage beside it
    assert "CV_John_Doe.pdf, page 1" in review.passage.toPlainText()
    review.list.setFocus()
    first = review.current_triple_id()
    qtbot.keyClick(review.list, Qt.Key.Key_A)
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        assert str(repos.graph.triple(first).status) == "accepted"  # type: ignore[union-attr,arg-type]
    assert [row[2] for row in review.rows()] == ["University of California, Berkeley", "Coursera"]
    qtbot.keyClick(review.list, Qt.Key.Key_N)
    assert review.rows()[review.list.indexOfTopLevelItem(review.list.currentItem())][2] == "Coursera"
    wrong = review.current_triple_id()
    qtbot.keyClick(review.list, Qt.Key.Key_R)
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        assert str(repos.graph.triple(wrong).status) == "rejected"  # type: ignore[union-attr,arg-type]
    assert [row[2] for row in review.rows()] == ["University of California, Berkeley"]
    assert window.audit.rows()[0][1] == f"reject triple {wrong}"
    window.undo()  # a review decision is an edit like any other
    assert len(review.rows()) == 2
    review.source_button.click()
    assert window.source.page is not None
