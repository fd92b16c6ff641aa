"""The knowledge graph: entities, their aliases, triples and where each triple came from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EntityStatus(StrEnum):
    ACTIVE = "active"
    MERGED = "merged"  # merged into ``Entity.merged_into``; kept so its IRI still resolves


class TripleStatus(StrEnum):
    CANDIDATE = "candidate"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    INFERRED = "inferred"


class Origin(StrEnum):
    """How a triple came to be."""

    EXTRACTED = "extracted"  # by the LLM from a chunk
    TABLE = "table"  # from a spreadsheet row / PDF table, no LLM
    HEADER = "header"  # from e-mail headers, no LLM
    FUSED = "fused"  # proposed by fusion across documents
    REFLECTED = "reflected"  # produced by a reflection corrector
    MANUAL = "manual"  # typed in by the user


@dataclass
class Entity:
    """A node of the graph. ``iri`` is minted once and never changes."""

    name: str
    iri: str
    class_name: str | None = None
    status: EntityStatus = EntityStatus.ACTIVE
    merged_into: int | None = None
    id: int | None = None


@dataclass
class Alias:
    """Another surface form of an entity (kept through merges)."""

    entity_id: int
    text: str
    origin: str = "manual"
    id: int | None = None


@dataclass
class Triple:
    """A statement. The object is an entity (``object_id``) or a literal, never both."""

    subject_id: int
    predicate: str
    object_id: int | None = None
    object_literal: str | None = None
    datatype: str | None = None  # e.g. xsd:date for literals
    lang: str | None = None
    status: TripleStatus = TripleStatus.CANDIDATE
    origin: Origin = Origin.EXTRACTED
    confidence: float | None = None
    status_reason: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if (self.object_id is None) == (self.object_literal is None):
            raise ValueError("a triple needs exactly one of object_id and object_literal")


@dataclass
class Provenance:
    """One piece of evidence for a triple: a chunk and a span in it (LLM facts), or a segment (structural facts)."""

    triple_id: int
    chunk_id: int | None = None
    span_start: int | None = None
    span_end: int | None = None
    run_id: int | None = None
    segment_id: int | None = None
    id: int | None = None


@dataclass
class Candidate:
    """Raw LLM output for one chunk, kept verbatim (also when it failed to parse)."""

    run_id: int
    chunk_id: int
    subject: str | None
    predicate: str | None
    object: str | None
    span_start: int | None = None
    span_end: int | None = None
    confidence: float | None = None
    raw: str | None = None
    error: str | None = None
    subject_class: str | None = None
    object_class: str | None = None
    llm_call_id: int | None = None
    id: int | None = None


@dataclass
class Merge:
    """The record that entity ``from_id`` was merged into ``into_id``."""

    from_id: int
    into_id: int
    actor: str
    reason: str | None = None
    score: float | None = None
    id: int | None = None
