"""RDF exports of a real graph (e-mails and spreadsheets from the shared data): strict parsers, stable output."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import rdflib
from sqlalchemy import func, select

from kgstudio.edit import AddEntity, AddTriple, EditHistory
from kgstudio.errors import KgstudioError
from kgstudio.export import export_formats, export_project
from kgstudio.export.vocabulary import KGS, PROV, RDF, local_name
from kgstudio.progress import CancelToken, Cancelled
from kgstudio.store.schema import TripleRow
from tests.unit.export.helpers import PYOX, RDFLIB, oxigraph_triples, real_project

RDF_FORMATS = ["ttl", "nt", "jsonld", "xml"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory):
    from tests.conftest import require_shared_data

    shared = require_shared_data()
    project = real_project(tmp_path_factory.mktemp("real") / "real.kgs", shared)
    yield project
    project.close()


def test_the_formats_are_registered_as_entry_points() -> None:
    names = {f.name: f for f in export_formats()}
    assert {"ttl", "nt", "jsonld", "xml", "owl", "cypher", "neo4j-csv", "graphml", "csv"} <= set(names)
    assert names["neo4j-csv"].folder and names["csv"].folder and not names["ttl"].folder
    assert names["ttl"].suffix == ".ttl" and names["nt"].suffix == ".nt"


@pytest.mark.parametrize("provenance", [False, True], ids=["plain", "provenance"])
@pytest.mark.parametrize("fmt", RDF_FORMATS + ["owl"])
def test_every_rdf_export_parses_strictly_with_rdflib_and_oxigraph(project, tmp_path: Path, fmt: str,
                                                                     provenance: bool) -> None:
    out = tmp_path / f"graph.{fmt}"
    report = export_project(project, fmt, out, status="all", provenance=provenance)
    assert report.warnings == []
    strict = oxigraph_triples(out, fmt)  # raises on any syntax error, invalid IRI or language tag
    graph = rdflib.Graph()
    graph.parse(out, format=RDFLIB[fmt])
    assert len(graph) == len(set(strict)) == report.statements
    if fmt != "owl":
        counts = project.counts()["triples"]["by_status"]
        assert report.triples == counts["accepted"] + counts["candidate"] + counts["inferred"] > 100


def test_the_graph_is_the_same_in_every_rdf_syntax(project, tmp_path: Path) -> None:
    graphs = []
    for fmt in RDF_FORMATS:
        out = tmp_path / f"graph.{fmt}"
        export_project(project, fmt, out, provenance=True)
        graphs.append(set(oxigraph_triples(out, fmt)))
    assert all(g == graphs[0] for g in graphs[1:])


def test_exports_are_byte_identical_across_runs(project, tmp_path: Path) -> None:
    for fmt in RDF_FORMATS:
        first, second = io.BytesIO(), io.BytesIO()
        export_project(project, fmt, first, provenance=True)
        export_project(project, fmt, second, provenance=True)
        assert first.getvalue() == second.getvalue() != b""


def test_typed_literals_keep_their_datatype_and_exact_text(project, tmp_path: Path) -> None:
    out = tmp_path / "graph.nt"
    export_project(project, "nt", out)
    datatypes = {t.object.datatype.value for t in oxigraph_triples(out, "nt") if hasattr(t.object, "datatype")}
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert {xsd + "date", xsd + "dateTime", xsd + "integer"} <= datatypes
    with project.read() as session:
        stored = set(session.scalars(select(TripleRow.object_literal).where(TripleRow.datatype == "xsd:dateTime")))
    written = {t.object.value for t in oxigraph_triples(out, "nt")
               if hasattr(t.object, "datatype") and t.object.datatype.value == xsd + "dateTime"}
    assert written == stored and stored


def test_provenance_traces_each_fact_to_its_source_file_and_locator(project, tmp_path: Path) -> None:
    out = tmp_path / "graph.ttl"
    export_project(project, "ttl", out, provenance=True)
    graph = rdflib.Graph()
    graph.parse(out, format="turtle")
    query = f"""
        PREFIX rdf: <{RDF}> PREFIX prov: <{PROV}> PREFIX kgs: <{KGS}>
        SELECT ?s ?p ?o ?path ?locator WHERE {{
          ?st a rdf:Statement ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; prov:wasDerivedFrom ?ev .
          ?ev prov:hadPrimarySource ?doc ; kgs:locator ?locator .
          ?doc kgs:path ?path . }}"""
    rows = list(graph.query(query))
    with project.read() as session:
        exported = session.scalar(select(func.count()).select_from(TripleRow)
                                  .where(TripleRow.status.in_(["accepted", "inferred"])))
    assert len({(r.s, r.p, r.o) for r in rows}) == exported
    sheets = [json.loads(str(r.locator)) for r in rows if str(r.path).endswith("testEXCEL.xlsx")]
    assert sheets and all(loc["kind"] == "sheet" and loc["cell_range"] for loc in sheets)
    for s, p, o in {(r.s, r.p, r.o) for r in rows}:
        assert (s, p, o) in graph  # the reified statement is also stated


def test_status_accepted_leaves_candidates_out_and_all_takes_them(project, tmp_path: Path) -> None:
    history = EditHistory(project)
    record = history.execute(AddEntity("A candidate subject"))
    entity_id = next(iter(record.changes.keys("entity")))
    history.execute(AddTriple(entity_id, "maybeKnows", object_literal="unsure", status="candidate"))
    history.execute(AddTriple(entity_id, "wrongly", object_literal="no", status="rejected"))
    try:
        texts = {}
        for status in ("accepted", "all"):
            out = tmp_path / f"{status}.nt"
            export_project(project, "nt", out, status=status)
            texts[status] = out.read_text(encoding="utf-8")
        assert "maybeKnows" not in texts["accepted"] and "maybeKnows" in texts["all"]
        assert "wrongly" not in texts["all"]
    finally:
        for _ in range(3):
            history.undo()


def test_cancel_leaves_the_old_file_in_place(project, tmp_path: Path) -> None:
    out = tmp_path / "graph.ttl"
    out.write_text("previous export", encoding="utf-8")
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        export_project(project, "ttl", out, cancel=cancel)
    assert out.read_text(encoding="utf-8") == "previous export"
    assert list(tmp_path.iterdir()) == [out]


def test_user_mistakes_are_one_line_errors(project, tmp_path: Path) -> None:
    with pytest.raises(KgstudioError, match="unknown export format 'rdf'"):
        export_project(project, "rdf", tmp_path / "x")
    with pytest.raises(KgstudioError, match="unknown status"):
        export_project(project, "ttl", tmp_path / "x", status="candidates")
    with pytest.raises(KgstudioError, match="does not exist"):
        export_project(project, "ttl", tmp_path / "missing" / "x.ttl")


def test_progress_reaches_the_total(project) -> None:
    calls = []
    export_project(project, "nt", io.BytesIO(), progress=lambda d, t, m="": calls.append((d, t)))
    assert calls[-1][0] == calls[-1][1] > 0


def test_local_names_are_xml_names_and_keep_names_apart() -> None:
    import re

    names = ["sender", "Column A", "Prix unitaire (€)", "1st", "", "é", "a.b", "x\x00y", "日本語"]
    locals_ = [local_name(n) for n in names]
    assert len(set(locals_)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", n) for n in locals_)
    assert local_name("sender") == "sender" and local_name("Column A").startswith("columnA.")
