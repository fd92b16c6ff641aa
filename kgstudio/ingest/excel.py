"""The spreadsheet reader: .xlsx/.xlsm (openpyxl), .xls (xlrd), .csv (csv) -> one ReadResult per file.

The format is decided by content first (zip, OLE2 compound file, PDF ...) and
by the extension only for CSV, which has no magic. Every data row becomes a
row entity with one typed fact per non-empty column (see ``sheet_table``).

Untrusted workbooks are checked before anything decompresses them for real
(see ``workbook_safety``): declared part sizes and compression ratios (zip
bombs), DTDs in XML parts (entity expansion), encryption (needs
msoffcrypto-tool and a password).
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import PurePath
from typing import IO, Any
from xml.etree import ElementTree

from kgstudio.ingest.reader import PasswordRequired, ReadError, ReadOptions, ReadResult, Source
from kgstudio.ingest.sheet_sources import (
    CsvEncoding,
    core_properties,
    csv_delimiter,
    csv_sheet,
    xls_sheets,
    xlsx_sheets,
)
from kgstudio.ingest.sheet_table import SheetRows, SheetTableWriter
from kgstudio.ingest.workbook_safety import (
    ZipLimits,
    check_xml_prologs,
    check_zip_limits,
    describe_zip,
    zip_is_workbook,
)

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BIFF_MAGIC = (b"\x09\x00", b"\x09\x02", b"\x09\x04", b"\x09\x08")  # pre-OLE .xls streams (BIFF2-4)
MAX_OLE_BYTES = 512 * 2**20  # xlrd and msoffcrypto read the whole file into memory
_CHUNK = 1 << 20
_VELVET_SWEATSHOP = "VelvetSweatshop"  # Excel's built-in password for "encrypted" read-only workbooks

# What openpyxl/xlrd raise on a damaged file. Caught only around their calls.
_DAMAGED: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zlib.error, EOFError, KeyError, ElementTree.ParseError, ValueError,
    TypeError, IndexError, AttributeError, AssertionError, NotImplementedError, struct.error,
    RecursionError,  # xlrd walks an OLE2 directory tree recursively; a cycle in it recurses until the limit
    LookupError,  # an XML part declaring an encoding Python does not know (encoding="yes")
    OverflowError,  # xlrd stores a cell's format index in a signed short; a damaged record overflows it
)


def _damaged_errors() -> tuple[type[BaseException], ...]:
    """``_DAMAGED`` plus xlrd's own errors, which an on-demand sheet raises only when it is read."""
    try:
        import xlrd
    except ImportError:
        return _DAMAGED
    return (*_DAMAGED, xlrd.XLRDError, xlrd.compdoc.CompDocError)


def _unsafe_xml_errors() -> tuple[type[BaseException], ...]:
    try:
        from defusedxml import DefusedXmlException
    except ImportError:
        return ()
    return (DefusedXmlException,)


