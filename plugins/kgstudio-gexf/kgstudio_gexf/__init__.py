"""An out-of-tree kgstudio exporter: the graph as GEXF 1.3, Gephi's own format.

Entities become nodes (``label`` the name; attributes ``class``, ``iri``,
``aliases`` and one per literal predicate), entity-to-entity triples become
directed edges (``label`` and ``kind`` the predicate, ``weight`` the
confidence, attributes ``status`` and ``origin``; with provenance, the
evidence ``documents`` and ``locators``). Merged entities are left out; their
triples already point at the entity they were merged into.

GEXF declares node attributes before the nodes and wants every node before
the first edge, so the graph is read three times, a batch of entities at a
time, and never held in memory. It imports nothing from kgstudio but
``kgstudio.api``; pyproject.toml holds the one line that registers it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import BinaryIO

from kgstudio.api import (
    EntityRecord,
    EntityStatus,
    EvidenceRecord,
    ExportContext,
    ExportFormat,
    ExportReport,
    TripleRecord,
    open_file,
)

__version__ = "0.1.0"

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
NODE_ATTRIBUTES = [("class", "string"), ("iri", "string"), ("aliases", "string")]
EDGE_ATTRIBUTES = [("status", "string"), ("origin", "string"), ("documents", "string"), ("locators", "string")]


def xml_text(value: str, report: ExportReport) -> str:
    """``value`` escaped for an XML attribute; characters XML 1.0 cannot hold become U+FFFD, with a warning."""
    if _XML_ILLEGAL.search(value):
        report.warn("XML cannot hold NUL and other control characters; they were written as U+FFFD")
        value = _XML_ILLEGAL.sub("\ufffd", value)
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


class GexfExporter:
    """Writes GEXF 1.3 (directed, static) to a path (atomically) or a binary stream."""

    format = ExportFormat("gexf", "GEXF (Gephi)", ".gexf",
                          description="nodes with their attributes, weighted edges labelled by predicate")

    def write(self, context: ExportContext, out: Path | BinaryIO) -> None:
        source, report = context.source, context.report
        literal_keys = self._literal_predicates(context)
        total = source.count_triples()
        nodes: set[int] = set()
        with open_file(out) as sink:
            sink.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                       '<gexf xmlns="http://gexf.net/1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                       'xsi:schemaLocation="http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd" version="1.3">\n'
                       '  <meta><creator>kgstudio</creator></meta>\n'
                       '  <graph mode="static" defaultedgetype="directed">\n'
                       '    <attributes class="node">\n')
            for key, kind in NODE_ATTRIBUTES:
                sink.write(f'      <attribute id="{key}" title="{key}" type="{kind}"/>\n')
            for predicate, key in literal_keys.items():
                sink.write(f'      <attribute id="{key}" title="{xml_text(predicate, report)}" type="string"/>\n')
            sink.write('    </attributes>\n    <attributes class="edge">\n')
            for key, kind in EDGE_ATTRIBUTES:
                sink.write(f'      <attribute id="{key}" title="{key}" type="{kind}"/>\n')
            sink.write('    </attributes>\n    <nodes>\n')
            for batch in source.entity_batches():
                context.cancel.raise_if_cancelled()
                for entity in batch:
                    if entity.status != EntityStatus.MERGED:
                        nodes.add(entity.id)
                        sink.write(self._node(entity, literal_keys, report))
            sink.write('    </nodes>\n    <edges>\n')
            for batch in source.entity_batches():
                context.cancel.raise_if_cancelled()
                evidence = (source.evidence([t.id for e in batch for t in e.triples])
                            if source.with_provenance else {})
                for entity in batch:
                    if entity.id not in nodes:
                        continue
                    report.triples += len(entity.triples)
                    for triple in entity.triples:
                        if triple.object_id is None:
                            continue
                        if triple.object_id not in nodes:
                            report.warn("an edge to a merged or missing entity was left out")
                            continue
                        sink.write(self._edge(entity.id, triple, evidence.get(triple.id), report))
                context.progress(report.triples, total, "exporting GEXF")
            sink.write('    </edges>\n  </graph>\n</gexf>\n')

    @staticmethod
    def _literal_predicates(context: ExportContext) -> dict[str, str]:
        """Every predicate with a literal value, and the attribute id it gets (``p0``, ``p1``, ...)."""
        keys: dict[str, str] = {}
        for batch in context.source.entity_batches():
            context.cancel.raise_if_cancelled()
            for entity in batch:
                for triple in entity.triples:
                    if triple.object_id is None and triple.predicate not in keys:
                        keys[triple.predicate] = f"p{len(keys)}"
        return keys

    @staticmethod
    def _node(entity: EntityRecord, literal_keys: dict[str, str], report: ExportReport) -> str:
        values: dict[str, str] = {"iri": entity.iri}
        if entity.class_name:
            values["class"] = entity.class_name
        aliases = [text for text, _ in entity.aliases]
        if aliases:
            values["aliases"] = json.dumps(aliases, ensure_ascii=False)
        literals: dict[str, list[str]] = {}
        for triple in entity.triples:
            if triple.object_id is None:
                literals.setdefault(literal_keys[triple.predicate], []).append(triple.literal or "")
        for key, items in literals.items():
            values[key] = items[0] if len(items) == 1 else json.dumps(items, ensure_ascii=False)
        report.entities += 1
        report.statements += 1
        attvalues = "".join(f'<attvalue for="{key}" value="{xml_text(value, report)}"/>'
                            for key, value in values.items())
        return (f'      <node id="n{entity.id}" label="{xml_text(entity.name, report)}">'
                f'<attvalues>{attvalues}</attvalues></node>\n')

    @staticmethod
    def _edge(subject: int, triple: TripleRecord, evidence: list[EvidenceRecord] | None,
              report: ExportReport) -> str:
        weight = float(triple.confidence) if triple.confidence is not None else 1.0
        values = {"status": triple.status, "origin": triple.origin}
        if evidence:
            values["documents"] = json.dumps(sorted({e.document_id for e in evidence if e.document_id is not None}))
            values["locators"] = json.dumps([e.locator for e in evidence], ensure_ascii=False)
        report.statements += 1
        predicate = xml_text(triple.predicate, report)
        attvalues = "".join(f'<attvalue for="{key}" value="{xml_text(value, report)}"/>'
                            for key, value in values.items())
        return (f'      <edge id="e{triple.id}" source="n{subject}" target="n{triple.object_id}" '
                f'label="{predicate}" kind="{predicate}" weight="{weight!r}"><attvalues>{attvalues}</attvalues>'
                '</edge>\n')
