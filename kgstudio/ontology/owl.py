"""Ontologies from OWL/RDFS files (Turtle, RDF/XML, ...) read with rdflib, and the built-in default.

Only what extraction and validation use is kept: classes (with their parent)
and object/datatype properties (with domain, range and whether they are
functional). Names are the IRIs' local names ("worksFor"), which is what the
model sees and what the graph stores as predicates.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import split_uri

from kgstudio.domain import Ontology, OntologyClass, OntologyProperty
from kgstudio.errors import KgstudioError

DEFAULT_ONTOLOGY = "default.ttl"
SCHEMA = Namespace("https://schema.org/")
SCHEMA_HTTP = Namespace("http://schema.org/")
ANYTHING = {RDFS.Resource, OWL.Thing}  # as a domain or range: no constraint
OPAQUE_ID = re.compile(r"[A-Z]\d+")  # Wikidata-style identifiers: Q5, P569
# schema.org's value types (its properties are rdf:Property, with these as "ranges")
VALUE_TYPES = {str(ns[t]) for ns in (SCHEMA, SCHEMA_HTTP) for t in (
    "Text", "URL", "Number", "Integer", "Float", "Boolean", "Date", "DateTime", "Time", "Duration")}


def default_ontology() -> Ontology:
    """kgstudio's small general ontology (people, organisations, places, events, documents, topics)."""
    text = files("kgstudio.resources.ontology").joinpath(DEFAULT_ONTOLOGY).read_text(encoding="utf-8")
    return parse_ontology(text, "turtle")


def load_ontology(path: Path) -> Ontology:
    """Read an ontology file; the format is guessed from the suffix. Raises KgstudioError naming the file."""
    graph = Graph()
    try:
        graph.parse(path)
    except Exception as exc:  # rdflib raises many parser-specific types
        raise KgstudioError(f"{path}: not a readable ontology ({exc})") from None
    return _from_graph(graph)


def parse_ontology(data: str, fmt: str = "turtle") -> Ontology:
    graph = Graph()
    graph.parse(data=data, format=fmt)
    return _from_graph(graph)


def _from_graph(graph: Graph) -> Ontology:
    """OWL and RDFS terms alike: ``owl:Class``/``rdfs:Class``, ``owl:*Property``/``rdf:Property``
    (schema.org's ``domainIncludes``/``rangeIncludes`` count as domain and range)."""
    class_iris = sorted(iri for iri in set(graph.subjects(RDF.type, OWL.Class)) | set(graph.subjects(RDF.type,
                        RDFS.Class)) if isinstance(iri, URIRef))
    declared = set(class_iris)
    names = _Names(graph)
    classes = []
    for iri in class_iris:
        parents = [p for p in graph.objects(iri, RDFS.subClassOf) if isinstance(p, URIRef) and p != iri]
        # A superclass the file declares beats one from another vocabulary (FOAF's Person has both).
        parent = next((p for p in sorted(parents) if p in declared), None)
        classes.append(OntologyClass(
            name=names.of(iri), iri=str(iri), label=_text(graph, iri, RDFS.label),
            parent=names.of(parent) if parent is not None else None, description=_text(graph, iri, RDFS.comment)))
    parent_of = {c.name: c.parent for c in classes}
    kinds: dict[URIRef, str] = {}
    for kind, rdf_type in (("object", OWL.ObjectProperty), ("data", OWL.DatatypeProperty), (None, RDF.Property)):
        for iri in graph.subjects(RDF.type, rdf_type):
            if isinstance(iri, URIRef) and (iri not in kinds or kinds[iri] is None):
                kinds[iri] = kind  # type: ignore[assignment]
    properties = []
    for iri in sorted(kinds):
        domains = _names(graph, iri, (RDFS.domain, SCHEMA.domainIncludes, SCHEMA_HTTP.domainIncludes), names)
        ranges = [r for r in graph.objects(iri, RDFS.range)] + [
            r for p in (SCHEMA.rangeIncludes, SCHEMA_HTTP.rangeIncludes) for r in graph.objects(iri, p)]
        ranges = [r for r in ranges if isinstance(r, URIRef) and r not in ANYTHING]
        kind = kinds[iri] or ("data" if ranges and all(_is_value_type(r) for r in ranges) else "object")
        range_names = [_range_name(r) if _is_value_type(r) else names.of(r) for r in ranges]
        properties.append(OntologyProperty(
            name=names.of(iri), iri=str(iri), kind=kind,
            domain=_common_ancestor(domains, parent_of),
            range=_common_ancestor(range_names, parent_of) if kind == "object" else (range_names[0] if len(
                set(range_names)) == 1 else None),
            functional=(iri, RDF.type, OWL.FunctionalProperty) in graph,
            label=_text(graph, iri, RDFS.label)))
    return Ontology(classes, properties)


