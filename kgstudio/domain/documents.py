"""Documents as imported: the file, its passages (segments) and LLM-sized chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kgstudio.domain.locators import Locator


class DocumentStatus(StrEnum):
    """Where a document stands in import. ``failed`` always carries an error text."""

    PENDING = "pending"
    IMPORTED = "imported"
    PARTIAL = "partial"  # imported, but some parts (pages, attachments) failed
    FAILED = "failed"
    REPLACED = "replaced"  # an older version of a file that changed; kept so provenance stays valid


@dataclass
class Document:
    """One source file (or an attachment inside one, see ``parent_id``)."""

    path: str
    kind: str  # "pdf", "email", "sheet", ... (the reader's name)
    sha256: str
    status: DocumentStatus = DocumentStatus.PENDING
    error: str | None = None
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    parent_id: int | None = None
    imported_at: datetime | None = None
    id: int | None = None


@dataclass
class Segment:
    """A passage in reading order with the locator that says where it came from."""

    document_id: int
    ordinal: int
    text: str
    locator: Locator
    kind: str = "text"  # "text", "heading", "table", "header" (e-mail headers), "row" (a spreadsheet row)
    table: list[list[str]] | None = None  # rows of a table segment, header first
    id: int | None = None


@dataclass
class Chunk:
    """A run of consecutive segments sized for one LLM request."""

    document_id: int
    segment_start: int  # ordinal of the first segment (inclusive)
    segment_end: int  # ordinal of the last segment (inclusive)
    text: str
    tokens: int
    sha256: str
    id: int | None = None
