"""The graph canvas. For now an empty pyqtgraph view with a one-line message.

The real canvas (nodes as one ScatterPlotItem, edges as one path, labels
only where visible) replaces the inside of :class:`GraphCanvas`; the main
window only uses :meth:`GraphCanvas.show_message`.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget


class GraphCanvas(pg.PlotWidget):
    """The central graph view: axes, buttons and mouse interaction off until there is a graph to show."""

    def __init__(self, parent: QWidget | None = None) -> None:
        palette = parent.palette() if parent is not None else QPalette()
        super().__init__(parent, background=palette.color(QPalette.ColorRole.Base))
        self.setObjectName("graphCanvas")
        plot = self.getPlotItem()
        for axis in ("left", "bottom"):
            plot.hideAxis(axis)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
        self._message = pg.TextItem(anchor=(0.5, 0.5), color=palette.color(QPalette.ColorRole.PlaceholderText))
        self._message.setPos(0, 0)
        font = self._message.textItem.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self._message.setFont(font)
        document = self._message.textItem.document()
        option = document.defaultTextOption()
        option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        document.setDefaultTextOption(option)
        plot.addItem(self._message)

    @property
    def message(self) -> str:
        """The text shown in the middle of the canvas."""
        return self._message.toPlainText()

    def show_message(self, text: str) -> None:
        """Show ``text`` in the middle of the canvas, each line centred."""
        self._message.setTextWidth(-1)  # measure the text at its natural width...
        self._message.setText(text)
        # ...then fix the width to it: Qt centres lines only within a set width.
        self._message.setTextWidth(self._message.textItem.document().idealWidth())
