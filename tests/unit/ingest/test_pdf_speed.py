"""The PDF reader's shortcuts give exactly what the slow ways give, on the shared real PDFs."""

from __future__ import annotations

import contextvars
from pathlib import Path

import pymupdf
import pytest

from kgstudio.ingest import pdf_tables

table_module = pytest.importorskip("pymupdf.table")
if not all(hasattr(table_module, name) for name in ("make_chars", "CHARS", "_CHARS_VAR", "FLAGS")):
    pytest.skip("this PyMuPDF builds its table characters differently", allow_module_level=True)

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


def test_the_quick_character_list_is_pymupdfs_own(shared_data: Path) -> None:
    original = table_module.make_chars
    pages = 0
    for name, page in _pages(shared_data / "pdf"):
        slow = _characters(page, original)
        quick = _characters(page, lambda p: pdf_tables._make_chars(table_module, original, p))
        assert quick == slow, f"{name} page {page.number + 1}"
        pages += 1
    assert pages > 30


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
