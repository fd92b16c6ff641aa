"""Import back: export → import → export gives the same graph; the import is one undoable edit."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from kgstudio.edit import EditHistory, MergeEntities
from kgstudio.edit.rdf_import import import_rdf
from kgstudio.errors import KgstudioError
from kgstudio.export import export_project
from kgstudio.store import Project
from tests.unit.export.helpers import INJECTIONS, hostile_project, real_project


def graph(path: Path, fmt: pyoxigraph.RdfFormat) -> set:
    return {q.triple for q in pyoxigraph.parse(path=str(path), format=fmt)}


@pytest.mark.parametrize("fmt, suffix", [("ttl", pyoxigraph.RdfFormat.TURTLE), ("nt", pyoxigraph.RdfFormat.N_TRIPLES)])
def test_export_import_export_gives_the_same_graph(tmp_path: Path, shared_data: Path, fmt: str, suffix) -> None:
    with real_project(tmp_path / "a.kgs", shared_data) as source:
        first = tmp_path / f"first.{fmt}"
        export_project(source, fmt, first, status="all")
    with Project.create(tmp_path / "b.kgs") as target:
        report = import_rdf(target, first)
        assert report.entities > 40 and report.triples > 100
        second = tmp_path / f"second.{fmt}"
        export_project(target, fmt, second, status="all")
    assert graph(first, suffix) == graph(second, suffix)


def test_hostile_text_round_trips_and_the_import_is_undoable(tmp_path: Path) -> None:
    with hostile_project(tmp_path / "a.kgs", INJECTIONS, predicate='x"}) DETACH DELETE n //',
                         class_name="Evil` DETACH DELETE n //") as source:
        history = EditHistory(source)
        history.execute(MergeEntities(1, [2], reason="same"))  # exported as owl:sameAs
        first = tmp_path / "first.ttl"
        export_project(source, "ttl", first, status="all")
    with Project.create(tmp_path / "b.kgs") as target:
        import_rdf(target, first)
        second = tmp_path / "second.ttl"
        export_project(target, "ttl", second, status="all")
        assert graph(first, pyoxigraph.RdfFormat.TURTLE) == graph(second, pyoxigraph.RdfFormat.TURTLE)
        again = import_rdf(target, first)
        assert again.edit_id is None and again.triples == 0  # importing the same file changes nothing
        EditHistory(target).undo()
        counts = target.counts()
        assert counts["entities"]["total"] == 0 and counts["triples"]["total"] == 0


def test_provenance_export_brings_back_status_origin_and_confidence(tmp_path: Path) -> None:
    from kgstudio.edit import AddTriple

    with hostile_project(tmp_path / "a.kgs", ["Ada", "Bob"]) as source:
        EditHistory(source).execute(AddTriple(1, "knows", object_id=2, status="candidate", origin="extracted",
                                              confidence=0.25))
        first = tmp_path / "first.nt"
        export_project(source, "nt", first, status="all", provenance=True)
    with Project.create(tmp_path / "b.kgs") as target:
        import_rdf(target, first)
        with target.repositories() as repos:
            knows = [t for t in repos.graph.triples() if t.predicate == "knows"]
        assert [(str(t.status), str(t.origin), t.confidence) for t in knows] == [("candidate", "extracted", 0.25)]


def test_a_foreign_ontology_file_imports_with_local_names(tmp_path: Path, shared_data: Path) -> None:
    with Project.create(tmp_path / "b.kgs") as target:
        report = import_rdf(target, shared_data / "ontologies" / "foaf-0.1.ttl")
        assert report.ontology_terms > 20
        with target.repositories() as repos:
            names = {p.name for p in repos.ontology.properties()}
        assert {"knows", "mbox", "name"} <= names


def test_a_broken_file_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .", encoding="utf-8")
    with Project.create(tmp_path / "b.kgs") as target:
        with pytest.raises(KgstudioError, match="not valid turtle"):
            import_rdf(target, bad)
        with pytest.raises(KgstudioError, match="cannot tell the RDF syntax"):
            import_rdf(target, tmp_path / "x.unknown")
