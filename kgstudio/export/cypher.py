"""Neo4j Cypher: a script (``kgstudio export --format cypher``) and the queries of the Bolt push.

Both send the same statements: ``UNWIND rows AS row MERGE ...`` per label set
and per relationship type, batched. The script inlines the rows as Cypher
literals (every string escaped, every name back-quoted); the push passes them
as ``$rows`` parameters. Every write is a MERGE on a stable key (a node's IRI,
a relationship's ``key``), so running the script or pushing twice changes
nothing. Relationships MERGE their end nodes too, so the order of batches does
not matter. Run the script with ``cypher-shell -f graph.cypher`` (Neo4j 5).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from kgstudio.export.formats import ExportContext, ExportFormat
from kgstudio.export.neo4j_plan import ENTITY_LABEL, Neo4jBatch, Neo4jPlan, backquote
from kgstudio.export.output import open_file

ROWS_PER_STATEMENT = 500
CONSTRAINT = (f"CREATE CONSTRAINT kgstudio_entity_iri IF NOT EXISTS FOR (n:{backquote(ENTITY_LABEL)}) "
              "REQUIRE n.iri IS UNIQUE")

_CYPHER_TABLE = {code: f"\\u{code:04X}" for code in (*range(0x20), 0x7F)}
_CYPHER_TABLE.update({ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
_CYPHER_SPECIAL = re.compile(r'[\\"\x00-\x1f\x7f]')


def cypher_string(value: str) -> str:
    if _CYPHER_SPECIAL.search(value):
        value = value.translate(_CYPHER_TABLE)
    return f'"{value}"'


def cypher_value(value: Any) -> str:
    """A Cypher literal for a plan value (str, bool, int, float, date, list, dict)."""
    if isinstance(value, str):
        return cypher_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else cypher_string(repr(value))
    if isinstance(value, dt.date):
        return f'date("{value.isoformat()}")'
    if isinstance(value, list):
        return "[" + ", ".join(cypher_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{backquote(k)}: {cypher_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Cypher literal for {type(value).__name__}")


def node_query(labels: tuple[str, ...], rows: str = "$rows") -> str:
    extra = "".join(f", n:{backquote(label)}" for label in labels if label != ENTITY_LABEL)
    return (f"UNWIND {rows} AS row\nMERGE (n:{backquote(ENTITY_LABEL)} {{iri: row.iri}})\n"
            f"SET n += row.properties{extra}")


def relationship_query(rel_type: str, rows: str = "$rows") -> str:
    entity = backquote(ENTITY_LABEL)
    return (f"UNWIND {rows} AS row\nMERGE (a:{entity} {{iri: row.start}})\nMERGE (b:{entity} {{iri: row.end}})\n"
            f"MERGE (a)-[r:{backquote(rel_type)} {{key: row.key}}]->(b)\nSET r += row.properties")


def batch_statements(batch: Neo4jBatch, size: int = ROWS_PER_STATEMENT,
                     rows_expression: str = "$rows") -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(query, rows) for one plan batch: nodes by label set, relationships by type.

    The query reads its rows from ``rows_expression``: ``$rows`` for a parameter
    (Bolt), or ``None`` to get each query with its rows written in as a literal.
    """
    by_labels: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for node in batch.nodes:
        by_labels.setdefault(tuple(node.labels), []).append({"iri": node.iri, "properties": node.properties})
    by_type: dict[str, list[dict[str, Any]]] = {}
    for rel in batch.relationships:
        by_type.setdefault(rel.type, []).append(
            {"start": rel.start, "end": rel.end, "key": rel.key, "properties": rel.properties})

    def rows_text(rows: list[dict[str, Any]]) -> str:
        if rows_expression:
            return rows_expression
        return "[\n  " + ",\n  ".join(cypher_value(row) for row in rows) + "\n]"

    for labels, rows in by_labels.items():
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            yield node_query(labels, rows_text(chunk)), chunk
    for rel_type, rows in by_type.items():
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            yield relationship_query(rel_type, rows_text(chunk)), chunk


class CypherExporter:
    format = ExportFormat("cypher", "Neo4j Cypher script", ".cypher",
                          description="MERGE statements for cypher-shell; safe to run twice")

    def write(self, context: ExportContext, out: Path | BinaryIO) -> None:
        plan = Neo4jPlan(context)
        with open_file(out) as sink:
            sink.write("// kgstudio graph export for Neo4j 5: cypher-shell -f THIS_FILE\n"
                       "// Every write is a MERGE on a stable key: running it twice changes nothing.\n")
            sink.write(CONSTRAINT + ";\n")
            for batch in plan.batches():
                for query, rows in batch_statements(batch, rows_expression=""):
                    sink.write("\n" + query + ";\n")
                    context.report.statements += len(rows)