class SpreadsheetReader:
    """Reads workbooks and CSV files into row entities and typed facts (one ReadResult per file)."""

    name = "spreadsheet"
    patterns = ("*.xlsx", "*.xlsm", "*.xls", "*.csv")

    def __init__(self, limits: ZipLimits | None = None) -> None:
        self.limits = limits or ZipLimits()

    def sniff(self, head: bytes) -> bool:
        """Zip files whose first entries are a workbook's, OLE2 files whose first directory has one.

        Never CSV: any text would match. An OLE2 file whose directory is not in
        ``head`` (or an encrypted package, which may be any Office format) is
        left to its extension.
        """
        if head.startswith(ZIP_MAGIC):
            return zip_is_workbook(head)
        if head.startswith(OLE_MAGIC):
            return "Workbook" in _ole_head_names(head) or "Book" in _ole_head_names(head)
        return False

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        """Yield the one ReadResult of this file; raise ReadError when it is no readable spreadsheet."""
        try:
            result = self._read(source, options)
        except OSError as exc:
            raise ReadError(f"cannot read the file: {exc.strerror or exc.__class__.__name__}") from exc
        except ReadError as exc:
            # openpyxl names the file it was handed in some messages; the importer adds the name itself
            if source.path is not None and str(source.path) in str(exc):
                raise exc.__class__(str(exc).replace(str(source.path), "the file")) from exc.__cause__
            raise
        yield result

    def _read(self, source: Source, options: ReadOptions) -> ReadResult:
        head = source.head(16)
        if not head:
            raise ReadError("the file is empty")
        suffix = PurePath(source.name).suffix.lower()
        if head.startswith(ZIP_MAGIC):
            return self._read_ooxml(source.open, _sha256(source.open), "xlsm" if suffix == ".xlsm" else "xlsx")
        if head.startswith(OLE_MAGIC) or (suffix == ".xls" and head[:2] in BIFF_MAGIC):
            return self._read_ole(_read_capped(source), options)
        if head.startswith(b"%PDF"):
            raise ReadError("not a spreadsheet: the file is a PDF document")
        if suffix == ".csv":
            return self._read_csv(source)
        raise ReadError(f"not a spreadsheet: the file is {_describe_head(source.head(512))}, not an Excel workbook")

    # --- .xlsx / .xlsm -----------------------------------------------------------------------

    def _read_ooxml(self, opener: Any, content_id: str, fmt: str, encrypted: bool = False) -> ReadResult:
        with opener() as handle:
            try:
                archive = zipfile.ZipFile(handle)
            except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
                # NotImplementedError: a zip "version needed" zipfile does not support ("zip file version 18.6")
                raise ReadError(f"the workbook is damaged: not a readable zip archive ({exc})") from exc
            with archive:
                names = archive.namelist()
                problem = describe_zip(names)
                if problem:
                    raise ReadError(problem)
                check_zip_limits(archive.infolist(), self.limits)
                try:  # the first reads of members: a bad CRC or a damaged local header shows here
                    check_xml_prologs(archive, self.limits)
                    properties = core_properties(archive)
                except _DAMAGED as exc:
                    raise ReadError(f"the workbook is damaged: {_explain(exc)}") from exc
                if "xl/vbaProject.bin" in names:
                    fmt = "xlsm"
                handle.seek(0)
                workbook = _load_workbook(handle)
                try:
                    metadata = {
                        "format": fmt,
                        "date_system": 1904 if workbook.epoch.year == 1904 else 1900,
                        "encrypted": encrypted,
                    }
                    return self._result(content_id, properties, metadata, xlsx_sheets(workbook, archive))
                finally:
                    workbook.close()

    # --- .xls and OLE2 containers ------------------------------------------------------------

    def _read_ole(self, data: bytes, options: ReadOptions) -> ReadResult:
        content_id = hashlib.sha256(data).hexdigest()[:12]
        if not data.startswith(OLE_MAGIC):
            return self._read_xls(data, content_id, options)
        names = _ole_names(data)
        if "EncryptedPackage" in names:
            plain = _decrypt(data, options.password)
            return self._read_ooxml(lambda: io.BytesIO(plain), content_id, "xlsx", encrypted=True)
        if "Workbook" in names or "Book" in names:
            _check_workbook_stream(data, "Workbook" if "Workbook" in names else "Book")
            return self._read_xls(data, content_id, options)
        raise ReadError(f"not a spreadsheet: the file is {_describe_ole(names)}")

    def _read_xls(self, data: bytes, content_id: str, options: ReadOptions, encrypted: bool = False) -> ReadResult:
        xlrd = _xlrd()
        log = io.StringIO()
        try:
            book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True, logfile=log)
        except NotImplementedError:  # formatting_info (merged cells) exists only for BIFF5+
            book = _open_xls_plain(data, log)
            log.write("merged cells are not read for this old .xls version\n")
        except xlrd.XLRDError as exc:
            if "encrypted" in str(exc).lower() and not encrypted:
                plain = _decrypt(data, options.password)
                return self._read_xls(plain, content_id, options, encrypted=True)
            raise ReadError(f"not a readable .xls workbook: {exc}") from exc
        except (xlrd.compdoc.CompDocError, *_DAMAGED) as exc:
            raise ReadError(f"the workbook is damaged: {_explain(exc)}") from exc
        try:
            properties = {"last_modified_by": book.user_name} if book.user_name else {}
            metadata = {"format": "xls", "date_system": 1904 if book.datemode else 1900, "encrypted": encrypted}
            result = self._result(content_id, properties, metadata, xls_sheets(book))
        finally:
            book.release_resources()
        result.defects.extend(f"xls: {line.strip()}" for line in log.getvalue().splitlines()[:20] if line.strip())
        return result

    # --- .csv ---------------------------------------------------------------------------------

    def _read_csv(self, source: Source) -> ReadResult:
        hasher = hashlib.sha256()
        with source.open() as stream:
            detected = CsvEncoding(stream, hasher)
        if detected.binary:
            raise ReadError("not a spreadsheet: the .csv file holds binary data, not text")
        with source.open() as stream:
            sample = stream.read(1 << 16).decode(detected.encoding, errors="ignore")
            stream.seek(0)
            delimiter = csv_delimiter(sample)
            sheet = csv_sheet(stream, PurePath(source.name).stem or "Sheet1", detected.encoding, delimiter)
            metadata = {"format": "csv", "encoding": detected.encoding, "delimiter": delimiter}
            return self._result(hasher.hexdigest()[:12], {}, metadata, iter([sheet]))

    # --- shared -------------------------------------------------------------------------------

    def _result(self, content_id: str, properties: dict[str, Any], metadata: dict[str, Any],
                sheets: Iterator[SheetRows]) -> ReadResult:
        result = ReadResult(kind="spreadsheet", title=properties.get("title"))
        writer = SheetTableWriter(result, content_id)
        described = []
        for sheet in _guarded(sheets, result.defects, "reading stopped at a damaged sheet"):
            sheet.rows = _guarded(sheet.rows, sheet.defects, "damaged, reading stopped")
            described.append(writer.add_sheet(sheet))
        result.metadata = {
            **metadata,
            "content_id": content_id,
            "sheet_names": [sheet["name"] for sheet in described],
            "sheets": described,
            "properties": properties,
        }
        return result


