"""Ontologies from real files (Text2KGBench, FOAF, schema.org), the validator, SPARQL checks, SHACL shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph

from kgstudio.domain import Ontology, OntologyClass, OntologyProperty
from kgstudio.ontology.owl import default_ontology, load_ontology, write_ontology
from kgstudio.ontology.shacl import SH, shapes_graph
from kgstudio.ontology.sparql import check_sparql, prefixes
from kgstudio.ontology.validate import errors, validate_ontology


def test_text2kgbench_ontology_gets_names_from_labels(shared_data: Path) -> None:
    ontology = load_ontology(shared_data / "bench" / "text2kgbench" / "wikidata_tekgen" / "ont_7_space.ttl")
    properties = {p.name: p for p in ontology.properties}
    discovery = properties["siteOfAstronomicalDiscovery"]  # relations#P65, label "site of astronomical discovery"
    assert discovery.iri.endswith("relations#P65") and discovery.label == "site of astronomical discovery"
    assert (discovery.domain, discovery.range) == ("Asteroid", "Observatory")
    assert "Human" in {c.name for c in ontology.classes}  # concepts#Q5
    assert errors(validate_ontology(ontology)) == []


def test_foaf_and_schema_org_import(shared_data: Path) -> None:
    foaf = load_ontology(shared_data / "ontologies" / "foaf-0.1.ttl")
    classes = {c.name: c for c in foaf.classes}
    assert classes["Group"].parent == "Agent"  # the declared superclass, not one from another vocabulary
    assert load_ontology(shared_data / "ontologies" / "foaf-0.1.rdf").properties == foaf.properties
    # FOAF points outside itself (geo:SpatialThing): kept, and the validator says so
    assert ("based_near", "SpatialThing") in {(p.name, p.domain) for p in foaf.properties}
    assert "error: based_near: the domain SpatialThing is not a class of the ontology" in map(str, errors(
        validate_ontology(foaf)))
    schema = load_ontology(shared_data / "ontologies" / "schemaorg-subset-core.ttl")
    props = {p.name: p for p in schema.properties}
    assert len(props) == 265 and props["abstract"].kind == "data" and props["abstract"].range == "xsd:string"
    assert {c.name: c.parent for c in schema.classes}["City"] == "Place"
    assert errors(validate_ontology(schema)) == []


@pytest.mark.parametrize("name", ["bench/text2kgbench/wikidata_tekgen/ont_7_space.ttl",
                                  "ontologies/schemaorg-subset-core.ttl"])
def test_export_and_import_give_back_the_same_ontology(tmp_path: Path, shared_data: Path, name: str) -> None:
    ontology = load_ontology(shared_data / name)
    for suffix in (".ttl", ".owl"):
        write_ontology(ontology, tmp_path / f"out{suffix}")
        again = load_ontology(tmp_path / f"out{suffix}")
        assert sorted((p.name, p.kind, p.domain, p.range) for p in again.properties) == sorted(
            (p.name, p.kind, p.domain, p.range) for p in ontology.properties)
        assert sorted((c.name, c.parent) for c in again.classes) == sorted((c.name, c.parent) for c in ontology.classes)


def test_the_validator_finds_what_a_derived_ontology_gets_wrong() -> None:
    bad = Ontology(
        [OntologyClass("Person", "x:Person", parent="Agent"), OntologyClass("Agent", "x:Agent", parent="Person"),
         OntologyClass("Self", "x:Self", parent="Self"), OntologyClass("person", "x:person2"),
         OntologyClass("Lonely", "x:Lonely")],
        [OntologyProperty("worksFor", "x:worksFor", "object", "Person", "Company"),
         OntologyProperty("born", "x:born", "object", "Person", "xsd:date"),
         OntologyProperty("age", "x:age", "data", "Person", "Agent"),
         OntologyProperty("Person", "x:personProp", "object")])
    found = {(p.severity, p.term, p.message.split(":")[0].split(" (")[0]) for p in validate_ontology(bad)}
    assert ("error", "Person", "cycle in the class hierarchy") in found
    assert ("error", "Self", "the class is its own superclass") in found
    assert ("error", "person", "two class names differ only in case or are equal") in found
    assert ("error", "worksFor", "the range Company is not a class of the ontology") in found
    assert ("error", "born", "an object property cannot have the datatype xsd") in found
    assert ("error", "age", "a data property needs a datatype") in found
    assert ("error", "Person", "the name is used twice") in found
    assert ("warning", "Lonely", "disconnected") in found
    assert not any(p.term == "Lonely" for p in validate_ontology(bad, allow_disconnected=True))
    assert validate_ontology(default_ontology()) == []


def test_sparql_must_parse_and_stay_inside_the_ontology() -> None:
    ontology = default_ontology()
    assert prefixes(ontology)["kgs"] == "https://w3id.org/kgstudio/ontology#"
    good = check_sparql("SELECT ?p ?o WHERE { ?p a kgs:Person ; kgs:worksFor ?o ; rdfs:label ?name }", ontology)
    assert good.ok and good.variables == ["p", "o"]
    outside = check_sparql("SELECT ?p WHERE { ?p kgs:employedBy ?o }", ontology)
    assert not outside.ok and outside.problems == ["kgs:employedBy is not a term of the ontology"]
    broken = check_sparql("SELECT ?p WHERE { ?p kgs:worksFor", ontology)
    assert not broken.ok and broken.problems[0].startswith("the query does not parse")


def test_shacl_shapes_follow_domain_range_datatype_and_functionality() -> None:
    shapes = shapes_graph(default_ontology())
    assert isinstance(shapes, Graph)
    names = {str(s).rsplit(":", 1)[-1] for s in shapes.subjects(predicate=None, object=SH.NodeShape)}
    assert {"worksFor-domain", "worksFor-range", "birthDate-values", "birthDate-domain"} <= names
    assert "relatedTo-domain" not in names  # no domain, nothing to check
    assert (None, SH.maxCount, None) in shapes
