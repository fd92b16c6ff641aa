"""``kgstudio push``: the graph straight into a running Neo4j over Bolt, with the official driver.

The statements are those of the Cypher script (:mod:`kgstudio.export.cypher`)
with the rows passed as the ``$rows`` parameter — never pasted into the query
text — a batch per write transaction. Every write MERGEs on a stable key, so
pushing twice changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from kgstudio.errors import KgstudioError
from kgstudio.export.cypher import CONSTRAINT, ROWS_PER_STATEMENT, batch_statements
from kgstudio.export.formats import ExportContext, ExportReport
from kgstudio.export.neo4j_plan import Neo4jPlan
from kgstudio.export.source import GraphSource
from kgstudio.progress import CancelToken, Progress, no_progress
from kgstudio.store import Project


@dataclass(frozen=True)
class Neo4jTarget:
    uri: str  # bolt://host:7687, neo4j://..., neo4j+s://...
    user: str | None = None
    password: str | None = None
    database: str | None = None  # None: the server's default database


def push_to_neo4j(project: Project, target: Neo4jTarget, *, status: str = "accepted", provenance: bool = False,
                  batch_rows: int = ROWS_PER_STATEMENT, progress: Progress | None = None,
                  cancel: CancelToken | None = None, driver: Any = None) -> ExportReport:
    """Push the graph to Neo4j; ``driver`` replaces the real one (tests pass a stand-in)."""
    started = time.perf_counter()
    report = ExportReport("neo4j", target.uri)
    own_driver = driver is None
    if own_driver:
        driver = _connect(target)
    try:
        with GraphSource.open(project, status, provenance) as source:
            context = ExportContext(source, report, progress or no_progress, cancel or CancelToken())
            with driver.session(database=target.database) as session:
                session.run(CONSTRAINT).consume()
                for batch in Neo4jPlan(context).batches():
                    for query, rows in batch_statements(batch, batch_rows):
                        session.execute_write(_write, query, rows)
                        report.statements += len(rows)
    except Exception as exc:
        if _is_neo4j_error(exc):
            raise KgstudioError(f"{target.uri}: {_one_line(exc)}") from None
        raise
    finally:
        if own_driver:
            driver.close()
    report.seconds = time.perf_counter() - started
    return report


def _write(tx: Any, query: str, rows: list[dict[str, Any]]) -> None:
    tx.run(query, rows=rows).consume()


def _connect(target: Neo4jTarget) -> Any:
    from neo4j import GraphDatabase  # the driver loads only when pushing

    auth = (target.user or "neo4j", target.password or "") if target.user or target.password else None
    try:
        driver = GraphDatabase.driver(target.uri, auth=auth)
        driver.verify_connectivity()
    except Exception as exc:
        if _is_neo4j_error(exc) or isinstance(exc, ValueError):  # ValueError: a malformed URI
            raise KgstudioError(f"{target.uri}: cannot connect to Neo4j: {_one_line(exc)}") from None
        raise
    return driver


def _one_line(exc: BaseException) -> str:
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def _is_neo4j_error(exc: BaseException) -> bool:
    """Errors of the server, the network or the address (a user's problem), not kgstudio bugs."""
    from neo4j.exceptions import ConfigurationError, DriverError, Neo4jError

    return isinstance(exc, (Neo4jError, DriverError, ConfigurationError, OSError))
