"""A ``neo4j-admin database import`` bundle: ``nodes.csv``, ``relationships.csv`` and ``import.sh``.

Headers use the documented syntax (``iri:ID(Entity)``, ``:LABEL``,
``kgstudio_id:long``, ``aliases:string[]``, ``:START_ID(Entity)``, ``:TYPE``,
...). Strings are always quoted (a quote doubled inside), so an empty string
and a missing value differ; newlines stay inside quoted fields (the command
passes ``--multiline-fields=true``). Arrays and label lists are separated by
U+001F (``--array-delimiter=U+001F``), a character text practically never
holds; an element that does hold it gets U+FFFD instead, with a warning. A
header name cannot hold ``:`` (it separates the type), so a property name
with one is written with ``_`` (and a warning).

Text is written exactly, also text that starts with ``=``, ``+``, ``-`` or ``@``:
``neo4j-admin`` keeps every character, so the ``'`` that keeps a spreadsheet
from running such a cell as a formula (the ``csv`` tables export adds it) would
end up in the database. This bundle is for the import tool, not for a spreadsheet.

Two passes over the store: the first learns the columns and their types (a
column is ``long``, ``boolean`` or ``date`` only when every value is one), the
second writes the rows. Memory holds a batch and the column list, not the graph.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, BinaryIO

from kgstudio.export.formats import ExportContext, ExportFormat
from kgstudio.export.neo4j_plan import ENTITY_LABEL, NODE_KEYS, Neo4jPlan
from kgstudio.export.output import TextSink, open_folder

ARRAY_DELIMITER = "\x1f"
NODE_COLUMNS = [f"iri:ID({ENTITY_LABEL})", ":LABEL", "name", "kgstudio_id:long", "aliases:string[]"]
RELATIONSHIP_COLUMNS = [
    f":START_ID({ENTITY_LABEL})", f":END_ID({ENTITY_LABEL})", ":TYPE", "key", "predicate", "iri", "status", "origin",
    "confidence:double", "kgstudio_id:long", "documents:long[]", "locators:string[]",
]
IMPORT_COMMAND = ("neo4j-admin database import full --nodes=nodes.csv --relationships=relationships.csv "
                  "--array-delimiter=U+001F --multiline-fields=true \"${1:-neo4j}\"")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, dt.date):
        return "date"
    return "string"


class _Columns:
    """Literal-property columns: their CSV header names and types."""

    def __init__(self) -> None:
        self.kinds: dict[str, set[str]] = {}
        self.arrays: set[str] = set()

    def learn(self, properties: dict[str, Any]) -> None:
        for key, value in properties.items():
            if key in NODE_KEYS:
                continue
            values = value if isinstance(value, list) else [value]
            if isinstance(value, list):
                self.arrays.add(key)
            self.kinds.setdefault(key, set()).update(_kind(v) for v in values)

    def headers(self) -> list[tuple[str, str, str]]:
        """(property key, header entry, type) per column, in a stable order."""
        taken = {entry.split(":")[0] for entry in NODE_COLUMNS}
        result = []
        for key in sorted(self.kinds):
            kinds = self.kinds[key]
            kind = kinds.pop() if len(kinds) == 1 else "string"
            kinds.add(kind)
            column = key.replace(":", "_")
            while column in taken:
                column += "_"
            taken.add(column)
            result.append((key, f"{column}:{kind}{'[]' if key in self.arrays else ''}", kind))
        return result


class Neo4jCsvExporter:
    format = ExportFormat("neo4j-csv", "Neo4j bulk import (CSV for neo4j-admin)", "", folder=True,
                          description="nodes.csv, relationships.csv and the neo4j-admin command")

    def write(self, context: ExportContext, out: Path | BinaryIO) -> None:
        report = context.report
        columns = _Columns()
        for batch in Neo4jPlan(context).batches():
            for node in batch.nodes:
                columns.learn(node.properties)
        headers = columns.headers()
        if any(":" in key for key, _, _ in headers):
            report.warn("property names with ':' are written with '_' in the CSV headers")
        report.entities = report.triples = 0
        with open_folder(out) as folder:
            with (folder / "nodes.csv").open("wb") as nodes_file, \
                    (folder / "relationships.csv").open("wb") as rels_file:
                nodes, rels = TextSink(nodes_file), TextSink(rels_file)
                nodes.write(_line([_header(c) for c in NODE_COLUMNS] + [_header(h) for _, h, _ in headers]))
                rels.write(_line([_header(c) for c in RELATIONSHIP_COLUMNS]))
                for batch in Neo4jPlan(context).batches():
                    for node in batch.nodes:
                        p = node.properties
                        fields = [self._text(p["iri"], report), self._array(node.labels, report),
                                  self._text(p["name"], report), str(p["kgstudio_id"]),
                                  self._array(p.get("aliases"), report)]
                        for key, _, kind in headers:
                            fields.append(self._cell(p.get(key), kind, report))
                        nodes.write(_line(fields))
                        report.statements += 1
                    for rel in batch.relationships:
                        p = rel.properties
                        rels.write(_line([
                            self._text(rel.start, report), self._text(rel.end, report), self._text(rel.type, report),
                            self._text(rel.key, report), self._text(p["predicate"], report),
                            self._text(p["iri"], report), self._text(p["status"], report),
                            self._text(p["origin"], report),
                            repr(p["confidence"]) if "confidence" in p else "", str(p["kgstudio_id"]),
                            self._array(p.get("documents"), report), self._array(p.get("locators"), report),
                        ]))
                        report.statements += 1
                nodes.flush()
                rels.flush()
            (folder / "import.sh").write_text(
                "#!/bin/sh\n# Load this bundle into a new Neo4j 5 database (default: neo4j); run it in this folder.\n"
                f"set -e\ncd \"$(dirname \"$0\")\"\n{IMPORT_COMMAND}\n", encoding="utf-8")
            report.files = ["nodes.csv", "relationships.csv", "import.sh"]

    def _cell(self, value: Any, kind: str, report: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return self._array([_as(v, kind) for v in value], report)
        return self._text(_as(value, kind), report) if kind == "string" else _as(value, kind)

    @staticmethod
    def _text(value: str, report: Any) -> str:
        return '"' + value.replace('"', '""') + '"'

    def _array(self, values: list[Any] | None, report: Any) -> str:
        if not values:
            return ""
        items = [str(v) for v in values]
        if any(ARRAY_DELIMITER in item for item in items):
            report.warn("a list element held U+001F (the CSV array delimiter); it was written as U+FFFD")
            items = [item.replace(ARRAY_DELIMITER, "\ufffd") for item in items]
        return self._text(ARRAY_DELIMITER.join(items), report)


def _as(value: Any, kind: str) -> str:
    """A value as the column's type writes it (a mixed column is all text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _header(entry: str) -> str:
    if any(c in entry for c in ',"\n\r') or entry != entry.strip():
        return '"' + entry.replace('"', '""') + '"'
    return entry


def _line(fields: list[str]) -> str:
    return ",".join(fields) + "\n"
