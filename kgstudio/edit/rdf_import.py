"""Loading an RDF file (Turtle, N-Triples, ...) into a project: entities, triples and ontology terms.

The file is parsed strictly and streamed by Oxigraph (no literal is
normalised: ``"01"^^xsd:integer`` stays ``01``). What kgstudio's own RDF
export writes comes back as it was: entities keep their IRIs, names
(``skos:prefLabel``, else ``rdfs:label``), classes (``rdf:type``), aliases
(``skos:altLabel``, ``kgs:importKey``) and merges (``owl:sameAs``); predicates
and classes get back their exact names (``kgs:termName``), and with a
provenance export the status, origin and confidence of each triple. Any other
RDF file works too: a term's name is then its IRI's local name.

Graph rows change through one :class:`ImportRdfGraph` edit (undoable, in the
audit log). Terms that need a name → IRI entry go into the project ontology
(which is not part of the undo history, like the rest of the schema). An
entity whose IRI is already in the project is reused, and a triple already
there is not added twice, so importing the same file again changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from kgstudio.domain import Actor, EntityStatus, OntologyClass, OntologyProperty, Origin, TripleStatus
from kgstudio.domain.iris import mint_entity_iri
from kgstudio.edit.commands import EditCommand, EditContext, register
from kgstudio.edit.history import EditHistory
from kgstudio.edit.import_commands import KEY_ALIAS_ORIGIN
from kgstudio.errors import KgstudioError
from kgstudio.progress import CancelToken, Progress, no_progress
from kgstudio.store import Project

# The vocabulary of kgstudio's RDF export (kgstudio.export.vocabulary; edit may not import export).
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
KGS = "https://w3id.org/kgstudio/ontology#"
RDF_TYPE = RDF + "type"
SCHEMA_TYPES = {OWL + "Class", RDFS + "Class", OWL + "ObjectProperty", OWL + "DatatypeProperty", RDF + "Property",
                OWL + "AnnotationProperty", OWL + "FunctionalProperty", OWL + "Ontology"}
# Nodes an export adds for provenance: read for status/origin/confidence, not imported as entities.
PROVENANCE_TYPES = {RDF + "Statement", KGS + "Evidence", KGS + "SourceDocument", PROV + "Activity",
                    PROV + "SoftwareAgent"}
FORMATS = {".ttl": "turtle", ".nt": "n-triples", ".nq": "n-quads", ".trig": "trig", ".rdf": "rdf/xml",
           ".owl": "rdf/xml", ".xml": "rdf/xml", ".jsonld": "json-ld", ".n3": "n3"}


@register
@dataclass
class ImportRdfGraph(EditCommand):
    """Add entities (by IRI) and triples read from an RDF file.

    ``entities``: ``{"iri", "name", "class", "aliases": [[text, origin]], "same_as": iri | None}``;
    ``triples``: ``{"subject", "predicate", "object" (iri) | "literal", "datatype", "lang", "status",
    "origin", "confidence"}``.
    """

    op: ClassVar[str] = "import_rdf_graph"
    source: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    triples: list[dict[str, Any]] = field(default_factory=list)

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        ids = dict(journal.keys_in("entity", "iri", [e["iri"] for e in self.entities]))
        existing = set(ids.values())
        new = [e for e in self.entities if e["iri"] not in ids]
        new_ids = journal.insert_many("entity", [
            {"name": e["name"], "class_name": e.get("class"), "iri": e["iri"], "status": str(EntityStatus.ACTIVE),
             "merged_into": None} for e in new])
        ids.update((e["iri"], i) for e, i in zip(new, new_ids, strict=True))
        journal.insert_many("alias", [
            {"entity_id": ids[e["iri"]], "text": text, "origin": origin}
            for e in new for text, origin in e.get("aliases", [])])
        for entity in new:
            target = entity.get("same_as")
            if target and target in ids and ids[target] != ids[entity["iri"]]:
                journal.update("entity", ids[entity["iri"]], status=str(EntityStatus.MERGED),
                               merged_into=ids[target])
                journal.insert("merge", {"from_id": ids[entity["iri"]], "into_id": ids[target], "actor": ctx.actor,
                                         "reason": f"owl:sameAs in {self.source}", "score": None})
        known = {_identity(row) for row in journal.rows_in("triple", "subject_id", existing)}
        rows = []
        for triple in self.triples:
            values = {"subject_id": ids[triple["subject"]], "predicate": triple["predicate"],
                      "object_id": ids[triple["object"]] if triple.get("object") is not None else None,
                      "object_literal": triple.get("literal"), "datatype": triple.get("datatype"),
                      "lang": triple.get("lang")}
            identity = _identity(values)
            if identity in known:
                continue
            known.add(identity)
            rows.append({**values, "status": triple.get("status", str(TripleStatus.ACCEPTED)),
                         "origin": triple.get("origin", str(Origin.MANUAL)), "confidence": triple.get("confidence"),
                         "status_reason": None})
        journal.insert_many("triple", rows)

    def describe(self) -> str:
        return f"import {len(self.entities)} entities and {len(self.triples)} triples from {self.source}"

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "source": self.source, "entities": len(self.entities), "triples": len(self.triples)}


def _identity(row: dict[str, Any]) -> tuple:
    return tuple(row[k] for k in ("subject_id", "predicate", "object_id", "object_literal", "datatype", "lang"))


@dataclass
class RdfImportReport:
    path: str
    statements: int = 0
    entities: int = 0
    triples: int = 0
    ontology_terms: int = 0
    edit_id: int | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "seconds": round(self.seconds, 3)}


def import_rdf(project: Project, path: str | Path, *, fmt: str | None = None, progress: Progress | None = None,
               cancel: CancelToken | None = None) -> RdfImportReport:
    """Load an RDF file into ``project`` (one undoable edit); returns what was added."""
    progress, cancel = progress or no_progress, cancel or CancelToken()
    started = time.perf_counter()
    path = Path(path)
    report = RdfImportReport(str(path))
    reader = _GraphReader(project)
    for count, (s, p, o) in enumerate(_parse(path, fmt), 1):
        try:
            reader.add(s, p, o)
        except KgstudioError as exc:
            raise KgstudioError(f"{path}: {exc}") from None
        if count % 50_000 == 0:
            cancel.raise_if_cancelled()
            progress(count, None, f"reading {path.name}")
        report.statements = count
    cancel.raise_if_cancelled()
    entities, triples, classes, properties = reader.result()
    with project.transaction() as repos:
        names = {c.name for c in repos.ontology.classes()}
        for cls in classes:
            if cls.name not in names:
                repos.ontology.add_class(cls)
                report.ontology_terms += 1
        names = {p.name for p in repos.ontology.properties()}
        for prop in properties:
            if prop.name not in names:
                repos.ontology.add_property(prop)
                report.ontology_terms += 1
    if entities or triples:
        history = EditHistory(project)
        try:
            record = history.execute(ImportRdfGraph(path.name, entities, triples), actor=Actor.IMPORT,
                                     reason=f"read from {path}")
        except KgstudioError as exc:
            if "nothing to change" not in str(exc):
                raise
        else:
            report.edit_id = record.id
            report.entities = len(record.changes.keys("entity"))
            report.triples = len(record.changes.keys("triple"))
    report.seconds = time.perf_counter() - started
    progress(report.statements, report.statements, "imported")
    return report


def _parse(path: Path, fmt: str | None) -> Iterator[tuple[Any, str, Any]]:
    import pyoxigraph

    name = fmt or FORMATS.get(path.suffix.lower())
    formats = {"turtle": pyoxigraph.RdfFormat.TURTLE, "n-triples": pyoxigraph.RdfFormat.N_TRIPLES,
               "n-quads": pyoxigraph.RdfFormat.N_QUADS, "trig": pyoxigraph.RdfFormat.TRIG,
               "rdf/xml": pyoxigraph.RdfFormat.RDF_XML, "json-ld": pyoxigraph.RdfFormat.JSON_LD,
               "n3": pyoxigraph.RdfFormat.N3, "ttl": pyoxigraph.RdfFormat.TURTLE,
               "nt": pyoxigraph.RdfFormat.N_TRIPLES, "xml": pyoxigraph.RdfFormat.RDF_XML,
               "jsonld": pyoxigraph.RdfFormat.JSON_LD}
    if name not in formats:
        raise KgstudioError(f"{path}: cannot tell the RDF syntax from the name; give the format "
                            f"({', '.join(sorted(set(FORMATS.values())))})")
    if not path.is_file():
        raise KgstudioError(f"{path}: no such file")
    try:
        # Relative IRIs (some published ontologies have them) resolve against the file itself.
        for quad in pyoxigraph.parse(path=str(path), format=formats[name], base_iri=path.resolve().as_uri()):
            yield quad.subject, quad.predicate.value, quad.object
    except SyntaxError as exc:
        raise KgstudioError(f"{path}: not valid {name}: {exc}") from None


class _GraphReader:
    """Sorts statements into entities, triples, term declarations and provenance."""

    def __init__(self, project: Project) -> None:
        self.base_iri = project.base_iri
        self.types: dict[str, list[str]] = {}
        self.pref: dict[str, str] = {}
        self.labels: dict[str, list[str]] = {}
        self.term_names: dict[str, str] = {}
        self.aliases: dict[str, list[list[str]]] = {}
        self.same_as: dict[str, str] = {}
        self.meta: dict[str, dict[str, Any]] = {}  # schema / provenance nodes: their properties
        self.data: list[tuple[str, str, Any]] = []
        self.nodes: dict[str, None] = {}  # entity subjects and objects, in order of appearance
        self.blank: dict[str, str] = {}

    def node(self, term: Any) -> str:
        import pyoxigraph

        if isinstance(term, pyoxigraph.BlankNode):
            if term.value not in self.blank:
                self.blank[term.value] = mint_entity_iri(self.base_iri, "blank")
            return self.blank[term.value]
        if isinstance(term, pyoxigraph.Triple):  # RDF-star: a statement about a statement
            raise KgstudioError(f"quoted triples (RDF-star) are not supported: << {term} >>")
        return term.value

    def add(self, s: Any, p: str, o: Any) -> None:
        import pyoxigraph

        subject = self.node(s)
        is_literal = isinstance(o, pyoxigraph.Literal)
        obj = o if is_literal else self.node(o)
        if p == RDF_TYPE and not is_literal:
            self.types.setdefault(subject, []).append(obj)
        elif p == SKOS + "prefLabel" and is_literal and subject not in self.pref:
            self.pref[subject] = o.value
        elif p == RDFS + "label" and is_literal:
            self.labels.setdefault(subject, []).append(o.value)
            self.data.append((subject, p, obj))  # kept as a fact unless it repeats the name
        elif p == KGS + "termName" and is_literal:
            self.term_names[subject] = o.value
        elif p == SKOS + "altLabel" and is_literal:
            self.aliases.setdefault(subject, []).append([o.value, "manual"])
        elif p == KGS + "importKey" and is_literal:
            self.aliases.setdefault(subject, []).append([o.value, KEY_ALIAS_ORIGIN])
        elif p == OWL + "sameAs" and not is_literal:
            self.same_as[subject] = obj
        else:
            self.data.append((subject, p, obj))
        self.meta.setdefault(subject, {}).setdefault(p, o)

    def result(self) -> tuple[list[dict], list[dict], list[OntologyClass], list[OntologyProperty]]:
        skip = {s for s, types in self.types.items() if SCHEMA_TYPES.intersection(types) or
                PROVENANCE_TYPES.intersection(types)}
        statements = {s for s, types in self.types.items() if RDF + "Statement" in types}
        reified = {}
        for s in statements:
            meta = self.meta.get(s, {})
            key = (self.node(meta[RDF + "subject"]) if RDF + "subject" in meta else None,
                   meta[RDF + "predicate"].value if RDF + "predicate" in meta else None,
                   _object_key(meta.get(RDF + "object"), self))
            reified[key] = meta
        class_iris = {t for s, types in self.types.items() if s not in skip for t in types}
        property_kinds: dict[str, str] = {}
        names = _TermNames(self.term_names)
        entities_order: dict[str, None] = {}
        triples = []
        import pyoxigraph

        for s, p, o in self.data:
            if s in skip:
                continue
            entities_order.setdefault(s, None)
            is_literal = isinstance(o, pyoxigraph.Literal)
            if not is_literal:
                if o in skip:
                    continue
                entities_order.setdefault(o, None)
            if p == RDFS + "label" and is_literal and o.value == self._name(s):
                continue
            property_kinds.setdefault(p, "data" if is_literal else "object")
            if not is_literal:
                property_kinds[p] = "object"
            triple: dict[str, Any] = {"subject": s, "predicate": names.name(p)}
            if is_literal:
                triple.update(literal=o.value, **_datatype(o))
            else:
                triple["object"] = o
            meta = reified.get((s, p, _object_key(o, self)))
            if meta is not None:
                triple.update(_statement_facts(meta))
            triples.append(triple)
        for s in list(self.types) + list(self.pref) + list(self.labels) + list(self.aliases) + list(self.same_as):
            if s not in skip:
                entities_order.setdefault(s, None)
        for target in self.same_as.values():
            entities_order.setdefault(target, None)
        entities = []
        for iri in entities_order:
            label = self._name(iri)
            classes = [t for t in self.types.get(iri, []) if t not in SCHEMA_TYPES]
            entities.append({"iri": iri, "name": label, "class": names.name(classes[0]) if classes else None,
                             "aliases": self.aliases.get(iri, []), "same_as": self.same_as.get(iri)})
        declared = {s for s, types in self.types.items() if SCHEMA_TYPES.intersection(types)}
        class_iris |= {s for s in declared if {OWL + "Class", RDFS + "Class"} & set(self.types[s])}
        for s in declared:
            if {OWL + "ObjectProperty", OWL + "DatatypeProperty", RDF + "Property"} & set(self.types[s]):
                property_kinds.setdefault(s, "data" if OWL + "DatatypeProperty" in self.types[s] else "object")
        ontology_classes = [self._class(iri, names) for iri in sorted(class_iris)]
        ontology_properties = [self._property(iri, kind, names) for iri, kind in sorted(property_kinds.items())]
        return entities, triples, ontology_classes, ontology_properties


    def _class(self, iri: str, names: "_TermNames") -> OntologyClass:
        meta = self.meta.get(iri, {})
        parent = meta.get(RDFS + "subClassOf")
        comment = meta.get(RDFS + "comment")
        return OntologyClass(names.name(iri), iri, (self.labels.get(iri) or [None])[0],
                             names.name(parent.value) if parent is not None and not _is_literal(parent) else None,
                             comment.value if comment is not None and _is_literal(comment) else None)

    def _property(self, iri: str, kind: str, names: "_TermNames") -> OntologyProperty:
        meta = self.meta.get(iri, {})
        domain, range_ = meta.get(RDFS + "domain"), meta.get(RDFS + "range")
        range_name = None
        if range_ is not None and not _is_literal(range_):
            range_name = "xsd:" + range_.value[len(XSD):] if range_.value.startswith(XSD) else names.name(range_.value)
        return OntologyProperty(
            names.name(iri), iri, kind, names.name(domain.value) if domain is not None and not _is_literal(domain)
            else None, range_name, OWL + "FunctionalProperty" in self.types.get(iri, []),
            (self.labels.get(iri) or [None])[0])

    def _name(self, iri: str) -> str:
        return self.pref.get(iri) or (self.labels.get(iri) or [None])[0] or _local(iri)  # type: ignore[return-value]


class _TermNames:
    """IRI → name: the exported ``kgs:termName``, else the local name, else (on a clash) the IRI itself."""

    def __init__(self, declared: dict[str, str]) -> None:
        self.names = dict(declared)
        self.taken = {name: iri for iri, name in declared.items()}

    def name(self, iri: str) -> str:
        found = self.names.get(iri)
        if found is None:
            local = _local(iri)
            found = local if local and self.taken.setdefault(local, iri) == iri else iri
            self.names[iri] = found
        return found


def _is_literal(term: Any) -> bool:
    import pyoxigraph

    return isinstance(term, pyoxigraph.Literal)


def _local(iri: str) -> str:
    for separator in ("#", "/", ":"):
        if separator in iri:
            tail = iri.rsplit(separator, 1)[1]
            if tail:
                return tail
    return iri


def _datatype(literal: Any) -> dict[str, Any]:
    if literal.language:
        return {"datatype": None, "lang": literal.language}
    datatype = literal.datatype.value
    if datatype == XSD + "string":
        return {"datatype": None, "lang": None}
    if datatype.startswith(XSD):
        return {"datatype": "xsd:" + datatype[len(XSD):], "lang": None}
    return {"datatype": datatype, "lang": None}


def _object_key(term: Any, reader: _GraphReader) -> Any:
    import pyoxigraph

    if term is None:
        return None
    if isinstance(term, pyoxigraph.Literal):
        return ("literal", term.value, term.language, term.datatype.value)
    if isinstance(term, str):
        return term
    return reader.node(term)


def _statement_facts(meta: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    status = meta.get(KGS + "status")
    if status is not None and status.value in {str(s) for s in TripleStatus}:
        facts["status"] = status.value
    origin = meta.get(KGS + "origin")
    if origin is not None and origin.value in {str(o) for o in Origin}:
        facts["origin"] = origin.value
    confidence = meta.get(KGS + "confidence")
    if confidence is not None:
        try:
            facts["confidence"] = float(confidence.value)
        except ValueError:
            pass
    return facts
