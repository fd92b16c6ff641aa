"""What the PDF reader costs: ``PdfReader.read`` vs. bare ``page.get_text()``, measured side by side.

Run (with nothing else busy):  .venv/bin/python tests/bench/bench_pdf_read.py [ROUNDS]
Prints one JSON object: pages/s of each, per file and over all the text PDFs
in ../shared/data/pdf/text, and the ratio reader / bare (1.0 = as fast as
bare text extraction). A third run, the reader with table detection switched
off, shows what the tables cost; a fourth, the reader without its helper
process (one process, as bare extraction is), what the helper gains on a
long file; a fifth, ``mupdf_floor``, only the MuPDF calls the reader cannot do
without (each page's lines with fonts and boxes), the ceiling of one process. The runs alternate, file by file and round by round, so machine
noise hits them alike; the best round of each counts.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from unittest import mock

import pymupdf

from kgstudio.ingest import pdf, pdf_tables
from kgstudio.ingest.pdf import PdfReader
from kgstudio.ingest.reader import ReadOptions, Source

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pdf" / "text"


def bare(path: Path) -> float:
    started = time.perf_counter()
    with pymupdf.open(path) as doc:
        for page in doc:
            page.get_text()
    return time.perf_counter() - started


def reader(path: Path) -> float:
    started = time.perf_counter()
    for _ in PdfReader().read(Source.from_path(path), ReadOptions(ocr=False)):
        pass
    return time.perf_counter() - started


def reader_without_tables(path: Path) -> float:
    with mock.patch.object(pdf_tables, "has_grid", return_value=False):
        return reader(path)


def reader_one_process(path: Path) -> float:
    with mock.patch.object(pdf, "PARALLEL_MIN_PAGES", 10**9):
        return reader(path)


def mupdf_floor(path: Path) -> float:
    """What the reader asks of MuPDF alone, without any of its own work: each page's text as lines with
    their fonts and boxes (``extractDICT``, what headings, reading order and locators are made from)."""
    started = time.perf_counter()
    with pymupdf.open(path) as doc:
        for page in doc:
            page.get_textpage(flags=pdf.TEXT_FLAGS).extractDICT()
    return time.perf_counter() - started


RUNS = {"bare": bare, "reader": reader, "reader_without_tables": reader_without_tables,
        "reader_one_process": reader_one_process, "mupdf_floor": mupdf_floor}


def main(rounds: int = 5) -> dict:
    files = sorted(DATA.glob("*.pdf"))
    if not files:
        raise SystemExit(f"no PDF files in {DATA}")
    pages = {}
    for path in files:
        with pymupdf.open(path) as doc:
            pages[path.name] = doc.page_count
    best = {name: {run: float("inf") for run in RUNS} for name in pages}
    for path in files:  # warm up: fonts, caches, imports
        for run in RUNS.values():
            run(path)
    for _ in range(rounds):
        for path in files:
            for run_name, run in RUNS.items():
                best[path.name][run_name] = min(best[path.name][run_name], run(path))
    per_file = {name: _figures(pages[name], t) for name, t in best.items()}
    totals = {run: sum(t[run] for t in best.values()) for run in RUNS}
    return {
        "files": len(files),
        "rounds": rounds,
        **_figures(sum(pages.values()), totals),
        "goal_ratio": 0.7,
        "per_file": per_file,
    }


def _figures(pages: int, seconds: dict[str, float]) -> dict:
    return {
        "pages": pages,
        **{f"{run}_pages_per_s": round(pages / seconds[run], 1) for run in RUNS},
        "ratio": round(seconds["bare"] / seconds["reader"], 3),
        "ratio_without_tables": round(seconds["bare"] / seconds["reader_without_tables"], 3),
        "ratio_one_process": round(seconds["bare"] / seconds["reader_one_process"], 3),
        # the best one process could do with the lines it needs from MuPDF and no work of its own
        "ratio_mupdf_floor": round(seconds["bare"] / seconds["mupdf_floor"], 3),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5), indent=2))
