"""Importing from the window: the dialog's options, drag-and-drop, progress with Cancel, the Documents panel."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from kgstudio.gui.import_dialog import ImportDialog, split_patterns
from kgstudio.gui.main_window import MainWindow
from kgstudio.gui.tasks import estimate_eta, format_eta
from tests.gui.conftest import wait_for_tasks

pytestmark = pytest.mark.gui


def drop(window: MainWindow, *paths: Path) -> None:
    """Drop files on the window as a file manager does."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(window.rect().center()), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def by_name(window: MainWindow) -> dict[str, dict[str, str]]:
    return {row["Document"]: row for row in window.documents.rows()}


def test_dropping_the_cv_pdfs_and_an_mbox_lists_them_as_imported(
    window: MainWindow, tmp_path: Path, shared_data: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    window.new_project(tmp_path / "p.kgs")
    drop(window, shared_data / "pdf" / "cv", shared_data / "email" / "mbox" / "complex.mbox")
    assert window.tasks and not window.task_progress.isHidden()  # the bar and Cancel show while it runs
    wait_for_tasks(window, qtbot)
    rows = by_name(window)
    for name in ("CV_John_Doe.pdf", "CV_Jane_Smith.pdf", "complex.mbox"):
        assert rows[name]["Status"] == "imported", rows[name]
    assert rows["CV_John_Doe.pdf"]["Kind"] == "pdf" and int(rows["CV_John_Doe.pdf"]["Chunks"]) >= 1
    # The mbox's three messages are listed under it, each with its subject.
    messages = [r for r in window.documents.rows() if r["Kind"] == "email"]
    assert len(messages) == 3
    assert window.task_progress.isHidden()
    assert window.errors == []
    assert "documents" in window.status_text and window.graph is not None and window.graph.node_count > 0


def test_a_broken_file_shows_why(window: MainWindow, tmp_path: Path, shared_data: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.new_project(tmp_path / "p.kgs")
    drop(window, shared_data / "pdf" / "corrupt" / "invalid.pdf")
    wait_for_tasks(window, qtbot)
    row = by_name(window)["invalid.pdf"]
    assert row["Status"] == "failed"
    assert row["Problem"]  # the reason, in words


def test_the_dialog_passes_include_exclude_recursive_and_password(
    window: MainWindow, tmp_path: Path, shared_data: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    window.new_project(tmp_path / "p.kgs")
    dialog = ImportDialog(window, [shared_data / "pdf"])
    dialog.include.setText("*.pdf")
    dialog.exclude.setText("corrupt/*, scanned/*, text/*, tables/*; *r6-owner*")
    dialog.password.setText("openpassword")
    request = dialog.request()
    assert request.options.include == ("*.pdf",) and request.options.read.password == "openpassword"
    assert request.options.recursive
    window.import_files(request)
    wait_for_tasks(window, qtbot)
    rows = by_name(window)
    assert set(rows) >= {"CV_John_Doe.pdf", "CV_Jane_Smith.pdf", "libreoffice-writer-password.pdf"}
    assert rows["libreoffice-writer-password.pdf"]["Status"] == "imported"  # opened with the password
    assert not any(name.endswith(".txt") for name in rows)  # include
    assert "invalid.pdf" not in rows and "c02-22.pdf" not in rows  # exclude


def test_not_recursive_takes_only_the_top_folder(
    window: MainWindow, tmp_path: Path, shared_data: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    window.new_project(tmp_path / "p.kgs")
    dialog = ImportDialog(window, [shared_data / "email"])
    dialog.recursive.setChecked(False)
    window.import_files(dialog.request())
    wait_for_tasks(window, qtbot)
    assert window.documents.rows() == []  # every e-mail is in a sub-folder


def test_cancel_stops_the_import_and_keeps_what_was_done(
    window: MainWindow, tmp_path: Path, shared_data: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    window.new_project(tmp_path / "p.kgs")
    reports = []
    task = window.import_files([shared_data / "pdf", shared_data / "email"])
    task.succeeded.connect(reports.append)
    window.task_progress.cancel_button.click()
    wait_for_tasks(window, qtbot)
    assert reports and reports[0].cancelled
    assert len(window.documents.rows()) < 20
    assert "cancelled" in window.statusBar().currentMessage()


def test_dropping_without_a_project_says_what_to_do(window: MainWindow, shared_data: Path) -> None:
    drop(window, shared_data / "pdf" / "cv" / "CV_John_Doe.pdf")
    assert window.errors and "open or create a project first" in window.errors[0]


def test_eta_and_its_words() -> None:
    assert estimate_eta(10.0, 5, 10) == pytest.approx(10.0)
    assert estimate_eta(10.0, 0, 10) is None and estimate_eta(1.0, 1, None) is None
    assert format_eta(None) == "" and format_eta(42) == "42 s left"
    assert format_eta(75) == "1 min 15 s left" and format_eta(3725) == "1 h 02 min left"
    assert split_patterns("*.pdf, *.mbox; drafts/*") == ("*.pdf", "*.mbox", "drafts/*")
