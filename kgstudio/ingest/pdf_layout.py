"""Reading order and paragraph text of one PDF page, from geometry alone.

Works on the dictionary PyMuPDF's ``TextPage.extractDICT()`` returns, so it
needs no document and is cheap to test. The reading order is a recursive
XY-cut: split a region at its column gutters if it has any, else into
horizontal bands, and recurse. Bands that share one column structure are put
back together before splitting into columns, so two columns whose paragraph
gaps happen to line up are still read column by column. Text that is not
horizontal (a rotated margin note) comes after the rest of the page.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

Rect = tuple[float, float, float, float]

MIN_COLUMN_GAP = 4.0  # points of white space that separate two columns
BAND_OVERLAP = 1.0  # boxes overlapping less than this (points) still lie in separate bands
MAX_DEPTH = 60  # nested cuts deeper than this (no real page) fall back to top-to-bottom order
HEADING_SCALE = 1.15  # a block this much larger than the body text is a heading
BOLD_FLAG = 16  # span flag of a bold font
_SPACES = re.compile(r"[^\S\n]+")


class HasBox(Protocol):
    bbox: Rect


Item = TypeVar("Item", bound=HasBox)


@dataclass
class Line:
    """One line of text as MuPDF found it."""

    bbox: Rect
    text: str
    size: float
    bold: bool


@dataclass
class TextBlock:
    """A paragraph (or heading) in the making: lines of one MuPDF block, maybe joined with the next."""

    bbox: Rect
    lines: list[Line] = field(default_factory=list)
    kind: str = "text"
    _text: str | None = field(default=None, repr=False)

    @property
    def size(self) -> float:
        """The font size most of the characters have."""
        weights: Counter[float] = Counter()
        for line in self.lines:
            weights[line.size] += len(line.text)
        return weights.most_common(1)[0][0]

    def text(self) -> str:
        if self._text is None:
            self._text = block_text(self.lines)
        return self._text

    def extend(self, other: "TextBlock") -> None:
        """Append the lines of the block that continues this one."""
        self.lines.extend(other.lines)
        self.bbox = _union((self.bbox, other.bbox))
        self._text = None


@dataclass
class PageLines:
    """The text of a page: horizontal blocks, rotated blocks, and what could not be decoded."""

    blocks: list[TextBlock]
    rotated: list[TextBlock]
    undecodable: int  # characters without a Unicode mapping (dropped)


def text_blocks(page_dict: dict, skip: Sequence[Rect] = ()) -> PageLines:
    """The text blocks of a page, without lines whose centre lies in one of ``skip`` (tables)."""
    blocks: list[TextBlock] = []
    rotated: list[TextBlock] = []
    undecodable = 0
    for block in page_dict.get("blocks", ()):
        if block.get("type") != 0:
            continue
        flat, turned = [], []
        for line in block["lines"]:
            spans = [s for s in line["spans"] if s["text"]]
            if len(spans) == 1:  # most lines: one font throughout
                main = spans[0]
                text = main["text"]
            else:
                text = "".join(s["text"] for s in spans)
            if "\ufffd" in text:
                undecodable += text.count("\ufffd")
                text = text.replace("\ufffd", " ")
            if not text.strip() or (skip and _centre_in(line["bbox"], skip)):
                continue
            if len(spans) == 1:
                bold = bool(main["flags"] & BOLD_FLAG)  # its text is not blank: checked above
            else:  # the span with the most text sets the size (the first of equals); bold if every one with text is
                main, most, bold = spans[0], -1, True
                for span in spans:
                    stripped = span["text"].strip()
                    if len(stripped) > most:
                        main, most = span, len(stripped)
                    if stripped and not span["flags"] & BOLD_FLAG:
                        bold = False
            entry = Line(tuple(line["bbox"]), text, round(main["size"] * 2) / 2, bold)
            dx, dy = line["dir"]
            (flat if dx > 0.99 and abs(dy) < 0.05 else turned).append(entry)
        for lines, target in ((flat, blocks), (turned, rotated)):
            if lines:
                target.append(TextBlock(_union(line.bbox for line in lines), lines))
    return PageLines(blocks, rotated, undecodable)


def reading_order(items: Sequence[Item], line_height: float) -> list[Item]:
    """``items`` in the order a person reads them: column by column, top to bottom."""
    return _cut(list(items), max(line_height, 1.0), depth=0)


def _cut(items: list[Item], line_height: float, depth: int) -> list[Item]:
    if len(items) < 2 or depth > MAX_DEPTH:
        return sorted(items, key=lambda item: (item.bbox[1], item.bbox[0]))
    columns = _split(items, axis=0, min_gap=MIN_COLUMN_GAP)
    if len(columns) > 1:
        return [item for column in columns for item in _cut(column, line_height, depth + 1)]
    bands = _merge_column_bands(_split(items, axis=1, min_gap=-BAND_OVERLAP), line_height)
    if len(bands) > 1:
        return [item for band in bands for item in _cut(band, line_height, depth + 1)]
    return sorted(items, key=lambda item: (item.bbox[1], item.bbox[0]))


def _split(items: list[Item], axis: int, min_gap: float) -> list[list[Item]]:
    """Groups of items separated by more than ``min_gap`` along ``axis`` (0 = x, 1 = y)."""
    ordered = sorted(items, key=lambda item: item.bbox[axis])
    groups = [[ordered[0]]]
    end = ordered[0].bbox[axis + 2]
    for item in ordered[1:]:
        if item.bbox[axis] - end > min_gap:
            groups.append([])
        groups[-1].append(item)
        end = max(end, item.bbox[axis + 2])
    return groups


def _merge_column_bands(bands: list[list[Item]], line_height: float) -> list[list[Item]]:
    """Join neighbouring bands that are parts of the same columns.

    Two bands belong together when the pair can still be split into columns
    and the white space between them is no more than a paragraph break; a
    header set well above the columns stays a band of its own.
    """
    merged = [bands[0]]
    for band in bands[1:]:
        previous = merged[-1]
        gap = min(item.bbox[1] for item in band) - max(item.bbox[3] for item in previous)
        if gap <= 2 * line_height and _same_columns(previous, band):
            merged[-1] = previous + band
        else:
            merged.append(band)
    return merged


def _same_columns(upper: list[Item], lower: list[Item]) -> bool:
    """Whether two bands read as parts of one set of columns.

    The pair must split into columns, one of them must already be in
    columns (two lone blocks side by side are not yet a column layout), and a
    band that is not itself in columns must start at a column's left edge: a
    paragraph that continues a column does, a caption centred under the
    columns does not.
    """
    columns = _split(upper + lower, 0, MIN_COLUMN_GAP)
    if len(columns) < 2:
        return False
    starts = [min(item.bbox[0] for item in column) for column in columns]
    in_columns = [len(_split(band, 0, MIN_COLUMN_GAP)) > 1 for band in (upper, lower)]
    if not any(in_columns):
        return False
    for band, split in zip((upper, lower), in_columns):
        if not split and not all(any(abs(item.bbox[0] - start) <= 3 for start in starts) for item in band):
            return False
    return True


def median_line_height(blocks: Iterable[TextBlock]) -> float:
    heights = sorted(line.bbox[3] - line.bbox[1] for block in blocks for line in block.lines)
    return heights[len(heights) // 2] if heights else 10.0


def mark_headings(blocks: Iterable[TextBlock], body_size: float) -> None:
    """Set ``kind = "heading"`` on short blocks set larger than the body text, or wholly bold."""
    for block in blocks:
        text = block.text()
        if len(text) > 200 or len(block.lines) > 3 or not any(ch.isalpha() for ch in text):
            continue
        larger = block.size >= body_size * HEADING_SCALE
        bold = (all(line.bold for line in block.lines) and block.size >= body_size * 0.95
                and len(text) <= 100 and not text.endswith((".", ",", ";")))
        if larger or bold:
            block.kind = "heading"


def join_paragraphs(items: list[Item]) -> list[Item]:
    """Join text blocks that continue one another (PDF writers that put every line in a block of its own).

    A block continues the one above when it starts at the same left edge, in
    the same font, right below it, and the line above runs to the right edge
    of the text (the widest block with that left edge) without ending a sentence.
    """
    blocks = [item for item in items if isinstance(item, TextBlock)]
    joined: list[Item] = []
    for item in items:
        previous = joined[-1] if joined else None
        if (isinstance(previous, TextBlock) and isinstance(item, TextBlock)
                and _continues(previous, item, blocks)):
            previous.extend(item)
        else:
            joined.append(item)
    return joined


def _right_edge(block: TextBlock, blocks: list[TextBlock]) -> float:
    x0 = block.bbox[0]
    return max(other.bbox[2] for other in blocks if abs(other.bbox[0] - x0) <= 3)


def _continues(upper: TextBlock, lower: TextBlock, blocks: list[TextBlock]) -> bool:
    if upper.kind != "text" or lower.kind != "text":
        return False
    last, first = upper.lines[-1], lower.lines[0]
    height = last.bbox[3] - last.bbox[1]
    if not (abs(last.size - first.size) <= 0.5
            and abs(first.bbox[0] - upper.bbox[0]) <= 3  # no indent, same left edge
            and -1 <= first.bbox[1] - last.bbox[3] <= height  # no more than a line of space between
            and not last.text.rstrip().endswith((".", ":", "!", "?"))):
        return False
    # the upper block's last line runs to the margin: the right edge of the text (a pass over the
    # page's blocks, so it comes last)
    right = _right_edge(upper, blocks)
    return last.bbox[2] >= right - 0.1 * (right - upper.bbox[0])


def block_text(lines: Sequence[Line]) -> str:
    """The lines of a block as one paragraph: hyphenation undone, white space collapsed.

    Lines side by side (cells of a table without rules) are joined with ``" | "``,
    and such a block keeps one line per row.
    """
    rows: list[list[Line]] = []
    for line in lines:
        if rows and _same_row(rows[-1][-1], line):
            rows[-1].append(line)
        else:
            rows.append([line])
    texts = [_row_text(row) for row in rows]
    tabular = any(" | " in text for text in texts)
    out = texts[0] if texts else ""
    for text in texts[1:]:
        out = _join_lines(out, text, "\n" if tabular else " ")
    return _SPACES.sub(" ", out).strip()


def _same_row(a: Line, b: Line) -> bool:
    overlap = min(a.bbox[3], b.bbox[3]) - max(a.bbox[1], b.bbox[1])
    return overlap >= 0.5 * min(a.bbox[3] - a.bbox[1], b.bbox[3] - b.bbox[1]) and b.bbox[0] >= a.bbox[2] - 1


def _row_text(row: list[Line]) -> str:
    out = row[0].text.strip()
    for left, right in zip(row, row[1:]):
        gap = right.bbox[0] - left.bbox[2]
        out += (" | " if gap > 1.5 * max(left.size, 1.0) else " ") + right.text.strip()
    return out


def _join_lines(before: str, after: str, separator: str) -> str:
    before = before.rstrip()
    after = after.lstrip()
    if before.endswith("\u00ad"):  # soft hyphen: always a word broken in two
        return before[:-1] + after
    if (len(before) > 1 and before[-1] == "-" and before[-2].isalpha()
            and after[:1].isalpha() and after[:1].islower()):
        return before[:-1] + after
    return before + separator + after


def _centre_in(bbox: Sequence[float], rects: Sequence[Rect]) -> bool:
    x = (bbox[0] + bbox[2]) / 2
    y = (bbox[1] + bbox[3]) / 2
    return any(r[0] <= x <= r[2] and r[1] <= y <= r[3] for r in rects)


def _union(boxes: Iterable[Sequence[float]]) -> Rect:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))
