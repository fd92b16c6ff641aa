"""GraphML for Gephi, Cytoscape and yEd: entities as nodes, entity-to-entity triples as edges.

Nodes carry ``label`` (the name), ``class``, ``iri`` and ``aliases``, plus one
attribute per literal predicate (several values of one predicate are written
as a JSON list). Edges carry ``label`` (the predicate), ``weight`` (the
confidence, 1 when unknown), ``iri``, ``status``, ``origin`` and, with
provenance, the evidence ``documents`` and ``locators``. Two passes over the
store: the first finds the attribute keys, which GraphML declares up front.
XML 1.0 cannot hold NUL and most control characters; they are written as
U+FFFD, with a warning.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, BinaryIO

from kgstudio.domain import EntityStatus
from kgstudio.export.formats import ExportContext, ExportFormat, ExportReport
from kgstudio.export.output import open_file
from kgstudio.export.statements import GraphStatements

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FIXED_NODE_KEYS = [("label", "label"), ("class", "class"), ("iri", "iri"), ("aliases", "aliases")]
EDGE_KEYS = [("e_label", "label", "string"), ("weight", "weight", "double"), ("e_iri", "iri", "string"),
             ("status", "status", "string"), ("origin", "origin", "string"), ("documents", "documents", "string"),
             ("locators", "locators", "string")]


def xml_text(value: str, report: ExportReport) -> str:
    if _XML_ILLEGAL.search(value):
        report.warn("XML cannot hold NUL and other control characters; they were written as U+FFFD")
        value = _XML_ILLEGAL.sub("\ufffd", value)
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;"))  # kept in attributes too


class GraphMlExporter:
    format = ExportFormat("graphml", "GraphML (Gephi, Cytoscape)", ".graphml",
                          description="nodes and edges with labels, classes and weights")

    def write(self, context: ExportContext, out: Path | BinaryIO) -> None:
        source, report = context.source, context.report
        terms = GraphStatements(context)
        predicates: dict[str, str] = {}  # literal predicate -> key id
        for batch in source.entity_batches():
            context.cancel.raise_if_cancelled()
            for entity in batch:
                for triple in entity.triples:
                    if triple.object_iri is None and triple.predicate not in predicates:
                        predicates[triple.predicate] = f"p{len(predicates)}"
        total = source.count_triples()
        with open_file(out) as sink:
            sink.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                       '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
                       'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                       'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
                       'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
            for key, attr in FIXED_NODE_KEYS:
                sink.write(f'  <key id="{key}" for="node" attr.name="{attr}" attr.type="string"/>\n')
            for predicate, key in predicates.items():
                sink.write(f'  <key id="{key}" for="node" attr.name="{xml_text(predicate, report)}" '
                           'attr.type="string"/>\n')
            for key, attr, kind in EDGE_KEYS:
                sink.write(f'  <key id="{key}" for="edge" attr.name="{attr}" attr.type="{kind}"/>\n')
            sink.write('  <graph id="G" edgedefault="directed">\n')
            evidence: dict[int, Any] = {}
            for batch in source.entity_batches():
                context.cancel.raise_if_cancelled()
                if source.with_provenance:
                    evidence = source.evidence([t.id for e in batch for t in e.triples])
                for entity in batch:
                    if entity.status == EntityStatus.MERGED:
                        continue
                    report.entities += 1
                    report.triples += len(entity.triples)
                    sink.write(self._node(entity, terms.entity_iri(entity.id, entity.iri), predicates, report))
                    for triple in entity.triples:
                        if triple.object_id is None:
                            continue
                        data = {"e_label": triple.predicate, "weight": repr(float(
                            triple.confidence if triple.confidence is not None else 1.0)),
                            "e_iri": terms.property_iri(triple.predicate, "object"),
                            "status": triple.status, "origin": triple.origin}
                        items = evidence.get(triple.id)
                        if items:
                            data["documents"] = json.dumps(sorted({i.document_id for i in items
                                                                   if i.document_id is not None}))
                            data["locators"] = json.dumps([i.locator for i in items], ensure_ascii=False)
                        sink.write(f'    <edge id="e{triple.id}" source="n{entity.id}" target="n{triple.object_id}">'
                                   + "".join(f'<data key="{k}">{xml_text(v, report)}</data>' for k, v in data.items())
                                   + "</edge>\n")
                        report.statements += 1
                context.progress(report.triples, total, "exporting")
            sink.write("  </graph>\n</graphml>\n")

    @staticmethod
    def _node(entity: Any, iri: str, predicates: dict[str, str], report: ExportReport) -> str:
        data: dict[str, str] = {"label": entity.name, "iri": iri}
        if entity.class_name:
            data["class"] = entity.class_name
        aliases = [text for text, _ in entity.aliases]
        if aliases:
            data["aliases"] = json.dumps(aliases, ensure_ascii=False)
        values: dict[str, list[str]] = {}
        for triple in entity.triples:
            if triple.object_id is None:
                values.setdefault(predicates[triple.predicate], []).append(triple.literal or "")
        for key, items in values.items():
            data[key] = items[0] if len(items) == 1 else json.dumps(items, ensure_ascii=False)
        report.statements += 1
        return (f'    <node id="n{entity.id}">'
                + "".join(f'<data key="{k}">{xml_text(v, report)}</data>' for k, v in data.items()) + "</node>\n")