def _guarded(items: Iterator[Any], defects: list[str], what: str) -> Iterator[Any]:
    """``items``, stopping with a defect when the parser behind it meets damage (unsafe XML is fatal)."""
    unsafe = _unsafe_xml_errors()
    iterator = iter(items)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except unsafe as exc:
            raise ReadError("refused: an XML part of the workbook declares entities (entity expansion)") from exc
        except _damaged_errors() as exc:
            defects.append(f"{what}: {_explain(exc)}")
            return
        yield item


def _load_workbook(handle: IO[bytes]) -> Any:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it skips: nothing the user can act on
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False)
    except _DAMAGED as exc:
        # openpyxl re-raises a part's parse error as a ValueError naming the file: report the cause
        cause: BaseException = exc
        while cause.__cause__ is not None:
            cause = cause.__cause__
        if isinstance(cause, _unsafe_xml_errors()):
            raise ReadError("refused: an XML part of the workbook declares entities (entity expansion)") from exc
        raise ReadError(f"the workbook is damaged: {_explain(cause)}") from exc


def _xlrd() -> Any:
    try:
        import xlrd
    except ImportError:
        raise ReadError(".xls workbooks need the package xlrd, which is not installed") from None
    return xlrd


def _open_xls_plain(data: bytes, log: IO[str]) -> Any:
    xlrd = _xlrd()
    try:
        return xlrd.open_workbook(file_contents=data, on_demand=True, logfile=log)
    except (xlrd.XLRDError, xlrd.compdoc.CompDocError, *_DAMAGED) as exc:
        raise ReadError(f"the workbook is damaged: {_explain(exc)}") from exc


def _explain(exc: BaseException) -> str:
    """One line on what a parser met (errors are shown one line per file)."""
    if isinstance(exc, ElementTree.ParseError):
        text = f"invalid XML ({exc})"
    elif isinstance(exc, KeyError):
        text = f"a part is missing ({exc.args[0] if exc.args else exc})"
    elif isinstance(exc, (zipfile.BadZipFile, zlib.error)):
        text = f"the zip archive is broken ({exc})"
    elif isinstance(exc, RecursionError):
        text = "its internal directory loops back on itself"
    else:
        text = f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:299] + "…"


def _sha256(opener: Any) -> str:
    hasher = hashlib.sha256()
    with opener() as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()[:12]


def _read_capped(source: Source) -> bytes:
    with source.open() as handle:
        data = handle.read(MAX_OLE_BYTES + 1)
    if len(data) > MAX_OLE_BYTES:
        raise ReadError(f"refused: .xls workbooks over {MAX_OLE_BYTES // 2**20} MiB are not read")
    return data


