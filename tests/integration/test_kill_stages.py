"""``kill -9`` during ``kgstudio fuse`` and ``kgstudio export``, at random points, several times.

After each kill: ``PRAGMA integrity_check`` is ok, the project opens, no edit
committed before the kill is gone, and a re-run ends with exactly the graph
(the same Turtle, byte for byte) an uninterrupted run gives. An export killed
midway leaves the file it was replacing as it was: never a truncated file
under the target's name.

The kill points are random; the seed is in every failure message
(``KGSTUDIO_KILL_SEED=N`` repeats a run).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kgstudio.edit.rdf_import import import_rdf
from kgstudio.export import export_project
from kgstudio.pipeline.fuse import FusionSettings, run_fusion
from kgstudio.store import Project
from tests.integration.project_files import integrity, read_count

PAIRS = 400  # people written twice ("Ada Lovelace 0" / "ADA LOVELACE 0"): 400 merges, one edit each
TRIALS = 3
KGSTUDIO = [sys.executable, "-m", "kgstudio.cli.main"]
SEED = int(os.environ.get("KGSTUDIO_KILL_SEED", time.time_ns() % 1_000_000))


def _graph(path: Path) -> None:
    """N-Triples of PAIRS people, each twice under two IRIs, with links and notes, and 20 organisations."""
    first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Niklaus", "Frances"]
    last = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Wirth", "Allen"]
    e, p = "http://example.org/e/", "http://example.org/p/"
    rdf_type, label = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://www.w3.org/2000/01/rdf-schema#label"
    lines = []
    for i in range(PAIRS):
        name = f"{first[i % 8]} {last[(i // 8) % 8]} {i}"
        for iri, written in ((f"{e}a{i}", name), (f"{e}b{i}", name.upper())):
            lines += [f"<{iri}> <{rdf_type}> <http://example.org/c/Person> .", f'<{iri}> <{label}> "{written}" .']
        lines += [f"<{e}a{i}> <{p}knows> <{e}a{(i + 1) % PAIRS}> .", f"<{e}b{i}> <{p}worksFor> <{e}org{i % 20}> .",
                  f'<{e}a{i}> <{p}note> "note {i} about {name}" .']
    lines += [f'<{e}org{j}> <{label}> "Organisation {j}" .' for j in range(20)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _turtle(path: Path, out: Path) -> bytes:
    with Project.open(path) as project:
        export_project(project, "ttl", out, status="all", provenance=True)
    return out.read_bytes()


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("kill")
    _graph(folder / "people.nt")
    base = folder / "base.kgs"
    with Project.create(base) as project:
        import_rdf(project, folder / "people.nt")
    before = _turtle(base, folder / "before.ttl")
    fused = folder / "fused.kgs"
    shutil.copy(base, fused)
    with Project.open(fused) as project:
        report = run_fusion(project, FusionSettings(use_llm=False))
    assert len(report.merges) == PAIRS
    return {"base": base, "fused": fused, "fuse_seconds": report.seconds, "before": before,
            "after": _turtle(fused, folder / "after.ttl")}


def _ro(path: Path, sql: str) -> int:
    return read_count(path, sql, missing_is_zero=True)


def _start(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen([*KGSTUDIO, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill(child: subprocess.Popen[bytes]) -> bool:
    """SIGKILL; True when the child was still running (the kill interrupted it)."""
    running = child.poll() is None
    child.send_signal(signal.SIGKILL)
    child.wait()
    return running


def test_fusion_killed_at_random_points_resumes_to_the_same_graph(projects: dict, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    cut_midway = 0
    for trial in range(TRIALS):
        path = tmp_path / f"fuse-{trial}.kgs"
        shutil.copy(projects["base"], path)
        edits_before = _ro(path, "SELECT COUNT(*) FROM edit_log")
        child = _start("fuse", str(path), "--no-llm")
        deadline = time.monotonic() + 300
        while _ro(path, "SELECT COUNT(*) FROM run WHERE stage = 'fuse'") == 0 and child.poll() is None:
            assert time.monotonic() < deadline, "fusion did not start"
            time.sleep(0.02)
        delay = rng.uniform(0.0, 0.8 * projects["fuse_seconds"])
        time.sleep(delay)
        committed = _ro(path, "SELECT COUNT(*) FROM edit_log")  # what a reader saw committed just before
        interrupted = _kill(child)
        where = f"seed {SEED}, trial {trial}, killed {delay:.2f} s into fusion"
        assert integrity(path) == "ok", where
        merges_done = _ro(path, "SELECT COUNT(*) FROM edit_log") - edits_before
        assert _ro(path, "SELECT COUNT(*) FROM edit_log") >= committed, f"{where}: a committed edit was lost"
        if interrupted and 0 < merges_done < PAIRS:
            cut_midway += 1
        with Project.open(path) as project:  # opens, and the re-run finishes the job
            report = run_fusion(project, FusionSettings(use_llm=False))
        assert len(report.merges) == PAIRS - merges_done, where  # only what the killed run had not done
        assert _turtle(path, tmp_path / f"fuse-{trial}.ttl") == projects["after"], where
    assert cut_midway >= 1, f"seed {SEED}: no kill landed between two merges; the test proved nothing"


def test_export_killed_at_random_points_leaves_the_old_file_and_a_rerun_writes_the_same(
        projects: dict, tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    path = tmp_path / "fused.kgs"
    shutil.copy(projects["fused"], path)
    target = tmp_path / "graph.ttl"
    part = target.with_name(target.name + ".part")
    args = ("export", str(path), "-f", "ttl", "-o", str(target), "--status", "all", "--provenance")

    def start_writing() -> subprocess.Popen[bytes]:
        child = _start(*args)
        deadline = time.monotonic() + 300
        while not part.exists() and child.poll() is None:
            assert time.monotonic() < deadline, "the export did not start"
            time.sleep(0.0005)
        return child

    # How long NAME.part lives on this machine (from its creation to the rename), so the kills land inside
    # that window. It is measured on the file itself: the process's lifetime is no guide, since the
    # interpreter's exit after the rename takes several times longer than the writing (43 ms of writing,
    # then 190 ms of exit here), and kills timed by the process mostly came after the rename on CI.
    lifetimes = []
    for _ in range(2):  # the shorter of two: the first may run on a cold cache
        timing = start_writing()
        began = time.monotonic()
        while part.exists():
            time.sleep(0.0005)
        lifetimes.append(time.monotonic() - began)
        timing.wait()
    writing = min(lifetimes)
    cut_midway = 0
    for trial in range(TRIALS):
        target.write_bytes(projects["before"])  # last week's export, about to be replaced
        child = start_writing()
        delay = rng.uniform(0.0, 0.5 * writing)
        time.sleep(delay)
        interrupted = _kill(child)
        where = f"seed {SEED}, trial {trial}, killed {delay:.2f} s into writing"
        if interrupted and target.read_bytes() == projects["before"]:
            cut_midway += 1
        # either the old file, whole, or (the export had finished) the new one, whole: never a mix
        assert target.read_bytes() in (projects["before"], projects["after"]), where
        assert integrity(path) == "ok", where
        result = subprocess.run([*KGSTUDIO, "export", str(path), "-f", "ttl", "-o", str(target), "--status", "all",
                                 "--provenance"], env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert target.read_bytes() == projects["after"], where
        assert not part.exists(), f"{where}: the re-run left {part.name} behind"
    assert cut_midway >= 1, f"seed {SEED}: no kill landed while the export was writing"
