"""The PDF reader (PyMuPDF): text by block in reading order, ruled tables, metadata, OCR, attachments.

Each text block (a paragraph, a heading) becomes one segment whose
:class:`~kgstudio.domain.PdfLocator` holds the 1-based page, the block's box in
PDF points (origin top left, as PyMuPDF reports it) and a character span.
The span counts in the page's text *as this reader emits it*: the page's
segment texts in order, joined by a blank line (``"\\n\\n"``), so
``page_text[char_start:char_end] == segment.text``.

Reading order and paragraph text come from :mod:`kgstudio.ingest.pdf_layout`,
tables from :mod:`kgstudio.ingest.pdf_tables`. Pages without a text layer are
read with Tesseract through MuPDF when it is installed (its language data
found through ``TESSDATA_PREFIX`` or the ``tesseract`` command); otherwise
they are listed in ``metadata["needs_ocr_pages"]`` and in the defects.
"""

from __future__ import annotations

import gc
import mimetypes
import multiprocessing
import os
import queue
import re
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pymupdf

from kgstudio.domain import PdfLocator
from kgstudio.ingest import pdf_layout, pdf_tables
from kgstudio.ingest.reader import (
    AttachmentDraft,
    PasswordRequired,
    ReadError,
    ReadOptions,
    ReadResult,
    SegmentDraft,
    Source,
    safe_attachment_name,
)

# kgstudio leaves PyMuPDF's layout model out on purpose (see pdf_tables.find_tables); without
# this, find_tables prints a suggestion to install it on stdout, into `--json` output.
if hasattr(pymupdf, "no_recommend_layout"):
    pymupdf.no_recommend_layout()

# Ligatures expanded ("ﬁ" -> "fi"), glyphs without a Unicode mapping as U+FFFD
# (dropped, and counted as a defect) rather than as raw glyph ids, and the
# page's vector graphics collected in the same pass for the table check.
TEXT_FLAGS = pymupdf.TEXT_MEDIABOX_CLIP | pymupdf.TEXT_COLLECT_VECTORS
OCR_FLAGS = pymupdf.TEXT_MEDIABOX_CLIP
OCR_DPI = 300
# A PDF this long is read by this process and one forked helper together (see _DocumentReader._scans);
# below it, starting the helper costs more than it saves.
PARALLEL_MIN_PAGES = 24
PAGES_PER_RUN = 4
_FILE_NAME_TITLE = re.compile(r"\.(pdf|docx?|odt|rtf|tex|dvi|ps|indd|pages)$|^microsoft word - |^untitled$", re.I)
_PDF_DATE = re.compile(
    r"D:(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?\s*(?:(Z)|([+-])(\d\d)'?(\d\d)?'?)?")


class PdfReader:
    """Reads ``*.pdf`` files (see the module docstring)."""

    name = "pdf"
    patterns = ("*.pdf",)

    def sniff(self, head: bytes) -> bool:
        """A PDF header within the first 1024 bytes (readers tolerate junk before it)."""
        return b"%PDF-" in head[:1024]

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        try:
            with _open(source, options.password) as doc:
                result = _DocumentReader(doc, options, source.path).read()
        except (pymupdf.mupdf.FzErrorBase, RuntimeError) as exc:
            # MuPDF refuses a broken document structure as a whole (a cycle in the page tree,
            # an impossible page count): "code=7: cycle in page tree" -> one line for the user.
            if isinstance(exc, RuntimeError) and not str(exc).startswith("code="):
                raise
            raise ReadError(f"the PDF is damaged: {str(exc).split(': ', 1)[-1]}") from None
        yield result


def _open(source: Source, password: str | None) -> pymupdf.Document:
    try:
        if source.path is not None:
            doc = pymupdf.open(source.path, filetype="pdf")
        else:
            doc = pymupdf.open(stream=source.data or b"", filetype="pdf")
    except pymupdf.EmptyFileError:
        raise ReadError("the file is empty") from None
    except pymupdf.FileDataError:
        raise ReadError("not a PDF, or damaged beyond repair") from None
    except OSError as exc:
        raise ReadError(f"cannot be opened: {exc.strerror or exc}") from None
    if doc.needs_pass:
        if not password:
            doc.close()
            raise PasswordRequired("encrypted; give its password with --password")
        if not doc.authenticate(password):
            doc.close()
            raise PasswordRequired("encrypted, and the password given is wrong; give the right one with --password")
    if doc.page_count == 0:
        doc.close()
        raise ReadError("the PDF has no pages")
    return doc


