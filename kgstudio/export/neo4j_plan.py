"""The graph as Neo4j sees it: nodes with labels and properties, typed relationships.

One plan feeds three outputs — the Cypher script, the neo4j-admin CSV bundle
and the Bolt push — so they cannot disagree. Mapping:

* an active entity is a node labelled ``Entity`` and its class; ``iri`` (the
  stable id every write MERGEs on), ``name``, ``aliases``, ``kgstudio_id``;
* a triple with a literal object is a node property named after the predicate
  (a list when an entity has several values). Integers (canonical, 64-bit),
  booleans and ``xsd:date`` values become Neo4j integers, booleans and dates;
  anything else stays the exact text. A predicate whose name clashes with one
  of the node's own keys gets ``_`` appended;
* a triple between entities is a relationship whose type is the predicate's
  name, MERGEd on ``key`` (a hash of subject, predicate IRI and object), with
  ``predicate``, ``iri``, ``status``, ``origin``, ``confidence``, ``kgstudio_id``
  and, with provenance, ``documents`` and ``locators`` (JSON) of its evidence.

Merged entities are left out (their triples were moved to the entity they
were merged into). Label, type and key names are written back-quoted; a NUL
in one (Neo4j refuses it in names) becomes U+FFFD.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kgstudio.domain import EntityStatus
from kgstudio.export.formats import ExportContext
from kgstudio.export.source import EntityRecord, EvidenceRecord
from kgstudio.export.statements import GraphStatements

ENTITY_LABEL = "Entity"
NODE_KEYS = ("iri", "name", "aliases", "kgstudio_id")
INT64 = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass
class NodeRow:
    iri: str
    labels: list[str]  # "Entity" first, then the class
    properties: dict[str, Any]


@dataclass
class RelationshipRow:
    start: str
    end: str
    type: str
    key: str
    properties: dict[str, Any]


@dataclass
class Neo4jBatch:
    """The nodes and relationships of one batch of entities."""

    nodes: list[NodeRow] = field(default_factory=list)
    relationships: list[RelationshipRow] = field(default_factory=list)


def name(text: str) -> str:
    """A label, relationship type or property key Neo4j accepts (before back-quoting)."""
    cleaned = text.replace("\x00", "\ufffd")
    return cleaned if cleaned else "_"


def backquote(text: str) -> str:
    """A back-quoted Cypher name: backticks inside are doubled."""
    return "`" + name(text).replace("`", "``") + "`"


def typed_value(literal: str, datatype: str | None, lang: str | None) -> Any:
    """The Neo4j value of a literal: int, bool or date where that loses nothing, else the exact text."""
    if lang or not datatype:
        return literal
    if datatype in ("xsd:integer", "xsd:int", "xsd:long", _XSD + "integer", _XSD + "int", _XSD + "long"):
        if _INTEGER.match(literal) and INT64[0] <= int(literal) <= INT64[1]:
            return int(literal)
    elif datatype in ("xsd:boolean", _XSD + "boolean"):
        if literal in ("true", "false"):
            return literal == "true"
    elif datatype in ("xsd:date", _XSD + "date") and _DATE.match(literal):
        try:
            return dt.date.fromisoformat(literal)
        except ValueError:
            return literal
    return literal


def relationship_key(start: str, predicate_iri: str, end: str) -> str:
    return hashlib.sha256(f"{start}\x00{predicate_iri}\x00{end}".encode()).hexdigest()[:32]


class Neo4jPlan:
    """Batches of nodes and relationships for one export."""

    def __init__(self, context: ExportContext) -> None:
        self.context = context
        self.statements = GraphStatements(context)

    def batches(self) -> Iterator[Neo4jBatch]:
        source, report = self.context.source, self.context.report
        total = source.count_triples()
        self.context.progress(0, total, "exporting")
        for entities in source.entity_batches():
            self.context.cancel.raise_if_cancelled()
            evidence = {}
            if source.with_provenance:
                evidence = source.evidence([t.id for e in entities for t in e.triples])
            batch = Neo4jBatch()
            for entity in entities:
                if entity.status == EntityStatus.MERGED:
                    continue
                self._add(batch, entity, evidence)
                report.entities += 1
                report.triples += len(entity.triples)
            yield batch
            self.context.progress(report.triples, total, "exporting")

    def _add(self, batch: Neo4jBatch, entity: EntityRecord, evidence: dict[int, list[EvidenceRecord]]) -> None:
        iri = self.statements.entity_iri(entity.id, entity.iri)
        properties: dict[str, Any] = {"iri": iri, "name": entity.name, "kgstudio_id": entity.id}
        aliases = [text for text, _ in entity.aliases]
        if aliases:
            properties["aliases"] = aliases
        values: dict[str, list[Any]] = {}
        for triple in entity.triples:
            if triple.object_iri is None:
                key = name(triple.predicate)
                while key in NODE_KEYS:
                    key += "_"
                values.setdefault(key, []).append(typed_value(triple.literal or "", triple.datatype, triple.lang))
                continue
            predicate_iri = self.statements.property_iri(triple.predicate, "object")
            end = self.statements.entity_iri(triple.object_id or 0, triple.object_iri)
            rel: dict[str, Any] = {"predicate": triple.predicate, "iri": predicate_iri, "status": triple.status,
                                   "origin": triple.origin, "kgstudio_id": triple.id}
            if triple.confidence is not None:
                rel["confidence"] = float(triple.confidence)
            items = evidence.get(triple.id)
            if items:
                rel["documents"] = sorted({i.document_id for i in items if i.document_id is not None})
                rel["locators"] = [json.dumps(i.locator, ensure_ascii=False, sort_keys=True)
                                   for i in items if i.locator is not None]
                if not rel["documents"]:
                    del rel["documents"]
                if not rel["locators"]:
                    del rel["locators"]
            batch.relationships.append(RelationshipRow(iri, end, name(triple.predicate),
                                                       relationship_key(iri, predicate_iri, end), rel))
        for key, items in values.items():
            if len(items) == 1:
                properties[key] = items[0]
            elif len({type(v) for v in items}) == 1:
                properties[key] = items
            else:  # Neo4j lists hold one type: mixed values stay text
                properties[key] = [v.isoformat() if isinstance(v, dt.date) else
                                   ("true" if v is True else "false" if v is False else str(v)) for v in items]
        labels = [ENTITY_LABEL]
        if entity.class_name and name(entity.class_name) != ENTITY_LABEL:
            labels.append(name(entity.class_name))
        batch.nodes.append(NodeRow(iri, labels, properties))
