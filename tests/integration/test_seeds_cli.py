"""``kgstudio seeds`` as a user runs it: recompute, review, recompute again."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_cli import kgstudio


def seeds(*args: str, cwd: Path) -> list[dict]:
    result = kgstudio("seeds", "p.kgs", "--json", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_seeds_round_trip(tmp_path: Path, shared_data: Path) -> None:
    assert kgstudio("new", "p.kgs", cwd=tmp_path).returncode == 0
    assert kgstudio("seeds", "p.kgs", cwd=tmp_path).stdout.startswith("No seeds yet")
    imported = kgstudio("import", "p.kgs", str(shared_data / "pdf" / "text" / "seasonal.pdf"), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr

    first = seeds("--top", "12", cwd=tmp_path)
    assert len(first) == 12 and {"heat transfer", "thermal insulation"} <= {s["text"] for s in first}
    ids = {s["text"]: s["id"] for s in first}
    assert seeds("--reject", str(ids["heat transfer"]), cwd=tmp_path)[0]["status"] == "rejected"
    assert seeds("--accept", str(ids["thermal insulation"]), cwd=tmp_path)[0]["status"] == "accepted"
    added = seeds("--add", "glass wool", cwd=tmp_path)[0]
    assert (added["status"], added["origin"]) == ("accepted", "user")
    renamed = kgstudio("seeds", "p.kgs", "--rename", str(ids["building"]), "building envelope", cwd=tmp_path)
    assert renamed.returncode == 0 and "building envelope" in renamed.stdout

    again = {s["text"]: s for s in seeds("--top", "12", cwd=tmp_path)}
    assert "heat transfer" not in again
    assert again["thermal insulation"]["status"] == "accepted" and again["glass wool"]["origin"] == "user"
    assert again["building envelope"]["id"] == ids["building"]
    listed = {s["text"]: s["status"] for s in seeds("--list", "--all", cwd=tmp_path)}
    assert listed["heat transfer"] == "rejected" and set(listed) >= set(again)

    status = json.loads(kgstudio("status", "p.kgs", "--json", cwd=tmp_path).stdout)
    assert status["seeds"]["by_status"]["rejected"] == 1 and status["seeds"]["total"] == len(listed)
    human = kgstudio("seeds", "p.kgs", "--list", cwd=tmp_path)
    assert "accepted  user      glass wool" in human.stdout


def test_seed_mistakes_are_one_line(tmp_path: Path) -> None:
    assert kgstudio("new", "p.kgs", cwd=tmp_path).returncode == 0
    missing = kgstudio("seeds", "p.kgs", "--accept", "42", cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr == "kgstudio: error: no seed #42\n"
    assert kgstudio("seeds", "p.kgs", "--add", "heat pump", cwd=tmp_path).returncode == 0
    assert kgstudio("seeds", "p.kgs", "--add", "heat pumps", cwd=tmp_path).returncode == 0
    taken = kgstudio("seeds", "p.kgs", "--rename", "2", "Heat Pump", cwd=tmp_path)
    assert taken.returncode == 1 and taken.stderr == "kgstudio: error: seed 'heat pump' already exists (#1)\n"
    assert kgstudio("seeds", "p.kgs", "--accept", "1", "--reject", "1", cwd=tmp_path).returncode == 2