@dataclass
class _PageScan:
    """One page read on its own: text blocks and tables, before any decision that needs the other pages."""

    lines: pdf_layout.PageLines
    tables: list[pdf_tables.TableBlock]
    ocr: str | None  # None, "done" (read by OCR) or "needed" (OCR wanted, not done)
    defects: list[str]
    failure: str | None = None  # why the page could not be read


@dataclass
class _PageScanner:
    """Reads pages one by one (in this process or in a helper: it holds nothing but the options)."""

    options: ReadOptions
    tessdata: str | None = None  # Tesseract's language data folder, looked for at the first page that needs it
    tessdata_looked_up: bool = False

    def scan(self, page: pymupdf.Page, number: int) -> _PageScan:
        defects: list[str] = []
        try:
            return self._scan(page, number, defects)
        except Exception as exc:  # one bad page must not cost the others; it is reported
            return _PageScan(pdf_layout.PageLines([], [], 0), [], None, defects, failure=str(exc))

    def _scan(self, page: pymupdf.Page, number: int, defects: list[str]) -> _PageScan:
        textpage = page.get_textpage(flags=TEXT_FLAGS)
        page_dict = textpage.extractDICT()
        tables = []
        if pdf_tables.has_grid(page_dict):
            tables = pdf_tables.find_tables(page, page_dict, textpage.extractWORDS())
        lines = pdf_layout.text_blocks(page_dict, [t.bbox for t in tables])
        ocr = None
        if not lines.blocks and not lines.rotated and not tables and (lines.undecodable or page.get_images()):
            ocr, lines = self._ocr(page, number, defects)
        elif lines.undecodable:
            defects.append(
                f"page {number}: {lines.undecodable} characters have no Unicode mapping in the file and were left out")
        return _PageScan(lines, tables, ocr, defects)

    def _ocr(self, page: pymupdf.Page, number: int, defects: list[str]) -> tuple[str, pdf_layout.PageLines]:
        nothing = pdf_layout.PageLines([], [], 0)
        if not self.options.ocr:
            defects.append(f"page {number}: no text layer; not read because OCR is turned off")
            return "needed", nothing
        if not self.tessdata_looked_up:
            self.tessdata = find_tessdata(self.options.ocr_language)
            self.tessdata_looked_up = True
        if self.tessdata is None:
            defects.append(
                f"page {number}: no text layer; needs OCR (install Tesseract with the "
                f"'{self.options.ocr_language}' language data)")
            return "needed", nothing
        try:
            textpage = page.get_textpage_ocr(
                flags=OCR_FLAGS, language=self.options.ocr_language, dpi=OCR_DPI, full=True, tessdata=self.tessdata)
        except Exception as exc:  # Tesseract's failure is this page's defect, not the document's
            defects.append(f"page {number}: no text layer, and OCR failed ({exc})")
            return "needed", nothing
        return "done", pdf_layout.text_blocks(textpage.extractDICT())


def _helper(path: str, options: ReadOptions, runs: list[range], claims, results, reader: int,
            identity: tuple[int, int]) -> None:
    """A forked helper's work: claim runs of pages from the back until the reader's claims meet them."""
    _die_with_parent()
    try:
        with _open(Source.from_path(Path(path)), options.password) as doc:
            scanner = _PageScanner(options)
            if _identity(path) != identity:  # the file changed since the reader opened it: the reader reads it all
                return
            while os.getppid() == reader:  # a killed reader's helper stops (and sends nothing more)
                with claims.get_lock():
                    n = claims[1]
                    if n < claims[0]:
                        break
                    claims[1] = n - 1
                results.put((n, [scanner.scan(doc[number], number + 1) for number in runs[n]]))
    finally:
        if os.getppid() == reader:
            results.put(None)
        else:
            results.cancel_join_thread()  # nobody reads the queue: exit without flushing it


def _identity(path: str | Path) -> tuple[int, int]:
    """Size and modification time of a file: what tells the helper it opened the file the reader has."""
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the one that forked it dies (a `kill -9` of an import)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the loop's parent check is all there is
        pass


