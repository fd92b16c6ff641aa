"""SQLAlchemy 2.0 table definitions of a kgstudio project.

ORM rows never leave ``kgstudio.store``: repositories convert them to
``kgstudio.domain`` objects. The graph tables (entity, alias, triple,
provenance, merge) are written only through the row journal
(``kgstudio.store.journal``) so every change can be undone; they use
AUTOINCREMENT so an id is never handed out twice, which keeps undo/redo exact.

Bump :data:`SCHEMA_VERSION` with every change here and add a step to
``kgstudio.store.migrations``. Text that users, documents or plugins supply
is ``Text``: PostgreSQL enforces ``VARCHAR(n)`` where SQLite does not, so a
bounded column would fail on one engine only. ``String(n)`` holds only
values kgstudio itself controls (statuses, actors, hashes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 3  # 2: llm_call cache, chunk_extraction, candidate classes, entity_distinct; 3: run.owner
APPLICATION_NAME = "kgstudio"
# PRAGMA application_id of every kgstudio SQLite file ("KGS1"), so `file` and
# kgstudio itself can tell a project from any other SQLite database.
SQLITE_APPLICATION_ID = 0x4B475331

_NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Meta(Base):
    """Key/value facts about the project: application, schema version, base IRI."""

    __tablename__ = "kgstudio_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- documents -----------------------------------------------------------------


class DocumentRow(Base):
    __tablename__ = "document"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(Text)  # a reader name: plugins choose it
    status: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    imported_at: Mapped[datetime | None] = mapped_column(DateTime)


class SegmentRow(Base):
    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(Text, default="text")  # reader-chosen
    text: Mapped[str] = mapped_column(Text)
    locator: Mapped[dict[str, Any]] = mapped_column(JSON)
    table: Mapped[list[Any] | None] = mapped_column(JSON)  # rows of a table segment, header first


class ChunkRow(Base):
    __tablename__ = "chunk"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    segment_start: Mapped[int] = mapped_column(Integer)
    segment_end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    tokens: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)


# --- runs and raw LLM output ---------------------------------------------------


class RunRow(Base):
    __tablename__ = "run"
    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    prompt_version: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    owner: Mapped[str | None] = mapped_column(Text)  # "HOST PID START" of the process running it


class CandidateRow(Base):
    __tablename__ = "candidate"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    chunk_id: Mapped[int] = mapped_column(ForeignKey("chunk.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str | None] = mapped_column(Text)
    predicate: Mapped[str | None] = mapped_column(Text)
    object: Mapped[str | None] = mapped_column(Text)
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)
    raw: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    subject_class: Mapped[str | None] = mapped_column(Text)
    object_class: Mapped[str | None] = mapped_column(Text)
    llm_call_id: Mapped[int | None] = mapped_column(ForeignKey("llm_call.id"), index=True)


class LlmCallRow(Base):
    """One answer of a model, kept by content key so a re-run never asks the model again.

    ``key`` hashes everything the answer depends on: the chunk text, the prompt
    version, the model's identity and the parameters (ontology, seeds,
    decoding settings). Written as soon as the answer arrives, in its own
    transaction, so a killed run loses at most the answer being generated.
    """

    __tablename__ = "llm_call"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    model: Mapped[str] = mapped_column(Text)
    prompt_version: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raw: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)  # why the answer could not be used, after the retry
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ChunkExtractionRow(Base):
    """That a chunk's answer (an ``llm_call``) has been turned into candidates and triples."""

    __tablename__ = "chunk_extraction"
    __table_args__ = (UniqueConstraint("chunk_id", "llm_call_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    chunk_id: Mapped[int] = mapped_column(ForeignKey("chunk.id", ondelete="CASCADE"), index=True)
    llm_call_id: Mapped[int] = mapped_column(ForeignKey("llm_call.id"))
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))


# --- the graph (journaled: written only through kgstudio.store.journal) ---------


