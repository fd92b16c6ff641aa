"""Two kgstudio processes writing one project at once (say the GUI and a CLI import): no lost or torn edits.

Each writer takes SQLite's write lock at the start of its transaction (BEGIN
IMMEDIATE) and waits for the other, so both sets of edits land whole, the
audit log holds every one of them, and undo walks back the newest first.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kgstudio.edit import EditHistory
from kgstudio.store import Project

REPO = Path(__file__).resolve().parents[2]
EDITS = 150

WRITER = """
import sys, time
from pathlib import Path
from kgstudio.edit import AddEntity, AddTriple, EditHistory
from kgstudio.store import Project

with Project.open(sys.argv[1]) as project:
    history = EditHistory(project)
    tag = sys.argv[2]
    Path(sys.argv[3], tag).touch()  # ready; start when both are (the imports take longer than the edits)
    while not Path(sys.argv[3], "go").exists():
        time.sleep(0.01)
    Path(sys.argv[3], tag + ".start").write_text(repr(time.time()))
    previous = None
    for n in range({edits}):
        entity = history.execute(AddEntity(f"{{tag}} {{n}}", "Person", [])).changes.entity_ids.pop()
        if previous is not None:
            history.execute(AddTriple(previous, "knows", object_id=entity))
        previous = entity
    Path(sys.argv[3], tag + ".end").write_text(repr(time.time()))
"""


def test_two_writers_interleave_without_losing_anything(tmp_path: Path) -> None:
    path = tmp_path / "shared.kgs"
    Project.create(path).close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = WRITER.format(edits=EDITS)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    writers = [subprocess.Popen([sys.executable, "-c", script, str(path), tag, str(barrier)], env=env,
                                stderr=subprocess.PIPE, text=True) for tag in ("gui", "cli")]
    deadline = time.monotonic() + 120
    while not all((barrier / tag).exists() for tag in ("gui", "cli")) and time.monotonic() < deadline:
        time.sleep(0.01)
    (barrier / "go").touch()
    for writer in writers:
        _, errors = writer.communicate(timeout=600)
        assert writer.returncode == 0, errors

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    with Project.open(path) as project:
        counts = project.counts()
        assert counts["entities"]["total"] == 2 * EDITS
        assert counts["triples"]["total"] == 2 * (EDITS - 1)
        assert counts["edits"]["undoable"] == 2 * (2 * EDITS - 1)
        with project.repositories() as repos:
            in_order = [entity.name for entity in sorted(repos.graph.entities(), key=lambda e: e.id)]
        assert set(in_order) == {f"{tag} {n}" for tag in ("gui", "cli") for n in range(EDITS)}
        # Both were writing at the same time (SQLite may let one finish first while the other waits on
        # its lock: the waiting is what is being tested).
        starts = [float((barrier / f"{tag}.start").read_text()) for tag in ("gui", "cli")]
        ends = [float((barrier / f"{tag}.end").read_text()) for tag in ("gui", "cli")]
        assert max(starts) < min(ends), "the writers did not run at the same time; the test proves nothing"
        history = EditHistory(project)
        newest = history.log(limit=1)[0]
        assert history.undo().id == newest.id
