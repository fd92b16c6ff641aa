"""Hostile text in names, aliases, literals, classes and predicates comes back from every format as data, exactly.

"Exactly" means: equal to what the store holds. XML (RDF/XML, GraphML) cannot
hold NUL and most C0 control characters at all; there they come back as
U+FFFD and the export says so in its warnings.
"""

from __future__ import annotations

import csv
import os
import io
import json
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph
from hypothesis import HealthCheck, example, given, settings, strategies as st

from kgstudio.export import export_project
from kgstudio.export.statements import KGS_TERM_NAME, SKOS_ALT, SKOS_PREF
from kgstudio.export.tables import FORMULA_STARTS, original_text
from kgstudio.store.schema import AliasRow, EntityRow, TripleRow
from tests.unit.export.helpers import INJECTIONS, PYOX, hostile_project

# Any Unicode text a document can hold (no lone surrogates: UTF-8 cannot carry them, nor can the store).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def stored(project) -> tuple[set[str], set[str], set[str], set[str], set[str]]:
    """Names, aliases, literals, predicates and classes as the store holds them."""
    with project.read() as s:
        return ({r for (r,) in s.query(EntityRow.name)}, {r for (r,) in s.query(AliasRow.text)},
                {r for (r,) in s.query(TripleRow.object_literal) if r is not None},
                {r for (r,) in s.query(TripleRow.predicate)}, {r for (r,) in s.query(EntityRow.class_name)})


def check_rdf(project, folder: Path) -> None:
    names, aliases, literals, predicates, classes = stored(project)
    for fmt in ("ttl", "nt", "jsonld", "xml"):
        out = folder / f"g.{fmt}"
        report = export_project(project, fmt, out, status="all", provenance=True)
        triples = [q.triple for q in pyoxigraph.parse(path=str(out), format=PYOX[fmt])]  # strict
        values = {}
        for t in triples:
            if isinstance(t.object, pyoxigraph.Literal):
                values.setdefault(t.predicate.value, set()).add(t.object.value)
        fix = (lambda v: XML_ILLEGAL.sub("\ufffd", v)) if fmt == "xml" else (lambda v: v)
        assert values[SKOS_PREF] == {fix(n) for n in names}, fmt
        assert values.get(SKOS_ALT, set()) == {fix(a) for a in aliases}, fmt
        term_names = values[KGS_TERM_NAME]
        assert {fix(p) for p in predicates} <= term_names and {fix(c) for c in classes} <= term_names, fmt
        data = set().union(*(v for k, v in values.items() if "property/" in k))
        assert {fix(v) for v in literals} <= data | values.get(SKOS_PREF, set()), fmt
        if fmt == "xml" and any(XML_ILLEGAL.search(v) for v in names | aliases | literals | predicates | classes):
            assert report.warnings


def check_tables(project, folder: Path) -> None:
    names, aliases, literals, predicates, classes = stored(project)
    export_project(project, "csv", folder / "csv", status="all")
    with (folder / "csv" / "nodes.csv").open(encoding="utf-8", newline="") as f:
        nodes = list(csv.DictReader(f))
    # Text a spreadsheet would run as a formula carries a leading ' there (tables.py); the rest is exact.
    assert {original_text(n["Label"]) for n in nodes} == names
    assert set().union(*(json.loads(n["Aliases"]) for n in nodes if n["Aliases"])) == aliases
    with (folder / "csv" / "literals.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {original_text(r["Value"]) for r in rows} == literals
    assert {original_text(r["Property"]) for r in rows} <= predicates
    assert not any(cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)
                   for row in nodes + rows for cell in row.values())

    export_project(project, "neo4j-csv", folder / "neo4j", status="all")
    with (folder / "neo4j" / "nodes.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        nodes = [dict(zip(header, row, strict=True)) for row in reader]
    assert {n["name"] for n in nodes} == names
    # U+001F separates list elements there; an element holding it gets U+FFFD (with a warning)
    assert {a for n in nodes for a in n["aliases:string[]"].split("\x1f") if n["aliases:string[]"]} <= {
        a.replace("\x1f", "\ufffd") for a in aliases}
    assert {n[":LABEL"].split("\x1f")[1] for n in nodes} == {
        c.replace("\x00", "\ufffd").replace("\x1f", "\ufffd") or "_" for c in classes}

    export_project(project, "graphml", folder / "g.graphml", status="all")
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(folder / "g.graphml").getroot()
    keys = {k.get("id"): k.get("attr.name") for k in root.findall("g:key", ns)}
    labels = {d.text or "" for d in root.iterfind(".//g:node/g:data[@key='label']", ns)}
    assert labels == {XML_ILLEGAL.sub("\ufffd", n) for n in names}
    assert {XML_ILLEGAL.sub("\ufffd", p) for p in predicates} <= set(keys.values()) | {
        d.text or "" for d in root.iterfind(".//g:edge/g:data[@key='e_label']", ns)}


def test_the_known_injection_strings_survive_every_format(tmp_path: Path) -> None:
    project = hostile_project(tmp_path / "p.kgs", INJECTIONS, predicate='x"}) DETACH DELETE n //',
                              class_name="Evil` DETACH DELETE n //")
    try:
        check_rdf(project, tmp_path)
        check_tables(project, tmp_path)
    finally:
        project.close()


@settings(max_examples=int(os.environ.get("KGSTUDIO_HYPOTHESIS_EXAMPLES", "25")), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXT, min_size=1, max_size=4), predicate=TEXT.filter(lambda t: t.strip()),
       class_name=TEXT.filter(lambda t: t.strip()))
@example(texts=[""], predicate="0\n0\t0", class_name="0")  # found by hypothesis: a newline in a GraphML attribute
def test_any_text_survives_every_format(texts: list[str], predicate: str, class_name: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        project = hostile_project(folder / "p.kgs", texts, predicate=predicate, class_name=class_name)
        try:
            check_rdf(project, folder)
            check_tables(project, folder)
        finally:
            project.close()