def _decrypt(data: bytes, password: str | None) -> bytes:
    """The decrypted file, with msoffcrypto-tool (optional); PasswordRequired when it cannot be opened."""
    try:
        import msoffcrypto
        from msoffcrypto.exceptions import DecryptionError, FileFormatError, ParseError
    except ImportError:  # not PasswordRequired: asking the user for a password would not help
        raise ReadError(
            "password-protected workbook: reading it needs the optional package msoffcrypto-tool"
        ) from None
    for candidate in [password] if password else [_VELVET_SWEATSHOP]:
        try:
            office = msoffcrypto.OfficeFile(io.BytesIO(data))
            office.load_key(password=candidate)
            plain = io.BytesIO()
            office.decrypt(plain)
            return plain.getvalue()
        except DecryptionError:
            continue
        except (FileFormatError, ParseError, *_DAMAGED) as exc:
            raise ReadError(f"the encrypted workbook is damaged: {_explain(exc)}") from exc
    if password:
        raise PasswordRequired("password-protected workbook: the password is wrong")
    raise PasswordRequired("password-protected workbook: give its password to import it")


def _ole_names(data: bytes) -> set[str]:
    """Stream names in an OLE2 compound file (xlrd's parser; xlrd is frozen, so stable)."""
    compdoc = _xlrd().compdoc
    try:
        document = compdoc.CompDoc(data, logfile=io.StringIO())
    except (compdoc.CompDocError, *_DAMAGED) as exc:
        raise ReadError(f"the workbook is damaged: {_explain(exc)}") from exc
    return {entry.name for entry in document.dirlist}


def _check_workbook_stream(data: bytes, name: str) -> None:
    """ReadError when the workbook stream is empty or its sector chain loops.

    xlrd follows a small stream's chain until it ends, without remembering
    where it has been: a chain that loops back makes it collect empty pieces
    until memory runs out (found by the fuzzer: a 13 KB file, 1.5 GB, 20 s).
    """
    compdoc = _xlrd().compdoc
    try:
        document = compdoc.CompDoc(data, logfile=io.StringIO())
    except (compdoc.CompDocError, *_DAMAGED) as exc:
        raise ReadError(f"the workbook is damaged: {_explain(exc)}") from exc
    entry = next(e for e in document.dirlist if e.name == name)
    if entry.tot_size <= 0:
        raise ReadError(f"the workbook is damaged: its {name} stream is empty")
    table = document.SSAT if entry.tot_size < document.min_size_std_stream else document.SAT
    sector, seen = entry.first_SID, set()
    while sector >= 0:
        if sector in seen or sector >= len(table):
            raise ReadError(f"the workbook is damaged: its {name} stream's sector chain loops or leaves the file")
        seen.add(sector)
        sector = table[sector]


def _ole_head_names(head: bytes) -> set[str]:
    """Names in the first directory sector of an OLE2 file, if it lies within ``head``."""
    if len(head) < 512:
        return set()
    shift = struct.unpack_from("<H", head, 0x1E)[0]
    if shift not in (9, 12):
        return set()
    size = 1 << shift
    offset = (struct.unpack_from("<I", head, 0x30)[0] + 1) * size
    names = set()
    for start in range(offset, min(offset + size, len(head)) - 127, 128):
        length = struct.unpack_from("<H", head, start + 64)[0]
        if 2 <= length <= 64:
            names.add(head[start:start + length - 2].decode("utf-16-le", errors="ignore"))
    return names


def _describe_ole(names: set[str]) -> str:
    if any(name.startswith("__substg1.0_") for name in names):
        return "an Outlook message"
    if "WordDocument" in names:
        return "a Word document"
    if "PowerPoint Document" in names:
        return "a PowerPoint presentation"
    return "an OLE2 compound file without a workbook"


def _describe_head(head: bytes) -> str:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<html", b"<!doctype html", b"<table")):
        return "an HTML page"
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        return "an XML file"
    if b"\x00" not in head and sum(32 <= byte < 127 or byte in b"\t\r\n" for byte in head) > 0.9 * len(head):
        return "plain text"
    return "in an unrecognised binary format"
