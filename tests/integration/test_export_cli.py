"""``kgstudio export``, ``push`` and ``import-rdf`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest

from kgstudio.cli.main import main
from tests.unit.export.helpers import hostile_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "p.kgs"
    hostile_project(path, ["Ada", "Bob", 'x"}) DETACH DELETE n //'], predicate="knows", class_name="Person").close()
    return path


def test_export_writes_every_format(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for fmt, name in [("ttl", "g.ttl"), ("nt", "g.nt"), ("jsonld", "g.jsonld"), ("xml", "g.rdf"), ("owl", "g.owl"),
                      ("cypher", "g.cypher"), ("graphml", "g.graphml"), ("neo4j-csv", "neo4j"), ("csv", "tables")]:
        assert main(["export", str(project), "--format", fmt, "-o", str(tmp_path / name), "--status", "all",
                     "--provenance", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["format"] == fmt and report["entities"] == 3 and (tmp_path / name).exists()
    assert len(list(pyoxigraph.parse(path=str(tmp_path / "g.ttl"), format=pyoxigraph.RdfFormat.TURTLE))) > 20


def test_export_to_stdout(project: Path, capsysbinary: pytest.CaptureFixture) -> None:
    assert main(["export", str(project), "-f", "nt", "-o", "-"]) == 0
    captured = capsysbinary.readouterr()
    assert b"DETACH DELETE" in captured.out and b"nt: 3 entities" in captured.err


def test_import_rdf_then_undo(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["export", str(project), "-f", "ttl", "-o", str(tmp_path / "g.ttl")]) == 0
    assert main(["new", str(tmp_path / "q.kgs")]) == 0
    assert main(["import-rdf", str(tmp_path / "q.kgs"), str(tmp_path / "g.ttl")]) == 0
    assert "3 entities and 5 triples added" in capsys.readouterr().out
    assert main(["undo", str(tmp_path / "q.kgs")]) == 0


@pytest.mark.parametrize("argv, message", [
    (["export", "{p}", "-f", "rdf", "-o", "{t}/x"], "unknown export format 'rdf'"),
    (["export", "{p}", "-f", "ttl", "-o", "{t}/missing/x.ttl"], "does not exist"),
    (["export", "{t}/nothing.kgs", "-f", "ttl", "-o", "{t}/x.ttl"], "nothing.kgs"),
    (["export", "{p}", "-f", "csv", "-o", "{p}"], "not an empty folder"),
    (["push", "{p}", "--neo4j", "bolt://127.0.0.1:1", "-p", "x"], "cannot connect"),
    (["import-rdf", "{p}", "{t}/none.ttl"], "no such file"),
])
def test_user_mistakes_are_one_line_and_exit_1(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                               argv: list[str], message: str) -> None:
    argv = [a.format(p=project, t=tmp_path) for a in argv]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("kgstudio: error:")
