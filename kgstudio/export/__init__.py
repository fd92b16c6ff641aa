"""Exporters by name (entry-point group ``kgstudio.exporters``): RDF, Neo4j, GraphML."""
