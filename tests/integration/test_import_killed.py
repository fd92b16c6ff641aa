"""`kill -9` in the middle of an import: the project is intact and a re-run finishes the job exactly once."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kgstudio.store import Project


def kgstudio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kgstudio", *args], capture_output=True, text=True, timeout=600)


def graph_counts(path: Path) -> dict:
    status = json.loads(kgstudio("status", str(path), "--json").stdout)
    by_status = status["documents"]["by_status"]
    return {"entities": status["entities"]["total"], "triples": status["triples"],
            "documents": {k: by_status[k] for k in ("imported", "partial", "failed", "pending")}}


def test_a_killed_import_resumes_and_ends_like_an_uninterrupted_one(tmp_path: Path, shared_data: Path) -> None:
    folders = [str(shared_data / "email"), str(shared_data / "excel")]
    clean, killed = tmp_path / "clean.kgs", tmp_path / "killed.kgs"
    for project in (clean, killed):
        assert kgstudio("new", str(project)).returncode == 0
    assert kgstudio("import", str(clean), *folders).returncode == 0

    running = subprocess.Popen([sys.executable, "-m", "kgstudio", "import", str(killed), *folders],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and running.poll() is None:
        with Project.open(killed) as project:  # a second process reads while the first writes
            if project.counts()["documents"]["by_status"]["imported"] >= 8:
                break
        time.sleep(0.2)
    assert running.poll() is None, "the import finished before it could be killed; use a bigger folder"
    running.send_signal(signal.SIGKILL)
    running.wait()

    with sqlite3.connect(killed) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()
    interrupted = graph_counts(killed)
    assert interrupted["triples"]["total"] < graph_counts(clean)["triples"]["total"]
    with Project.open(killed) as project, project.repositories() as repos:
        finished_files = [d for d in repos.documents.list()
                          if d.parent_id is None and d.status in ("imported", "partial")]

    resumed = kgstudio("import", str(killed), *folders, "--json")
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["unchanged"] == len(finished_files) > 0  # what was finished before the kill is not read again
    assert graph_counts(killed) == graph_counts(clean)  # same graph: nothing lost, nothing twice
