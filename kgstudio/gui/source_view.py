"""Jump to source: the page, message or row a fact came from, with the passage highlighted.

- PDF: the page rendered with PyMuPDF, the passage's box filled yellow and
  the quoted words (found on the page) outlined in orange;
- e-mail: the message (headers, then body with line numbers) with the
  passage's lines highlighted;
- spreadsheet: the rows around the fact's row, that row highlighted;
- text: the file's lines, the passage's lines highlighted.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QLabel,
    QScrollArea,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from kgstudio.domain import Segment
from kgstudio.domain.locators import EmailLocator, PdfLocator, SheetLocator, TextLocator
from kgstudio.graph.queries import Evidence
from kgstudio.store import Project

PAGE_ZOOM = 1.5  # rendered pixels per PDF point
PASSAGE_FILL = QColor(255, 235, 59, 90)
QUOTE_PEN = QColor(255, 120, 0)
ROW_FILL = QColor(255, 240, 150)


@dataclass
class RenderedPage:
    """A PDF page as shown: the image and where the highlights are, in image pixels."""

    image: QImage
    page: int
    zoom: float
    passage: QRectF | None = None
    quotes: list[QRectF] = field(default_factory=list)


def render_pdf_page(path: str | Path, locator: PdfLocator, quote: str = "", zoom: float = PAGE_ZOOM) -> RenderedPage:
    """Render the locator's page with its passage highlighted; raises ``OSError``/``ValueError`` when it cannot."""
    with pymupdf.open(str(path)) as document:
        if document.needs_pass:
            raise ValueError("the PDF is encrypted; its passage is shown as text")
        if not 1 <= locator.page <= document.page_count:
            raise ValueError(f"the PDF has no page {locator.page}")
        page = document[locator.page - 1]
        pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        image = QImage(pixmap.samples, pixmap.width, pixmap.height, pixmap.stride,
                       QImage.Format.Format_RGB888).copy()  # copy: the pixmap's buffer goes away
        passage = None
        if locator.bbox is not None:
            x0, y0, x1, y1 = locator.bbox
            passage = QRectF(x0 * zoom, y0 * zoom, (x1 - x0) * zoom, (y1 - y0) * zoom)
        quotes = []
        words = " ".join(quote.split())
        if words:
            clip = pymupdf.Rect(locator.bbox) if locator.bbox is not None else None
            hits = page.search_for(words[:200], clip=clip) or (page.search_for(words[:200]) if clip else [])
            quotes = [QRectF(r.x0 * zoom, r.y0 * zoom, r.width * zoom, r.height * zoom) for r in hits]
    rendered = RenderedPage(image, locator.page, zoom, passage, quotes)
    _paint_highlights(rendered)
    return rendered