class _Names:
    """Term names: the IRI's local name, or a camel-case name from the label when the local name is an
    opaque identifier (Wikidata's ``Q5``/``P65``, as in Text2KGBench), since the model reads names."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def of(self, iri: URIRef) -> str:
        local = _local(iri)
        label = _text(self.graph, iri, RDFS.label)
        if label and OPAQUE_ID.fullmatch(local):
            return label_name(label, upper=self._is_class(iri))
        return local

    def _is_class(self, iri: URIRef) -> bool:
        return (iri, RDF.type, OWL.Class) in self.graph or (iri, RDF.type, RDFS.Class) in self.graph or (
            iri, RDF.type, OWL.ObjectProperty) not in self.graph and _local(iri)[:1] == "Q"


def label_name(label: str, upper: bool = False) -> str:
    """``"site of astronomical discovery"`` -> ``siteOfAstronomicalDiscovery`` (``upper``: ``SiteOf...``)."""
    words = re.findall(r"[^\W_]+", label)
    if not words:
        return label
    name = words[0][:1].lower() + words[0][1:] + "".join(w[:1].upper() + w[1:] for w in words[1:])
    return name[:1].upper() + name[1:] if upper else name


def _names(graph: Graph, iri: URIRef, predicates: tuple, names: _Names) -> list[str]:
    return [names.of(v) for p in predicates for v in graph.objects(iri, p) if isinstance(v, URIRef)
            and v not in ANYTHING]


def _common_ancestor(names: list[str], parent_of: dict[str, str | None]) -> str | None:
    """One class for several (schema.org's ``domainIncludes``): the nearest class they all fall under."""
    names = list(dict.fromkeys(names))
    if len(names) <= 1:
        return names[0] if names else None

    def chain(name: str) -> list[str]:
        seen: list[str] = []
        current: str | None = name
        while current is not None and current not in seen:
            seen.append(current)
            current = parent_of.get(current)
        return seen

    chains = [chain(n) for n in names]
    return next((c for c in chains[0] if all(c in other for other in chains[1:])), None)


def _is_value_type(iri: URIRef) -> bool:
    text = str(iri)
    return text.startswith(str(XSD)) or text == str(RDFS.Literal) or text in VALUE_TYPES


def _local(iri: URIRef) -> str:
    try:
        return split_uri(iri)[1]
    except ValueError:
        return str(iri).rstrip("/#").rsplit("/", 1)[-1]


def _range_name(iri: URIRef) -> str:
    if str(iri).startswith(str(XSD)):
        return f"xsd:{_local(iri)}"
    schema_types = {"Text": "string", "URL": "anyURI", "Number": "decimal", "Integer": "integer", "Float": "double",
                    "Boolean": "boolean", "Date": "date", "DateTime": "dateTime", "Time": "time",
                    "Duration": "duration"}
    if str(iri) in VALUE_TYPES:
        return f"xsd:{schema_types[_local(iri)]}"
    if iri == RDFS.Literal:
        return "xsd:string"
    return _local(iri)


def _text(graph: Graph, subject: URIRef, predicate: URIRef) -> str | None:
    value = graph.value(subject, predicate)
    return str(value) if value is not None else None


def ontology_graph(ontology: Ontology, iri: str | None = None) -> Graph:
    """The ontology as OWL: classes with their superclass, properties with domain, range and functionality.

    Domain and range names resolve to the IRIs of the ontology's own classes (an
    ``xsd:`` range to its datatype), so what :func:`load_ontology` reads back is
    the same ontology.
    """
    graph = Graph()
    graph.bind("owl", OWL)
    graph.bind("xsd", XSD)
    if iri:
        graph.add((URIRef(iri), RDF.type, OWL.Ontology))
    class_iri = {c.name: URIRef(c.iri) for c in ontology.classes}
    for cls in ontology.classes:
        node = class_iri[cls.name]
        graph.add((node, RDF.type, OWL.Class))
        if cls.label:
            graph.add((node, RDFS.label, Literal(cls.label)))
        if cls.description:
            graph.add((node, RDFS.comment, Literal(cls.description)))
        if cls.parent and cls.parent in class_iri:
            graph.add((node, RDFS.subClassOf, class_iri[cls.parent]))
    for prop in ontology.properties:
        node = URIRef(prop.iri)
        graph.add((node, RDF.type, OWL.DatatypeProperty if prop.kind == "data" else OWL.ObjectProperty))
        if prop.functional:
            graph.add((node, RDF.type, OWL.FunctionalProperty))
        if prop.label:
            graph.add((node, RDFS.label, Literal(prop.label)))
        if prop.domain and prop.domain in class_iri:
            graph.add((node, RDFS.domain, class_iri[prop.domain]))
        if prop.range:
            target = datatype_iri(prop.range) if prop.range.startswith("xsd:") else class_iri.get(prop.range)
            if target is not None:
                graph.add((node, RDFS.range, target))
    return graph


def datatype_iri(range_name: str) -> URIRef:
    """``xsd:date`` -> the XSD IRI."""
    return URIRef(str(XSD) + range_name.removeprefix("xsd:"))


def write_ontology(ontology: Ontology, path: Path, iri: str | None = None) -> None:
    """Write the ontology to ``path``: Turtle, or RDF/XML for ``.owl``/``.rdf``/``.xml``, N-Triples for ``.nt``."""
    fmt = {".owl": "xml", ".rdf": "xml", ".xml": "xml", ".nt": "nt", ".jsonld": "json-ld"}.get(
        path.suffix.lower(), "turtle")
    try:
        ontology_graph(ontology, iri).serialize(destination=path, format=fmt)
    except OSError as exc:
        raise KgstudioError(f"{path}: cannot write ({exc.strerror or exc})") from None
