"""Ruled tables of one PDF page, as rows of cell strings.

PyMuPDF's ``find_tables`` finds the cell grid from the page's lines and
shaded rectangles. It costs 30-400 ms a page (more the more text the page
holds), so it only runs on pages whose vector graphics cross like a grid
(:func:`has_grid`, from vectors the text extraction collected anyway), and
a grid drawn among curves or slanted lines (a plot, a diagram) is not taken
for a table.

The cell texts are built here from the page's words rather than taken from
``Table.extract()``: that keeps the spaces between words and the thousands
separators ("18,870") intact. A grid row that holds several lines of text in
every column (tables shaded in bands of five rows) is split into one row per
line; the groups of a two-level header become prefixes ("Pre-Pawn Handgun").
Caption and note rows that span the whole table are left to the text flow.
"""

from __future__ import annotations

import re
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pymupdf

from kgstudio.ingest.pdf_layout import Rect

THIN = 3.0  # a rectangle thinner than this (points) is a rule, not a shaded cell
MIN_GRID_CROSSINGS = 9  # a grid of two rows and two columns: three rules each way
MAX_FIGURE_STROKES = 2  # curves or slanted lines a table's area may hold
_LEADER = re.compile(r"^[.…·]{2,}$")  # "........" between a label and its value


@dataclass
class TableBlock:
    """A table found on a page: ``rows[0]`` is the header."""

    bbox: Rect
    rows: list[list[str]]

    def text(self) -> str:
        """The table as lines of cells separated by " | "."""
        return "\n".join(" | ".join(cell for cell in row) for row in self.rows)


