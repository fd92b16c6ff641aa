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
from tests.gui.test_run_panel import SlowBackend

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

    panel = window.run_panel
    panel.backend_factory = lambda: SlowBackend(0.05)  # the embedded model's run is tested in test_run_panel
    panel.run_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    assert panel.last_report.candidates > 0  # type: ignore[union-attr]

    review = window.review
    review.list.setFocus()
    accepted = review.current_triple_id()
    qtbot.keyClick(review.list, Qt.Key.Key_A)  # accept the most confident candidate
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        triple = repos.graph.triple(accepted)  # type: ignore[arg-type]
        wrong_object = repos.graph.entity(triple.object_id).name  # type: ignore[union-attr]
    # Fix it: point it at another entity, then change our mind with Ctrl+Z.
    window.editor.add_entity("ABC Corp", "Organization")
    abc = int(window.graph.node_ids[window.graph.names.index("ABC Corp")])  # type: ignore[union-attr]
    window.editor.repoint(accepted, object_id=abc)  # type: ignore[arg-type]
    window.inspector.show_triple(accepted)  # type: ignore[arg-type]
    assert window.inspector.title.text().endswith("→ ABC Corp")
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.inspector.title.text().endswith(f"→ {wrong_object}")

    window.inspector.show_source()  # where the fact came from
    assert window.source.page is not None or window.source.highlighted_lines is not None

    dialog = ExportDialog("career", tmp_path, window)
    window.export(dialog.request())
    wait_for_tasks(window, qtbot)
    graph = rdflib.Graph().parse(tmp_path / "career.ttl")
    assert len(graph) > 0 and window.errors == []
