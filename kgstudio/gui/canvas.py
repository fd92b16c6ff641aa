"""The graph canvas: pan, zoom, select, drag, search and filter the graph of the open project.

The drawing itself is :class:`~kgstudio.gui.graph_layer.GraphLayer`; this
module is the widget around it (a pyqtgraph view with locked aspect), the
mouse, and the operations the window and tests call: :meth:`set_graph`,
:meth:`apply_changes`, :meth:`select_nodes`, :meth:`find`,
:meth:`center_on`, :meth:`zoom_to_fit`, :meth:`set_filters`,
:meth:`export_image`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QWidget

from kgstudio.domain import ChangeSet
from kgstudio.graph.data import GraphData, save_positions
from kgstudio.gui.graph_layer import LABEL_NODES, GraphLayer
from kgstudio.gui.tasks import BackgroundTask
from kgstudio.store import Project

log = logging.getLogger(__name__)


@dataclass
class GraphFilter:
    """What the canvas shows. None means "no restriction"."""

    classes: set[str] | None = None  # "" stands for "no class"
    predicates: set[str] | None = None
    statuses: set[str] = field(default_factory=lambda: {"accepted", "candidate", "inferred"})
    min_confidence: float = 0.0  # edges with a known confidence below this are hidden
    triple_ids: set[int] | None = None  # e.g. the triples of the chosen documents


class _InteractiveLayer(GraphLayer):
    """GraphLayer plus the mouse: click selects, drag moves a node, Shift+drag selects a box."""

    def __init__(self, canvas: "GraphCanvas") -> None:
        super().__init__()
        self.canvas = canvas

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph's name)
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        x, y = ev.pos().x(), ev.pos().y()
        additive = bool(ev.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier))
        node = self.nearest_node(x, y)
        if node is not None:
            chosen = list(self.selected_nodes) if additive else []
            if node in chosen:
                chosen.remove(node)
            else:
                chosen.append(node)
            self.canvas.select_nodes(chosen)
        else:
            edge = self.nearest_edge(x, y)
            if edge is not None:
                self.canvas.select_edge(edge)
            elif not additive:
                self.canvas.select_nodes([])
        ev.accept()

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph's name)
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            start = ev.buttonDownPos()
            node = self.nearest_node(start.x(), start.y())
            if node is not None:
                self.canvas.begin_drag(node)
            else:
                ev.ignore()  # the view pans (or, with Shift, draws a selection box)
                return
        if self.floating is not None:
            self.canvas.drag_to(ev.pos().x(), ev.pos().y())
            if ev.isFinish():
                self.canvas.end_drag()
            ev.accept()
        else:
            ev.ignore()

    def hoverEvent(self, ev) -> None:  # noqa: N802 (pyqtgraph's name)
        if ev.isExit() or self.data is None:
            changed = self.hover_node is not None or self.hover_edge is not None
            self.hover_node = self.hover_edge = None
        else:
            x, y = ev.pos().x(), ev.pos().y()
            node = self.nearest_node(x, y)
            # Edge hover costs a pass over the visible edges: only where edges can be told apart.
            edge = None
            if node is None and self.last_render.get("edges", 0) <= 20_000:  # type: ignore[operator]
                edge = self.nearest_edge(x, y)
            changed = (node, edge) != (self.hover_node, self.hover_edge)
            self.hover_node, self.hover_edge = node, edge
        if changed:
            self.update()


class _GraphViewBox(pg.ViewBox):
    """Drag pans, wheel zooms; Shift+drag draws a box and selects the nodes in it."""

    def __init__(self) -> None:
        super().__init__()
        self.layer: GraphLayer | None = None
        self.on_box: object = None

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 (pyqtgraph's name)
        layer = self.layer
        if layer is None or ev.button() != Qt.MouseButton.LeftButton \
                or not ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        start = self.mapToView(ev.buttonDownPos())
        rect = QRectF(start, self.mapToView(ev.pos())).normalized()
        layer.band = None if ev.isFinish() else rect
        layer.update()
        if ev.isFinish():
            self.on_box(rect)  # type: ignore[operator]


class GraphCanvas(pg.PlotWidget):
    """The central graph view.

    :attr:`selection_changed` carries the selected entity ids and the selected
    triple id (or None) whenever the selection changes.
    """

    selection_changed = Signal(list, object)
    node_moved = Signal(int)
    context_menu_requested = Signal(object)  # QPoint (global): the window builds the menu for the selection

    def __init__(self, parent: QWidget | None = None) -> None:
        palette = parent.palette() if parent is not None else QPalette()
        view = _GraphViewBox()
        super().__init__(parent, background=palette.color(QPalette.ColorRole.Base), viewBox=view)
        self.setObjectName("graphCanvas")
        plot = self.getPlotItem()
        for axis in ("left", "bottom"):
            plot.hideAxis(axis)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        self.view = plot.getViewBox()
        self.view.setAspectLocked(True)
        plot.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
        self.layer = _InteractiveLayer(self)
        self.layer.background = palette.color(QPalette.ColorRole.Base)
        view.layer, view.on_box = self.layer, self.select_in_rect
        plot.addItem(self.layer)
        self._message = pg.TextItem(anchor=(0.5, 0.5), color=palette.color(QPalette.ColorRole.PlaceholderText))
        self._message.setPos(0, 0)
        self._message.setZValue(10)
        font = self._message.textItem.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self._message.setFont(font)
        document = self._message.textItem.document()
        option = document.defaultTextOption()
        option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        document.setDefaultTextOption(option)
        plot.addItem(self._message, ignoreBounds=True)
        self.scene().sigMouseClicked.connect(self._on_scene_click)
        self.graph: GraphData | None = None
        self.filter = GraphFilter()
        self._matches: list[int] = []
        self._match_at = -1
        self._drag_origin: tuple[float, float] | None = None
        # Until the user pans or zooms, the view keeps fitting the graph (e.g. as the window is laid out).
        self._auto_fit = True
        self.view.sigRangeChangedManually.connect(self._stop_auto_fit)

    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        # A right-click on a node outside the selection selects that node first, as file managers do.
        point = self.layer.mapFromScene(self.mapToScene(event.pos()))
        node = self.layer.nearest_node(point.x(), point.y())
        if node is not None and node not in self.layer.selected_nodes:
            self.select_nodes([node])
        self.context_menu_requested.emit(event.globalPos())
        event.accept()

    def _on_scene_click(self, event) -> None:  # type: ignore[no-untyped-def]
        # A click beside the graph (outside the layer's bounds) clears the selection too.
        if not event.isAccepted() and event.button() == Qt.MouseButton.LeftButton and not event.modifiers():
            if self.layer.selected_nodes or self.layer.selected_edge is not None:
                self.select_nodes([])

    # --- message -------------------------------------------------------------------

    @property
    def message(self) -> str:
        """The text shown in the middle of the canvas ("" when the graph is shown)."""
        return self._message.toPlainText() if self._message.isVisible() else ""

    def show_message(self, text: str) -> None:
        """Show ``text`` in the middle of the canvas, each line centred."""
        self._message.setTextWidth(-1)  # measure the text at its natural width...
        self._message.setText(text)
        # ...then fix the width to it: Qt centres lines only within a set width.
        self._message.setTextWidth(self._message.textItem.document().idealWidth())
        rect = self.view.viewRect()
        self._message.setPos(rect.center())
        self._message.setVisible(bool(text))

    # --- the graph -------------------------------------------------------------------

    def set_graph(self, graph: GraphData | None, empty_message: str = "") -> None:
        """Show ``graph`` (its ``pos`` already laid out), zoomed to fit; None clears the canvas."""
        self.graph = graph
        self.layer.set_data(graph)
        self._matches, self._match_at = [], -1
        has_nodes = graph is not None and graph.node_count > 0
        self.getPlotItem().setMouseEnabled(x=has_nodes, y=has_nodes)
        if has_nodes:
            self.apply_filter(self.filter)
            self.zoom_to_fit()
            self.show_message("")
        else:
            self.view.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
            self.show_message(empty_message)

    def set_positions(self, pos: np.ndarray) -> None:
        """A new layout: every node moves, so the picture is redrawn and fitted."""
        assert self.graph is not None
        if pos.shape != self.graph.pos.shape:
            return  # the graph changed while the layout ran; the next layout will fit
        self.graph.pos = pos.astype(np.float64)
        self.graph.version += 1
        self.layer.update_bounds()
        self.zoom_to_fit()

    def apply_changes(self, changes: ChangeSet) -> None:
        """Bring the drawing in step with an edit, redrawing only the part of the picture it touched."""
        graph = self.graph
        if graph is None:
            return
        was_empty = graph.node_count == 0
        delta = graph.apply(changes)
        if not delta:
            return
        for i in delta.added_nodes:
            neighbours = graph.incident_edges([i])
            if len(neighbours):
                e = int(neighbours[0])
                other = graph.dst[e] if graph.src[e] == i else graph.src[e]
                graph.pos[i] = graph.pos[other] + np.random.default_rng(i).normal(0, 1.0, 2)
        self.layer.sync_masks()
        self.layer.selected_nodes = [i for i in self.layer.selected_nodes if graph.node_alive[i]]
        bounds = self.layer.boundingRect()
        inside = all(bounds.contains(QPointF(*graph.pos[i])) for i in delta.nodes if graph.node_alive[i])
        if was_empty or not inside:
            self.layer.update_bounds()  # grew past the old bounds: redraw (rare)
            if was_empty:
                self.set_graph(graph)
            return
        rects = self.layer.device_rects_of(sorted(delta.nodes), sorted(delta.edges))
        if rects is None or not self.layer.repaint_region(rects):
            self.layer.invalidate()

    # --- selection -------------------------------------------------------------------

    def select_nodes(self, indices: list[int]) -> None:
        """Select these nodes (by index in the graph); the inspector follows."""
        self.layer.selected_nodes = list(dict.fromkeys(int(i) for i in indices))
        self.layer.selected_edge = None
        self.layer.highlighted_edges = []
        self.layer.update()
        self._emit_selection()

    def select_entities(self, entity_ids: list[int]) -> None:
        """Select by entity id (those not shown are skipped)."""
        if self.graph is None:
            return
        indices = [self.graph.node_index(i) for i in entity_ids]
        self.select_nodes([i for i in indices if i is not None])

    def select_triples(self, triple_ids: list[int]) -> list[int]:
        """Highlight a subgraph: these triples (by id) and their end nodes, selected; returns the edges shown.

        Triples not in the graph (rejected, or filtered out of the data) are skipped.
        """
        graph = self.graph
        if graph is None:
            return []
        edges = [e for e in (graph.edge_index(int(t)) for t in triple_ids) if e is not None and graph.edge_alive[e]]
        self.select_nodes([int(n) for e in edges for n in (graph.src[e], graph.dst[e])])
        self.layer.highlighted_edges = edges
        self.layer.update()
        return edges

    def select_edge(self, index: int) -> None:
        self.layer.selected_nodes = []
        self.layer.highlighted_edges = []
        self.layer.selected_edge = int(index)
        self.layer.update()
        self._emit_selection()

    def select_in_rect(self, rect: QRectF) -> None:
        """Select every shown node inside ``rect`` (data coordinates)."""
        graph = self.graph
        if graph is None:
            return
        pos = graph.pos
        inside = self.layer.node_visible & (pos[:, 0] >= rect.left()) & (pos[:, 0] <= rect.right()) \
            & (pos[:, 1] >= rect.top()) & (pos[:, 1] <= rect.bottom())
        self.select_nodes(np.flatnonzero(inside).tolist())

    def selected_entity_ids(self) -> list[int]:
        graph = self.graph
        return [int(graph.node_ids[i]) for i in self.layer.selected_nodes] if graph is not None else []

    def selected_triple_id(self) -> int | None:
        graph, edge = self.graph, self.layer.selected_edge
        return int(graph.edge_ids[edge]) if graph is not None and edge is not None else None

    def _emit_selection(self) -> None:
        self.selection_changed.emit(self.selected_entity_ids(), self.selected_triple_id())

    # --- dragging a node ------------------------------------------------------------

    def begin_drag(self, node: int) -> None:
        """Lift ``node`` off the picture: from now on it and its edges are drawn as an overlay."""
        graph = self.graph
        assert graph is not None
        self._drag_origin = (float(graph.pos[node, 0]), float(graph.pos[node, 1]))
        edges = graph.incident_edges([node]).tolist()
        rects = self.layer.device_rects_of([node], edges)
        self.layer.floating = node
        if rects is None or not self.layer.repaint_region(rects):
            self.layer.invalidate()

    def drag_to(self, x: float, y: float) -> None:
        graph = self.graph
        if graph is None or self.layer.floating is None:
            return
        graph.pos[self.layer.floating] = (x, y)
        self.layer.update()  # only the overlay changes

    def end_drag(self) -> None:
        """Put the node back into the picture where it was dropped."""
        graph, node = self.graph, self.layer.floating
        if graph is None or node is None:
            return
        self.layer.floating = None
        graph.version += 1
        self.layer.moved(node)
        rects = self.layer.device_rects_of([node], graph.incident_edges([node]).tolist())
        if not self.layer.boundingRect().contains(QPointF(*graph.pos[node])):
            self.layer.update_bounds()
        elif rects is None or not self.layer.repaint_region(rects):
            self.layer.invalidate()
        self.node_moved.emit(int(graph.node_ids[node]))

    def move_node(self, node: int, x: float, y: float) -> None:
        """Drag ``node`` to (x, y) as the mouse would (for keyboard moves, tests and benchmarks)."""
        self.begin_drag(node)
        self.drag_to(x, y)
        self.end_drag()

    # --- view ----------------------------------------------------------------------

    def zoom_to_fit(self) -> None:
        graph = self.graph
        if graph is None or graph.node_count == 0:
            return
        self._auto_fit = True
        self.view.setRange(self._fit_rect(), padding=0.02)

    def _fit_rect(self) -> QRectF:
        """The graph's bounds, widened on the right for the names when they will be written."""
        rect = QRectF(self.layer.boundingRect())
        if self.graph is not None and self.graph.node_count <= LABEL_NODES:
            rect.setRight(rect.right() + rect.width() * 0.25)
        return rect

    def _stop_auto_fit(self, *_args: object) -> None:
        self._auto_fit = False

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if getattr(self, "_auto_fit", False) and self.graph is not None and self.graph.node_count:
            self.view.setRange(self._fit_rect(), padding=0.02)

    def center_on(self, node: int, zoom_in: bool = True) -> None:
        """Put ``node`` in the middle of the view, close enough to read its name."""
        graph = self.graph
        assert graph is not None
        x, y = graph.pos[node]
        rect = self.view.viewRect()
        width, height = rect.width(), rect.height()
        self._auto_fit = False
        if zoom_in:
            spread = float(np.ptp(graph.pos[graph.node_alive], axis=0).max()) if graph.node_count > 1 else 1.0
            target = max(spread / max(np.sqrt(graph.node_count), 1.0) * 8, 1e-6)
            if width > target:
                height, width = height * target / width, target
        self.view.setRange(QRectF(x - width / 2, y - height / 2, width, height), padding=0)

    # --- search and filters ------------------------------------------------------------

    def find(self, text: str) -> list[int]:
        """Shown nodes whose name contains ``text`` (ignoring case); centres and selects the first.

        Calling it again with the same text moves to the next match.
        """
        graph = self.graph
        needle = text.casefold().strip()
        if graph is None or not needle:
            return []
        if self._matches and getattr(self, "_needle", None) == needle:
            self._match_at = (self._match_at + 1) % len(self._matches)
        else:
            self._needle = needle
            visible = self.layer.node_visible
            exact = [i for i, name in enumerate(graph.names) if visible[i] and name.casefold() == needle]
            partial = [i for i, name in enumerate(graph.names)
                       if visible[i] and needle in name.casefold() and name.casefold() != needle]
            self._matches, self._match_at = exact + partial, 0
        if not self._matches:
            return []
        node = self._matches[self._match_at]
        self.center_on(node)
        self.select_nodes([node])
        return list(self._matches)

    @property
    def match_position(self) -> int:
        """Which match of the last search is shown (0-based)."""
        return self._match_at

    def apply_filter(self, graph_filter: GraphFilter) -> None:
        """Show only what ``graph_filter`` lets through."""
        self.filter = graph_filter
        graph = self.graph
        if graph is None:
            return
        node_mask = np.ones(len(graph.node_ids), bool)
        if graph_filter.classes is not None:
            node_mask = np.array([(c or "") in graph_filter.classes for c in graph.node_class], bool)
        edge_mask = np.array([s in graph_filter.statuses for s in graph.status], bool) if len(graph.status) \
            else np.zeros(0, bool)
        if graph_filter.predicates is not None:
            edge_mask &= np.array([p in graph_filter.predicates for p in graph.predicate], bool)
        if graph_filter.min_confidence > 0:
            edge_mask &= ~(graph.confidence < graph_filter.min_confidence)  # NaN (unknown) stays
        if graph_filter.triple_ids is not None:
            edge_mask &= np.isin(graph.edge_ids, np.fromiter(graph_filter.triple_ids, np.int64))
            touched = np.zeros(len(graph.node_ids), bool)
            touched[graph.src[edge_mask]] = True
            touched[graph.dst[edge_mask]] = True
            node_mask &= touched
        self.layer.set_filter_masks(node_mask, edge_mask)
        self._matches = []

    # --- export --------------------------------------------------------------------------

    def export_image(self, path: str | Path) -> Path:
        """Save the current view as PNG (by default) or SVG (a ``.svg`` path)."""
        path = Path(path)
        scene = self.scene()
        source = self.mapToScene(self.viewport().rect()).boundingRect()
        size = self.viewport().size()
        if path.suffix.lower() == ".svg":
            from PySide6.QtSvg import QSvgGenerator

            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(size)
            generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
            generator.setTitle("kgstudio graph")
            painter = QPainter(generator)
            scene.render(painter, QRectF(0, 0, size.width(), size.height()), source)
            painter.end()
        else:
            image = QImage(size if not size.isEmpty() else QSize(800, 600), QImage.Format.Format_ARGB32)
            image.fill(self.layer.background)
            painter = QPainter(image)
            scene.render(painter, QRectF(image.rect()), source)
            painter.end()
            if not image.save(str(path)):
                raise OSError(f"{path}: cannot write the image")
        return path


