"""Issue 6's "done when", without a terminal: new project, drop CVs and an mbox, run extraction, review,
fix a wrong triple, undo it, see where a fact came from, export Turtle."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from PySide6.QtCore import Qt

from kgstudio.gui.export_dialog import ExportDialog
from kgstudio.gui.main_window import MainWindow
from tests.gui.conftest import wait_for_tasks
from tests.gui.test_import import drop

pytestmark = pytest.mark.gui


def test_a_new_user_without_a_terminal(
    window: MainWindow, tmp_path: Path, shared_data: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    window.show()
    qtbot.waitExposed(window)
    assert window.new_project(tmp_path / "career.kgs")
    drop(window, shared_data / "pdf" / "cv", shared_data / "email" / "mbox" / "complex.mbox")
    wait_for_tasks(window, qtbot)
    assert all(row["Status"] == "imported" for row in window.documents.rows())

    panel = window.run_panel  # the embedded model, as a new user gets it
    panel.run_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=900_000)
    assert panel.last_error is None, panel.status.text()
    assert panel.last_report.candidates > 0  # type: ignore[union-attr]

    review = window.review
    review.list.setFocus()
    accepted = review.current_triple_id()
    qtbot.keyClick(review.list, Qt.Key.Key_A)  # accept the most confident candidate
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        triple = repos.graph.triple(accepted)  # type: ignore[arg-type]
        wrong_object_id = triple.object_id  # type: ignore[union-attr]
        wrong_object = repos.graph.entity(wrong_object_id).name  # type: ignore[arg-type,union-attr]
    # Fix it: point it at another entity, then change our mind with Ctrl+Z.
    window.editor.add_entity("ABC Corp", "Organization")
    abc = int(window.graph.node_ids[window.graph.names.index("ABC Corp")])  # type: ignore[union-attr]
    window.editor.repoint(accepted, object_id=abc)  # type: ignore[arg-type]
    window.inspector.show_triple(accepted)  # type: ignore[arg-type]
    assert window.inspector.title.text().endswith("→ ABC Corp")
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        assert repos.graph.triple(accepted).object_id == wrong_object_id  # type: ignore[arg-type,union-attr]
    assert f"→ {wrong_object[:20]}" in window.inspector.title.text()  # a long name is elided in the title

    window.inspector.show_source()  # where the fact came from
    assert window.source.page is not None or window.source.highlighted_lines is not None

    dialog = ExportDialog("career", tmp_path, window)
    window.export(dialog.request())
    wait_for_tasks(window, qtbot)
    graph = rdflib.Graph().parse(tmp_path / "career.ttl")
    assert len(graph) > 0 and window.errors == []
