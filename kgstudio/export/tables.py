"""CSV tables: ``nodes.csv``, ``edges.csv`` (Gephi's spreadsheet import reads both) and ``literals.csv``.

Columns follow Gephi's names: nodes ``Id, Label, Class, IRI, Aliases``; edges
``Source, Target, Type, Label, Weight, IRI, Status, Origin, Confidence`` (plus
``Documents, Locators`` with provenance). Literal values, which a node table
could only flatten, are kept exactly in ``literals.csv``: ``Id, Property, Value,
Datatype, Language``, one row per triple. RFC 4180 quoting, UTF-8, one pass.

These tables are opened in spreadsheets, which run a cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula (CSV
injection: ``=HYPERLINK(...)``, ``=cmd|'/c calc'!A1``). Such a text cell is
written with a leading ``'`` (OWASP's advice), which spreadsheets show as text
and do not display; a number such as ``-5`` is left as it is. A program reading
the CSV back gets the exact text by removing that one ``'`` where it comes
before one of those characters (:func:`original_text`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any, BinaryIO

from kgstudio.domain import EntityStatus
from kgstudio.export.formats import ExportContext, ExportFormat
from kgstudio.export.output import TextSink, open_folder
from kgstudio.export.statements import GraphStatements

NODE_HEADER = ["Id", "Label", "Class", "IRI", "Aliases"]
EDGE_HEADER = ["Source", "Target", "Type", "Label", "Weight", "IRI", "Status", "Origin", "Confidence"]
LITERAL_HEADER = ["Id", "Property", "Value", "Datatype", "Language"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (see the module docstring); other values as given."""
    return "'" + value if isinstance(value, str) and _needs_quote(value) else value


def original_text(cell: str) -> str:
    """The text :func:`spreadsheet_safe` was given, from the cell it wrote."""
    return cell[1:] if cell.startswith("'") and _needs_quote(cell[1:]) else cell


def _needs_quote(text: str) -> bool:
    # Apostrophes already in front are quoted too ("'=x" -> "''=x"), so original_text is exact.
    rest = text.lstrip("'")
    return rest.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(rest)


class _CsvFile:
    def __init__(self, handle: BinaryIO) -> None:
        self.sink = TextSink(handle)
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def row(self, values: list[Any]) -> None:
        self.writer.writerow([spreadsheet_safe(value) for value in values])
        self.sink.write(self.buffer.getvalue())
        self.buffer.seek(0)
        self.buffer.truncate()


class CsvExporter:
    format = ExportFormat("csv", "CSV tables (nodes, edges, literals)", "", folder=True,
                          description="for Gephi's spreadsheet import, spreadsheets and pandas")

    def write(self, context: ExportContext, out: Path | BinaryIO) -> None:
        source, report = context.source, context.report
        terms = GraphStatements(context)
        total = source.count_triples()
        with open_folder(out) as folder, (folder / "nodes.csv").open("wb") as n, \
                (folder / "edges.csv").open("wb") as e, (folder / "literals.csv").open("wb") as lit:
            nodes, edges, literals = _CsvFile(n), _CsvFile(e), _CsvFile(lit)
            nodes.row(NODE_HEADER)
            edges.row(EDGE_HEADER + (["Documents", "Locators"] if source.with_provenance else []))
            literals.row(LITERAL_HEADER)
            for batch in source.entity_batches():
                context.cancel.raise_if_cancelled()
                evidence = source.evidence([t.id for x in batch for t in x.triples]) if source.with_provenance else {}
                for entity in batch:
                    if entity.status == EntityStatus.MERGED:
                        continue
                    report.entities += 1
                    report.triples += len(entity.triples)
                    aliases = [text for text, _ in entity.aliases]
                    nodes.row([entity.id, entity.name, entity.class_name or "", terms.entity_iri(entity.id, entity.iri),
                               json.dumps(aliases, ensure_ascii=False) if aliases else ""])
                    for t in entity.triples:
                        if t.object_id is None:
                            literals.row([entity.id, t.predicate, t.literal, t.datatype or "", t.lang or ""])
                            continue
                        row = [entity.id, t.object_id, "Directed", t.predicate,
                               repr(float(t.confidence if t.confidence is not None else 1.0)),
                               terms.property_iri(t.predicate, "object"), t.status, t.origin,
                               "" if t.confidence is None else repr(float(t.confidence))]
                        if source.with_provenance:
                            items = evidence.get(t.id, [])
                            row += [json.dumps(sorted({i.document_id for i in items if i.document_id is not None})),
                                    json.dumps([i.locator for i in items], ensure_ascii=False)]
                        edges.row(row)
                    report.statements += 1 + len(entity.triples)
                context.progress(report.triples, total, "exporting")
            for table in (nodes, edges, literals):
                table.sink.flush()
            report.files = ["nodes.csv", "edges.csv", "literals.csv"]
