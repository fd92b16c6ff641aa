"""Read-only queries the window's panels need, as plain dataclasses (no Qt here).

These select only the columns a view shows, in one statement each, so a
panel over thousands of documents or triples fills in milliseconds. They
read the store's tables the way ``GraphReader`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from kgstudio.domain import Alias, Entity, Triple, TripleStatus
from kgstudio.domain.locators import Locator, locator_from_dict
from kgstudio.store import Project
from kgstudio.store.schema import (
    ChunkRow,
    DocumentRow,
    EntityRow,
    ProvenanceRow,
    SegmentRow,
    TripleRow,
)


@dataclass(frozen=True)
class DocumentInfo:
    """One line of the Documents panel."""

    id: int
    parent_id: int | None
    path: str
    title: str | None
    kind: str
    status: str
    error: str | None
    segments: int
    chunks: int


def documents(project: Project) -> list[DocumentInfo]:
    """Every document (attachments and messages after their parent), with segment and chunk counts."""
    with project.read() as session:
        segments = dict(session.execute(select(SegmentRow.document_id, func.count()).group_by(SegmentRow.document_id)).all())
        chunks = dict(session.execute(select(ChunkRow.document_id, func.count()).group_by(ChunkRow.document_id)).all())
        rows = session.execute(select(
            DocumentRow.id, DocumentRow.parent_id, DocumentRow.path, DocumentRow.title, DocumentRow.kind,
            DocumentRow.status, DocumentRow.error,
        ).order_by(DocumentRow.id)).all()
    return [DocumentInfo(r.id, r.parent_id, r.path, r.title, r.kind, r.status, r.error,
                         segments.get(r.id, 0), chunks.get(r.id, 0)) for r in rows]


SHOWN_STATEMENTS = 1000  # of an entity's statements, the first this many are listed


@dataclass
class EntityView:
    """What the inspector shows of an entity: its names, its first statements and the names on their other side."""

    entity: Entity
    aliases: list[Alias]
    triples: list[Triple]  # the first SHOWN_STATEMENTS by id
    hidden: int  # statements past those
    names: dict[int, str]  # entity id -> name, for the other side of each statement


def entity_view(project: Project, entity_id: int) -> EntityView | None:
    """The entity and its first :data:`SHOWN_STATEMENTS` statements, or None when there is no such entity.

    A hub (the list address of a whole mailbox) has tens of thousands of statements: only the first ones
    are read, and the names on their other side come in one query per 500.
    """
    with project.repositories() as repos:
        entity = repos.graph.entity(entity_id)
        if entity is None:
            return None
        triples = repos.graph.triples(entity_id=entity_id, limit=SHOWN_STATEMENTS)
        hidden = repos.graph.triple_count(entity_id) - len(triples) if len(triples) == SHOWN_STATEMENTS else 0
        others = {t.object_id for t in triples if t.object_id} | {t.subject_id for t in triples}
        return EntityView(entity, repos.graph.aliases(entity_id), triples, hidden, repos.graph.names(others))


@dataclass(frozen=True)
class Evidence:
    """One provenance row, resolved to its document, locator and passage."""

    provenance_id: int
    document_id: int
    document_path: str
    document_kind: str
    locator: Locator | None
    passage: str  # the segment's text, or the chunk's
    span: tuple[int, int] | None  # the quoted span inside ``passage``, when known
    segment_texts: tuple[tuple[Locator, str], ...] = ()  # a chunk's segments, for locating the span

    @property
    def quote(self) -> str:
        """The quoted words (the span), or the start of the passage."""
        if self.span is not None and self.passage[self.span[0]:self.span[1]].strip():
            return self.passage[self.span[0]:self.span[1]]
        return self.passage[:200]

    def describe(self) -> str:
        """"CV_John_Doe.pdf, page 1" / "complex.mbox, lines 3–9" / "people.csv, row 4"."""
        name = self.document_path.rsplit("/", 1)[-1]
        return f"{name}, {describe_locator(self.locator)}" if self.locator else name


def describe_locator(locator: Locator) -> str:
    """Where a passage is, in words."""
    kind = locator.kind
    if kind == "pdf":
        return f"page {locator.page}"  # type: ignore[union-attr]
    if kind == "sheet":
        row = f", row {locator.row}" if locator.row else ""  # type: ignore[union-attr]
        return f"sheet {locator.sheet!r} {locator.cell_range}{row}"  # type: ignore[union-attr]
    if kind == "email":
        part = "" if locator.part_path == "body" else (  # type: ignore[union-attr]
            "headers, " if locator.part_path == "headers" else f"attachment {locator.part_path}, ")  # type: ignore[union-attr]
        if locator.inner is not None:  # type: ignore[union-attr]
            return part + describe_locator(locator.inner)  # type: ignore[union-attr]
        return part + _lines(locator.line_start, locator.line_end)  # type: ignore[union-attr]
    return _lines(locator.line_start, locator.line_end)  # type: ignore[union-attr]


def _lines(start: int | None, end: int | None) -> str:
    if start is None:
        return "message"
    return f"line {start}" if end in (None, start) else f"lines {start}–{end}"


def evidence(project: Project, triple_id: int) -> list[Evidence]:
    """Where a triple came from: each provenance row with its document, locator and passage."""
    result: list[Evidence] = []
    with project.read() as session:
        rows = session.execute(select(
            ProvenanceRow.id, ProvenanceRow.chunk_id, ProvenanceRow.segment_id,
            ProvenanceRow.span_start, ProvenanceRow.span_end,
        ).where(ProvenanceRow.triple_id == triple_id).order_by(ProvenanceRow.id)).all()
        for row in rows:
            span = (row.span_start, row.span_end) if row.span_start is not None and row.span_end is not None else None
            if row.segment_id is not None:
                seg = session.get(SegmentRow, row.segment_id)
                if seg is None:
                    continue
                doc = session.get(DocumentRow, seg.document_id)
                result.append(Evidence(row.id, doc.id, doc.path, doc.kind, _locator(seg.locator), seg.text, span))
            elif row.chunk_id is not None:
                chunk = session.get(ChunkRow, row.chunk_id)
                if chunk is None:
                    continue
                result.append(_evidence_in_chunk(session, row.id, chunk, span))
    return result


def chunk_evidence(project: Project, chunk_id: int, span: tuple[int, int] | None) -> Evidence | None:
    """A passage of a chunk as :class:`Evidence` (for what has no provenance row: a rejected candidate)."""
    with project.read() as session:
        chunk = session.get(ChunkRow, chunk_id)
        if chunk is None:
            return None
        return _evidence_in_chunk(session, 0, chunk, span)


def _evidence_in_chunk(session: Any, provenance_id: int, chunk: ChunkRow, span: tuple[int, int] | None) -> Evidence:
    """A chunk's passage with the locators of the segments it holds; the first is where ``span`` starts."""
    doc = session.get(DocumentRow, chunk.document_id)
    segments = session.execute(select(SegmentRow.locator, SegmentRow.text).where(
        SegmentRow.document_id == chunk.document_id,
        SegmentRow.ordinal.between(chunk.segment_start, chunk.segment_end),
    ).order_by(SegmentRow.ordinal)).all()
    located = tuple((loc, text) for loc, text in ((_locator(s.locator), s.text) for s in segments)
                    if loc is not None)
    return Evidence(provenance_id, doc.id, doc.path, doc.kind, _segment_for_span(chunk.text, located, span),
                    chunk.text, span, located)


