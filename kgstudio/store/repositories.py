"""Repositories: take and return ``kgstudio.domain`` objects; ORM rows stay inside.

Documents, segments, chunks, runs, candidates, the ontology, competency
questions and seed concepts are written here directly. The graph (entities, aliases, triples,
provenance, merges) is *read* here and written only through the row journal
by ``kgstudio.edit`` commands, so every graph change is undoable and audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from kgstudio.domain import (
    Actor,
    Alias,
    Candidate,
    ChangeSet,
    Chunk,
    CompetencyQuestion,
    ContractResult,
    Document,
    DocumentStatus,
    EditRecord,
    EditState,
    Entity,
    EntityStatus,
    LlmCall,
    Merge,
    OntologyClass,
    OntologyProperty,
    Origin,
    Provenance,
    Run,
    RunStatus,
    Seed,
    SeedOrigin,
    SeedStatus,
    Segment,
    Triple,
    TripleStatus,
)
from kgstudio.domain.locators import locator_from_dict, locator_to_dict
from kgstudio.errors import EditError
from kgstudio.store import owners
from kgstudio.store.bulk import insert_rows
from kgstudio.store.schema import (
    AliasRow,
    CandidateRow,
    ChunkExtractionRow,
    ChunkRow,
    CompetencyQuestionRow,
    ContractResultRow,
    DocumentRow,
    EditLogRow,
    EntityDistinctRow,
    EntityRow,
    LlmCallRow,
    MergeRow,
    OntologyClassRow,
    OntologyPropertyRow,
    ProvenanceRow,
    RunRow,
    SeedRow,
    SegmentRow,
    TripleRow,
)


def utcnow() -> datetime:
    """Naive UTC (what SQLite stores and returns), the one clock of the store."""
    return datetime.now(UTC).replace(tzinfo=None)


class Repositories:
    """All repositories over one session (one transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.documents = DocumentRepository(session)
        self.runs = RunRepository(session)
        self.extraction = ExtractionRepository(session)
        self.graph = GraphReader(session)
        self.ontology = OntologyRepository(session)
        self.questions = CompetencyQuestionRepository(session)
        self.contracts = ContractResultRepository(session)
        self.seeds = SeedRepository(session)
        self.edit_log = EditLogRepository(session)


class DocumentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, document: Document) -> Document:
        row = DocumentRow(
            path=document.path, sha256=document.sha256, kind=document.kind,
            status=str(document.status), error=document.error, title=document.title,
            meta=document.metadata, parent_id=document.parent_id, imported_at=document.imported_at,
        )
        self.session.add(row)
        self.session.flush()
        document.id = row.id
        return document

    def get(self, document_id: int) -> Document | None:
        row = self.session.get(DocumentRow, document_id)
        return _document(row) if row else None

    def list(self) -> list[Document]:
        return [_document(row) for row in self.session.scalars(select(DocumentRow).order_by(DocumentRow.id))]

    def current_by_path(self, path: str) -> Document | None:
        """The newest top-level document imported from ``path`` that has not been replaced."""
        row = self.session.scalars(
            select(DocumentRow)
            .where(DocumentRow.path == path, DocumentRow.parent_id.is_(None),
                   DocumentRow.status != str(DocumentStatus.REPLACED))
            .order_by(DocumentRow.id.desc()).limit(1)
        ).first()
        return _document(row) if row else None

    def imported_with_content(self, sha256: str) -> Document | None:
        """A top-level document with this content that imported (fully or partly), if any."""
        row = self.session.scalars(
            select(DocumentRow)
            .where(DocumentRow.sha256 == sha256, DocumentRow.parent_id.is_(None),
                   DocumentRow.status.in_([str(DocumentStatus.IMPORTED), str(DocumentStatus.PARTIAL)]))
            .order_by(DocumentRow.id).limit(1)
        ).first()
        return _document(row) if row else None

    def family(self, document_id: int) -> list[int]:
        """The document and everything inside it (messages, attachments), recursively."""
        ids, frontier = [document_id], [document_id]
        while frontier:
            frontier = list(self.session.scalars(select(DocumentRow.id).where(DocumentRow.parent_id.in_(frontier))))
            ids.extend(frontier)
        return ids

    def evidence_ids(self, document_ids: list[int]) -> tuple[list[int], list[int]]:
        """Ids of the segments and chunks of these documents."""
        segments = list(self.session.scalars(select(SegmentRow.id).where(SegmentRow.document_id.in_(document_ids))))
        chunks = list(self.session.scalars(select(ChunkRow.id).where(ChunkRow.document_id.in_(document_ids))))
        return segments, chunks

    def problems(self) -> list[Document]:
        """Documents that failed or imported only partly, in import order (for status and the GUI)."""
        rows = self.session.scalars(
            select(DocumentRow)
            .where(DocumentRow.status.in_([str(DocumentStatus.FAILED), str(DocumentStatus.PARTIAL)]))
            .order_by(DocumentRow.id)
        )
        return [_document(row) for row in rows]

    def update(self, document: Document, *, sha256: bool = False) -> None:
        """Write back title, metadata, status, error, kind and import time of a stored document
        (and its content hash, with ``sha256``: a failed file read again)."""
        row = self.session.get_one(DocumentRow, document.id)
        row.title, row.meta, row.status, row.error = document.title, document.metadata, str(document.status), document.error
        row.kind, row.imported_at = document.kind, document.imported_at
        if sha256:
            row.sha256 = document.sha256

    def set_status(self, document_id: int, status: DocumentStatus, error: str | None = None) -> None:
        row = self.session.get_one(DocumentRow, document_id)
        row.status, row.error = str(status), error

    def add_segments(self, segments: Iterable[Segment]) -> None:
        segments = list(segments)
        ids = insert_rows(self.session.connection(), SegmentRow.__table__, [
            {"document_id": s.document_id, "ordinal": s.ordinal, "kind": s.kind, "text": s.text,
             "locator": locator_to_dict(s.locator), "table": s.table}
            for s in segments
        ])
        for segment, segment_id in zip(segments, ids, strict=True):
            segment.id = segment_id

    def segments(self, document_id: int) -> list[Segment]:
        rows = self.session.scalars(
            select(SegmentRow).where(SegmentRow.document_id == document_id).order_by(SegmentRow.ordinal)
        )
        return [
            Segment(row.document_id, row.ordinal, row.text, locator_from_dict(row.locator), row.kind, row.table, row.id)
            for row in rows
        ]

    def add_chunks(self, chunks: Iterable[Chunk]) -> None:
        chunks = list(chunks)
        ids = insert_rows(self.session.connection(), ChunkRow.__table__, [
            {"document_id": c.document_id, "segment_start": c.segment_start, "segment_end": c.segment_end,
             "text": c.text, "tokens": c.tokens, "sha256": c.sha256}
            for c in chunks
        ])
        for chunk, chunk_id in zip(chunks, ids, strict=True):
            chunk.id = chunk_id

    def chunks(self, document_id: int) -> list[Chunk]:
        rows = self.session.scalars(select(ChunkRow).where(ChunkRow.document_id == document_id).order_by(ChunkRow.id))
        return [
            Chunk(r.document_id, r.segment_start, r.segment_end, r.text, r.tokens, r.sha256, r.id) for r in rows
        ]

    def current_chunk_texts(self, batch: int = 200) -> Iterator[str]:
        """The text of every chunk of an imported (not replaced or failed) document, streamed in id order."""
        query = select(ChunkRow.text).where(ChunkRow.document_id.in_(self._current_ids())).order_by(ChunkRow.id)
        yield from self.session.scalars(query.execution_options(yield_per=batch))

    def current_chunk_index(self) -> list[tuple[int, int, str, int]]:
        """(chunk id, document id, sha256, estimated tokens) of every current chunk, in document order."""
        query = (select(ChunkRow.id, ChunkRow.document_id, ChunkRow.sha256, ChunkRow.tokens)
                 .where(ChunkRow.document_id.in_(self._current_ids())).order_by(ChunkRow.document_id, ChunkRow.id))
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]

    def chunks_by_id(self, chunk_ids: Iterable[int]) -> dict[int, Chunk]:
        wanted = list(chunk_ids)
        found: dict[int, Chunk] = {}
        for start in range(0, len(wanted), 500):
            for r in self.session.scalars(select(ChunkRow).where(ChunkRow.id.in_(wanted[start:start + 500]))):
                found[r.id] = Chunk(r.document_id, r.segment_start, r.segment_end, r.text, r.tokens, r.sha256, r.id)
        return found

    def segments_between(self, document_id: int, first: int, last: int) -> list[Segment]:
        """The document's segments with ordinals ``first`` to ``last`` (a chunk's range), in order."""
        rows = self.session.scalars(
            select(SegmentRow).where(SegmentRow.document_id == document_id, SegmentRow.ordinal >= first,
                                     SegmentRow.ordinal <= last).order_by(SegmentRow.ordinal))
        return [Segment(row.document_id, row.ordinal, row.text, locator_from_dict(row.locator), row.kind, row.table,
                        row.id) for row in rows]

    def count_current_chunks(self) -> int:
        query = select(func.count()).select_from(ChunkRow).where(ChunkRow.document_id.in_(self._current_ids()))
        return self.session.scalar(query) or 0

    @staticmethod
    def _current_ids() -> Select[tuple[int]]:
        return select(DocumentRow.id).where(
            DocumentRow.status.in_([str(DocumentStatus.IMPORTED), str(DocumentStatus.PARTIAL)]))


class RunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def start(self, run: Run) -> Run:
        """Record ``run`` as started by this process (and close the books on runs whose process is gone)."""
        self.mark_interrupted()
        row = RunRow(
            stage=run.stage, model=run.model, prompt_version=run.prompt_version, params=run.params,
            status=str(run.status), message=run.message, started_at=run.started_at or utcnow(),
            owner=run.owner or owners.this_process(),
        )
        self.session.add(row)
        self.session.flush()
        run.id, run.started_at, run.owner = row.id, row.started_at, row.owner
        return run

    def interrupted(self) -> list[int]:
        """Ids of runs still marked ``running`` whose process has stopped (killed or crashed)."""
        rows = self.session.execute(select(RunRow.id, RunRow.owner).where(RunRow.status == str(RunStatus.RUNNING)))
        return [run_id for run_id, owner in rows if owners.is_gone(owner)]

    def mark_interrupted(self) -> list[int]:
        """Mark the :meth:`interrupted` runs so; returns their ids."""
        ids = self.interrupted()
        for run_id in ids:
            row = self.session.get_one(RunRow, run_id)
            row.status = str(RunStatus.INTERRUPTED)
            row.message = ("the process running it stopped before it ended (killed or crashed); "
                           "what it had finished is kept, and a new run goes on from there")
        return ids

    def finish(self, run_id: int, status: RunStatus, message: str | None = None) -> None:
        row = self.session.get_one(RunRow, run_id)
        row.status, row.message, row.finished_at = str(status), message, utcnow()

    def get(self, run_id: int) -> Run | None:
        row = self.session.get(RunRow, run_id)
        if row is None:
            return None
        return Run(row.stage, row.model, row.prompt_version, row.params, RunStatus(row.status),
                   row.message, row.started_at, row.finished_at, row.id, row.owner)

    def latest_of(self, stage: str) -> Run | None:
        """The newest run of ``stage``, however it ended (or None)."""
        run_id = self.session.scalar(select(RunRow.id).where(RunRow.stage == stage).order_by(RunRow.id.desc()).limit(1))
        return self.get(run_id) if run_id is not None else None

    def latest(self, stage: str, status: RunStatus) -> Run | None:
        """The newest run of ``stage`` that ended with ``status`` (e.g. the last finished fusion)."""
        run_id = self.session.scalar(select(RunRow.id).where(RunRow.stage == stage, RunRow.status == str(status))
                                     .order_by(RunRow.id.desc()).limit(1))
        return self.get(run_id) if run_id is not None else None

    def add_candidates(self, candidates: Iterable[Candidate]) -> None:
        for candidate in candidates:
            row = CandidateRow(
                run_id=candidate.run_id, chunk_id=candidate.chunk_id, subject=candidate.subject,
                predicate=candidate.predicate, object=candidate.object, span_start=candidate.span_start,
                span_end=candidate.span_end, confidence=candidate.confidence, raw=candidate.raw,
                error=candidate.error, subject_class=candidate.subject_class,
                object_class=candidate.object_class, llm_call_id=candidate.llm_call_id,
            )
            self.session.add(row)
            self.session.flush()
            candidate.id = row.id


