"""Ontology model, competency questions → ontology, SHACL shapes, CQ → SPARQL."""