def _segment_for_span(chunk_text: str, segments: tuple[tuple[Locator, str], ...],
                      span: tuple[int, int] | None) -> Locator | None:
    """The locator of the segment the quoted span lies in (the chunk's first segment when unknown)."""
    if not segments:
        return None
    if span is not None:
        quote = chunk_text[span[0]:span[1]].strip()
        for locator, text in segments:
            if quote and quote in text:
                return locator
    return segments[0][0]


def _locator(data: dict[str, Any] | None) -> Locator | None:
    if not data:
        return None
    try:
        return locator_from_dict(data)
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True)
class CandidateInfo:
    """One line of the review queue: a candidate triple with its names."""

    triple_id: int
    subject: str
    predicate: str
    object: str
    confidence: float | None
    origin: str


def candidates(project: Project) -> list[CandidateInfo]:
    """Candidate triples, most confident first (unknown confidence last)."""
    subject = EntityRow.__table__.alias("s")
    obj = EntityRow.__table__.alias("o")
    query = (
        select(TripleRow.id, subject.c.name, TripleRow.predicate, obj.c.name, TripleRow.object_literal,
               TripleRow.confidence, TripleRow.origin)
        .join(subject, subject.c.id == TripleRow.subject_id)
        .outerjoin(obj, obj.c.id == TripleRow.object_id)
        .where(TripleRow.status == str(TripleStatus.CANDIDATE))
        .order_by(TripleRow.confidence.is_(None), TripleRow.confidence.desc(), TripleRow.id)
    )
    with project.read() as session:
        rows = session.execute(query).all()
    return [CandidateInfo(r[0], r[1], r[2], r[3] if r[3] is not None else repr(r[4]), r[5], r[6]) for r in rows]


def triples_from_documents(project: Project, document_ids: list[int]) -> set[int]:
    """Ids of the triples with evidence in these documents (or in messages and attachments inside them)."""
    if not document_ids:
        return set()
    with project.repositories() as repos:
        family = sorted({i for d in document_ids for i in repos.documents.family(d)})
        session = repos.session
        by_segment = select(ProvenanceRow.triple_id).join(SegmentRow, SegmentRow.id == ProvenanceRow.segment_id) \
            .where(SegmentRow.document_id.in_(family))
        by_chunk = select(ProvenanceRow.triple_id).join(ChunkRow, ChunkRow.id == ProvenanceRow.chunk_id) \
            .where(ChunkRow.document_id.in_(family))
        return set(session.scalars(by_segment)) | set(session.scalars(by_chunk))
