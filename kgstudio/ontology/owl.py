"""Ontologies from OWL/RDFS files (Turtle, RDF/XML, ...) read with rdflib, and the built-in default.

Only what extraction and validation use is kept: classes (with their parent)
and object/datatype properties (with domain, range and whether they are
functional). Names are the IRIs' local names ("worksFor"), which is what the
model sees and what the graph stores as predicates.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from rdflib import OWL, RDF, RDFS, XSD, Graph, URIRef
from rdflib.namespace import split_uri

from kgstudio.domain import Ontology, OntologyClass, OntologyProperty
from kgstudio.errors import KgstudioError

DEFAULT_ONTOLOGY = "default.ttl"


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
    classes = []
    for iri in sorted(set(graph.subjects(RDF.type, OWL.Class)) | set(graph.subjects(RDF.type, RDFS.Class))):
        if not isinstance(iri, URIRef):
            continue  # anonymous class expressions (restrictions, unions) are not named classes
        parent = next((p for p in graph.objects(iri, RDFS.subClassOf) if isinstance(p, URIRef)), None)
        classes.append(OntologyClass(
            name=_local(iri), iri=str(iri), label=_text(graph, iri, RDFS.label),
            parent=_local(parent) if parent is not None else None, description=_text(graph, iri, RDFS.comment)))
    properties = []
    for kind, rdf_type in (("object", OWL.ObjectProperty), ("data", OWL.DatatypeProperty)):
        for iri in sorted(graph.subjects(RDF.type, rdf_type)):
            if not isinstance(iri, URIRef):
                continue
            domain = graph.value(iri, RDFS.domain)
            rng = graph.value(iri, RDFS.range)
            properties.append(OntologyProperty(
                name=_local(iri), iri=str(iri), kind=kind,
                domain=_local(domain) if isinstance(domain, URIRef) else None,
                range=_range_name(rng) if isinstance(rng, URIRef) else None,
                functional=(iri, RDF.type, OWL.FunctionalProperty) in graph,
                label=_text(graph, iri, RDFS.label)))
    return Ontology(classes, properties)


def _local(iri: URIRef) -> str:
    try:
        return split_uri(iri)[1]
    except ValueError:
        return str(iri).rstrip("/#").rsplit("/", 1)[-1]


def _range_name(iri: URIRef) -> str:
    return f"xsd:{_local(iri)}" if str(iri).startswith(str(XSD)) else _local(iri)


def _text(graph: Graph, subject: URIRef, predicate: URIRef) -> str | None:
    value = graph.value(subject, predicate)
    return str(value) if value is not None else None