class PositionSaver(QObject):
    """Keeps the project's saved layout in step with the canvas, off the GUI thread.

    :meth:`schedule` after a node is dragged or a layout is applied; a moment
    after the last such change (a burst of drags is one write) the positions
    are copied and written by :func:`~kgstudio.graph.data.save_positions`
    on a worker thread: for 100,000 nodes that is a few MB, which the GUI
    thread never waits for. :meth:`flush` writes what is still waiting (call
    it before the project closes). :attr:`saved` is emitted after each write.
    """

    saved = Signal()

    def __init__(self, parent: QObject | None = None, delay_ms: int = 400) -> None:
        super().__init__(parent)
        self._project: Project | None = None
        self._graph: GraphData | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._start)
        self._task: BackgroundTask | None = None
        self._again = False  # a change came while a write was running: write once more after it

    def set_project(self, project: Project | None) -> None:
        """Save for ``project`` from now on (what was waiting for the last one is written first)."""
        self.flush()
        self._project, self._graph = project, None

    def schedule(self, graph: GraphData | None) -> None:
        """The layout of ``graph`` changed: save it soon."""
        if self._project is None or graph is None:
            return
        self._graph = graph
        self._timer.start()

    @property
    def busy(self) -> bool:
        """Whether a write is waiting or running."""
        return self._timer.isActive() or self._again or (self._task is not None and self._task.running)

    def _snapshot(self) -> tuple[np.ndarray, np.ndarray] | None:
        graph = self._graph
        if graph is None or not len(graph.node_ids):
            return None
        alive = graph.node_alive
        return graph.node_ids[alive].copy(), graph.pos[alive].copy()

    def _start(self) -> None:
        if self._task is not None and self._task.running:
            self._again = True
            return
        project, snapshot = self._project, self._snapshot()
        if project is None or snapshot is None:
            return
        ids, pos = snapshot
        task = BackgroundTask("Saving the layout", lambda _progress, _cancel: save_positions(project, ids, pos), self)
        task.succeeded.connect(lambda _result: self.saved.emit())
        task.failed.connect(lambda message: log.warning("the layout was not saved: %s", message))
        task.finished.connect(self._on_finished)
        self._task = task
        task.start()

    def _on_finished(self) -> None:
        if self._again:
            self._again = False
            self._start()

    def flush(self) -> None:
        """Finish the write in progress and write any change still waiting, now (blocking)."""
        if self._task is not None:
            self._task.wait(60_000)
        waiting = self._timer.isActive() or self._again
        self._timer.stop()
        self._again = False
        snapshot = self._snapshot()
        if waiting and self._project is not None and snapshot is not None:
            try:
                save_positions(self._project, *snapshot)
            except Exception as exc:  # noqa: BLE001 — a lost layout must not stop the project closing
                log.warning("the layout was not saved: %s", exc)
            else:
                self.saved.emit()