class ExtractionRepository:
    """The model-answer cache and which chunks have been extracted with which answer."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def calls_by_key(self, keys: Iterable[str]) -> dict[str, LlmCall]:
        wanted = list(keys)
        found: dict[str, LlmCall] = {}
        for start in range(0, len(wanted), 500):
            rows = self.session.scalars(select(LlmCallRow).where(LlmCallRow.key.in_(wanted[start:start + 500])))
            found.update((row.key, _llm_call(row)) for row in rows)
        return found

    def add_call(self, call: LlmCall) -> LlmCall:
        row = LlmCallRow(
            key=call.key, model=call.model, prompt_version=call.prompt_version, params=call.params, raw=call.raw,
            attempts=call.attempts, error=call.error, prompt_tokens=call.prompt_tokens,
            completion_tokens=call.completion_tokens, seconds=call.seconds, created_at=call.created_at or utcnow(),
        )
        self.session.add(row)
        self.session.flush()
        call.id, call.created_at = row.id, row.created_at
        return call

    def extracted(self, chunk_ids: Iterable[int]) -> set[tuple[int, int]]:
        """(chunk id, llm_call id) pairs already turned into candidates, among ``chunk_ids``."""
        wanted = list(chunk_ids)
        done: set[tuple[int, int]] = set()
        for start in range(0, len(wanted), 500):
            done.update((row[0], row[1]) for row in self.session.execute(
                select(ChunkExtractionRow.chunk_id, ChunkExtractionRow.llm_call_id)
                .where(ChunkExtractionRow.chunk_id.in_(wanted[start:start + 500]))).all())
        return done

    def mark_extracted(self, chunk_id: int, llm_call_id: int, run_id: int) -> None:
        self.session.add(ChunkExtractionRow(chunk_id=chunk_id, llm_call_id=llm_call_id, run_id=run_id))

    def speed(self, model: str, last: int = 50) -> tuple[float, float] | None:
        """(prompt tokens/s, generated tokens/s) over this model's recent answers here; None if none."""
        rows = self.session.execute(
            select(LlmCallRow.prompt_tokens, LlmCallRow.completion_tokens, LlmCallRow.seconds)
            .where(LlmCallRow.model == model, LlmCallRow.seconds > 0)
            .order_by(LlmCallRow.id.desc()).limit(last)).all()
        if not rows:
            return None
        completion = sum(r.completion_tokens for r in rows)
        seconds = sum(r.seconds for r in rows)
        return sum(r.prompt_tokens for r in rows) / seconds, completion / seconds

    def candidates(self, chunk_id: int | None = None) -> list[Candidate]:
        query = select(CandidateRow).order_by(CandidateRow.id)
        if chunk_id is not None:
            query = query.where(CandidateRow.chunk_id == chunk_id)
        return [_candidate(row) for row in self.session.scalars(query)]


