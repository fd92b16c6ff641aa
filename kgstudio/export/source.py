"""Reading the graph out of the store for export: streamed, in batches, bounded memory.

Entities come in id order, a batch at a time; each batch brings the triples
whose subject it holds (ordered by subject, then id), its aliases, and (when
asked) the provenance of those triples. Memory holds one batch, never the
graph. Queries use keyset pagination on indexed columns, so they work the same
on SQLite and PostgreSQL and never re-read what was read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from kgstudio.domain import EntityStatus, OntologyClass, OntologyProperty, TripleStatus
from kgstudio.errors import KgstudioError
from kgstudio.store import Project
from kgstudio.store.schema import (
    AliasRow,
    ChunkRow,
    DocumentRow,
    EntityRow,
    OntologyClassRow,
    OntologyPropertyRow,
    ProvenanceRow,
    RunRow,
    SegmentRow,
    TripleRow,
)

STATUS_CHOICES = ("accepted", "all")
ENTITY_BATCH = 2000


class TripleRecord(NamedTuple):
    """One exported triple; ``object_iri`` is set for an entity object, ``literal`` otherwise."""

    id: int
    subject_id: int
    predicate: str
    object_id: int | None
    object_iri: str | None
    literal: str | None
    datatype: str | None
    lang: str | None
    status: str
    origin: str
    confidence: float | None


@dataclass(frozen=True)
class EvidenceRecord:
    """One provenance row with what it points at: document, locator, span, run."""

    id: int
    triple_id: int
    document_id: int | None
    locator: dict[str, Any] | None
    chunk_id: int | None
    span_start: int | None
    span_end: int | None
    run_id: int | None
    quote: str | None


@dataclass
class EntityRecord:
    id: int
    iri: str
    name: str
    class_name: str | None
    status: str
    merged_into_iri: str | None
    aliases: list[tuple[str, str]] = field(default_factory=list)  # (text, origin)
    triples: list[TripleRecord] = field(default_factory=list)


@dataclass(frozen=True)
class DocumentRecord:
    id: int
    path: str
    title: str | None
    kind: str
    sha256: str
    parent_id: int | None


@dataclass(frozen=True)
class RunRecord:
    id: int
    stage: str
    model: str | None
    prompt_version: str | None
    started_at: str | None
    finished_at: str | None


def status_values(status: str) -> list[str]:
    """Triple statuses an export includes: "accepted" (accepted and inferred) or "all" (all but rejected)."""
    if status == "accepted":
        return [str(TripleStatus.ACCEPTED), str(TripleStatus.INFERRED)]
    if status == "all":
        return [str(s) for s in TripleStatus if s != TripleStatus.REJECTED]
    raise KgstudioError(f"unknown status {status!r}: use one of {', '.join(STATUS_CHOICES)}")


class GraphSource:
    """The graph of one project as an export sees it; use inside :meth:`open`."""

    def __init__(self, project: Project, session: Session, status: str, provenance: bool) -> None:
        self.project = project
        self.session = session
        self.statuses = frozenset(status_values(status))
        self.with_provenance = provenance
        self._query: Any = None

    @classmethod
    def open(cls, project: Project, status: str = "accepted", provenance: bool = False) -> "_Opened":
        status_values(status)  # fail early on a bad status
        return _Opened(project, status, provenance)

    @property
    def _connection(self) -> Any:
        return self.session.connection()

    @property
    def _triples_query(self) -> Any:
        if self._query is None:
            target = aliased(EntityRow)
            self._query = (
                select(TripleRow.id, TripleRow.subject_id, TripleRow.predicate, TripleRow.object_id,
                       target.iri.label("object_iri"), TripleRow.object_literal.label("literal"), TripleRow.datatype,
                       TripleRow.lang, TripleRow.status, TripleRow.origin, TripleRow.confidence)
                .outerjoin(target, target.id == TripleRow.object_id)
                # No status condition here: SQLite would then pick the status index and scan every
                # triple of that status for each batch (quadratic); statuses are filtered as rows arrive.
                .where(TripleRow.subject_id.between(bindparam("low"), bindparam("high")))
                .order_by(TripleRow.subject_id, TripleRow.id)
            )
        return self._query

    @property
    def base_iri(self) -> str:
        return self.project.base_iri

    def ontology(self) -> tuple[list[OntologyClass], list[OntologyProperty]]:
        classes = [OntologyClass(r.name, r.iri, r.label, r.parent, r.description, r.id)
                   for r in self.session.scalars(select(OntologyClassRow).order_by(OntologyClassRow.name))]
        properties = [OntologyProperty(r.name, r.iri, r.kind, r.domain, r.range, r.functional, r.label, r.id)
                      for r in self.session.scalars(select(OntologyPropertyRow).order_by(OntologyPropertyRow.name))]
        return classes, properties

    def count_triples(self) -> int:
        query = select(func.count()).select_from(TripleRow).where(TripleRow.status.in_(sorted(self.statuses)))
        return self.session.scalar(query) or 0

    def count_entities(self) -> int:
        return self.session.scalar(select(func.count()).select_from(EntityRow)) or 0

    def entity_batches(self, batch: int = ENTITY_BATCH) -> Iterator[list[EntityRecord]]:
        """Every entity (active and merged) in id order, with its aliases and its exported triples."""
        merged_target = aliased(EntityRow)
        last = 0
        while True:
            rows = self._connection.execute(
                select(EntityRow.id, EntityRow.iri, EntityRow.name, EntityRow.class_name, EntityRow.status,
                       merged_target.iri)
                .outerjoin(merged_target, merged_target.id == EntityRow.merged_into)
                .where(EntityRow.id > last).order_by(EntityRow.id).limit(batch)
            ).all()
            if not rows:
                return
            records = {r[0]: EntityRecord(r[0], r[1], r[2], r[3], r[4],
                                          r[5] if r[4] == EntityStatus.MERGED else None) for r in rows}
            low, high = rows[0][0], rows[-1][0]
            for entity_id, text, origin in self._connection.execute(
                    select(AliasRow.entity_id, AliasRow.text, AliasRow.origin)
                    .where(AliasRow.entity_id.between(low, high)).order_by(AliasRow.entity_id, AliasRow.id)):
                record = records.get(entity_id)
                if record is not None:
                    record.aliases.append((text, origin))
            # Core, not ORM, and the rows as they come (they have TripleRecord's fields by name): this loop
            # runs once per triple, and the ORM's row processing would double the cost of a large export.
            triples = self._connection.execute(self._triples_query, {"low": low, "high": high}).all()
            current: EntityRecord | None = None
            statuses = self.statuses
            for row in triples:
                if row[8] not in statuses:
                    continue
                if current is None or current.id != row[1]:
                    current = records.get(row[1])
                if current is not None:
                    current.triples.append(row)  # type: ignore[arg-type]
            last = high
            yield list(records.values())

    def evidence(self, triple_ids: list[int]) -> dict[int, list[EvidenceRecord]]:
        """Provenance of the given triples, keyed by triple id, each list in provenance id order."""
        found: dict[int, list[EvidenceRecord]] = {}
        chunk_segment = aliased(SegmentRow)
        for start in range(0, len(triple_ids), 500):
            wanted = triple_ids[start:start + 500]
            rows = self.session.execute(
                select(ProvenanceRow.id, ProvenanceRow.triple_id, SegmentRow.document_id, SegmentRow.locator,
                       ProvenanceRow.chunk_id, ChunkRow.document_id, chunk_segment.locator, ProvenanceRow.span_start,
                       ProvenanceRow.span_end, ProvenanceRow.run_id, ChunkRow.text)
                .outerjoin(SegmentRow, SegmentRow.id == ProvenanceRow.segment_id)
                .outerjoin(ChunkRow, ChunkRow.id == ProvenanceRow.chunk_id)
                .outerjoin(chunk_segment, and_(chunk_segment.document_id == ChunkRow.document_id,
                                               chunk_segment.ordinal == ChunkRow.segment_start))
                .where(ProvenanceRow.triple_id.in_(wanted)).order_by(ProvenanceRow.id)
            )
            for (pid, triple_id, seg_doc, seg_locator, chunk_id, chunk_doc, chunk_locator, span_start, span_end,
                 run_id, chunk_text) in rows:
                quote = None
                if chunk_text is not None and span_start is not None and span_end is not None:
                    quote = chunk_text[span_start:span_end] or None
                locator = seg_locator if seg_locator is not None else chunk_locator
                if isinstance(locator, str):
                    locator = json.loads(locator)
                found.setdefault(triple_id, []).append(EvidenceRecord(
                    pid, triple_id, seg_doc if seg_doc is not None else chunk_doc, locator, chunk_id,
                    span_start, span_end, run_id, quote))
        return found

    def document(self, document_id: int) -> DocumentRecord | None:
        row = self.session.get(DocumentRow, document_id)
        if row is None:
            return None
        return DocumentRecord(row.id, row.path, row.title, row.kind, row.sha256, row.parent_id)

    def run(self, run_id: int) -> RunRecord | None:
        row = self.session.get(RunRow, run_id)
        if row is None:
            return None
        return RunRecord(row.id, row.stage, row.model, row.prompt_version,
                         row.started_at.isoformat() if row.started_at else None,
                         row.finished_at.isoformat() if row.finished_at else None)


class _Opened:
    """``with GraphSource.open(project, ...) as source:`` — one read snapshot for the whole export."""

    def __init__(self, project: Project, status: str, provenance: bool) -> None:
        self._project, self._status, self._provenance = project, status, provenance
        self._context: Any = None

    def __enter__(self) -> GraphSource:
        self._context = self._project.read()
        session = self._context.__enter__()
        return GraphSource(self._project, session, self._status, self._provenance)

    def __exit__(self, *exc_info: Any) -> None:
        self._context.__exit__(*exc_info)