def _paint_highlights(rendered: RenderedPage) -> None:
    painter = QPainter(rendered.image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if rendered.passage is not None:
        painter.fillRect(rendered.passage, PASSAGE_FILL)
        painter.setPen(QPen(QColor(230, 190, 0), 1.5))
        painter.drawRect(rendered.passage)
    painter.setPen(QPen(QUOTE_PEN, 2))
    painter.setBrush(QBrush(Qt.BrushStyle.NoBrush))
    for rect in rendered.quotes:
        painter.drawRect(rect.adjusted(-1, -1, 1, 1))
    painter.end()


class SourceView(QWidget):
    """Shows one piece of evidence in its source. :attr:`page` / :attr:`highlighted_lines` /
    :attr:`highlighted_row` say what is shown (for tests and the status line)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sourceView")
        self.caption = QLabel("Select a fact and choose Show Source.")
        self.caption.setWordWrap(True)
        self.stack = QStackedWidget()
        self.page_label = QLabel()
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.page_scroll = QScrollArea()
        self.page_scroll.setWidget(self.page_label)
        self.page_scroll.setWidgetResizable(False)
        self.text = QTextBrowser()
        self.table = QTableWidget()
        for widget in (self.page_scroll, self.text, self.table):
            self.stack.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.caption)
        layout.addWidget(self.stack, 1)
        self.page: RenderedPage | None = None
        self.highlighted_lines: tuple[int, int] | None = None
        self.highlighted_row: int | None = None

    def show_evidence(self, project: Project, evidence: Evidence) -> None:
        """Show where ``evidence`` came from."""
        self.page, self.highlighted_lines, self.highlighted_row = None, None, None
        with project.repositories() as repos:
            document = repos.documents.get(evidence.document_id)
            segments = repos.documents.segments(evidence.document_id) if document else []
        if document is None:
            self._show_text("The document of this fact is no longer in the project.", evidence)
            return
        locator = evidence.locator
        where = evidence.describe()
        changed = ""
        path = Path(document.path)
        if isinstance(locator, EmailLocator) and locator.inner is not None:
            locator = locator.inner
        if isinstance(locator, PdfLocator) and document.parent_id is None and path.is_file():
            if _sha256(path) != document.sha256:
                changed = " (the file has changed since it was imported)"
            try:
                self.page = render_pdf_page(path, locator, evidence.quote)
            except (OSError, ValueError, RuntimeError) as exc:
                self._show_text(f"{where}: cannot show the page ({exc}).", evidence)
                return
            self.stack.setCurrentWidget(self.page_scroll)
            self._show_page()
            self.caption.setText(f"{where}{changed}: “{_short(evidence.quote)}”")
        elif isinstance(locator, EmailLocator):
            self._show_email(segments, locator, evidence, where)
        elif isinstance(locator, SheetLocator):
            self._show_sheet(segments, locator, where)
        elif isinstance(locator, TextLocator):
            self._show_lines(segments, locator.line_start, locator.line_end, evidence, where)
        else:
            note = "" if path.is_file() else " (the file is no longer where it was imported from)"
            self._show_text(f"{where}{note}", evidence)

    def _show_page(self) -> None:
        """The rendered page scaled to the panel's width, scrolled to the passage."""
        page = self.page
        if page is None:
            return
        width = max(200, self.page_scroll.viewport().width() - 2)
        scale = min(1.0, width / page.image.width())
        pixmap = QPixmap.fromImage(page.image)
        if scale < 1.0:
            pixmap = pixmap.scaledToWidth(int(page.image.width() * scale), Qt.TransformationMode.SmoothTransformation)
        self.page_label.setPixmap(pixmap)
        self.page_label.resize(pixmap.size())
        if page.passage is not None:
            centre = page.passage.center() * scale
            self.page_scroll.ensureVisible(int(centre.x()), int(centre.y()), 50, int(page.passage.height() * scale) + 60)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self.page is not None and self.stack.currentWidget() is self.page_scroll:
            self._show_page()

    # --- kinds ---------------------------------------------------------------------

    def _show_email(self, segments: list[Segment], locator: EmailLocator, evidence: Evidence, where: str) -> None:
        headers = [s for s in segments if isinstance(s.locator, EmailLocator) and s.locator.part_path == "headers"]
        body = [s for s in segments if isinstance(s.locator, EmailLocator) and s.locator.part_path == "body"
                and s.locator.line_start is not None]
        lines: dict[int, str] = {}
        for segment in body:
            for offset, line in enumerate(segment.text.split("\n")):
                lines[segment.locator.line_start + offset] = line  # type: ignore[union-attr,operator]
        start, end = locator.line_start, locator.line_end
        target = "headers" if locator.part_path == "headers" else "body"
        parts = ["<pre style='font-family: monospace; white-space: pre-wrap'>"]
        for segment in headers:
            style = " style='background:#fff3a0'" if target == "headers" else ""
            parts.append(f"<span{style}>{html.escape(segment.text)}</span>\n\n")
        last = max(lines) if lines else 0
        for number in range(1, last + 1):
            text = html.escape(lines.get(number, ""))
            marked = target == "body" and start is not None and start <= number <= (end or start)
            line = f"{number:4d}  {text}"
            parts.append(f"<span style='background:#fff3a0'>{line}</span>\n" if marked else f"{line}\n")
        parts.append("</pre>")
        self.text.setHtml("".join(parts))
        self.stack.setCurrentWidget(self.text)
        self.highlighted_lines = (start, end or start) if start is not None else None
        self.caption.setText(f"{where}: “{_short(evidence.quote)}”")

    def _show_sheet(self, segments: list[Segment], locator: SheetLocator, where: str) -> None:
        rows = [s for s in segments if isinstance(s.locator, SheetLocator) and s.locator.sheet == locator.sheet
                and s.kind == "row" and s.locator.row is not None]
        target = locator.row
        near = [s for s in rows if target is None or abs(s.locator.row - target) <= 5]  # type: ignore[union-attr,operator]
        columns: list[str] = []
        for segment in near:
            for name in (segment.table or [[]])[0]:
                if name not in columns:
                    columns.append(str(name))
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(near))
        self.table.setHorizontalHeaderLabels(columns)
        for r, segment in enumerate(near):
            names, values = (segment.table or [[], []])[:2] if segment.table and len(segment.table) >= 2 else ([], [])
            self.table.setVerticalHeaderItem(r, QTableWidgetItem(str(segment.locator.row)))  # type: ignore[union-attr]
            for name, value in zip(names, values):
                item = QTableWidgetItem("" if value is None else str(value))
                if segment.locator.row == target:  # type: ignore[union-attr]
                    item.setBackground(ROW_FILL)
                self.table.setItem(r, columns.index(str(name)), item)
            if segment.locator.row == target:  # type: ignore[union-attr]
                self.highlighted_row = target
                self.table.scrollToItem(self.table.item(r, 0) or QTableWidgetItem())
        self.stack.setCurrentWidget(self.table)
        self.caption.setText(f"{where} ({locator.cell_range})")

    def _show_lines(self, segments: list[Segment], start: int, end: int, evidence: Evidence, where: str) -> None:
        parts = ["<pre style='white-space: pre-wrap'>"]
        for segment in segments:
            loc = segment.locator
            marked = isinstance(loc, TextLocator) and loc.line_start <= end and loc.line_end >= start
            text = html.escape(segment.text)
            parts.append(f"<span style='background:#fff3a0'>{text}</span>\n\n" if marked else f"{text}\n\n")
        parts.append("</pre>")
        self.text.setHtml("".join(parts))
        self.stack.setCurrentWidget(self.text)
        self.highlighted_lines = (start, end)
        self.caption.setText(f"{where}: “{_short(evidence.quote)}”")

    def _show_text(self, caption: str, evidence: Evidence) -> None:
        self.caption.setText(caption)
        passage = html.escape(evidence.passage)
        if evidence.span is not None:
            s, e = evidence.span
            passage = (html.escape(evidence.passage[:s]) + "<span style='background:#fff3a0'>"
                       + html.escape(evidence.passage[s:e]) + "</span>" + html.escape(evidence.passage[e:]))
        self.text.setHtml(f"<pre style='white-space: pre-wrap'>{passage}</pre>")
        self.stack.setCurrentWidget(self.text)


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
