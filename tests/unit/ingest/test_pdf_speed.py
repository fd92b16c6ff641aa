"""The PDF reader's shortcuts give exactly what the slow ways give, on the shared real PDFs."""

from __future__ import annotations

import contextvars
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pymupdf
import pytest

from kgstudio.ingest import pdf as pdf_module
from kgstudio.ingest import pdf_tables
from kgstudio.ingest.pdf import PdfReader
from kgstudio.ingest.reader import ReadOptions, ReadResult, Source

table_module = pytest.importorskip("pymupdf.table")
pymupdf_tables_as_expected = pytest.mark.skipif(
    not all(hasattr(table_module, name) for name in ("make_chars", "CHARS", "_CHARS_VAR", "FLAGS", "chars_in_rect")),
    reason="this PyMuPDF builds its table characters differently")

# every page of these (GeoTopo: a stretch with a diagram grid on page 14)
PAGES = {
    "tables/nics-background-checks-2015-11.pdf": None,
    "text/federal-register-2020-17221.pdf": None,
    "text/seasonal.pdf": None,
    "text/multicolumn.pdf": None,
    "text/habibi.pdf": None,
    "scanned/Seige_of_Vicksburg_Sample_OCR.pdf": None,
    "text/GeoTopo-komprimiert.pdf": range(10, 16),
}


def _pages(pdf_dir: Path):
    for name, numbers in PAGES.items():
        with pymupdf.open(pdf_dir / name) as doc:
            for number in numbers or range(doc.page_count):
                yield name, doc[number]


def _characters(page: pymupdf.Page, make) -> list[dict]:
    """The character list ``make`` builds for find_tables, in a context of its own, as find_tables sets it up."""
    def run() -> list[dict]:
        table_module._CHARS_VAR.set([])
        small = bool(pymupdf.TOOLS.set_small_glyph_heights())
        pymupdf.TOOLS.set_small_glyph_heights(True)
        try:
            make(page)
        finally:
            pymupdf.TOOLS.set_small_glyph_heights(small)
        # "bold" comes from the style pass the quick list skips; it only feeds Table.header
        return [{k: v for k, v in char.items() if k != "bold"} for char in table_module.CHARS]

    return contextvars.copy_context().run(run)


@pymupdf_tables_as_expected
def test_the_quick_character_list_is_pymupdfs_own(shared_data: Path) -> None:
    original = table_module.make_chars
    pages = 0
    for name, page in _pages(shared_data / "pdf"):
        slow = _characters(page, original)
        quick = _characters(page, lambda p: pdf_tables._make_chars(table_module, original, p))
        assert quick == slow, f"{name} page {page.number + 1}"
        pages += 1
    assert pages > 30


@pymupdf_tables_as_expected
def test_tables_found_with_the_quick_list_are_the_same(shared_data: Path) -> None:
    grids = 0
    originals = (table_module.make_chars, table_module.chars_in_rect)
    for name, page in _pages(shared_data / "pdf"):
        page_dict = page.get_textpage(flags=pymupdf.TEXT_MEDIABOX_CLIP | pymupdf.TEXT_COLLECT_VECTORS).extractDICT()
        if not pdf_tables.has_grid(page_dict):
            continue
        grids += 1
        slow = page.find_tables(use_layout=False)
        with pdf_tables._quick_chars():
            quick = page.find_tables(use_layout=False)
        assert (table_module.make_chars, table_module.chars_in_rect) == originals  # put back
        assert [(t.bbox, t.cells) for t in quick.tables] == [(t.bbox, t.cells) for t in slow.tables], \
            f"{name} page {page.number + 1}"
        assert [t.extract() for t in quick.tables] == [t.extract() for t in slow.tables]
    assert grids >= 5  # NICS, two Federal Register pages, seasonal, GeoTopo's diagram


@pymupdf_tables_as_expected
def test_a_page_with_an_unusual_transformation_gets_pymupdfs_own_list(shared_data: Path) -> None:
    with pymupdf.open(shared_data / "pdf" / "text" / "multicolumn.pdf") as doc:
        page = doc[0]
        page.set_cropbox(pymupdf.Rect(20, 30, 500, 700))  # the flip no longer starts at the origin
        calls = []

        def original(p, clip=None):
            calls.append(p)
            return table_module.make_chars(p, clip=clip)

        quick = _characters(page, lambda p: pdf_tables._make_chars(table_module, original, p))
        assert calls == [page]
        assert quick == _characters(page, table_module.make_chars)


# --- long files: pages read by this process and a forked helper ----------------------------------------

def _read(path: Path, **options) -> ReadResult:
    (result,) = PdfReader().read(Source.from_path(path), ReadOptions(**options))
    return result


def _as_data(result: ReadResult) -> tuple:
    return (result.title, result.metadata, result.defects,
            [(s.text, s.kind, s.table, s.locator) for s in result.segments],
            [(a.name, a.data, a.locator) for a in result.attachments])


