"""The project's graph as RDF statements, grouped by subject, streamed from the store.

Terms are plain values: an IRI is a ``str``, a literal a :class:`Lit`. There
are no blank nodes, so every export of an unchanged project is byte-identical.

What is written, per entity: its class (``rdf:type``), its name (``skos:prefLabel``
and ``rdfs:label``), its aliases (``skos:altLabel``; import keys such as
``mailto:…`` as ``kgs:importKey``), ``owl:sameAs`` the entity it was merged into,
and its triples. After the entities, every predicate and class used is declared
(``owl:ObjectProperty`` / ``owl:DatatypeProperty`` / ``owl:Class``, label, domain,
range, and ``kgs:termName``, the exact name in the project, so an import gives
the same names back).

Provenance (optional) is PROV-O over standard RDF reification: each exported
triple gets a statement node ``{base}statement/{id}`` (``rdf:Statement``,
``prov:Entity``; ``rdf:subject/predicate/object``; ``kgs:status``, ``kgs:origin``,
``kgs:confidence``) that ``prov:wasDerivedFrom`` one evidence node per piece of
evidence ``{base}evidence/{id}`` (``prov:Entity`` with ``prov:hadPrimarySource``
the document, the locator as JSON and spelled out — page, sheet, cell range,
row, message id, part, lines — the character span and the quoted text) and
``prov:wasGeneratedBy`` the run ``{base}run/{id}`` (``prov:Activity`` with stage,
prompt version, times, ``prov:wasAssociatedWith`` the model, a
``prov:SoftwareAgent``). Documents are ``{base}document/{id}`` (``prov:Entity``,
path, title, SHA-256, kind; an attachment ``prov:wasDerivedFrom`` its parent).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from kgstudio.domain import EntityStatus, OntologyClass, OntologyProperty
from kgstudio.export.formats import ExportContext
from kgstudio.export.source import EntityRecord, EvidenceRecord, GraphSource, TripleRecord
from kgstudio.export.vocabulary import (
    KGS,
    KGS_ONTOLOGY,
    OWL,
    PROV,
    RDF,
    RDF_TYPE,
    RDFS,
    SKOS,
    XSD,
    Vocabulary,
    datatype_iri,
    is_valid_iri,
    safe_iri,
)

KEY_ALIAS_ORIGIN = "key"  # kgstudio.edit.import_commands.KEY_ALIAS_ORIGIN (export may not import edit)

RDFS_LABEL = RDFS + "label"
SKOS_PREF = SKOS + "prefLabel"
SKOS_ALT = SKOS + "altLabel"
OWL_SAME_AS = OWL + "sameAs"
KGS_IMPORT_KEY = KGS + "importKey"
KGS_TERM_NAME = KGS + "termName"
XSD_INTEGER = XSD + "integer"
XSD_DOUBLE = XSD + "double"
XSD_DATETIME = XSD + "dateTime"

_LANG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*\Z")
_SAFE_ENTITY_TAIL = re.compile(r"[A-Za-z0-9._~/-]+\Z")
_LOCATOR_FIELDS = {
    "page": XSD_INTEGER, "sheet": None, "cell_range": None, "row": XSD_INTEGER, "message_id": None,
    "part_path": None, "line_start": XSD_INTEGER, "line_end": XSD_INTEGER, "char_start": XSD_INTEGER,
    "char_end": XSD_INTEGER,
}
_LOCATOR_PREDICATES = {
    "page": "page", "sheet": "sheet", "cell_range": "cellRange", "row": "row", "message_id": "messageId",
    "part_path": "partPath", "line_start": "lineStart", "line_end": "lineEnd", "char_start": "charStart",
    "char_end": "charEnd",
}


class Lit(NamedTuple):
    """A literal: its exact text, a datatype IRI (None for xsd:string) and a language tag."""

    value: str
    datatype: str | None = None
    lang: str | None = None


Term = str | Lit
Block = tuple[str, list[tuple[str, Term]]]  # a subject and its (predicate, object) pairs


@dataclass
class UsedTerms:
    """Predicates and classes an export used, for their declarations at the end."""

    properties: dict[str, tuple[str, str]] = field(default_factory=dict)  # iri -> (name, "object"/"data")
    classes: dict[str, str] = field(default_factory=dict)  # iri -> name


class GraphStatements:
    """Turns a :class:`GraphSource` into subject blocks; one instance per export."""

    def __init__(self, context: ExportContext) -> None:
        self.context = context
        self.source: GraphSource = context.source
        classes, properties = self.source.ontology()
        self.vocabulary = Vocabulary.build(self.source.base_iri, classes, properties)
        self.entity_namespace = self.vocabulary.base_iri + "entity/"
        self.used = UsedTerms()
        self._property_cache: dict[str, str] = {}
        self._class_cache: dict[str, str] = {}
        self._datatype_cache: dict[str | None, str | None] = {None: None}
        self._seen_documents: set[int] = set()
        self._foreign_iris: dict[str, str] = {}
        self._seen_runs: set[int] = set()
        self._seen_models: set[str] = set()

    # --- the stream ----------------------------------------------------------------

    def blocks(self, *, declarations: bool = True) -> Iterator[Block]:
        """Every subject block of the graph, then (optionally) the declarations of the terms used."""
        report, progress, cancel = self.context.report, self.context.progress, self.context.cancel
        total = self.source.count_triples()
        progress(0, total, "exporting")
        for batch in self.source.entity_batches():
            cancel.raise_if_cancelled()
            evidence = {}
            if self.source.with_provenance:
                evidence = self.source.evidence([t.id for e in batch for t in e.triples])
            for entity in batch:
                yield self.entity_block(entity)
                report.entities += 1
                report.triples += len(entity.triples)
                if self.source.with_provenance:
                    yield from self.provenance_blocks(entity, evidence)
            progress(report.triples, total, "exporting")
        if declarations:
            yield from self.declaration_blocks()
        progress(report.triples, total, "exported")

    def entity_iri(self, entity_id: int, stored: str) -> str:
        """The stored IRI, or (if it could not be written) a replacement derived from it."""
        if stored.startswith(self.entity_namespace) and _SAFE_ENTITY_TAIL.match(stored, len(self.entity_namespace)):
            return stored
        known = self._foreign_iris.get(stored)
        if known is not None:
            return known
        cleaned = safe_iri(stored)
        if not is_valid_iri(cleaned):
            cleaned = f"{self.entity_namespace}iri-{hashlib.sha256(stored.encode()).hexdigest()[:16]}"
            self.context.report.warn(f"entity {entity_id}: its IRI {stored!r} is not a valid IRI; "
                                     f"exported as {cleaned}")
        if len(self._foreign_iris) < 200_000:  # IRIs that came from elsewhere (an RDF import), checked once
            self._foreign_iris[stored] = cleaned
        return cleaned

    def entity_block(self, entity: EntityRecord) -> Block:
        pairs: list[tuple[str, Term]] = []
        if entity.class_name:
            pairs.append((RDF_TYPE, self.class_iri(entity.class_name)))
        pairs.append((SKOS_PREF, Lit(entity.name)))
        pairs.append((RDFS_LABEL, Lit(entity.name)))
        for text, origin in entity.aliases:
            pairs.append((KGS_IMPORT_KEY if origin == KEY_ALIAS_ORIGIN else SKOS_ALT, Lit(text)))
        if entity.status == EntityStatus.MERGED and entity.merged_into_iri:
            pairs.append((OWL_SAME_AS, self.entity_iri(entity.id, entity.merged_into_iri)))
        # The hot loop of every RDF export: one pass per triple, with the lookups inlined.
        properties, datatypes, entity_namespace = self._property_cache, self._datatype_cache, self.entity_namespace
        safe_tail, namespace_length = _SAFE_ENTITY_TAIL.match, len(entity_namespace)
        append = pairs.append
        for triple in entity.triples:
            _, _, name, object_id, object_iri, literal, datatype, lang, _, _, _ = triple
            predicate = properties.get(name)
            if predicate is None or (object_iri is not None and self.used.properties[predicate][1] != "object"):
                predicate = self.property_iri(name, "data" if object_iri is None else "object")
            if object_iri is not None:
                if not (object_iri.startswith(entity_namespace) and safe_tail(object_iri, namespace_length)):
                    object_iri = self.entity_iri(object_id or 0, object_iri)
                append((predicate, object_iri))
            elif lang or datatype not in datatypes:
                append((predicate, self.literal(triple)))
            else:
                append((predicate, Lit(literal or "", datatypes[datatype], None)))
        return self.entity_iri(entity.id, entity.iri), pairs

    def triple_pair(self, triple: TripleRecord) -> tuple[str, Term]:
        predicate = self.property_iri(triple.predicate, "object" if triple.object_iri is not None else "data")
        if triple.object_iri is not None:
            return predicate, self.entity_iri(triple.object_id or 0, triple.object_iri)
        return predicate, self.literal(triple)

    def literal(self, triple: TripleRecord) -> Lit:
        lang = triple.lang
        if lang:
            if _LANG.match(lang):
                return Lit(triple.literal or "", None, lang)
            self.context.report.warn(f"triple {triple.id}: language tag {lang!r} is not valid; left out")
        datatype = triple.datatype
        if datatype not in self._datatype_cache:
            self._datatype_cache[datatype] = datatype_iri(datatype)
        return Lit(triple.literal or "", self._datatype_cache[datatype], None)

    def property_iri(self, name: str, kind: str) -> str:
        iri = self._property_cache.get(name)
        if iri is None:
            iri = self._property_cache[name] = self.vocabulary.property_iri(name)
        used = self.used.properties.get(iri)
        if used is None or (kind == "object" and used[1] != "object"):  # used with entities at all: object property
            self.used.properties[iri] = (name, kind)
        return iri

    def class_iri(self, name: str) -> str:
        iri = self._class_cache.get(name)
        if iri is None:
            iri = self._class_cache[name] = self.vocabulary.class_iri(name)
            self.used.classes.setdefault(iri, name)
        return iri

    # --- provenance ----------------------------------------------------------------

    def provenance_blocks(self, entity: EntityRecord, evidence: dict[int, list[EvidenceRecord]]) -> Iterator[Block]:
        node = self.vocabulary.node_iri
        subject = self.entity_iri(entity.id, entity.iri)
        for triple in entity.triples:
            predicate, obj = self.triple_pair(triple)
            pairs: list[tuple[str, Term]] = [
                (RDF_TYPE, RDF + "Statement"), (RDF_TYPE, PROV + "Entity"),
                (RDF + "subject", subject), (RDF + "predicate", predicate), (RDF + "object", obj),
                (KGS + "status", Lit(triple.status)), (KGS + "origin", Lit(triple.origin)),
            ]
            if triple.confidence is not None:
                pairs.append((KGS + "confidence", Lit(repr(float(triple.confidence)), XSD_DOUBLE)))
            items = evidence.get(triple.id, [])
            runs = sorted({e.run_id for e in items if e.run_id is not None})
            pairs.extend((PROV + "wasDerivedFrom", node("evidence", e.id)) for e in items)
            pairs.extend((PROV + "wasGeneratedBy", node("run", r)) for r in runs)
            yield node("statement", triple.id), pairs
            for item in items:
                yield from self.evidence_blocks(item)

    def evidence_blocks(self, item: EvidenceRecord) -> Iterator[Block]:
        node = self.vocabulary.node_iri
        pairs: list[tuple[str, Term]] = [(RDF_TYPE, PROV + "Entity"), (RDF_TYPE, KGS + "Evidence")]
        if item.document_id is not None:
            pairs.append((PROV + "hadPrimarySource", node("document", item.document_id)))
        if item.locator is not None:
            pairs.append((KGS + "locator", Lit(json.dumps(item.locator, ensure_ascii=False, sort_keys=True))))
            pairs.extend(_locator_pairs(item.locator))
        if item.span_start is not None:
            pairs.append((KGS + "spanStart", Lit(str(item.span_start), XSD_INTEGER)))
        if item.span_end is not None:
            pairs.append((KGS + "spanEnd", Lit(str(item.span_end), XSD_INTEGER)))
        if item.quote is not None:
            pairs.append((PROV + "value", Lit(item.quote)))
        if item.run_id is not None:
            pairs.append((PROV + "wasGeneratedBy", node("run", item.run_id)))
        yield node("evidence", item.id), pairs
        if item.document_id is not None:
            yield from self.document_blocks(item.document_id)
        if item.run_id is not None and item.run_id not in self._seen_runs:
            self._seen_runs.add(item.run_id)
            yield from self.run_blocks(item.run_id)

    def document_blocks(self, document_id: int) -> Iterator[Block]:
        while document_id not in self._seen_documents:
            self._seen_documents.add(document_id)
            document = self.source.document(document_id)
            if document is None:
                return
            pairs: list[tuple[str, Term]] = [
                (RDF_TYPE, PROV + "Entity"), (RDF_TYPE, KGS + "SourceDocument"),
                (KGS + "path", Lit(document.path)), (KGS + "sha256", Lit(document.sha256)),
                (KGS + "documentKind", Lit(document.kind)),
            ]
            if document.title:
                pairs.append((RDFS_LABEL, Lit(document.title)))
            if document.parent_id is not None:
                pairs.append((PROV + "wasDerivedFrom", self.vocabulary.node_iri("document", document.parent_id)))
            yield self.vocabulary.node_iri("document", document.id), pairs
            if document.parent_id is None:
                return
            document_id = document.parent_id

    def run_blocks(self, run_id: int) -> Iterator[Block]:
        run = self.source.run(run_id)
        if run is None:
            return
        node = self.vocabulary.node_iri
        pairs: list[tuple[str, Term]] = [(RDF_TYPE, PROV + "Activity"), (KGS + "stage", Lit(run.stage))]
        if run.prompt_version:
            pairs.append((KGS + "promptVersion", Lit(run.prompt_version)))
        if run.started_at:
            pairs.append((PROV + "startedAtTime", Lit(run.started_at, XSD_DATETIME)))
        if run.finished_at:
            pairs.append((PROV + "endedAtTime", Lit(run.finished_at, XSD_DATETIME)))
        model_node = None
        if run.model:
            model_node = node("model", hashlib.sha256(run.model.encode()).hexdigest()[:16])
            pairs.append((PROV + "wasAssociatedWith", model_node))
        yield node("run", run.id), pairs
        if model_node is not None and model_node not in self._seen_models:
            self._seen_models.add(model_node)
            yield model_node, [(RDF_TYPE, PROV + "SoftwareAgent"), (RDFS_LABEL, Lit(run.model or ""))]

    # --- declarations ----------------------------------------------------------------

    def declaration_blocks(self, *, everything: bool = False) -> Iterator[Block]:
        """``owl:Class`` / property declarations of the terms used (with ``everything``, the whole ontology too)."""
        vocabulary = self.vocabulary
        classes: dict[str, tuple[str, OntologyClass | None]] = {}
        properties: dict[str, tuple[str, str, OntologyProperty | None]] = {}
        if everything:
            for cls in vocabulary.classes.values():
                classes[self.class_iri(cls.name)] = (cls.name, cls)
            for prop in vocabulary.properties.values():
                properties[self.property_iri(prop.name, prop.kind)] = (prop.name, prop.kind, prop)
        for iri, name in self.used.classes.items():
            classes.setdefault(iri, (name, vocabulary.classes.get(name)))
        for iri, (name, kind) in self.used.properties.items():
            properties.setdefault(iri, (name, kind, vocabulary.properties.get(name)))
        for iri, (name, cls) in classes.items():
            pairs: list[tuple[str, Term]] = [(RDF_TYPE, OWL + "Class"),
                                             (RDFS_LABEL, Lit((cls.label if cls else None) or name)),
                                             (KGS_TERM_NAME, Lit(name))]
            if cls is not None and cls.parent:
                pairs.append((RDFS + "subClassOf", self.class_iri(cls.parent)))
            if cls is not None and cls.description:
                pairs.append((RDFS + "comment", Lit(cls.description)))
            yield iri, pairs
        for iri, (name, kind, prop) in properties.items():
            kind = prop.kind if prop is not None else kind
            pairs = [(RDF_TYPE, OWL + ("ObjectProperty" if kind == "object" else "DatatypeProperty"))]
            if prop is not None and prop.functional:
                pairs.append((RDF_TYPE, OWL + "FunctionalProperty"))
            pairs.append((RDFS_LABEL, Lit((prop.label if prop else None) or name)))
            pairs.append((KGS_TERM_NAME, Lit(name)))
            if prop is not None and prop.domain:
                pairs.append((RDFS + "domain", self.class_iri(prop.domain)))
            if prop is not None and prop.range:
                if kind == "object":
                    pairs.append((RDFS + "range", self.class_iri(prop.range)))
                else:
                    pairs.append((RDFS + "range", datatype_iri(prop.range) or XSD + "string"))
            yield iri, pairs

    def ontology_header(self) -> Block:
        return (self.vocabulary.base_iri + "ontology", [
            (RDF_TYPE, OWL + "Ontology"), (RDFS_LABEL, Lit(f"ontology of the kgstudio project {self.source.project.name}")),
            (RDFS + "seeAlso", KGS_ONTOLOGY),
        ])


def _locator_pairs(locator: dict) -> Iterator[tuple[str, Term]]:
    """The fields of a locator (and of the locator nested in an attachment) as plain properties."""
    while locator:
        for key, datatype in _LOCATOR_FIELDS.items():
            value = locator.get(key)
            if value is not None and not isinstance(value, (dict, list)):
                yield KGS + _LOCATOR_PREDICATES[key], Lit(str(value), datatype)
        inner = locator.get("inner")
        locator = inner if isinstance(inner, dict) else None
