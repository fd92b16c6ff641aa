"""Projects for the export tests: real files from the shared data, and made-up graphs with hostile text."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph

from kgstudio.edit import AddEntity, AddTriple, EditHistory
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project

# E-mails (headers → people, messages) and spreadsheets (rows → typed literals): structure, no LLM.
REAL_FILES = [
    "email/mbox/complex.mbox", "email/enron/testRFC822-CC-BCC.eml", "email/i18n/testRFC822_i18nheaders.eml",
    "email/non_utf8/email-no-utf8-2008-07-16.062410.eml", "email/attachments/attached-pdf.eml",
    "excel/dates/date.xlsx", "excel/formulas/testEXCEL.xlsx", "excel/merged/merged_range.xlsx",
    "excel/xlsm/xlsx_02_sample_sales_data.xlsm",
]

INJECTIONS = [
    'x"}) DETACH DELETE n //', "quote \" and 'single'", "back\\slash \\n not a newline", "line\nbreak\r\nCRLF",
    "tab\there", "nul\x00inside", "emoji 🧪🚀 and 𝕏", "עברית right-to-left \u200f mark", "<a b> & spaces in <iri>",
    "`backtick` ``double``", "]]> <![CDATA[", "\\u0041 escaped-looking", "ends with backslash\\", "\x1f\x7f\x0b",
    "", " ", "--", "// comment", "MATCH (n) DETACH DELETE n;", "{not: 'a map'}", "$param", "\u2028\u2029",
]

PYOX = {"ttl": pyoxigraph.RdfFormat.TURTLE, "nt": pyoxigraph.RdfFormat.N_TRIPLES,
        "jsonld": pyoxigraph.RdfFormat.JSON_LD, "xml": pyoxigraph.RdfFormat.RDF_XML,
        "owl": pyoxigraph.RdfFormat.RDF_XML}
RDFLIB = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "xml": "xml", "owl": "xml"}


def real_project(path: Path, shared_data: Path) -> Project:
    project = Project.create(path)
    report = import_paths(project, [shared_data / f for f in REAL_FILES])
    assert not [f for f in report.files if f.outcome == "failed"], report.to_dict()
    return project


def hostile_project(path: Path, texts: list[str], *, predicate: str = "says", class_name: str = "Thing") -> Project:
    """One entity per text (named by it, with it as alias and as a literal) linked in a chain."""
    project = Project.create(path)
    history = EditHistory(project)
    ids = []
    for text in texts:
        record = history.execute(AddEntity(text if text.strip() else "blank", class_name, aliases=[text]))
        entity_id = next(iter(record.changes.keys("entity")))
        history.execute(AddTriple(entity_id, predicate, object_literal=text))
        ids.append(entity_id)
    for a, b in zip(ids, ids[1:]):
        history.execute(AddTriple(a, predicate, object_id=b))
    return project


def oxigraph_triples(path: Path, fmt: str) -> list[pyoxigraph.Triple]:
    return [q.triple for q in pyoxigraph.parse(path=str(path), format=PYOX[fmt])]