@pytest.fixture
def serial_and_parallel(monkeypatch: pytest.MonkeyPatch):
    """Read a file once by this process alone, once with the helper (every run of pages but the first
    is the helper's to claim); also check the helper was used and left no thread behind."""
    def read_both(path: Path, **options) -> tuple[ReadResult, ReadResult]:
        monkeypatch.setattr(pdf_module, "PARALLEL_MIN_PAGES", 10**9)
        serial = _read(path, **options)
        monkeypatch.setattr(pdf_module, "PARALLEL_MIN_PAGES", 2)
        monkeypatch.setattr(pdf_module, "PAGES_PER_RUN", 2)
        started = []
        real_context = multiprocessing.get_context
        monkeypatch.setattr(pdf_module.multiprocessing, "get_context",
                            lambda method: started.append(method) or real_context(method))
        parallel = _read(path, **options)
        assert started == ["fork"]
        assert pdf_module._other_threads() == 0  # the helper left no thread behind
        return serial, parallel
    if not pdf_module._can_fork():
        pytest.skip("needs two cores and fork")
    return read_both


@pytest.mark.parametrize("name", ["text/GeoTopo-komprimiert.pdf", "text/federal-register-2020-17221.pdf",
                                  "scanned/Seige_of_Vicksburg_Sample_OCR.pdf"])
def test_a_long_file_read_with_a_helper_reads_as_it_does_alone(shared_data: Path, serial_and_parallel,
                                                                name: str) -> None:
    serial, parallel = serial_and_parallel(shared_data / "pdf" / name)
    assert _as_data(parallel) == _as_data(serial)
    assert len(serial.segments) > 40


def test_a_damaged_or_encrypted_long_file_reads_as_it_does_alone(shared_data: Path, serial_and_parallel,
                                                                  tmp_path: Path) -> None:
    serial, parallel = serial_and_parallel(shared_data / "pdf" / "corrupt" / "append-page-content-damaged.pdf")
    assert _as_data(parallel) == _as_data(serial)
    assert any("repaired" in d for d in parallel.defects)
    # the helper opens the file itself, with the password
    locked = tmp_path / "locked.pdf"
    with pymupdf.open(shared_data / "pdf" / "text" / "seasonal.pdf") as doc:
        doc.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="s3cret", owner_pw="owner")
    serial, parallel = serial_and_parallel(locked, password="s3cret")
    assert _as_data(parallel) == _as_data(serial) and len({s.locator.page for s in parallel.segments}) == 6


def test_pages_a_dying_helper_leaves_are_read_here(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not pdf_module._can_fork():
        pytest.skip("needs two cores and fork")
    path = shared_data / "pdf" / "text" / "federal-register-2020-17221.pdf"
    alone = _read(path)
    monkeypatch.setattr(pdf_module, "PARALLEL_MIN_PAGES", 2)
    monkeypatch.setattr(pdf_module, "PAGES_PER_RUN", 1)

    def dying(path, options, runs, claims, results, reader, identity) -> None:  # claims two runs, sends one, and is killed
        with claims.get_lock():
            first = claims[1]
            claims[1] = first - 2
        results.put((first, [pdf_module._PageScanner(options).scan(doc[n], n + 1)
                             for doc in [pymupdf.open(path)] for n in runs[first]]))
        time.sleep(0.5)  # let the queue's thread send it
        os._exit(9)

    monkeypatch.setattr(pdf_module, "_helper", dying)
    assert _as_data(_read(path)) == _as_data(alone)


def test_with_other_threads_running_no_helper_is_forked(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "PARALLEL_MIN_PAGES", 2)
    monkeypatch.setattr(pdf_module.multiprocessing, "get_context", lambda method: pytest.fail("forked"))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        result = _read(shared_data / "pdf" / "text" / "multicolumn.pdf")
    finally:
        stop.set()
        other.join()
    assert {s.locator.page for s in result.segments} == {1, 2, 3}


def test_a_helper_that_finds_the_file_changed_leaves_it_all_to_the_reader(
        shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not pdf_module._can_fork():
        pytest.skip("needs two cores and fork")
    path = shared_data / "pdf" / "text" / "seasonal.pdf"
    alone = _read(path)
    monkeypatch.setattr(pdf_module, "PARALLEL_MIN_PAGES", 2)
    monkeypatch.setattr(pdf_module, "PAGES_PER_RUN", 1)
    monkeypatch.setattr(pdf_module, "_identity", lambda p: (os.getpid(), 0))  # differs in the helper
    scanned_here = []
    real_scan = pdf_module._PageScanner.scan
    monkeypatch.setattr(pdf_module._PageScanner, "scan",
                        lambda self, page, number: scanned_here.append(number) or real_scan(self, page, number))
    assert _as_data(_read(path)) == _as_data(alone)
    assert scanned_here == [1, 2, 3, 4, 5, 6]  # this process, not the helper, read every page