class GraphReader:
    """Read access to the graph tables (writes go through ``kgstudio.edit``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def entity(self, entity_id: int) -> Entity | None:
        row = self.session.get(EntityRow, entity_id)
        return _entity(row) if row else None

    def names(self, entity_ids: Iterable[int]) -> dict[int, str]:
        """Entity id -> name for those of ``entity_ids`` that exist (one query per 500 ids, not one per entity)."""
        wanted = list(dict.fromkeys(entity_ids))
        names: dict[int, str] = {}
        for start in range(0, len(wanted), 500):
            query = select(EntityRow.id, EntityRow.name).where(EntityRow.id.in_(wanted[start:start + 500]))
            names.update((entity_id, name) for entity_id, name in self.session.execute(query))
        return names

    def entities(self, *, include_merged: bool = False) -> list[Entity]:
        query = select(EntityRow).order_by(EntityRow.id)
        if not include_merged:
            query = query.where(EntityRow.status == str(EntityStatus.ACTIVE))
        return [_entity(row) for row in self.session.scalars(query)]

    def find_entities(self, name: str) -> list[Entity]:
        """Active entities whose name or an alias equals ``name`` (case-insensitive)."""
        lowered = name.casefold()
        by_alias = select(AliasRow.entity_id).where(func.lower(AliasRow.text) == lowered)
        query = select(EntityRow).where(
            EntityRow.status == str(EntityStatus.ACTIVE),
            (func.lower(EntityRow.name) == lowered) | EntityRow.id.in_(by_alias),
        )
        return [_entity(row) for row in self.session.scalars(query.order_by(EntityRow.id))]

    def aliases(self, entity_id: int) -> list[Alias]:
        rows = self.session.scalars(select(AliasRow).where(AliasRow.entity_id == entity_id).order_by(AliasRow.id))
        return [Alias(row.entity_id, row.text, row.origin, row.id) for row in rows]

    def triple(self, triple_id: int) -> Triple | None:
        row = self.session.get(TripleRow, triple_id)
        return _triple(row) if row else None

    def triples(self, *, entity_id: int | None = None, status: TripleStatus | None = None,
                limit: int | None = None) -> list[Triple]:
        """Triples by id; those about ``entity_id`` (as subject or object) and with ``status`` when given;
        the first ``limit`` of them when given."""
        query = select(TripleRow).order_by(TripleRow.id).limit(limit)
        if entity_id is not None:
            query = query.where((TripleRow.subject_id == entity_id) | (TripleRow.object_id == entity_id))
        if status is not None:
            query = query.where(TripleRow.status == str(status))
        return [_triple(row) for row in self.session.scalars(query)]

    def triple_count(self, entity_id: int) -> int:
        """How many triples have ``entity_id`` as subject or object."""
        query = select(func.count()).select_from(TripleRow).where(
            (TripleRow.subject_id == entity_id) | (TripleRow.object_id == entity_id))
        return int(self.session.scalar(query) or 0)

    def provenance(self, triple_id: int) -> list[Provenance]:
        rows = self.session.scalars(select(ProvenanceRow).where(ProvenanceRow.triple_id == triple_id))
        return [Provenance(r.triple_id, r.chunk_id, r.span_start, r.span_end, r.run_id, r.segment_id, r.id)
                for r in rows]

    def merges(self, entity_id: int) -> list[Merge]:
        rows = self.session.scalars(
            select(MergeRow).where((MergeRow.from_id == entity_id) | (MergeRow.into_id == entity_id))
        )
        return [Merge(r.from_id, r.into_id, r.actor, r.reason, r.score, r.id) for r in rows]

    def all_aliases(self) -> list[Alias]:
        """Every alias, in id order (one query: fusion reads them all)."""
        rows = self.session.execute(select(AliasRow.entity_id, AliasRow.text, AliasRow.origin, AliasRow.id)
                                    .order_by(AliasRow.id))
        return [Alias(*row) for row in rows]

    def evidence_places(self) -> list[tuple[int, int | None, int | None, int | None]]:
        """(triple id, document id, chunk id, segment id) of every provenance row."""
        query = (select(ProvenanceRow.triple_id, func.coalesce(ChunkRow.document_id, SegmentRow.document_id),
                        ProvenanceRow.chunk_id, ProvenanceRow.segment_id)
                 .outerjoin(ChunkRow, ChunkRow.id == ProvenanceRow.chunk_id)
                 .outerjoin(SegmentRow, SegmentRow.id == ProvenanceRow.segment_id).order_by(ProvenanceRow.id))
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]

    def distinct_pairs(self) -> list[tuple[int, int]]:
        """Pairs of entities a user (or a split) said are different: fusion never merges them."""
        rows = self.session.execute(select(EntityDistinctRow.entity_id, EntityDistinctRow.other_id))
        return [(a, b) for a, b in rows]


class OntologyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_class(self, cls: OntologyClass) -> None:
        self.session.add(OntologyClassRow(name=cls.name, iri=cls.iri, label=cls.label,
                                          parent=cls.parent, description=cls.description))

    def add_property(self, prop: OntologyProperty) -> None:
        self.session.add(OntologyPropertyRow(name=prop.name, iri=prop.iri, kind=prop.kind, domain=prop.domain,
                                             range=prop.range, functional=prop.functional, label=prop.label))

    def replace(self, classes: Iterable[OntologyClass], properties: Iterable[OntologyProperty]) -> None:
        """Make the project's ontology exactly these terms (an import or a derived ontology)."""
        self.session.execute(delete(OntologyPropertyRow))
        self.session.execute(delete(OntologyClassRow))
        for cls in classes:
            self.add_class(cls)
        for prop in properties:
            self.add_property(prop)
        self.session.flush()

    def classes(self) -> list[OntologyClass]:
        rows = self.session.scalars(select(OntologyClassRow).order_by(OntologyClassRow.name))
        return [OntologyClass(r.name, r.iri, r.label, r.parent, r.description, r.id) for r in rows]

    def properties(self) -> list[OntologyProperty]:
        rows = self.session.scalars(select(OntologyPropertyRow).order_by(OntologyPropertyRow.name))
        return [OntologyProperty(r.name, r.iri, r.kind, r.domain, r.range, r.functional, r.label, r.id) for r in rows]


class CompetencyQuestionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, question: CompetencyQuestion) -> CompetencyQuestion:
        row = CompetencyQuestionRow(text=question.text, sparql=question.sparql, status=question.status,
                                    last_answer=question.last_answer)
        self.session.add(row)
        self.session.flush()
        question.id = row.id
        return question

    def list(self) -> list[CompetencyQuestion]:
        rows = self.session.scalars(select(CompetencyQuestionRow).order_by(CompetencyQuestionRow.id))
        return [CompetencyQuestion(r.text, r.sparql, r.status, r.last_answer, r.id) for r in rows]

    def get(self, question_id: int) -> CompetencyQuestion:
        row = self.session.get(CompetencyQuestionRow, question_id)
        if row is None:
            raise EditError(f"there is no competency question {question_id}")
        return CompetencyQuestion(row.text, row.sparql, row.status, row.last_answer, row.id)

    def update(self, question: CompetencyQuestion) -> CompetencyQuestion:
        """Store ``question``'s text, SPARQL, status and last answer under its id."""
        row = self.session.get(CompetencyQuestionRow, question.id)
        if row is None:
            raise EditError(f"there is no competency question {question.id}")
        row.text, row.sparql, row.status, row.last_answer = (question.text, question.sparql, question.status,
                                                             question.last_answer)
        self.session.flush()
        return question

    def delete(self, question_id: int) -> None:
        if self.session.get(CompetencyQuestionRow, question_id) is None:
            raise EditError(f"there is no competency question {question_id}")
        self.session.execute(delete(CompetencyQuestionRow).where(CompetencyQuestionRow.id == question_id))


