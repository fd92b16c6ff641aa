"""RDF exporters: Turtle, N-Triples, JSON-LD, RDF/XML (the graph) and OWL (the ontology).

All of them stream: the graph is read from the store a batch of entities at a
time and written as it is read (see :mod:`kgstudio.export.rdf_writers`).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, ClassVar

from kgstudio.export.formats import ExportContext, ExportFormat
from kgstudio.export.output import open_file
from kgstudio.export.rdf_writers import WRITERS, RdfXmlWriter, standard_prefixes
from kgstudio.export.statements import GraphStatements


class _RdfExporter:
    format: ClassVar[ExportFormat]
    writer: ClassVar[str]

    def write(self, context: ExportContext, out: Path | BinaryIO) -> None:
        statements = GraphStatements(context)
        with open_file(out) as sink:
            writer = WRITERS[self.writer](sink, context.report, standard_prefixes(statements.vocabulary.base_iri))
            writer.start()
            for block in statements.blocks():
                writer.block(block)
            writer.end()


class TurtleExporter(_RdfExporter):
    format = ExportFormat("ttl", "Turtle (RDF)", ".ttl", description="readable RDF, grouped by entity")
    writer = "ttl"


class NTriplesExporter(_RdfExporter):
    format = ExportFormat("nt", "N-Triples (RDF)", ".nt", description="one statement a line; fastest for large graphs")
    writer = "nt"


class JsonLdExporter(_RdfExporter):
    format = ExportFormat("jsonld", "JSON-LD (RDF)", ".jsonld", description="RDF as JSON (expanded form)")
    writer = "jsonld"


class RdfXmlExporter(_RdfExporter):
    format = ExportFormat("xml", "RDF/XML", ".rdf", description="RDF as XML, for older tools")
    writer = "xml"


class OwlExporter:
    """The ontology alone: kgstudio's default terms, the project's own, and every term the graph uses."""

    format = ExportFormat("owl", "OWL ontology (RDF/XML)", ".owl",
                          description="classes and properties with labels, domain and range")

    def write(self, context: ExportContext, out: Path | BinaryIO) -> None:
        statements = GraphStatements(context)
        for _ in statements.blocks(declarations=False):  # collect the terms the graph uses
            pass
        context.report.triples = 0
        with open_file(out) as sink:
            writer = RdfXmlWriter(sink, context.report, standard_prefixes(statements.vocabulary.base_iri))
            writer.start()
            writer.block(statements.ontology_header())
            for block in statements.declaration_blocks(everything=True):
                writer.block(block)
            writer.end()
