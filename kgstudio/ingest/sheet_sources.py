"""Rows out of .xlsx/.xlsm (openpyxl), .xls (xlrd) and .csv files, as :class:`SheetRows`.

Each source streams its rows and fills merged ranges (the top-left value
applies to every cell of the range). Checks that must happen before any of
this runs (zip bombs, XML DTDs, encryption) live in :mod:`kgstudio.ingest.excel`.

Merged cells in .xlsx: openpyxl's read-only mode, the only mode whose memory
does not grow with the sheet, does not expose them, and the ``<mergeCells>``
element comes *after* ``<sheetData>`` in the sheet part. So before streaming a
sheet we scan its part once for ``<mergeCell ref="..."/>`` tags, in 1 MiB
chunks with a bytes search (no XML parser, constant memory; ``<`` cannot occur
unescaped in cell text, so a match is markup). Loading the sheet a second time
in normal mode would cost memory in proportion to the sheet, which is what
read-only mode is for.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from xml.etree import ElementTree

from kgstudio.ingest.sheet_table import SheetRows, column_letter

MAX_MERGE_WIDTH = 1024  # a merge over more columns is clipped: "A1:XFD1" must not make every row 16k wide
MAX_LISTED_MERGES = 1000
_CHUNK = 1 << 20
_MERGE_REF = re.compile(
    rb"<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']([A-Za-z]{1,3}[0-9]+(?::[A-Za-z]{1,3}[0-9]+)?)[\"']"
)
_CELL = re.compile(r"([A-Za-z]{1,3})([0-9]+)")
_CORE_FIELDS = {
    "{http://purl.org/dc/elements/1.1/}title": "title",
    "{http://purl.org/dc/elements/1.1/}creator": "creator",
    "{http://purl.org/dc/elements/1.1/}subject": "subject",
    "{http://purl.org/dc/elements/1.1/}description": "description",
    "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}keywords": "keywords",
    "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}lastModifiedBy": "last_modified_by",
    "{http://purl.org/dc/terms/}created": "created",
    "{http://purl.org/dc/terms/}modified": "modified",
}

Bounds = tuple[int, int, int, int]  # min_row, min_col, max_row, max_col; 1-based, inclusive
NumberedRow = tuple[int, Sequence[Any]]


class MergeFiller:
    """Copies each merged range's top-left value into every cell of the range, row by row."""

    def __init__(self, ranges: Sequence[Bounds]) -> None:
        self._pending = sorted(ranges, key=lambda bounds: bounds[0], reverse=True)
        self._active: list[tuple[Bounds, Any]] = []

    def fill(self, number: int, values: Sequence[Any]) -> Sequence[Any]:
        """``values`` of row ``number`` with the merged ranges over it filled in."""
        self._active = [(bounds, value) for bounds, value in self._active if bounds[2] >= number]
        while self._pending and self._pending[-1][0] <= number:
            bounds = self._pending.pop()
            if bounds[0] == number and bounds[1] <= len(values):
                self._active.append((bounds, values[bounds[1] - 1]))
        if not self._active:
            return values
        row = list(values)
        for (_, min_col, _, max_col), value in self._active:
            if value is None:
                continue
            if len(row) < max_col:
                row.extend([None] * (max_col - len(row)))
            row[min_col - 1:max_col] = [value] * (max_col - min_col + 1)
        return row


def parse_range(ref: str) -> Bounds | None:
    """"C1:D2" -> (1, 3, 2, 4); None when it is not an A1 cell or range."""
    parts = ref.split(":")
    if len(parts) == 1:
        parts *= 2
    corners: list[tuple[int, int]] = []
    for part in parts:
        match = _CELL.fullmatch(part)
        if match is None or len(parts) != 2:
            return None
        corners.append((int(match.group(2)), _column_number(match.group(1))))
    (row1, col1), (row2, col2) = corners
    return min(row1, row2), min(col1, col2), max(row1, row2), max(col1, col2)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _range_text(bounds: Bounds) -> str:
    min_row, min_col, max_row, max_col = bounds
    return f"{column_letter(min_col - 1)}{min_row}:{column_letter(max_col - 1)}{max_row}"