@dataclass(frozen=True)
class Word:
    bbox: Rect
    text: str

    @property
    def x(self) -> float:
        return (self.bbox[0] + self.bbox[2]) / 2

    @property
    def y(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2


def has_grid(page_dict: dict) -> bool:
    """Whether the page's vector graphics (``TEXT_COLLECT_VECTORS`` blocks) could draw a table's grid.

    That takes a cluster of rules across and down crossing one another at
    least :data:`MIN_GRID_CROSSINGS` times, with no more than a few curves or
    slanted strokes among them (those make a diagram, not a table).
    """
    rules, strokes = [], []
    for block in page_dict.get("blocks", ()):
        if block.get("type") == 3:
            (rules if block.get("isrect") else strokes).append(block["bbox"])
    across: list[tuple[float, float, float, int]] = []  # (y, x0, x1, rule)
    down: list[tuple[float, float, float, int]] = []  # (x, y0, y1, rule)
    for n, (x0, y0, x1, y1) in enumerate(rules):
        if x1 - x0 > THIN:
            across += [(y0, x0, x1, n)] if y1 - y0 <= THIN else [(y0, x0, x1, n), (y1, x0, x1, n)]
        if y1 - y0 > THIN:
            down += [(x0, y0, y1, n)] if x1 - x0 <= THIN else [(x0, y0, y1, n), (x1, y0, y1, n)]
    if len(across) < 2 or len(down) < 2:
        return False
    down.sort()
    xs = [d[0] for d in down]
    parent = list(range(len(rules)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    crossing_pairs = []
    for y, ax0, ax1, a in across:
        for x, dy0, dy1, d in down[bisect_left(xs, ax0 - 1):bisect_right(xs, ax1 + 1)]:
            if a != d and dy0 - 1 <= y <= dy1 + 1:  # a framed box alone crosses only itself
                crossing_pairs.append(a)
                parent[root(a)] = root(d)
    counts = Counter(root(a) for a in crossing_pairs)
    for cluster, crossings in counts.items():
        if crossings < MIN_GRID_CROSSINGS:
            continue
        members = [rules[n] for n in range(len(rules)) if root(n) == cluster]
        box = (min(r[0] for r in members), min(r[1] for r in members),
               max(r[2] for r in members), max(r[3] for r in members))
        if sum(1 for s in strokes if _inside(s, box)) <= MAX_FIGURE_STROKES:
            return True
    return False


def find_tables(page, page_dict: dict, words: Sequence[tuple]) -> list[TableBlock]:
    """The ruled tables on ``page`` (a ``pymupdf.Page``); ``words`` from ``TextPage.extractWORDS()``.

    The layout model PyMuPDF would consult first costs ~0.5 s a page, so it is
    left out. (Nor is the search clipped to the grid: with a clip, PyMuPDF
    loses the outer columns of tables that have no side rules.)
    """
    with _quick_chars():
        found = page.find_tables(use_layout=False)
    if found is None:  # find_tables reports its own failure and returns None
        return []
    strokes = [b["bbox"] for b in page_dict.get("blocks", ()) if b.get("type") == 3 and not b.get("isrect")]
    page_words = [Word(tuple(w[:4]), w[4]) for w in words]
    tables = []
    for table in found.tables:
        box = tuple(table.bbox)
        if sum(1 for s in strokes if _inside(s, box)) > MAX_FIGURE_STROKES:
            continue  # a diagram or a plot
        block = _table_block(table, [w for w in page_words if _contains(box, w.x, w.y)])
        if block is not None:
            tables.append(block)
    return tables


def _table_block(table, words: list[Word]) -> TableBlock | None:
    grid = [list(row.cells) for row in table.rows]
    starts = _column_starts(grid)
    if len(starts) < 2:
        return None
    ends = starts[1:] + [table.bbox[2]]
    rows: list[tuple[Rect, list[str]]] = []
    for row, cells in zip(table.rows, grid):
        # a cell's words lie in its own box: a cell spanning several rows keeps its words to itself
        near = [w for w in words if row.bbox[1] <= w.y <= row.bbox[3]]
        cell_words = [[w for w in near if _contains(c, w.x, w.y)] if c else [] for c in cells]
        if not any(cell_words):
            continue
        if _spans_all(cells):
            rows.append((tuple(row.bbox), []))  # caption or notes: a marker, trimmed below
            continue
        header = not any(r[1] for r in rows)  # a header's lines are never separate rows
        bands = [cell_words] if header else _row_bands(cells, cell_words, starts, ends)
        for band in bands:
            inside = [w for ws in band for w in ws]
            box = (row.bbox[0], min(w.bbox[1] for w in inside), row.bbox[2], max(w.bbox[3] for w in inside))
            rows.append((box, _cells(cells, band, starts, ends, distribute=header)))
    while rows and not rows[0][1]:
        rows.pop(0)
    while rows and not rows[-1][1]:
        rows.pop()
    body = [r for r in rows if r[1]]
    if sum(1 for _, cells in body if sum(1 for c in cells if any(ch.isalnum() for ch in c)) >= 2) < 2:
        return None  # fewer than two rows with two cells of text: not a table worth the name
    keep = [j for j in range(len(starts)) if any(cells[j] for _, cells in body)]
    box = (table.bbox[0], min(b[1] for b, _ in body), table.bbox[2], max(b[3] for b, _ in body))
    return TableBlock(box, [[cells[j] for j in keep] for _, cells in body])


def _column_starts(grid: list[list]) -> list[float]:
    """The left edge of each grid column (None cells are covered by a neighbour)."""
    starts = []
    for j in range(max((len(r) for r in grid), default=0)):
        xs = [r[j][0] for r in grid if j < len(r) and r[j] is not None]
        if xs:
            starts.append(min(xs))
    return sorted(starts)


def _spans_all(cells: list) -> bool:
    return sum(1 for c in cells if c is not None) == 1 and len(cells) > 1


def _row_bands(cells, cell_words: list[list[Word]], starts, ends) -> list[list[list[Word]]]:
    """Split a grid row that holds several table rows (a band of five states) into those rows.

    Each line with text in two columns or more starts a row; a line with text
    in one column only continues the row above (a cell wrapped over two
    lines). A row with merged cells is never split.
    """
    if any(c is None for c in cells):
        return [cell_words]
    groups: list[set[Word]] = []
    for band in _bands([w for ws in cell_words for w in ws]):
        if groups and len({_column(w.x, starts, ends) for w in band}) < 2:
            groups[-1].update(band)
        else:
            groups.append(set(band))
    if len(groups) < 2:
        return [cell_words]
    return [[[w for w in ws if w in members] for ws in cell_words] for members in groups]


def _bands(words: list[Word]) -> list[list[Word]]:
    """Words grouped into lines by their vertical centre."""
    bands: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.y):
        if bands and word.y - bands[-1][-1].y <= 0.4 * (word.bbox[3] - word.bbox[1]):
            bands[-1].append(word)
        else:
            bands.append([word])
    return bands


def _cells(cells: list, cell_words: list[list[Word]], starts, ends, distribute: bool) -> list[str]:
    """Cell texts of one row on the full column grid.

    A merged cell's text goes to its first column, unless ``distribute`` (a
    header row): then each word goes to the column under it, and the lines
    above the last become a prefix of every column the cell covers.
    """
    out = [""] * len(starts)
    for cell, inside in zip(cells, cell_words):
        if cell is None or not inside:
            continue
        covered = [j for j in range(len(starts)) if cell[0] - 1 <= starts[j] < cell[2] - 1]
        if not covered:
            continue
        if not distribute or len(covered) == 1:
            out[covered[0]] = _words_text(inside)
            continue
        *upper, last = _bands(inside)
        prefix = " ".join(_words_text(band) for band in upper)
        for j in covered:
            own = _words_text([w for w in last if starts[j] <= w.x < ends[j]])
            out[j] = f"{prefix} {own}".strip() if own else ""
    return out


def _words_text(words: list[Word]) -> str:
    """Words in reading order, without dot leaders; upright text (taller than wide, a rotated cell) reads bottom up."""
    words = [w for w in words if not _LEADER.match(w.text)]
    long = [w for w in words if len(w.text) > 1]
    if long and all(w.bbox[3] - w.bbox[1] > w.bbox[2] - w.bbox[0] for w in long):
        return " ".join(w.text for w in sorted(words, key=lambda w: -w.y))
    return " ".join(w.text for band in _bands(words) for w in sorted(band, key=lambda w: w.bbox[0]))


def _column(x: float, starts, ends) -> int:
    for j, (start, end) in enumerate(zip(starts, ends)):
        if start <= x < end:
            return j
    return -1


def _contains(box: Sequence[float], x: float, y: float) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def _inside(inner: Sequence[float], outer: Sequence[float]) -> bool:
    return _contains(outer, (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2)


# --- PyMuPDF's character list, built faster ----------------------------------------------------------
#
# find_tables first lists every character of the page (``make_chars``), and on a page full of text
# that costs more than finding the grid: a TextPage with TEXT_COLLECT_STYLES (75 ms on a Federal
# Register page) and a Python loop making two PyMuPDF objects and two transforms per character
# (110 ms for 6,600 characters). With the "lines" strategies, the list decides only which grids hold
# text (a character inside or overlapping a candidate), so what counts is each character's box.
# _make_chars builds the same list: the same TextPage but for the style flag (which sets bold flags
# and leaves every character's box, origin, text, font and colour as they were: checked on every
# page of the shared PDFs), and the two transforms done as MuPDF does them in single precision.
# Only "bold" may differ; it feeds Table.header, which kgstudio never reads. A page whose
# transformation matrix is not the plain flip (a crop box not at the origin, a user unit) is left
# to PyMuPDF's own function. Its ``chars_in_rect`` (is a grid's box holding text?) is swapped for the
# same test with the box's corners read once.

_PATCH_LOCK = threading.Lock()


@contextmanager
def _quick_chars() -> Iterator[None]:
    """Run ``page.find_tables`` with :func:`_make_chars` and :func:`_chars_in_rect` in place of PyMuPDF's own."""
    from pymupdf import table as pymupdf_table

    original = getattr(pymupdf_table, "make_chars", None)
    if original is None or not hasattr(pymupdf_table, "FLAGS") or not hasattr(pymupdf_table, "CHARS"):
        yield  # a PyMuPDF whose table module is built differently: leave it alone
        return
    original_in_rect = getattr(pymupdf_table, "chars_in_rect", None)
    with _PATCH_LOCK:
        pymupdf_table.make_chars = lambda page, clip=None: _make_chars(pymupdf_table, original, page, clip)
        if original_in_rect is not None:
            pymupdf_table.chars_in_rect = _chars_in_rect
        try:
            yield
        finally:
            pymupdf_table.make_chars = original
            if original_in_rect is not None:
                pymupdf_table.chars_in_rect = original_in_rect


def _chars_in_rect(chars, rect) -> bool:
    """``pymupdf.table.chars_in_rect``: whether a character lies wholly in ``rect``, with the rectangle's
    corners read once rather than once a character (a ``pymupdf.Rect`` index is a Python call)."""
    x0, y0, x1, y1 = rect[0], rect[1], rect[2], rect[3]
    return any(x0 <= c["x0"] and c["x1"] <= x1 and y0 <= c["y0"] and y1 >= c["y1"] for c in chars)


def _make_chars(module, original, page, clip=None):
    """``pymupdf.table.make_chars``, the same characters at a tenth of the cost (see above)."""
    a, b, c, d, e, f = page.transformation_matrix
    if (a, b, c, d, e) != (1, 0, 0, -1, 0):
        return original(page, clip=clip)
    textpage = page.get_textpage(clip=clip, flags=module.FLAGS & ~pymupdf.TEXT_COLLECT_STYLES)
    blocks = page.get_text("rawdict", textpage=textpage)["blocks"]
    page_number = page.number + 1
    doctop_base = page.rect.height * page.number
    chars, flipped = [], []  # flipped: f - y of each character's bottom, top and origin, to round to floats
    for block in blocks:
        for line in block["lines"]:
            cosine, sine = round(line["dir"][0], 4), round(line["dir"][1], 4)
            upright = sine == 0
            for span in sorted(line["spans"], key=lambda s: s["bbox"][0]):
                fontname, fontsize = span["font"], span["size"]
                bold = bool(span["flags"] & pymupdf.TEXT_FONT_BOLD or span.get("char_flags", 0) & 8)
                color = pymupdf.sRGB_to_pdf(span["color"])
                for char in sorted(span["chars"], key=lambda ch: ch["bbox"][0]):
                    x0, y0, x1, y1 = char["bbox"]
                    ox, oy = char["origin"]
                    flipped += (f - y1, f - y0, f - oy)
                    chars.append({
                        "adv": x1 - x0 if upright else y1 - y0,
                        "bottom": y1,
                        "doctop": y0 + doctop_base,
                        "fontname": fontname,
                        "height": y1 - y0,
                        "matrix": (cosine, -sine, sine, cosine, ox),  # the origin's y is added below
                        "ncs": "DeviceRGB",
                        "non_stroking_color": color,
                        "non_stroking_pattern": None,
                        "object_type": "char",
                        "page_number": page_number,
                        "size": fontsize if upright else y1 - y0,
                        "stroking_color": color,
                        "stroking_pattern": None,
                        "bold": bold,
                        "text": char["c"],
                        "top": y0,
                        "upright": upright,
                        "width": x1 - x0,
                        "x0": x0,
                        "x1": x1,
                    })
    # MuPDF transforms in single precision: f - y is exact in double, so one rounding to float matches it
    rounded = array("f", flipped).tolist()
    for n, char in enumerate(chars):
        char["y0"], char["y1"] = rounded[3 * n], rounded[3 * n + 1]
        char["matrix"] = (*char["matrix"], rounded[3 * n + 2])
    module.CHARS.extend(chars)
    return textpage