class ContractResultRepository:
    """Contract verdicts (written with the candidates by ``AddExtractedTriples``; read here)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def pass_rates(self, run_id: int | None = None) -> dict[int, dict[str, tuple[int, int]]]:
        """``{run id: {rule: (passed, checked)}}``, for one run or all."""
        query = (select(ContractResultRow.run_id, ContractResultRow.rule, ContractResultRow.passed,
                        func.count()).group_by(ContractResultRow.run_id, ContractResultRow.rule,
                                               ContractResultRow.passed))
        if run_id is not None:
            query = query.where(ContractResultRow.run_id == run_id)
        rates: dict[int, dict[str, list[int]]] = {}
        for run, rule, passed, count in self.session.execute(query):
            tally = rates.setdefault(run, {}).setdefault(rule, [0, 0])
            tally[0] += count if passed else 0
            tally[1] += count
        return {run: {rule: (p, n) for rule, (p, n) in rules.items()} for run, rules in sorted(rates.items())}

    def failures(self, run_id: int | None = None, limit: int | None = None) -> list[ContractResult]:
        """The verdicts that failed, newest run first."""
        query = select(ContractResultRow).where(ContractResultRow.passed.is_(False)) \
            .order_by(ContractResultRow.id.desc())
        if run_id is not None:
            query = query.where(ContractResultRow.run_id == run_id)
        if limit is not None:
            query = query.limit(limit)
        return [ContractResult(r.run_id, r.subject_table, r.subject_id, r.rule, r.passed, r.message, r.id)
                for r in self.session.scalars(query)]


class SeedRepository:
    """Seed concepts. Phrases are unique ignoring case; unknown ids and clashes raise :class:`EditError`."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(SeedRow)) or 0

    def list(self, include_rejected: bool = False) -> list[Seed]:
        """Seeds by score, highest first (ties by id, so the order is stable)."""
        query = select(SeedRow).order_by(SeedRow.score.desc(), SeedRow.id)
        if not include_rejected:
            query = query.where(SeedRow.status != str(SeedStatus.REJECTED))
        return [_seed(row) for row in self.session.scalars(query)]

    def get(self, seed_id: int) -> Seed | None:
        row = self.session.get(SeedRow, seed_id)
        return _seed(row) if row else None

    def find(self, text: str) -> Seed | None:
        """The seed whose phrase equals ``text`` ignoring case and surrounding space, if any."""
        row = self._by_key().get(_seed_key(text))
        return _seed(row) if row else None

    def add(self, seed: Seed) -> Seed:
        text = _seed_text(seed.text)
        clash = self._by_key().get(_seed_key(text))
        if clash is not None:
            raise EditError(f"seed {clash.text!r} already exists (#{clash.id})")
        row = SeedRow(text=text, score=seed.score, status=str(seed.status), origin=str(seed.origin))
        self.session.add(row)
        self.session.flush()
        seed.id, seed.text = row.id, text
        return seed

    def set_status(self, seed_id: int, status: SeedStatus) -> Seed:
        row = self._row(seed_id)
        row.status = str(SeedStatus(status))
        return _seed(row)

    def rename(self, seed_id: int, text: str) -> Seed:
        """Change a seed's phrase; it becomes the user's, so a recompute keeps it."""
        row = self._row(seed_id)
        text = _seed_text(text)
        clash = self._by_key().get(_seed_key(text))
        if clash is not None and clash.id != seed_id:
            raise EditError(f"seed {clash.text!r} already exists (#{clash.id})")
        row.text, row.origin = text, str(SeedOrigin.USER)
        return _seed(row)

    def replace_proposed(self, seeds: Iterable[Seed], limit: int | None = None) -> list[Seed]:
        """Store a recompute: machine-proposed seeds are replaced, every reviewed or user seed stays.

        A new phrase that matches a kept seed (ignoring case) is not proposed
        again; a kept machine seed takes the new score. At most ``limit`` new
        proposals are stored, in the order given. Returns them.
        """
        for row in self.session.scalars(select(SeedRow).where(
                SeedRow.status == str(SeedStatus.PROPOSED), SeedRow.origin == str(SeedOrigin.TEXTRANK))):
            self.session.delete(row)
        self.session.flush()
        kept = self._by_key()
        added: list[SeedRow] = []
        for seed in seeds:
            key = _seed_key(seed.text)
            if key in kept:
                if kept[key].origin == str(SeedOrigin.TEXTRANK):
                    kept[key].score = seed.score
                continue
            if limit is not None and len(added) >= limit:
                continue
            row = SeedRow(text=_seed_text(seed.text), score=seed.score, status=str(SeedStatus.PROPOSED),
                          origin=str(SeedOrigin.TEXTRANK))
            self.session.add(row)
            kept[key] = row
            added.append(row)
        self.session.flush()
        return [_seed(row) for row in added]

    def _row(self, seed_id: int) -> SeedRow:
        row = self.session.get(SeedRow, seed_id)
        if row is None:
            raise EditError(f"no seed #{seed_id}")
        return row

    def _by_key(self) -> dict[str, SeedRow]:
        # Seeds number in the hundreds at most: comparing in Python gives Unicode case folding
        # on every engine (SQLite's lower() folds ASCII only).
        return {_seed_key(row.text): row for row in self.session.scalars(select(SeedRow))}