def _merge_info(bounds: Sequence[Bounds]) -> dict[str, Any]:
    """Sheet metadata about merged ranges (the list capped: metadata is stored with the document)."""
    return {"merged_ranges": [_range_text(b) for b in bounds[:MAX_LISTED_MERGES]], "merged_range_count": len(bounds)}


def scan_merged_ranges(archive: zipfile.ZipFile, part: str) -> list[str]:
    """The ``ref`` of every ``<mergeCell>`` in a sheet part, in constant memory (see module docstring)."""
    refs: dict[str, None] = {}
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(_CHUNK):
            data = tail + chunk
            if b"mergeCell" in data:
                refs.update((match.group(1).decode("ascii").upper(), None) for match in _MERGE_REF.finditer(data))
            tail = data[-512:]  # a tag cut between two chunks is found whole in the next round
    return list(refs)


def _merge_bounds(refs: Sequence[str], defects: list[str]) -> list[Bounds]:
    bounds: list[Bounds] = []
    for ref in refs:
        parsed = parse_range(ref)
        if parsed is None:
            defects.append(f"ignored merged range {ref!r}")
            continue
        min_row, min_col, max_row, max_col = parsed
        if max_col - min_col >= MAX_MERGE_WIDTH:
            defects.append(f"merged range {ref} clipped to {MAX_MERGE_WIDTH} columns")
            max_col = min_col + MAX_MERGE_WIDTH - 1
        bounds.append((min_row, min_col, max_row, max_col))
    return bounds


def core_properties(archive: zipfile.ZipFile) -> dict[str, str]:
    """Title, creator, created/modified (ISO 8601 as stored) ... from docProps/core.xml.

    Read here rather than from openpyxl, which invents "now" and "openpyxl" for
    missing dates and creator. The caller has already refused parts with a DTD,
    so the standard parser cannot expand entities here.
    """
    try:
        data = archive.read("docProps/core.xml")
    except KeyError:
        return {}
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return {}
    found: dict[str, str] = {}
    for element in root:
        name = _CORE_FIELDS.get(element.tag)
        if name and element.text and element.text.strip():
            found[name] = element.text.strip()
    return found


def xlsx_sheets(workbook: Any, archive: zipfile.ZipFile) -> Iterator[SheetRows]:
    """The worksheets of an openpyxl read-only workbook, merged ranges filled."""
    for sheet in workbook.worksheets:
        defects: list[str] = []
        part = getattr(sheet, "_worksheet_path", None)  # openpyxl keeps no public name for it
        refs: list[str] = []
        if part:
            refs = scan_merged_ranges(archive, part)
        else:
            defects.append("merged cells could not be read")
        bounds = _merge_bounds(refs, defects)
        sheet.reset_dimensions()  # a wrong <dimension> would otherwise cut rows short
        info = {"hidden": sheet.sheet_state != "visible", **_merge_info(bounds)}
        rows = enumerate(sheet.iter_rows(values_only=True), start=1)
        yield SheetRows(sheet.title, _filled_rows(rows, bounds), info, defects)


def _filled_rows(rows: Iterator[NumberedRow], bounds: Sequence[Bounds]) -> Iterator[NumberedRow]:
    if not bounds:
        yield from rows
        return
    filler = MergeFiller(bounds)
    for number, values in rows:
        yield number, filler.fill(number, values)


