"""One sheet's rows -> row entities, typed facts and row segments, whatever the file format.

The format readers (``sheet_sources``) hand over each sheet as :class:`SheetRows`:
1-based row numbers and Python cell values (str, int, float, Decimal, bool,
date, datetime, time, timedelta, None), merged ranges already filled in. This
module finds the header row, types each value as an XSD literal and appends one
``row`` segment plus one fact per non-empty column to a :class:`ReadResult`.

Header heuristic (:func:`find_header`), over the first :data:`HEADER_WINDOW`
non-empty rows of a sheet:

* a row qualifies when it has at least ``need`` text cells, where
  ``need`` is more than half the *median* number of filled cells per row in
  the window (at least 2 unless the sheet is one column wide), and text is the
  majority of its own filled cells. The median, not the widest row, so that a
  few wide rows or extra unlabeled columns do not hide the real header;
  equal neighbours count once, so that a group label merged over many
  columns ("Move samples" over Z1:AH1) is not taken for the header below it;
* and a later row follows that looks like data under it: at least two filled
  cells (one for a one-column sheet) and not a copy of it (a header merged
  over two rows repeats itself in the second row once merged cells are
  filled; such copies are skipped as header continuation, as are header rows
  repeated further down). A key/value form ("Status" | "Success", then lone
  labels) therefore has no header;
* the first qualifying row wins. Non-empty rows above it are title rows: they
  become ``heading`` segments, not entities. When no row qualifies (a sheet of
  numbers or dates, a single line) every non-empty row is data and the
  columns are named "Column A", "Column B", ...

Below a header, a row whose only filled cells lie in columns the header leaves
blank (a footnote under the table) is a note: a ``text`` segment, no entity.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kgstudio.domain import SheetLocator
from kgstudio.ingest.reader import EntityRef, FactDraft, Literal, ReadResult, SegmentDraft

HEADER_WINDOW = 25  # non-empty rows looked at to find the header
LONG_TEXT = 200  # text cells longer than this also become a "text" segment for the LLM
NAME_LIMIT = 120  # characters of a row entity's name
# Facts one file may yield. A result is held in memory until it is stored
# (about 2.5 KB a fact at peak, measured), so a 100 MB sheet would need
# gigabytes; past this the rows are counted, not read, and a defect says so.
MAX_FACTS_PER_FILE = 500_000
_LITERAL_CACHE_LIMIT = 100_000  # identical literals are shared (repetitive columns), up to this many

# Excel error values: a cached "#REF!" is no fact about anything.
ERROR_VALUES = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
})

XSD_INTEGER = "xsd:integer"
XSD_DECIMAL = "xsd:decimal"
XSD_BOOLEAN = "xsd:boolean"
XSD_DATE = "xsd:date"
XSD_DATETIME = "xsd:dateTime"
XSD_TIME = "xsd:time"
XSD_DURATION = "xsd:duration"

Row = tuple[int, list[Any]]


@dataclass
class SheetRows:
    """One sheet as a stream of rows: (1-based row number, values from column A on)."""

    name: str
    rows: Iterator[tuple[int, Sequence[Any]]]
    info: dict[str, Any] = field(default_factory=dict)  # format-specific, JSON-safe (hidden, merged ranges)
    defects: list[str] = field(default_factory=list)  # filled while ``rows`` is consumed


def column_letter(index: int) -> str:
    """0-based column index -> "A", "B", ..., "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_range(row: int, first: int, last: int) -> str:
    """A1 range of columns ``first``..``last`` (0-based) of one row: "A5:F5", or "C5" for one cell."""
    start = f"{column_letter(first)}{row}"
    return start if first == last else f"{start}:{column_letter(last)}{row}"


def to_literal(value: Any) -> Literal:
    """A typed literal for a non-empty cell value (text gets no datatype)."""
    if isinstance(value, bool):
        return Literal("true" if value else "false", XSD_BOOLEAN)
    if isinstance(value, int):
        return Literal(str(value), XSD_INTEGER)
    if isinstance(value, float):
        if not math.isfinite(value):
            return Literal(str(value))
        return _number_literal(Decimal(f"{value:.15g}"))  # 15 digits, as Excel shows: no float noise
    if isinstance(value, Decimal):
        return _number_literal(value) if value.is_finite() else Literal(str(value))
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0):
            return Literal(value.date().isoformat(), XSD_DATE)
        return Literal(value.isoformat(timespec=_timespec(value.microsecond)), XSD_DATETIME)
    if isinstance(value, dt.date):
        return Literal(value.isoformat(), XSD_DATE)
    if isinstance(value, dt.time):
        return Literal(value.isoformat(timespec=_timespec(value.microsecond)), XSD_TIME)
    if isinstance(value, dt.timedelta):
        return Literal(_duration(value), XSD_DURATION)
    return Literal(str(value).strip())