@dataclass
class _DocumentReader:
    """One read of one open document.

    Each page is first scanned on its own (:class:`_PageScanner`: text, tables, OCR, the costly part);
    then, in page order, the decisions that depend on the pages before it are made here: which
    blocks are headings (by the body font size over the pages so far), reading order, paragraphs,
    locators. A long file's pages are scanned by two processes (:meth:`_scans`); the second step
    is the same either way, so the result is too.
    """

    doc: pymupdf.Document
    options: ReadOptions
    path: Path | None = None  # the file, when it is one (a helper process opens it again)
    result: ReadResult = field(default_factory=lambda: ReadResult(kind="pdf"))
    sizes: Counter = field(default_factory=Counter)  # font size -> characters, over the pages read so far

    def read(self) -> ReadResult:
        result = self.result
        result.metadata = document_metadata(self.doc)
        if self.doc.is_repaired:
            result.defects.append("the file is damaged; it was repaired, and some content may be missing")
        self._embedded_files()
        needs_ocr: list[int] = []
        ocred: list[int] = []
        for page, scan in self._scans():
            number = page.number + 1
            result.defects.extend(scan.defects)
            try:
                if scan.failure is not None:
                    result.defects.append(f"page {number}: could not be read ({scan.failure})")
                    continue
                self._lay_out(number, scan)
            except Exception as exc:  # one bad page must not cost the others; it is reported
                result.defects.append(f"page {number}: could not be read ({exc})")
                continue
            finally:
                self._file_annotations(page, number)
            if scan.ocr == "done":
                ocred.append(number)
            elif scan.ocr == "needed":
                needs_ocr.append(number)
        if needs_ocr:
            result.metadata["needs_ocr_pages"] = needs_ocr
        if ocred:
            result.metadata["ocr_pages"] = ocred
        result.title = _usable_title(result.metadata.get("title")) or next(
            (s.text for s in result.segments if s.kind == "heading"), None)
        return result

    def _scans(self) -> Iterator[tuple[pymupdf.Page, _PageScan]]:
        """Every page with its scan, in page order.

        A long file is split into runs of pages. This process claims runs from the front, a
        forked helper from the back, one at a time, until they meet; so neither waits on the
        other for more than the run in hand, whether the helper starts late or gets little of a
        busy machine. (Forked, not spawned: a spawned helper would cost a new interpreter and
        PyMuPDF's import per file. Fork is only safe in a process without other threads, so
        with them, as in the window, the pages are read here alone.)
        """
        scanner = _PageScanner(self.options)
        count = self.doc.page_count
        if self.path is None or count < PARALLEL_MIN_PAGES or not _can_fork():
            for page in self.doc:
                yield page, scanner.scan(page, page.number + 1)
            return
        runs = [range(start, min(start + PAGES_PER_RUN, count)) for start in range(0, count, PAGES_PER_RUN)]
        context = multiprocessing.get_context("fork")
        claims = context.Array("i", [0, len(runs) - 1])  # the next run from the front, and from the back
        results = context.Queue()
        helper = context.Process(target=_helper, daemon=True, name="kgstudio-pdf-helper", args=(
            str(self.path), self.options, runs, claims, results, os.getpid(), _identity(self.path)))
        gc.freeze()  # the helper's garbage collector leaves the objects it inherits alone (untouched, not copied)
        try:
            helper.start()
        finally:
            gc.unfreeze()
        done: dict[int, list[_PageScan]] = {}
        try:
            for n, run in enumerate(runs):
                with claims.get_lock():
                    mine = claims[1] >= n
                    if mine:
                        claims[0] = n + 1
                scans = None if mine else self._helper_result(n, helper, results, done)
                for offset, number in enumerate(run):
                    page = self.doc[number]
                    yield page, scans[offset] if scans is not None else scanner.scan(page, number + 1)
        finally:
            if helper.is_alive():
                helper.terminate()  # only when reading stopped early: otherwise it has finished
            helper.join()
            results.close()

    @staticmethod
    def _helper_result(n: int, helper, results, done: dict) -> list[_PageScan] | None:
        """The helper's scans of run ``n``, or None when it died before sending them (the run is read here)."""
        while n not in done:
            try:
                item = results.get(timeout=0.5)
            except queue.Empty:
                if not helper.is_alive() and results.empty():
                    return None
                continue
            if item is None:  # the helper stopped (it sends its runs first)
                if n not in done:
                    return None
                break
            done[item[0]] = item[1]
        return done.pop(n)

    def _lay_out(self, number: int, scan: _PageScan) -> None:
        """Headings, reading order, paragraphs and segments of one scanned page."""
        lines, tables = scan.lines, scan.tables
        for block in lines.blocks + lines.rotated:
            for line in block.lines:
                self.sizes[line.size] += len(line.text)
        if self.sizes and scan.ocr != "done":  # OCR'd font sizes are guesses: no headings from them
            pdf_layout.mark_headings(lines.blocks, self.sizes.most_common(1)[0][0])
        items = pdf_layout.reading_order(lines.blocks + tables, pdf_layout.median_line_height(lines.blocks))
        items = pdf_layout.join_paragraphs(items)
        items += sorted(lines.rotated, key=lambda b: (b.bbox[0], b.bbox[1]))
        self._add_segments(number, items)

    def _add_segments(self, number: int, items: list) -> None:
        offset = 0
        for item in items:
            text = item.text()
            if not text:
                continue
            table = isinstance(item, pdf_tables.TableBlock)
            locator = PdfLocator(page=number, bbox=tuple(round(v, 2) for v in item.bbox),
                                 char_start=offset, char_end=offset + len(text))
            self.result.segments.append(SegmentDraft(
                text, locator, kind="table" if table else item.kind, table=item.rows if table else None))
            offset += len(text) + 2

    def _embedded_files(self) -> None:
        """Files in the document's EmbeddedFiles name tree; they belong to no page, so page 1."""
        for index in range(self.doc.embfile_count()):
            try:
                info = self.doc.embfile_info(index)
                data = self.doc.embfile_get(index)
            except Exception as exc:  # a broken file entry costs that attachment only
                self.result.defects.append(f"embedded file {index + 1} could not be read ({exc})")
                continue
            self._attach(info, data, PdfLocator(page=1), f"attachment-{index + 1}")

    def _file_annotations(self, page: pymupdf.Page, number: int) -> None:
        """Files attached to the page as annotations (a paperclip icon), located at the icon."""
        try:
            for annot in page.annots(types=(pymupdf.PDF_ANNOT_FILE_ATTACHMENT,)):
                locator = PdfLocator(page=number, bbox=tuple(round(v, 2) for v in annot.rect))
                self._attach(annot.file_info, annot.get_file(), locator, f"attachment-p{number}")
        except Exception as exc:  # a broken annotation costs its attachment only
            self.result.defects.append(f"page {number}: an attached file could not be read ({exc})")

    def _attach(self, info: dict, data: bytes, locator: PdfLocator, fallback: str) -> None:
        name = safe_attachment_name(info.get("ufilename") or info.get("filename") or info.get("name"), fallback)
        content_type = mimetypes.guess_type(name, strict=False)[0]
        self.result.attachments.append(AttachmentDraft(name, data, locator, content_type))


