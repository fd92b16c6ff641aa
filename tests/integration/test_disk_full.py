"""A full disk during an import: one clear error, an intact project, and the same command finishes later.

The disk really fills up: the project lives on a small tmpfs mounted for the
test (needs root, as in CI; skipped elsewhere), which is then enlarged to
"free some space".
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgstudio.store import Project

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def kgstudio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "kgstudio.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_full_disk_stops_the_import_cleanly_and_it_resumes(small_disk: Path, shared_data: Path) -> None:
    sources = [str(shared_data / "pdf" / "text" / "seasonal.pdf"), str(shared_data / "email")]
    assert kgstudio("new", "p.kgs", cwd=small_disk).returncode == 0
    full = kgstudio("import", "p.kgs", *sources, cwd=small_disk)
    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    errors = [line for line in full.stderr.splitlines() if line.startswith("kgstudio: error:")]
    assert len(errors) == 1 and "the disk is full" in errors[0], full.stderr

    status = kgstudio("status", "p.kgs", "--json", cwd=small_disk)
    assert status.returncode == 0, status.stderr  # the project opens: not mistaken for a truncated file
    db = sqlite3.connect(small_disk / "p.kgs")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)  # space freed
    resumed = kgstudio("import", "p.kgs", *sources, "--json", cwd=small_disk)
    assert resumed.returncode == 0, resumed.stderr
    reference = kgstudio("new", "r.kgs", cwd=small_disk)
    assert reference.returncode == 0
    assert kgstudio("import", "r.kgs", *sources, cwd=small_disk).returncode == 0

    def counts(name: str) -> tuple:
        # The file the disk filled up in the middle of is redone; its unfinished first copy stays as
        # "replaced" (an undo may still need its passages), so compare what is current.
        with Project.open(small_disk / name) as project:
            data = project.counts()
            with project.repositories() as repos:
                chunks = repos.documents.count_current_chunks()
        by_status = data["documents"]["by_status"]
        return by_status["imported"], by_status["partial"], chunks, data["entities"]["total"], data["triples"]["total"]

    assert counts("p.kgs") == counts("r.kgs")  # nothing lost, nothing doubled
