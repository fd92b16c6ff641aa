"""Locators: exactly where in a source file a passage came from.

A locator is small, immutable and round-trips through a plain ``dict`` (it is
stored as JSON), so the GUI can jump from any fact back to its source.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class PdfLocator:
    """A passage on a PDF page: 1-based page, bounding box in PDF points, char span."""

    kind: ClassVar[str] = "pdf"
    page: int
    bbox: tuple[float, float, float, float] | None = None
    char_start: int | None = None
    char_end: int | None = None


@dataclass(frozen=True)
class EmailLocator:
    """Lines of one MIME part of one message.

    ``part_path`` is ``"body"`` or an attachment name; an attachment that is
    itself a document carries its own locator in ``inner``.
    """

    kind: ClassVar[str] = "email"
    message_id: str
    part_path: str = "body"
    line_start: int | None = None
    line_end: int | None = None
    inner: "Locator | None" = None


@dataclass(frozen=True)
class SheetLocator:
    """A cell range of one worksheet (A1 notation) and its 1-based row."""

    kind: ClassVar[str] = "sheet"
    sheet: str
    cell_range: str
    row: int | None = None


@dataclass(frozen=True)
class TextLocator:
    """Lines of a plain-text file (Markdown, HTML, text): 1-based, inclusive."""

    kind: ClassVar[str] = "text"
    line_start: int
    line_end: int


Locator = PdfLocator | EmailLocator | SheetLocator | TextLocator

_KINDS: dict[str, type] = {cls.kind: cls for cls in (PdfLocator, EmailLocator, SheetLocator, TextLocator)}


def locator_to_dict(locator: Locator) -> dict[str, Any]:
    """Return a JSON-ready dict with a ``kind`` key."""
    # Fields one level deep (the only nested values are handled below): dataclasses.asdict's deep
    # copies cost more than everything else in storing a PDF's segments.
    data = {f.name: getattr(locator, f.name) for f in fields(locator)}
    if isinstance(locator, EmailLocator) and locator.inner is not None:
        data["inner"] = locator_to_dict(locator.inner)
    if isinstance(locator, PdfLocator) and locator.bbox is not None:
        data["bbox"] = list(locator.bbox)
    return {"kind": locator.kind, **data}


def locator_from_dict(data: dict[str, Any]) -> Locator:
    """Inverse of :func:`locator_to_dict`; raises ``ValueError`` on an unknown kind."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    cls = _KINDS.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown locator kind {kind!r}")
    if cls is PdfLocator and fields.get("bbox") is not None:
        fields["bbox"] = tuple(fields["bbox"])
    if cls is EmailLocator and fields.get("inner") is not None:
        fields["inner"] = locator_from_dict(fields["inner"])
    return cls(**fields)
