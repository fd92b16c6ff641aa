"""Edits made in the window while a background extraction writes the same project: none is lost.

The window's edits run on the GUI thread through the same project (its own
SQLite connection from the pool) while the Run panel's worker commits
extraction batches. Afterwards every edit and every extracted chunk is in the
file, as a fresh process reading it sees it, and the edit log has both.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from kgstudio.gui.main_window import MainWindow
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project
from tests.gui.conftest import wait_for_tasks
from tests.gui.test_run_panel import SlowBackend

pytestmark = pytest.mark.gui


def test_edits_in_the_window_during_a_background_extraction_are_all_kept(  # type: ignore[no-untyped-def]
        window: MainWindow, tmp_path: Path, shared_data: Path, qtbot) -> None:
    path = tmp_path / "busy.kgs"
    with Project.create(path) as project:
        import_paths(project, [shared_data / "pdf" / "cv", shared_data / "email" / "mbox" / "complex.mbox"])
    window.open_project(path)
    wait_for_tasks(window, qtbot)
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        renamed = repos.graph.entities()[0]
    panel = window.run_panel
    panel.backend_factory = lambda: SlowBackend(0.4)
    panel.run()
    added, waits = [], []
    while panel.running or len(added) < 3:
        started = time.monotonic()
        record = window.editor.add_entity(f"Edited during the run {len(added)}", "Person")
        waits.append(time.monotonic() - started)
        assert record is not None, "an edit from the window failed while the extraction wrote"
        added.append(record.id)
        window.editor.rename(renamed.id, f"Renamed {len(added)}")
        qtbot.wait(60)
    wait_for_tasks(window, qtbot)
    report = panel.last_report
    assert report is not None and report.chunks >= 5 and report.candidates > 0, panel.status.text()
    assert len(added) >= 5, "the run ended before the edits could overlap it"
    window.close()

    db = sqlite3.connect(path)  # as a fresh process sees the file
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = {row[0] for row in db.execute("SELECT name FROM entity")}
        assert {f"Edited during the run {i}" for i in range(len(added))} <= names
        assert db.execute("SELECT name FROM entity WHERE id = ?", (renamed.id,)).fetchone()[0] == \
            f"Renamed {len(added)}"  # the last rename won, none was overwritten by the run
        assert db.execute("SELECT COUNT(*) FROM chunk_extraction").fetchone()[0] == report.chunks
        assert db.execute("SELECT COUNT(*) FROM edit_log WHERE actor = 'extraction'").fetchone()[0] >= 1
        logged = db.execute("SELECT COUNT(*) FROM edit_log WHERE id IN (%s)" % ",".join("?" * len(added)),
                            added).fetchone()[0]
        assert logged == len(added)
    finally:
        db.close()
    print({"gui_edits": len(added), "max_wait_ms": round(1000 * max(waits)), "chunks": report.chunks})