class EntityRow(Base):
    __tablename__ = "entity"
    __table_args__ = (_NEVER_REUSE_IDS,)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    class_name: Mapped[str | None] = mapped_column(Text)
    iri: Mapped[str] = mapped_column(Text, unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))


class AliasRow(Base):
    __tablename__ = "alias"
    __table_args__ = (Index("alias_text", "text"), _NEVER_REUSE_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(Text)


class TripleRow(Base):
    __tablename__ = "triple"
    __table_args__ = (
        CheckConstraint(
            "(object_id IS NULL) <> (object_literal IS NULL)", name="triple_one_object"
        ),
        Index("triple_subject", "subject_id"),
        Index("triple_object", "object_id"),
        _NEVER_REUSE_IDS,
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    predicate: Mapped[str] = mapped_column(Text)
    object_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))
    object_literal: Mapped[str | None] = mapped_column(Text)
    datatype: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    origin: Mapped[str] = mapped_column(String(16), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    status_reason: Mapped[str | None] = mapped_column(Text)


class ProvenanceRow(Base):
    __tablename__ = "provenance"
    __table_args__ = (_NEVER_REUSE_IDS,)
    id: Mapped[int] = mapped_column(primary_key=True)
    triple_id: Mapped[int] = mapped_column(ForeignKey("triple.id"), index=True)
    # Evidence: an LLM chunk (+ span), or a segment for facts read from structure
    # (e-mail headers, spreadsheet rows) whose locator is exact.
    chunk_id: Mapped[int | None] = mapped_column(ForeignKey("chunk.id"), index=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id"), index=True)
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"))


class MergeRow(Base):
    __tablename__ = "merge"
    __table_args__ = (_NEVER_REUSE_IDS,)
    id: Mapped[int] = mapped_column(primary_key=True)
    from_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    into_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    actor: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)


class EntityDistinctRow(Base):
    """A decision that two entities are different ("do not merge"), by a user or a split; fusion respects it.

    No foreign keys: deleting an entity must not need to know about these
    rows, and entity ids are never reused, so a row about a deleted entity
    is inert.
    """

    __tablename__ = "entity_distinct"
    __table_args__ = (_NEVER_REUSE_IDS,)
    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(Integer, index=True)
    other_id: Mapped[int] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)


# --- scope and schema ----------------------------------------------------------


class OntologyClassRow(Base):
    __tablename__ = "ontology_class"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    iri: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)
    parent: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)


class OntologyPropertyRow(Base):
    __tablename__ = "ontology_property"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    iri: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    domain: Mapped[str | None] = mapped_column(Text)
    range: Mapped[str | None] = mapped_column(Text)
    functional: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str | None] = mapped_column(Text)


class CompetencyQuestionRow(Base):
    __tablename__ = "competency_question"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    sparql: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    last_answer: Mapped[list[Any] | None] = mapped_column(JSON)


class SeedRow(Base):
    """A seed concept (Graphusion step 1); ``text`` is unique so a phrase is reviewed once."""

    __tablename__ = "seed"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text, unique=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), index=True)
    origin: Mapped[str] = mapped_column(String(16))


class ContractResultRow(Base):
    __tablename__ = "contract_result"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"), index=True)
    subject_table: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(Text)
    passed: Mapped[bool] = mapped_column(Boolean)
    message: Mapped[str | None] = mapped_column(Text)


# --- the audit log / undo history ----------------------------------------------


class EditLogRow(Base):
    __tablename__ = "edit_log"
    __table_args__ = (_NEVER_REUSE_IDS,)
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    command: Mapped[dict[str, Any]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text)
    # The exact row images before and after; undo applies them backwards.
    changes: Mapped[list[Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True)
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime)


# The graph, plus what extraction records with it in the same edit (candidates, and
# which chunks are done), so undoing an extraction also makes its chunks pending again.
JOURNALED_TABLES = {
    row.__tablename__: row.__table__
    for row in (EntityRow, AliasRow, TripleRow, ProvenanceRow, MergeRow, EntityDistinctRow, CandidateRow,
                ChunkExtractionRow, ContractResultRow)  # contract verdicts go with their candidates
}