def _number_literal(number: Decimal) -> Literal:
    if number == number.to_integral_value():
        return Literal(str(int(number)), XSD_INTEGER)
    return Literal(format(number.normalize(), "f"), XSD_DECIMAL)  # xsd:decimal has no exponent


def _timespec(microsecond: int) -> str:
    return "seconds" if microsecond == 0 else "milliseconds"


def _duration(delta: dt.timedelta) -> str:
    sign = "-" if delta < dt.timedelta(0) else ""
    delta = abs(delta)
    hours, rest = divmod(delta.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    secs = f"{seconds}.{delta.microseconds:06d}".rstrip("0").rstrip(".")
    return f"{sign}P{delta.days}DT{hours}H{minutes}M{secs}S"


def clean_cells(values: Sequence[Any]) -> tuple[list[Any], int]:
    """Trimmed values with blanks and Excel errors as None, and the number of error cells."""
    cells: list[Any] = []
    errors = 0
    for value in values:
        if isinstance(value, str):
            value = value.strip()
            if value in ERROR_VALUES:
                errors += 1
                value = None
            elif not value:
                value = None
        cells.append(value)
    while cells and cells[-1] is None:
        cells.pop()
    return cells, errors


def _filled(cells: Sequence[Any]) -> int:
    return sum(value is not None for value in cells)


def _texts(cells: Sequence[Any]) -> int:
    """Text cells, a run of equal neighbours counting once: a label merged over five columns is one."""
    count = 0
    previous: Any = None
    for value in cells:
        if isinstance(value, str) and value != previous:
            count += 1
        previous = value
    return count


def repeats_header(cells: Sequence[Any], header: Sequence[Any]) -> bool:
    """True when every filled cell equals the header cell above it (merged or repeated header)."""
    if not _filled(cells) or len(cells) > len(header):
        return False
    return all(value is None or value == header[i] for i, value in enumerate(cells))


def find_header(window: Sequence[Row]) -> int | None:
    """Index in ``window`` (non-empty rows) of the header row, or None (see the module docstring)."""
    if len(window) < 2:
        return None
    widest = max(_filled(cells) for _, cells in window)
    typical = statistics.median(_filled(cells) for _, cells in window)
    need = 1 if widest == 1 else max(2, math.floor(typical / 2) + 1)
    for index, (_, cells) in enumerate(window):
        texts = _texts(cells)
        if texts < need or texts * 2 <= _filled(cells):
            continue
        if any(_filled(later) >= min(need, 2) and not repeats_header(later, cells) for _, later in window[index + 1:]):
            return index
    return None


class SheetTableWriter:
    """Appends the sheets of one file to a :class:`ReadResult` as row entities, facts and segments."""

    def __init__(self, result: ReadResult, content_id: str) -> None:
        self.result = result
        self.content_id = content_id
        self._literals: dict[tuple[type, Any], Literal] = {}

    def add_sheet(self, sheet: SheetRows) -> dict[str, Any]:
        """Read all rows of ``sheet``; return its metadata (header row, columns, row counts)."""
        window: list[Row] = []
        last_row = errors = 0
        rows = iter(sheet.rows)
        for number, values in rows:
            last_row = number if len(values) else last_row  # openpyxl's count: rows with cells
            cells, bad = clean_cells(values)
            errors += bad
            if cells:
                window.append((number, cells))
                if len(window) >= HEADER_WINDOW:
                    break
        found = find_header(window)
        table = _Table(sheet.name, self, header=window[found] if found is not None else None)
        if found is not None:
            for number, cells in window[:found]:
                table.add_title(number, cells)
            window = window[found + 1:]
        for number, cells in window:
            table.add_row(number, cells)
        skipped = 0
        for number, values in rows:
            last_row = number if len(values) else last_row  # openpyxl's count: rows with cells
            if len(self.result.facts) >= MAX_FACTS_PER_FILE:
                skipped += 1 if len(values) else 0
                continue
            cells, bad = clean_cells(values)
            errors += bad
            if cells:
                table.add_row(number, cells)
        if skipped:
            self.result.defects.append(
                f"sheet {sheet.name!r}: only the rows up to {table.last_read_row} were imported; {skipped:,} more "
                f"rows were left out (a file may give at most {MAX_FACTS_PER_FILE:,} facts); split the file to "
                "import the rest")
        self.result.defects.extend(f"sheet {sheet.name!r}: {defect}" for defect in sheet.defects)
        return {
            "name": sheet.name,
            "header_row": table.header_row,
            "header_range": table.header_range,
            "columns": table.columns,
            "title_rows": table.title_rows,
            "rows": last_row,
            "data_rows": table.data_rows,
            "skipped_header_copies": table.header_copies,
            "note_rows": table.note_rows,
            "error_cells": errors,
            **sheet.info,
        }

    def literal(self, value: Any) -> Literal:
        """A shared literal: a column of repeated values costs one object per distinct value."""
        key = (value.__class__, value)
        literal = self._literals.get(key)
        if literal is None:
            if len(self._literals) >= _LITERAL_CACHE_LIMIT:
                self._literals.clear()
            literal = self._literals[key] = to_literal(value)
        return literal


class _Table:
    """The rows of one sheet below its header (or all of them when it has none)."""

    def __init__(self, sheet: str, writer: SheetTableWriter, header: Row | None) -> None:
        self.last_read_row = 0
        self.sheet = sheet
        self.writer = writer
        self.header_row = header[0] if header else None
        self.header_cells: list[Any] = list(header[1]) if header else []
        headed = [i for i, value in enumerate(self.header_cells) if value is not None]
        self._headed = frozenset(headed)
        self._header_span = (headed[0], headed[-1]) if headed else None
        self._names: list[str] = []  # predicate of each column, grown as wider rows come
        self.columns: list[str] = []  # header names, from its first to its last filled cell
        self.header_range: str | None = None
        if header and self._header_span:
            first, last = self._header_span
            self.columns = self._names_upto(last)[first:last + 1]
            self.header_range = cell_range(header[0], first, last)
        self.title_rows: list[int] = []
        self.data_rows = 0
        self.header_copies = 0
        self.note_rows = 0

    def _names_upto(self, last: int) -> list[str]:
        names = self._names
        for index in range(len(names), last + 1):
            value = self.header_cells[index] if index < len(self.header_cells) else None
            if value is None:
                names.append(f"Column {column_letter(index)}")
            else:
                names.append(value if isinstance(value, str) else to_literal(value).value)
        return names

    def add_title(self, number: int, cells: list[Any]) -> None:
        """A row above the header: its text is context for the LLM, not an entity."""
        self._add_text(number, cells, "heading")
        self.title_rows.append(number)

    def _add_text(self, number: int, cells: list[Any], kind: str) -> None:
        filled = [i for i, value in enumerate(cells) if value is not None]
        locator = SheetLocator(self.sheet, cell_range(number, filled[0], filled[-1]), number)
        self.writer.result.segments.append(SegmentDraft(_joined(cells), locator, kind=kind))

    def add_row(self, number: int, cells: list[Any]) -> None:
        """One data row -> one row segment, one fact per filled column, long-text segments."""
        self.last_read_row = number
        filled = [i for i, value in enumerate(cells) if value is not None]
        if self._header_span is not None:
            if repeats_header(cells, self.header_cells):
                self.header_copies += 1
                return
            if self._headed.isdisjoint(filled):  # a footnote beside or under the table
                self._add_text(number, cells, "text")
                self.note_rows += 1
                return
            first, last = min(filled[0], self._header_span[0]), max(filled[-1], self._header_span[1])
        else:
            first, last = filled[0], filled[-1]
        names = self._names_upto(last)
        literal_of = self.writer.literal
        facts: list[tuple[str, Literal, int]] = []
        shown: list[str] = []
        previous: tuple[str, Literal] | None = None
        for index in range(first, last + 1):
            value = cells[index] if index < len(cells) else None
            if value is None:
                shown.append("")
                previous = None
                continue
            literal = literal_of(value)
            shown.append(literal.value)
            pair = (names[index], literal)
            if pair != previous:  # one merge under one merged header fills neighbours alike: one fact
                facts.append((names[index], literal, index))
            previous = pair
        result = self.writer.result
        segment = len(result.segments)
        text = "; ".join(f"{predicate}: {literal.value}" for predicate, literal, _ in facts)
        locator = SheetLocator(self.sheet, cell_range(number, first, last), number)
        result.segments.append(SegmentDraft(text, locator, kind="row", table=[names[first:last + 1], shown]))
        subject = EntityRef(
            key=f"row:{self.sheet}!{number}@{self.writer.content_id}",
            name=self._row_name(number, facts),
            class_name=self.sheet,
        )
        for predicate, literal, index in facts:
            result.facts.append(FactDraft(subject, predicate, literal, segment, origin="table"))
            if literal.datatype is None and len(literal.value) > LONG_TEXT:
                cell = SheetLocator(self.sheet, cell_range(number, index, index), number)
                result.segments.append(SegmentDraft(literal.value, cell, kind="text"))
        self.data_rows += 1

    def _row_name(self, number: int, facts: list[tuple[str, Literal, int]]) -> str:
        for _, literal, _ in facts:
            if literal.datatype is None:
                name = " ".join(literal.value.split())
                return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1] + "…"
        return f"{self.sheet} row {number}"


def _joined(cells: Sequence[Any]) -> str:
    """The filled cells of a row as one line; a value merged over several columns appears once."""
    parts: list[str] = []
    for value in cells:
        if value is not None:
            text = to_literal(value).value
            if not parts or parts[-1] != text:
                parts.append(text)
    return " ".join(parts)
