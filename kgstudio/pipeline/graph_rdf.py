"""The project's graph as an in-memory rdflib graph, for SPARQL (competency questions) and SHACL.

Terms get the IRIs an export gives them where the ontology names them
(entities their stored IRI, predicates and classes the ontology's IRI), so a
query written for the exported graph runs here unchanged. Each entity also
gets ``rdfs:label`` (its name) and ``rdf:type`` (its class), and the
ontology's ``rdfs:subClassOf`` axioms come along so ``?x a/rdfs:subClassOf*
kgs:Agent`` and SHACL's class checks see the hierarchy. Rejected triples are
left out; ``accepted_only`` leaves out candidates too.

Built for verification, not for scale: it holds the graph in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from rdflib import RDF, RDFS, Graph, Literal, URIRef

from kgstudio.domain import Ontology, TripleStatus
from kgstudio.store import Project

Key = tuple[URIRef, URIRef, URIRef | Literal]


@dataclass
class ProjectGraph:
    """The rdflib graph, and the way back from its statements and nodes to the store's rows."""

    graph: Graph
    triple_ids: dict[Key, int] = field(default_factory=dict)
    entity_names: dict[URIRef, str] = field(default_factory=dict)
    predicate_names: dict[URIRef, str] = field(default_factory=dict)

    def label(self, node: object) -> str:
        """How a user reads a node: an entity's name, a predicate's name, a literal's text."""
        if isinstance(node, URIRef):
            return self.entity_names.get(node) or self.predicate_names.get(node) or str(node)
        return str(node)


def project_graph(project: Project, ontology: Ontology, *, accepted_only: bool = False) -> ProjectGraph:
    """Read the project's entities and triples into a :class:`ProjectGraph` (see the module docstring)."""
    with project.repositories() as repos:
        entities = repos.graph.entities()
        triples = repos.graph.triples()
        base = project.base_iri
    graph = Graph()
    view = ProjectGraph(graph)
    class_iri = {c.name: URIRef(c.iri) for c in ontology.classes}
    property_iri = {p.name: URIRef(p.iri) for p in ontology.properties}
    for cls in ontology.classes:
        if cls.parent in class_iri:
            graph.add((class_iri[cls.name], RDFS.subClassOf, class_iri[cls.parent]))
    nodes: dict[int, URIRef] = {}
    for entity in entities:
        node = URIRef(entity.iri)
        nodes[entity.id] = node  # type: ignore[index]
        view.entity_names[node] = entity.name
        graph.add((node, RDFS.label, Literal(entity.name)))
        if entity.class_name:
            graph.add((node, RDF.type, class_iri.get(entity.class_name) or _term(base, "class", entity.class_name)))
    for triple in triples:
        if triple.status == TripleStatus.REJECTED or (accepted_only and triple.status != TripleStatus.ACCEPTED):
            continue
        subject = nodes.get(triple.subject_id)
        if subject is None:
            continue  # its subject was merged away or retracted
        predicate = property_iri.get(triple.predicate) or _term(base, "property", triple.predicate)
        view.predicate_names[predicate] = triple.predicate
        if triple.object_id is not None:
            obj: URIRef | Literal | None = nodes.get(triple.object_id)
            if obj is None:
                continue
        else:
            obj = Literal(triple.object_literal, lang=triple.lang,
                          datatype=URIRef(triple.datatype) if triple.datatype and not triple.lang else None)
        graph.add((subject, predicate, obj))
        view.triple_ids.setdefault((subject, predicate, obj), triple.id)  # type: ignore[arg-type]
    return view


def _term(base: str, kind: str, name: str) -> URIRef:
    # Names outside the ontology: the project's own namespace, as the exporters do it.
    return URIRef(f"{base}{kind}/{quote(name, safe='')}")