def xls_sheets(book: Any) -> Iterator[SheetRows]:
    """The sheets of an xlrd book (opened with ``on_demand=True``), merged ranges filled."""
    import xlrd

    for index in range(book.nsheets):
        sheet = book.sheet_by_index(index)
        defects: list[str] = []
        # xlrd: (row_lo, row_hi, col_lo, col_hi), 0-based with hi exclusive = 1-based with hi inclusive
        refs = [_range_text((rlo + 1, clo + 1, rhi, chi)) for rlo, rhi, clo, chi in sheet.merged_cells]
        bounds = _merge_bounds(refs, defects)
        info = {"hidden": sheet.visibility != 0, **_merge_info(bounds)}
        rows = ((r + 1, [_xls_value(xlrd, cell, book.datemode) for cell in sheet.row(r)]) for r in range(sheet.nrows))
        yield SheetRows(sheet.name, _released(_filled_rows(rows, bounds), book, index), info, defects)


def _released(rows: Iterator[NumberedRow], book: Any, index: int) -> Iterator[NumberedRow]:
    yield from rows
    book.unload_sheet(index)


def _xls_value(xlrd: Any, cell: Any, datemode: int) -> Any:
    kind = cell.ctype
    if kind == xlrd.XL_CELL_TEXT:
        return cell.value
    if kind == xlrd.XL_CELL_NUMBER:
        return cell.value
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#N/A")
    if kind == xlrd.XL_CELL_DATE:
        try:
            stamp = xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell.value
        stamp = _round_to_millisecond(stamp)
        return stamp.time() if 0 <= cell.value < 1 else stamp
    return None  # empty, blank


def _round_to_millisecond(stamp: dt.datetime) -> dt.datetime:
    return stamp.replace(microsecond=0) + dt.timedelta(milliseconds=round(stamp.microsecond / 1000))


# --- CSV -------------------------------------------------------------------------------------

_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_INTEGER = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")  # "007" stays text: leading zeros mean a code
_DECIMAL = re.compile(r"[+-]?(?:0|[1-9][0-9]*)\.[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?")


class CsvEncoding:
    """Streams a CSV file once: its sha256 and the first encoding that decodes all of it.

    BOMs decide first (utf-8-sig, utf-16); then utf-8 if every byte decodes;
    then cp1252 unless it has one of the five bytes cp1252 leaves undefined;
    then latin-1, which decodes anything.
    """

    def __init__(self, stream: IO[bytes], hasher: Any) -> None:
        self.encoding = "utf-8"
        self.binary = False
        decoder = codecs.getincrementaldecoder("utf-8")()
        utf8 = True
        cp1252 = True
        first = True
        while chunk := stream.read(_CHUNK):
            hasher.update(chunk)
            if first:
                first = False
                if chunk.startswith(codecs.BOM_UTF8):
                    self.encoding = "utf-8-sig"
                elif chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    self.encoding = "utf-16"
                elif b"\x00" in chunk[:8192]:
                    self.binary = True
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            if cp1252 and _CP1252_UNDEFINED.search(chunk):
                cp1252 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
        if self.encoding == "utf-8" and not utf8:
            self.encoding = "cp1252" if cp1252 else "latin-1"


def csv_delimiter(sample: str) -> str:
    """The delimiter csv.Sniffer finds among , ; tab | (quoting stays Excel's: its guess is unreliable)."""
    cut = sample.rfind("\n")
    if cut > 0:
        sample = sample[:cut]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def csv_value(text: str) -> Any:
    """A CSV field as a typed value: integers, decimals, ISO dates/datetimes, true/false; else text."""
    text = text.strip()
    if not text:
        return None
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        try:
            return Decimal(text)
        except InvalidOperation:
            return text
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return text
    if _DATETIME.fullmatch(text):
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            return text
    return text


def csv_sheet(stream: IO[bytes], name: str, encoding: str, delimiter: str) -> SheetRows:
    """The records of a CSV file as one sheet; a malformed record ends the sheet with a defect."""
    defects: list[str] = []
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)

    def rows() -> Iterator[NumberedRow]:
        number = 0
        try:
            for number, record in enumerate(reader, start=1):
                yield number, [csv_value(field) for field in record]
        except csv.Error as exc:
            defects.append(f"stopped at record {number + 1}: {exc}")
        finally:
            text.detach()

    return SheetRows(name, rows(), {"encoding": encoding, "delimiter": delimiter}, defects)