def _can_fork() -> bool:
    """Whether a helper process may be forked: a second core, and no other thread (whose locks it would copy)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores > 1 and _other_threads() == 0 and "fork" in multiprocessing.get_all_start_methods()


def _other_threads() -> int:
    """Threads of this process other than this one that run, or have run, Python code.

    A thread Python did not start (one of Qt's pool, say) that once called into
    Python stays listed by ``threading`` after it has ended; on Linux such an
    ended one is not counted (it is gone from ``/proc/self/task``, and an ended
    thread holds no lock a forked child could inherit).
    """
    current = threading.current_thread()
    count = 0
    for thread in threading.enumerate():
        if thread is current:
            continue
        if (isinstance(thread, threading._DummyThread) and thread.native_id is not None
                and os.path.isdir("/proc/self/task") and not os.path.exists(f"/proc/self/task/{thread.native_id}")):
            continue
        count += 1
    return count


def document_metadata(doc: pymupdf.Document) -> dict[str, Any]:
    """The document information a user would recognise, JSON-safe; empty fields left out."""
    info = doc.metadata or {}
    out: dict[str, Any] = {"page_count": doc.page_count}
    for key in ("title", "author", "subject", "keywords", "creator", "producer", "format", "encryption"):
        value = (info.get(key) or "").strip()
        if value:
            out[key] = value
    for key, name in (("creationDate", "created"), ("modDate", "modified")):
        when = pdf_date(info.get(key) or "")
        if when:
            out[name] = when
    return out


def pdf_date(value: str) -> str | None:
    """A PDF date ("D:20200806055139-04'00'") as ISO 8601, or None when it is not one."""
    match = _PDF_DATE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zulu, sign, tz_hours, tz_minutes = match.groups()
    try:
        if hour is None:
            return datetime(int(year), int(month or 1), int(day or 1)).date().isoformat()
        tz = None
        if zulu:
            tz = timezone.utc
        elif sign:
            delta = timedelta(hours=int(tz_hours), minutes=int(tz_minutes or 0))
            tz = timezone(-delta if sign == "-" else delta)
        return datetime(int(year), int(month), int(day), int(hour), int(minute or 0), int(second or 0),
                        tzinfo=tz).isoformat()
    except ValueError:
        return None


def find_tessdata(language: str) -> str | None:
    """The Tesseract language data folder when it holds every language in ``language`` ("eng+deu"), else None."""
    try:
        folder = pymupdf.get_tessdata()
    except RuntimeError:
        return None
    if all((Path(folder) / f"{lang}.traineddata").is_file() for lang in language.split("+") if lang):
        return folder
    return None


def _usable_title(title: str | None) -> str | None:
    """The document's own title, unless it is only a file name ("Binder1.pdf", "Microsoft Word - x.doc")."""
    if not title or _FILE_NAME_TITLE.search(title.strip()):
        return None
    return title.strip()