class EditLogRepository:
    """The audit log, which is also the persistent undo/redo history."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, record: EditRecord) -> EditRecord:
        now = utcnow()
        row = EditLogRow(
            created_at=now, actor=str(record.actor), reason=record.reason, command=record.command,
            description=record.description, changes=record.changes.to_list(), state=str(record.state),
            state_changed_at=now,
        )
        self.session.add(row)
        self.session.flush()
        record.id, record.created_at, record.state_changed_at = row.id, now, now
        return record

    def set_state(self, record_id: int, state: EditState) -> None:
        row = self.session.get_one(EditLogRow, record_id)
        row.state, row.state_changed_at = str(state), utcnow()

    def discard_redo(self) -> int:
        """Mark every undone entry discarded (a new edit ends the redo branch); return how many."""
        rows = list(self.session.scalars(select(EditLogRow).where(EditLogRow.state == str(EditState.UNDONE))))
        for row in rows:
            row.state, row.state_changed_at = str(EditState.DISCARDED), utcnow()
        return len(rows)

    def last_done(self) -> EditRecord | None:
        row = self.session.scalars(
            select(EditLogRow).where(EditLogRow.state == str(EditState.DONE)).order_by(EditLogRow.id.desc()).limit(1)
        ).first()
        return _edit(row) if row else None

    def first_undone(self) -> EditRecord | None:
        """The most recently undone entry (undo walks down, redo walks back up)."""
        row = self.session.scalars(
            select(EditLogRow).where(EditLogRow.state == str(EditState.UNDONE)).order_by(EditLogRow.id).limit(1)
        ).first()
        return _edit(row) if row else None

    def list(self, limit: int | None = None) -> list[EditRecord]:
        """Newest first."""
        query = select(EditLogRow).order_by(EditLogRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return [_edit(row) for row in self.session.scalars(query)]


# --- converters ----------------------------------------------------------------


def _llm_call(row: LlmCallRow) -> LlmCall:
    return LlmCall(row.key, row.model, row.prompt_version, row.raw, row.attempts, row.prompt_tokens,
                   row.completion_tokens, row.seconds, row.params, row.error, row.created_at, row.id)


def _candidate(row: CandidateRow) -> Candidate:
    return Candidate(row.run_id, row.chunk_id, row.subject, row.predicate, row.object, row.span_start,
                     row.span_end, row.confidence, row.raw, row.error, row.subject_class, row.object_class,
                     row.llm_call_id, row.id)


def _document(row: DocumentRow) -> Document:
    return Document(row.path, row.kind, row.sha256, DocumentStatus(row.status), row.error, row.title,
                    dict(row.meta or {}), row.parent_id, row.imported_at, row.id)


def _entity(row: EntityRow) -> Entity:
    return Entity(row.name, row.iri, row.class_name, EntityStatus(row.status), row.merged_into, row.id)


def _triple(row: TripleRow) -> Triple:
    return Triple(row.subject_id, row.predicate, row.object_id, row.object_literal, row.datatype, row.lang,
                  TripleStatus(row.status), Origin(row.origin), row.confidence, row.status_reason, row.id)


def _seed(row: SeedRow) -> Seed:
    return Seed(row.text, row.score, SeedStatus(row.status), SeedOrigin(row.origin), row.id)


def _seed_text(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise EditError("a seed needs some text")
    return cleaned


def _seed_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _edit(row: EditLogRow) -> EditRecord:
    return EditRecord(Actor(row.actor), dict(row.command), row.description, ChangeSet.from_list(row.changes),
                      row.reason, EditState(row.state), row.created_at, row.state_changed_at, row.id)
