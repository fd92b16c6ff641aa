"""Exporters by name: RDF (Turtle, N-Triples, JSON-LD, RDF/XML, OWL), Neo4j (Cypher, neo4j-admin CSV,
Bolt push), GraphML and CSV for Gephi and spreadsheets.

    export_formats()                      # what can be exported (the GUI's export dialog lists these)
    export_project(project, "ttl", path)  # write one format to a path or a binary stream

Exporters are found through the ``kgstudio.exporters`` entry points, the
built-in ones exactly as a plugin's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import BinaryIO

from kgstudio import plugins
from kgstudio.errors import KgstudioError
from kgstudio.export.formats import ExportContext, Exporter, ExportFormat, ExportReport
from kgstudio.export.output import is_stream
from kgstudio.export.source import STATUS_CHOICES, GraphSource
from kgstudio.progress import CancelToken, Progress, no_progress
from kgstudio.store import Project

__all__ = ["STATUS_CHOICES", "ExportFormat", "ExportReport", "Exporter", "export_formats", "export_project"]


def export_formats() -> list[ExportFormat]:
    """Every format an installed exporter offers, in entry-point name order (broken plugins are left out)."""
    formats = []
    for plugin in plugins.load_all("exporters"):
        fmt = getattr(plugin.loaded, "format", None)
        if isinstance(fmt, ExportFormat):
            formats.append(fmt)
    return formats


def exporter(name: str) -> Exporter:
    """The exporter of a format name; :class:`KgstudioError` when no exporter has it."""
    try:
        return plugins.load("exporters", name)()
    except KgstudioError as exc:
        if "no exporters plugin" in str(exc):
            known = ", ".join(f.name for f in export_formats())
            raise KgstudioError(f"unknown export format {name!r} (one of: {known})") from None
        raise


def export_project(project: Project, fmt: str, out: Path | str | BinaryIO, *, status: str = "accepted",
                   provenance: bool = False, progress: Progress | None = None,
                   cancel: CancelToken | None = None) -> ExportReport:
    """Export a project's graph in format ``fmt`` to a path or a binary stream.

    ``status``: "accepted" (accepted and inferred triples) or "all" (every
    triple that is not rejected, candidates included). ``provenance`` adds where
    each fact came from (PROV-O in RDF; properties in Neo4j, GraphML and CSV).
    A path is written atomically: when the export fails or is cancelled
    (:class:`kgstudio.progress.Cancelled`), whatever was at the path stays.
    """
    chosen = exporter(fmt)
    started = time.perf_counter()
    report = ExportReport(chosen.format.name, None if is_stream(out) else str(out))
    with GraphSource.open(project, status, provenance) as source:
        chosen.write(ExportContext(source, report, progress or no_progress, cancel or CancelToken()),
                     out if is_stream(out) else Path(out))  # type: ignore[arg-type]
    report.seconds = time.perf_counter() - started
    return report
