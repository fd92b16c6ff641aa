"""What the undo journal costs: journaled edits vs. bare inserts, measured side by side.

Run (with nothing else busy):  .venv/bin/python tests/bench/bench_edits.py [N]
Prints one JSON object. Each edit is its own transaction, as a user's click is;
the baseline inserts the same rows with SQLAlchemy Core, one transaction each,
on an identical project file, interleaved with the journaled runs so machine
noise hits both alike.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kgstudio.domain.iris import mint_entity_iri
from kgstudio.edit import AddEntity, EditHistory, RenameEntity
from kgstudio.store import Project
from kgstudio.store.schema import EntityRow


def journaled(project: Project, names: list[str]) -> float:
    history = EditHistory(project)
    started = time.perf_counter()
    for name in names:
        history.execute(AddEntity(name))
    return time.perf_counter() - started


def bare(project: Project, names: list[str]) -> float:
    table = EntityRow.__table__
    started = time.perf_counter()
    for name in names:
        with project.transaction() as repos:
            repos.session.execute(table.insert().values(
                name=name, class_name=None, iri=mint_entity_iri(project.base_iri, name), status="active"))
    return time.perf_counter() - started


def main(n: int = 300, rounds: int = 3) -> dict:
    names = [f"Entity {i}" for i in range(n)]
    results: dict[str, list[float]] = {"journaled": [], "bare": [], "undo": [], "redo": [], "rename": []}
    with tempfile.TemporaryDirectory() as folder:
        for r in range(rounds):
            with Project.create(Path(folder) / f"j{r}.kgs") as project:
                results["journaled"].append(journaled(project, names))
                history = EditHistory(project)
                started = time.perf_counter()
                for _ in names:
                    history.undo()
                results["undo"].append(time.perf_counter() - started)
                started = time.perf_counter()
                for _ in names:
                    history.redo()
                results["redo"].append(time.perf_counter() - started)
                started = time.perf_counter()
                for entity_id in range(1, n + 1):
                    history.execute(RenameEntity(entity_id, f"Renamed {entity_id}"))
                results["rename"].append(time.perf_counter() - started)
            with Project.create(Path(folder) / f"b{r}.kgs") as project:
                results["bare"].append(bare(project, names))
    median = {key: statistics.median(values) for key, values in results.items()}
    per_edit_ms = {key: round(1000 * value / n, 3) for key, value in median.items()}
    return {
        "benchmark": "edits",
        "edits_per_round": n,
        "rounds": rounds,
        "ms_per_edit": per_edit_ms,
        "ratio_journaled_add_vs_bare_insert": round(median["journaled"] / median["bare"], 2),
        "ratio_undo_vs_journaled_add": round(median["undo"] / median["journaled"], 2),
        "ratio_redo_vs_journaled_add": round(median["redo"] / median["journaled"], 2),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300), indent=2))
