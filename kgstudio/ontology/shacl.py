"""SHACL shapes generated from an ontology, for validating the graph with pySHACL.

One shape per property that says something checkable:

- the subjects of a property with a domain are of that class (``sh:targetSubjectsOf`` + ``sh:class``);
- the objects of an object property with a range are of that class (``sh:targetObjectsOf`` + ``sh:class``);
- the objects of a data property are literals, of its datatype when it has one;
- a functional property has at most one value per subject (``sh:maxCount 1``).

Class membership follows ``rdfs:subClassOf`` in the data graph, so the data graph
handed to pySHACL carries the ontology's hierarchy (see ``kgstudio.pipeline.verify``).
"""

from __future__ import annotations

from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef

from kgstudio.domain import Ontology
from kgstudio.ontology.owl import datatype_iri

SH = Namespace("http://www.w3.org/ns/shacl#")
SHAPES = "urn:kgstudio:shape:"


def shapes_graph(ontology: Ontology) -> Graph:
    """The shapes of ``ontology`` (see the module docstring); shape IRIs name the property and the check."""
    graph = Graph()
    graph.bind("sh", SH)
    class_iri = {c.name: URIRef(c.iri) for c in ontology.classes}
    for prop in ontology.properties:
        path = URIRef(prop.iri)
        if prop.domain in class_iri:
            shape = URIRef(f"{SHAPES}{prop.name}-domain")
            graph.add((shape, RDF.type, SH.NodeShape))
            graph.add((shape, SH.targetSubjectsOf, path))
            graph.add((shape, SH["class"], class_iri[prop.domain]))
            graph.add((shape, SH.message, Literal(f"the subject of {prop.name} must be a {prop.domain}")))
        if prop.kind == "object" and prop.range in class_iri:
            shape = URIRef(f"{SHAPES}{prop.name}-range")
            graph.add((shape, RDF.type, SH.NodeShape))
            graph.add((shape, SH.targetObjectsOf, path))
            graph.add((shape, SH["class"], class_iri[prop.range]))
            graph.add((shape, SH.message, Literal(f"the object of {prop.name} must be a {prop.range}")))
        if prop.kind == "data" or prop.functional:
            shape = URIRef(f"{SHAPES}{prop.name}-values")
            constraint = BNode()
            graph.add((shape, RDF.type, SH.NodeShape))
            graph.add((shape, SH.targetSubjectsOf, path))
            graph.add((shape, SH.property, constraint))
            graph.add((constraint, SH.path, path))
            if prop.kind == "data":
                graph.add((constraint, SH.nodeKind, SH.Literal))
                if prop.range and prop.range.startswith("xsd:") and prop.range != "xsd:string":
                    graph.add((constraint, SH.datatype, datatype_iri(prop.range)))
            if prop.functional:
                graph.add((constraint, SH.maxCount, Literal(1)))
            graph.add((constraint, SH.message, Literal(f"{prop.name}: " + (
                "at most one value, of the right kind" if prop.functional else "a value of the right kind"))))
    return graph
