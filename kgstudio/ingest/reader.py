"""The contract between kgstudio and a reader of one file format.

A reader turns one source (a file, or the bytes of an attachment) into one or
more :class:`ReadResult` (an mbox yields one per message). It does not touch
the store: the import stage (``kgstudio.pipeline.importing``) stores what it
returns, nests attachment locators, chunks the text and turns the structural
facts into graph edits. Readers register through the entry-point group
``kgstudio.readers`` exactly as third-party readers do.

A reader raises :class:`ReadError` for a file it cannot read at all; what it
*can* read with problems (a page that failed, a malformed MIME part) it
returns, with the problems listed in :attr:`ReadResult.defects`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from kgstudio.domain import Locator
from kgstudio.errors import KgstudioError


class ReadError(KgstudioError):
    """The file cannot be read at all. The message says why; the importer adds the file name."""


class PasswordRequired(ReadError):
    """An encrypted file and no (or a wrong) password."""


@dataclass(frozen=True)
class ReadOptions:
    """What the user chose for this import."""

    password: str | None = None
    ocr: bool = True  # OCR pages without a text layer when Tesseract is installed
    ocr_language: str = "eng"


@dataclass(frozen=True)
class Source:
    """What to read: a file on disk, or bytes (an attachment) with the name it had."""

    name: str  # file name, used for messages and for the attachment's own name
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def from_path(cls, path: Path) -> "Source":
        return cls(path.name, path=path)

    def open(self) -> IO[bytes]:
        """A binary file object; readers should stream from it rather than load everything."""
        if self.path is not None:
            return self.path.open("rb")
        import io

        return io.BytesIO(self.data or b"")

    def read_bytes(self) -> bytes:
        return self.path.read_bytes() if self.path is not None else (self.data or b"")

    def head(self, size: int = 8192) -> bytes:
        with self.open() as handle:
            return handle.read(size)


@dataclass
class SegmentDraft:
    """A passage in reading order. ``table`` holds the rows of a table segment (first row = header)."""

    text: str
    locator: Locator
    kind: str = "text"  # "text", "heading", "table", "header" (e-mail headers), "row" (a spreadsheet row)
    table: list[list[str]] | None = None


@dataclass(frozen=True)
class EntityRef:
    """An entity a structural fact is about, identified across documents by ``key``.

    ``key`` is what makes one person one entity everywhere: e.g. ``mailto:ada@example.com``
    for an e-mail address, ``row:<sha256>/Sheet1/5`` for a spreadsheet row.
    """

    key: str
    name: str
    class_name: str | None = None


@dataclass(frozen=True)
class Literal:
    value: str
    datatype: str | None = None  # "xsd:date", "xsd:dateTime", "xsd:decimal", "xsd:integer", "xsd:boolean"
    lang: str | None = None


@dataclass
class FactDraft:
    """A fact read from structure (e-mail headers, spreadsheet rows), no LLM involved.

    ``segment`` is the index (in :attr:`ReadResult.segments`) of the passage that
    shows it; its locator is the provenance. ``origin`` is "header" or "table".
    """

    subject: EntityRef
    predicate: str
    object: EntityRef | Literal
    segment: int
    origin: str


@dataclass
class AttachmentDraft:
    """A file carried inside this one; it goes back through the reader registry.

    ``name`` must already be a safe base name (no directories, no ``..``).
    ``locator`` says where it sits in the parent (an :class:`EmailLocator` whose
    ``part_path`` is the name); the attachment's own locators are nested in it.
    """

    name: str
    data: bytes
    locator: Locator
    content_type: str | None = None


@dataclass
class ReadResult:
    """One document as read."""

    kind: str  # the reader's name, or a sub-kind ("email-message")
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # JSON-safe values only
    segments: list[SegmentDraft] = field(default_factory=list)
    facts: list[FactDraft] = field(default_factory=list)
    attachments: list[AttachmentDraft] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)  # problems that did not stop the read
    part: str | None = None  # which part of a multi-document source ("message 3"), None for the whole file


class Reader(Protocol):
    """A file format reader (see the module docstring)."""

    name: str
    patterns: tuple[str, ...]  # file name globs, lower case: ("*.pdf",)

    def sniff(self, head: bytes) -> bool:
        """True when the first bytes look like this format (used when the extension lies)."""
        ...

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        """Yield the documents in the source; raise :class:`ReadError` when there is nothing to read."""
        ...


def safe_attachment_name(name: str | None, fallback: str = "attachment") -> str:
    """A base name that cannot escape a folder: no directories, no '..', no control characters."""
    import re
    from pathlib import PurePosixPath, PureWindowsPath

    if not name:
        return fallback
    base = PureWindowsPath(PurePosixPath(name.replace("\\", "/")).name).name
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip().lstrip(".")
    return base[:200] or fallback
