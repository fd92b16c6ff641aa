"""Drawing the graph fast: a cached picture of the static graph, patched instead of redrawn.

pyqtgraph's ``GraphItem`` redraws every edge and node on every frame; with
200,000 edges that is most of a frame's budget. :class:`GraphLayer` keeps
the static graph as an image of the viewport and

- **blits** it when nothing changed (selection, hover and dragging are an
  overlay drawn on top, so they never touch the image);
- **shifts** it on pan and draws only the strips that scrolled into view;
- **scales** it during a zoom gesture and redraws it once the wheel stops;
- **patches** only the rectangle an edit touched (a dragged node, an added,
  deleted or merged entity), so an edit costs about its own size;
- draws only what is visible (nodes and edges culled to the clip with
  numpy), with a **level of detail**: sparse views draw discs, names and
  predicates; dense views draw nodes as squares written straight into the
  picture's pixels, without antialiasing, and leave out what cannot be
  seen: the squares go on a layer of their own first, and an edge is drawn
  only if one of its pixels shows between them (an exact test); long edges
  that cross an area many times over (a hairball at fit zoom) are drawn as
  one density aggregate there, and exactly elsewhere. Zoomed in, edges thin
  out and every one is drawn again.

All drawing is in device pixels: positions are transformed with numpy, so
Qt never transforms 200,000 line ends itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import internals
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen

from kgstudio.graph.data import GraphData

DENSE_NODES = 3_000  # more nodes than this in view: points, no antialiasing
LABEL_NODES = 250  # at most this many nodes in view: their names are drawn
LABEL_EDGES = 80  # at most this many edges in view: their predicates are drawn
NODE_RADIUS = 5.0
POINT_SIZE = 3.0
EDGE_PIECE = 40.0  # an edited edge is redrawn in pieces this long (pixels)
SETTLE_MS = 90  # after a zoom gesture stops, redraw sharp
OCCLUDED_EDGE = 12  # dense views: edges up to this long (pixels) are drawn only if a pixel of them shows
DENSITY_CELL = 8  # dense views: long edges are counted in cells this wide (pixels), one in SAMPLE of them...
SAMPLE = 2
MAX_PASSES = 48  # at most this many rectangles of unfilled cells get a clipped pass each
SATURATED = 4.0  # ...and where they cross each pixel this many times on average, drawn as one aggregate

PALETTE = [QColor(c) for c in (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#393b79", "#637939", "#ad494a",
)]
NO_CLASS = QColor("#7f7f7f")
EDGE_COLORS = {
    "accepted": QColor(120, 120, 120), "inferred": QColor(90, 130, 200),
    "candidate": QColor(230, 150, 40), "rejected": QColor(200, 80, 80),
}
ACCENT = QColor(255, 200, 0)


@dataclass
class _Cache:
    image: QImage
    sx: float
    sy: float
    dx: float
    dy: float
    version: tuple[int, int]
    exact: bool = True  # False: shifted by a rounded amount; redraw once settled


@dataclass
class _Geometry:
    """Device positions at one zoom, as contiguous float32 columns; edge columns are made when first needed."""

    key: tuple
    dx: float  # the pan offset the positions below were computed at
    dy: float
    x: np.ndarray  # node positions in device pixels
    y: np.ndarray
    src: np.ndarray  # the edges' ends (node indices)
    dst: np.ndarray
    box: tuple[float, float, float, float]  # the shown nodes' extent: left, top, right, bottom
    view_nodes: int  # shown nodes inside the view when computed (chooses the level of detail)
    _ends: tuple[np.ndarray, ...] | None = None
    _boxes: tuple[np.ndarray, ...] | None = None
    _extent: np.ndarray | None = None

    def ends(self) -> tuple[np.ndarray, ...]:
        """Edge starts and ends as four columns (a x, a y, b x, b y)."""
        if self._ends is None:
            self._ends = (self.x[self.src], self.y[self.src], self.x[self.dst], self.y[self.dst])
        return self._ends

    def boxes(self) -> tuple[np.ndarray, ...]:
        """The edge boxes as four columns (lo x, lo y, hi x, hi y)."""
        if self._boxes is None:
            ax, ay, bx, by = self.ends()
            self._boxes = (np.minimum(ax, bx), np.minimum(ay, by), np.maximum(ax, bx), np.maximum(ay, by))
        return self._boxes

    def extent(self) -> np.ndarray:
        """Each edge's length along its longer axis (pixels)."""
        if self._extent is None:
            ax, ay, bx, by = self.ends()
            self._extent = np.maximum(np.abs(bx - ax), np.abs(by - ay))
        return self._extent

    def within(self, left: float, top: float, right: float, bottom: float) -> bool:
        """Whether every shown node (and so every shown edge) lies inside this rectangle."""
        x0, y0, x1, y1 = self.box
        return x0 >= left and x1 <= right and y0 >= top and y1 <= bottom

    def node_moved(self, node: int, edges: np.ndarray) -> None:
        """Follow one node to its new place: its edges' columns are patched, the rest kept."""
        x, y = self.x[node], self.y[node]
        x0, y0, x1, y1 = self.box
        self.box = (min(x0, x), min(y0, y), max(x1, x), max(y1, y))  # may only grow: still a bound
        if self._ends is not None:
            ax, ay, bx, by = self._ends
            ax[edges], ay[edges] = self.x[self.src[edges]], self.y[self.src[edges]]
            bx[edges], by[edges] = self.x[self.dst[edges]], self.y[self.dst[edges]]
            if self._boxes is not None:
                lo_x, lo_y, hi_x, hi_y = self._boxes
                lo_x[edges], hi_x[edges] = np.minimum(ax[edges], bx[edges]), np.maximum(ax[edges], bx[edges])
                lo_y[edges], hi_y[edges] = np.minimum(ay[edges], by[edges]), np.maximum(ay[edges], by[edges])
            if self._extent is not None:
                self._extent[edges] = np.maximum(np.abs(bx[edges] - ax[edges]), np.abs(by[edges] - ay[edges]))


_STATUS_ORDER = ["accepted", "inferred", "candidate", "rejected"]
_STATUS_CODE = {name: code for code, name in enumerate(_STATUS_ORDER)}


class GraphLayer(pg.GraphicsObject):
    """The nodes and edges of a :class:`GraphData`, in a pyqtgraph ViewBox."""

    def __init__(self) -> None:
        super().__init__()
        self.data: GraphData | None = None
        self.node_visible = np.zeros(0, bool)
        self.edge_visible = np.zeros(0, bool)
        self.filter_version = 0
        self.class_colors: dict[str | None, QColor] = {}
        self.background = QColor(255, 255, 255)
        self.selected_nodes: list[int] = []
        self.selected_edge: int | None = None
        self.highlighted_edges: list[int] = []  # a subgraph shown with the selection (a CQ's supporting triples)
        self.hover_node: int | None = None
        self.hover_edge: int | None = None
        self.floating: int | None = None  # a node being dragged: drawn in the overlay, left out of the image
        self.band: QRectF | None = None  # the selection rectangle being dragged (Shift+drag), data coordinates
        self._cache: _Cache | None = None
        self._bounds = QRectF(-1, -1, 2, 2)
        self._lines = internals.PrimitiveArray(QLineF, 4)
        self._settle = QTimer()
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._on_settled)
        self._allow_full = False
        self._last_scaled: tuple[float, float, float, float] | None = None
        self._view_rect = QRectF(0, 0, 1, 1)
        self._geom: _Geometry | None = None
        self._node_layer: QImage | None = None
        self._color_table: list[QColor] = [NO_CLASS]
        self._argb_table = np.array([NO_CLASS.rgba()], np.uint32)
        self._color_index = np.zeros(0, np.int16)
        self._status_codes: np.ndarray | None = None
        self.last_render: dict[str, object] = {}
        self.font = QFont()
        self.font.setPointSizeF(8.5)
        self.setAcceptHoverEvents(True)

    # --- data --------------------------------------------------------------------

    def set_data(self, data: GraphData | None) -> None:
        self.data = data
        self.selected_nodes, self.selected_edge = [], None
        self.highlighted_edges = []
        self.hover_node = self.hover_edge = self.floating = None
        self._assign_colors()
        self.reset_filters()
        self.update_bounds()

    def reset_filters(self) -> None:
        data = self.data
        self.node_visible = data.node_alive.copy() if data else np.zeros(0, bool)
        self.edge_visible = self._edges_of_visible_nodes(np.ones(len(data.edge_ids), bool) if data else None)
        self.invalidate(filters=True)

    def set_filter_masks(self, node_mask: np.ndarray, edge_mask: np.ndarray) -> None:
        """Show only these nodes and edges (an edge also needs both of its ends shown)."""
        assert self.data is not None
        self.node_visible = node_mask & self.data.node_alive
        self.edge_visible = self._edges_of_visible_nodes(edge_mask)
        self.invalidate(filters=True)

    def _edges_of_visible_nodes(self, edge_mask: np.ndarray | None) -> np.ndarray:
        data = self.data
        if data is None or edge_mask is None:
            return np.zeros(0, bool)
        return edge_mask & data.edge_alive & self.node_visible[data.src] & self.node_visible[data.dst]

    def sync_masks(self) -> None:
        """Grow and update the masks after :meth:`GraphData.apply` (new rows are shown)."""
        data = self.data
        assert data is not None
        grown = len(data.node_ids) - len(self.node_visible)
        if grown > 0:
            self.node_visible = np.concatenate([self.node_visible, np.ones(grown, bool)])
        self.node_visible &= data.node_alive
        grown = len(data.edge_ids) - len(self.edge_visible)
        if grown > 0:
            self.edge_visible = np.concatenate([self.edge_visible, np.ones(grown, bool)])
        self.edge_visible = self._edges_of_visible_nodes(self.edge_visible)
        self._assign_colors()

    def _assign_colors(self) -> None:
        data = self.data
        if data is None:
            return
        for name in sorted({c for c in data.node_class if c}):
            if name not in self.class_colors:
                self.class_colors[name] = PALETTE[len(self.class_colors) % len(PALETTE)]
        self._color_table = [NO_CLASS, *PALETTE]
        self._argb_table = np.array([c.rgba() | 0xFF000000 for c in self._color_table], np.uint32)
        codes = {name: 1 + PALETTE.index(color) for name, color in self.class_colors.items()}
        self._color_index = np.fromiter((codes.get(c, 0) if c else 0 for c in data.node_class), np.int16,
                                        len(data.node_class))
        self._status_codes = None

    def color_of(self, class_name: str | None) -> QColor:
        return self.class_colors.get(class_name, NO_CLASS) if class_name else NO_CLASS

    def update_bounds(self) -> None:
        self.prepareGeometryChange()
        data = self.data
        if data is None or not data.node_alive.any():
            self._bounds = QRectF(-1, -1, 2, 2)
        else:
            pos = data.pos[data.node_alive]
            (x0, y0), (x1, y1) = pos.min(axis=0), pos.max(axis=0)
            pad = max(x1 - x0, y1 - y0, 1.0) * 0.05
            self._bounds = QRectF(x0 - pad, y0 - pad, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)
        self.invalidate()

    def invalidate(self, filters: bool = False) -> None:
        """Forget the cached picture (the next frame draws everything)."""
        if filters:
            self.filter_version += 1
        self._cache = None
        self._geom = None
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return self._bounds

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange=None):  # noqa: N802, N803 (pyqtgraph's names)
        rect = self._bounds
        return (rect.left(), rect.right()) if axis == 0 else (rect.top(), rect.bottom())

    # --- painting ----------------------------------------------------------------

    def paint(self, p: QPainter, _option: object = None, widget: object = None) -> None:
        if self.data is None or not len(self.data.node_ids):
            return
        p.save()
        views = self.scene().views() if self.scene() is not None else []
        if widget is None or not views:
            # Exporting (PNG, SVG, printing): draw straight onto the device, no cache.
            t = p.deviceTransform()
            transform = (t.m11(), t.m22(), t.m31(), t.m32())
            p.resetTransform()
            device = p.device()
            self._view_rect = QRectF(0, 0, device.width(), device.height())
            self.render(p, transform, self._view_rect)
        else:
            # Work in the viewport's own pixels, whatever device the painter is on (the window's
            # backing store, or a pixmap when the window is grabbed): the cache is in those pixels.
            to_viewport = self.sceneTransform() * views[0].viewportTransform()
            t = to_viewport
            transform = (t.m11(), t.m22(), t.m31(), t.m32())
            p.setWorldTransform(to_viewport.inverted()[0] * p.worldTransform())
            self._view_rect = QRectF(0, 0, widget.width(), widget.height())  # type: ignore[attr-defined]
            self._paint_cached(p, transform, widget.width(), widget.height(),  # type: ignore[attr-defined]
                               widget.devicePixelRatioF())  # type: ignore[attr-defined]
        self._paint_overlay(p, transform)
        p.restore()

    def _paint_cached(self, p: QPainter, transform: tuple[float, float, float, float],
                      logical_w: int, logical_h: int, ratio: float) -> None:
        sx, sy, dx, dy = transform
        version = (self.data.version, self.filter_version)  # type: ignore[union-attr]
        cache = self._cache
        width, height = round(logical_w * ratio), round(logical_h * ratio)
        usable = (cache is not None and cache.version == version
                  and cache.image.width() == width and cache.image.height() == height)
        if usable and _close(cache.sx, sx) and _close(cache.sy, sy):  # type: ignore[union-attr]
            ox, oy = dx - cache.dx, dy - cache.dy  # type: ignore[union-attr]
            if abs(ox) < 0.01 and abs(oy) < 0.01:
                mode = "blit"
            elif abs(ox) < logical_w and abs(oy) < logical_h:
                self._shift(cache, ox, oy, logical_w, logical_h)  # type: ignore[arg-type]
                mode = "shift"
            else:
                cache = self._full(transform, width, height, ratio, version)
                mode = "full"
            p.drawImage(QPointF(0, 0), cache.image)  # type: ignore[union-attr]
            if not cache.exact:  # type: ignore[union-attr]
                self._settle.start()
        elif usable and not self._allow_full:
            # Zoom in progress: stretch the last picture, draw sharp when the gesture stops.
            scale_x, scale_y = sx / cache.sx, sy / cache.sy  # type: ignore[union-attr]
            target = QRectF(dx - cache.dx * scale_x, dy - cache.dy * scale_y,  # type: ignore[union-attr]
                            logical_w * scale_x, logical_h * scale_y)
            p.drawImage(target, cache.image)  # type: ignore[union-attr]
            if transform != self._last_scaled:  # the gesture goes on: wait for it to stop
                self._last_scaled = transform
                self._settle.start()
            mode = "scaled"
        else:
            cache = self._full(transform, width, height, ratio, version)
            p.drawImage(QPointF(0, 0), cache.image)
            mode = "full"
        self._allow_full = False
        self.last_render["mode"] = mode

    def _full(self, transform: tuple[float, float, float, float], width: int, height: int,
              ratio: float, version: tuple[int, int]) -> _Cache:
        image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(self.background)
        painter = QPainter(image)
        self.render(painter, transform, QRectF(0, 0, width / ratio, height / ratio))
        painter.end()
        self._cache = _Cache(image, *transform, version)
        return self._cache

    def _shift(self, cache: _Cache, ox: float, oy: float, width: int, height: int) -> None:
        """Scroll the cached picture by whole pixels and draw the strips that came into view."""
        ix, iy = round(ox), round(oy)
        cache.exact = cache.exact and abs(ox - ix) < 0.01 and abs(oy - iy) < 0.01
        old = cache.image
        image = QImage(old.size(), old.format())
        image.setDevicePixelRatio(old.devicePixelRatio())
        image.fill(self.background)
        painter = QPainter(image)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        painter.drawImage(QPointF(ix, iy), old)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
        cache.image, cache.dx, cache.dy = image, cache.dx + ix, cache.dy + iy
        transform = (cache.sx, cache.sy, cache.dx, cache.dy)
        strips = []
        if ix > 0:
            strips.append(QRectF(0, 0, ix, height))
        elif ix < 0:
            strips.append(QRectF(width + ix, 0, -ix, height))
        if iy > 0:
            strips.append(QRectF(0, 0, width, iy))
        elif iy < 0:
            strips.append(QRectF(0, height + iy, width, -iy))
        for strip in strips:
            self.render(painter, transform, strip, fill=True)
        painter.end()

    def repaint_region(self, rects: list[QRectF]) -> bool:
        """Redraw these device rectangles of the cached picture (after an edit); False when there is no picture."""
        cache = self._cache
        if cache is None or self.data is None:
            return False
        transform = (cache.sx, cache.sy, cache.dx, cache.dy)
        painter = QPainter(cache.image)
        union = QRectF()
        for rect in rects:
            union = union.united(rect)
        if union.width() * union.height() > 0.4 * self._view_rect.width() * self._view_rect.height() \
                and len(rects) == 1:
            painter.end()
            return False  # most of the view: a full redraw is as cheap
        # Cull once against the union, then each rectangle only among those.
        geometry = self._geometry(transform)
        subset = self._edges_meeting(geometry, transform, union)
        ox, oy = transform[2] - geometry.dx, transform[3] - geometry.dy
        grown = union.adjusted(-ox - NODE_RADIUS - 2, -oy - NODE_RADIUS - 2, -ox + NODE_RADIUS + 2, -oy + NODE_RADIUS + 2)
        x, y = geometry.x, geometry.y
        node_subset = np.flatnonzero(self.node_visible & (x >= grown.left()) & (x <= grown.right())
                                     & (y >= grown.top()) & (y <= grown.bottom()))
        for rect in rects:
            self.render(painter, transform, rect, fill=True, among=subset, among_nodes=node_subset)
        painter.end()
        cache.version = (self.data.version, self.filter_version)
        self.update()
        return True

    def _edges_meeting(self, geometry: _Geometry, transform: tuple[float, float, float, float],
                       clip: QRectF, skip_short: bool = False) -> np.ndarray:
        """Edges whose box meets ``clip``; with ``skip_short``, not those hidden under their ends' squares."""
        ox, oy = transform[2] - geometry.dx, transform[3] - geometry.dy
        left, top, right, bottom = clip.left() - ox, clip.top() - oy, clip.right() - ox, clip.bottom() - oy
        if geometry.within(left, top, right, bottom):
            mask = self.edge_visible  # the whole graph is in the clip (zoomed to fit): nothing to cull
        else:
            lo_x, lo_y, hi_x, hi_y = geometry.boxes()
            mask = self.edge_visible & (lo_x <= right) & (hi_x >= left) & (lo_y <= bottom) & (hi_y >= top)
        if skip_short:
            # Shorter than this, an edge's rounded length is at most a square's width: its squares cover it.
            mask = mask & (geometry.extent() >= POINT_SIZE - 1)
        return np.flatnonzero(mask)

    def render(self, p: QPainter, transform: tuple[float, float, float, float], clip: QRectF,
               fill: bool = False, among: np.ndarray | None = None,
               among_nodes: np.ndarray | None = None) -> None:
        """Draw the static graph inside ``clip`` (device pixels) with painter ``p`` in device coordinates.

        Dense views on a raster picture (the cache) write the node squares straight into pixels with
        numpy (:meth:`_splat_nodes`) and leave out the edges that the squares hide (:meth:`_unhidden_edges`).
        """
        data = self.data
        assert data is not None
        geometry = self._geometry(transform)
        # The geometry was computed at another pan offset: look it up in its own coordinates.
        ox, oy = transform[2] - geometry.dx, transform[3] - geometry.dy
        left, top, right, bottom = clip.left() - ox, clip.top() - oy, clip.right() - ox, clip.bottom() - oy
        p.save()
        p.setClipRect(clip)
        if fill:
            p.fillRect(clip, self.background)
        p.translate(ox, oy)
        x, y = geometry.x, geometry.y
        margin = NODE_RADIUS + 2
        box = (left - margin, top - margin, right + margin, bottom + margin)
        if among_nodes is None and geometry.within(*box):
            nodes = np.flatnonzero(self.node_visible)  # all in the clip: nothing to cull
        else:
            pool = np.flatnonzero(self.node_visible) if among_nodes is None else among_nodes
            px, py = x[pool], y[pool]
            nodes = pool[(px >= box[0]) & (px <= box[2]) & (py >= box[1]) & (py <= box[3])]
        if self.floating is not None:
            nodes = nodes[nodes != self.floating]
        # The level of detail is chosen from the whole view, so a strip looks like its neighbours.
        dense = geometry.view_nodes > DENSE_NODES
        labels = geometry.view_nodes <= LABEL_NODES
        image = p.device()
        raster = dense and isinstance(image, QImage) and image.format() == QImage.Format.Format_ARGB32_Premultiplied
        if among is None:
            edge_idx = self._edges_meeting(geometry, transform, clip, skip_short=dense and not raster)
        else:
            lo_x, lo_y, hi_x, hi_y = (c[among] for c in geometry.boxes())
            edge_idx = among[(lo_x <= right) & (hi_x >= left) & (lo_y <= bottom) & (hi_y >= top)]
            if dense and not raster:
                edge_idx = edge_idx[geometry.extent()[edge_idx] >= POINT_SIZE - 1]
        if self.floating is not None:
            edge_idx = edge_idx[(data.src[edge_idx] != self.floating) & (data.dst[edge_idx] != self.floating)]
        in_view = drawn = int(len(edge_idx))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, not dense)
        if raster:
            ratio = image.devicePixelRatio()  # type: ignore[union-attr]
            # Node centres in the picture's pixels, rounded once: squares and edge ends agree exactly.
            cx = np.rint((x + ox) * ratio).astype(np.int32)
            cy = np.rint((y + oy) * ratio).astype(np.int32)
            whole = clip.width() * clip.height() * 4 >= self._view_rect.width() * self._view_rect.height()
            if whole:
                # Where the squares cover the graph (their total area at least the nodes' extent), they go
                # on a layer of their own first, so an edge that they would hide entirely is known before
                # it is drawn (at fit zoom on a big graph: nearly all of them). Sparser, few are hidden.
                side = 2 * (int(POINT_SIZE * ratio) // 2) + 1
                extent = float(np.ptp(cx[nodes]) + 1) * float(np.ptp(cy[nodes]) + 1) if len(nodes) else 0.0
                occlude = len(nodes) * side * side >= extent
                layer = self._node_layer_for(image) if occlude else None  # type: ignore[arg-type]
                if layer is not None:
                    self._splat_nodes(layer, nodes, cx[nodes], cy[nodes], clip)
                edge_idx = self._unhidden_edges(layer, edge_idx, cx, cy, ratio)
                p.save()
                p.resetTransform()
                # From here in the picture's own pixels, from the rounded centres the test used.
                px, py = cx.astype(np.float32) / ratio, cy.astype(np.float32) / ratio
                short, drawn = self._draw_long_edges(p, image, edge_idx, cx, cy)  # type: ignore[arg-type]
                self._draw_lines(p, short, px, py)
                drawn += len(short)
                if layer is not None:
                    p.drawImage(QPointF(0, 0), layer)
                else:
                    self._splat_nodes(image, nodes, cx[nodes], cy[nodes], clip)  # type: ignore[arg-type]
                p.restore()
            else:  # a strip or a patch: few of either
                edge_idx = self._unhidden_edges(None, edge_idx, cx, cy, ratio)
                self._draw_edges(p, geometry, edge_idx)
                self._splat_nodes(image, nodes, cx[nodes], cy[nodes], clip)  # type: ignore[arg-type]
                drawn = int(len(edge_idx))
        else:
            self._draw_edges(p, geometry, edge_idx)
            if not dense and len(edge_idx) <= LABEL_EDGES:
                self._draw_edge_labels(p, geometry, edge_idx)
            self._draw_nodes(p, nodes, x[nodes], y[nodes], dense)
        if labels:
            self._draw_labels(p, nodes, x[nodes], y[nodes])
        p.restore()
        # "edges": shown edges in the clip (it decides whether hovering looks for an edge); "edges_drawn":
        # those drawn one by one, the rest being hidden under node squares or in an aggregate.
        self.last_render.update(nodes=int(len(nodes)), edges=in_view, edges_drawn=drawn, dense=bool(dense),
                                labels=bool(labels))

    def _geometry(self, transform: tuple[float, float, float, float]) -> _Geometry:
        """Device positions of every node at this zoom (kept until zoom or data change)."""
        data = self.data
        assert data is not None
        sx, sy, dx, dy = transform
        key = (sx, sy, data.version, self.filter_version, len(data.node_ids), len(data.edge_ids))
        geometry = self._geom
        if geometry is not None and geometry.key == key:
            return geometry
        x = (data.pos[:, 0] * sx + dx).astype(np.float32)
        y = (data.pos[:, 1] * sy + dy).astype(np.float32)
        shown = self.node_visible
        if shown.any():
            xs, ys = x[shown], y[shown]
            box = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
        else:
            box = (0.0, 0.0, -1.0, -1.0)
        rect = self._view_rect
        if box[0] >= rect.left() and box[2] <= rect.right() and box[1] >= rect.top() and box[3] <= rect.bottom():
            view_nodes = int(shown.sum())
        else:
            view_nodes = int((shown & (x >= rect.left()) & (x <= rect.right())
                              & (y >= rect.top()) & (y <= rect.bottom())).sum())
        self._geom = _Geometry(key, dx, dy, x, y, data.src, data.dst, box, view_nodes)
        return self._geom

    def moved(self, node: int) -> None:
        """Update the geometry for one moved node and its edges (a drag), without recomputing the rest."""
        data, geometry = self.data, self._geom
        if data is None or geometry is None:
            return
        sx, sy = geometry.key[0], geometry.key[1]
        geometry.x[node] = data.pos[node, 0] * sx + geometry.dx
        geometry.y[node] = data.pos[node, 1] * sy + geometry.dy
        geometry.node_moved(node, data.incident_edges([node]))
        geometry.key = (sx, sy, data.version, *geometry.key[3:])

    def _draw_edges(self, p: QPainter, geometry: _Geometry, edge_idx: np.ndarray) -> None:
        self._draw_lines(p, edge_idx, geometry.x, geometry.y)

    def _draw_lines(self, p: QPainter, edge_idx: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        """Edges as lines between their ends' positions in ``x``, ``y`` (the painter's coordinates)."""
        data = self.data
        assert data is not None
        s, d = data.src[edge_idx], data.dst[edge_idx]
        self._draw_lines_between(p, edge_idx, x[s], y[s], x[d], y[d])

    def _node_layer_for(self, image: QImage) -> QImage:
        """A transparent picture the size of ``image`` for the node squares (kept for the next frame)."""
        layer = self._node_layer
        if layer is None or layer.size() != image.size():
            layer = self._node_layer = QImage(image.size(), QImage.Format.Format_ARGB32_Premultiplied)
        layer.setDevicePixelRatio(image.devicePixelRatio())
        layer.fill(0)
        return layer

    def _unhidden_edges(self, squares: QImage | None, edge_idx: np.ndarray, cx: np.ndarray,
                        cy: np.ndarray, ratio: float) -> np.ndarray:
        """Dense views: the edges that will show from under the node squares.

        ``cx``, ``cy`` are every node's centre in the picture's pixels (``ratio`` of them to a logical
        pixel). An edge no longer than its end squares are wide lies wholly under them. With ``squares``
        (the squares already on a transparent layer), an edge up to :data:`OCCLUDED_EDGE` pixels long is
        kept only if one of its pixels between the end squares is still transparent there: the pixels are
        the ones a 1-pixel line takes, one per step along its longer axis, so the test is exact, not a
        guess. Longer edges are kept.
        An :data:`OCCLUDED_EDGE` of 0 turns the test off (every edge drawn, for comparisons).
        """
        if not len(edge_idx) or OCCLUDED_EDGE <= 0:
            return edge_idx
        data = self.data
        assert data is not None
        half = int(POINT_SIZE * ratio) // 2
        if len(edge_idx) == len(data.src):
            s, d = data.src, data.dst  # every edge: no need to gather
        else:
            s, d = data.src[edge_idx], data.dst[edge_idx]
        ax, ay = cx[s], cy[s]
        ddx, ddy = cx[d] - ax, cy[d] - ay
        length = np.maximum(np.abs(ddx), np.abs(ddy))
        shows = length > 2 * half + 1  # longer than two half squares and the centre pixel
        if squares is None:
            return edge_idx[shows]
        flat = np.frombuffer(squares.constBits(), np.uint32)
        width, height, stride = squares.width(), squares.height(), squares.bytesPerLine() // 4
        near = np.flatnonzero(shows & (length <= OCCLUDED_EDGE * ratio))
        # Grouped by length (a radix sort of small integers): one array shape per group, slices of one array.
        near = near[np.argsort(length[near].astype(np.int8), kind="stable")]
        near_length = length[near]
        bounds = np.searchsorted(near_length, np.arange(2 * half + 2, int(OCCLUDED_EDGE * ratio) + 2)).tolist()
        near_ax, near_ay = ax[near], ay[near]
        near_dx, near_dy = ddx[near].astype(np.float32), ddy[near].astype(np.float32)
        # Every node lies in the picture (the usual case at fit zoom): so do the pixels between two of them.
        inside_all = bool(cx.min() >= 0 and cx.max() < width and cy.min() >= 0 and cy.max() < height)
        for span, begin, stop in zip(range(2 * half + 2, int(OCCLUDED_EDGE * ratio) + 1), bounds, bounds[1:]):
            if begin == stop:
                continue
            k = np.arange(half + 1, span - half, dtype=np.float32) / np.float32(span)  # the steps between squares
            px = near_ax[begin:stop, None] + np.rint(near_dx[begin:stop, None] * k).astype(np.int32)
            py = near_ay[begin:stop, None] + np.rint(near_dy[begin:stop, None] * k).astype(np.int32)
            if inside_all:
                bare = flat[py * stride + px] == 0
            else:
                inside = (px >= 0) & (px < width) & (py >= 0) & (py < height)
                bare = (flat[np.where(inside, py * stride + px, 0)] == 0) & inside
            shows[near[begin:stop]] = bare.any(axis=1)
        return edge_idx[shows]

    def _draw_long_edges(self, p: QPainter, image: QImage, edge_idx: np.ndarray, cx: np.ndarray,
                         cy: np.ndarray) -> tuple[np.ndarray, int]:
        """Dense views: draw the long edges (``p`` in the picture's pixels); returns the others and a count.

        Where long edges cross each pixel :data:`SATURATED` times or more on average (counted per
        :data:`DENSITY_CELL` cell), a pixel left bare between the node squares is one that some edge
        crosses (all but about e^-4 of them): those cells are filled with the edges' colour, one
        aggregate, and each long edge is drawn only where it crosses the cells that are not filled
        (QPainter clipped to each of their rectangles in turn, so it never walks the filled part).
        Zoomed in, the crossings thin out, nothing is filled and every edge is drawn whole.
        The count is of the long edges drawn, wholly or in part.
        """
        data = self.data
        assert data is not None
        ratio = image.devicePixelRatio()
        cell = max(1, int(round(DENSITY_CELL * ratio)))
        s, d = data.src[edge_idx], data.dst[edge_idx]
        ax, ay, bx, by = cx[s], cy[s], cx[d], cy[d]
        length = np.maximum(np.abs(bx - ax), np.abs(by - ay))
        is_long = length > OCCLUDED_EDGE * ratio
        long = np.flatnonzero(is_long)
        rest = edge_idx[~is_long]
        ax, ay, bx, by = ax[long] / ratio, ay[long] / ratio, bx[long] / ratio, by[long] / ratio
        long_idx = edge_idx[long]
        area = float(np.ptp(cx)) * float(np.ptp(cy))
        filled = None
        if float(length[long].sum()) >= SATURATED * area / 2:  # else too few to fill much: not worth counting
            filled, colour = self._saturated_cells(image, long_idx, ax, ay, bx, by, cell / ratio)
        if filled is None:
            self._draw_lines_between(p, long_idx, ax, ay, bx, by)
            return rest, len(long)
        grid_h, grid_w = filled.shape
        fill = QImage(colour.data, grid_w, grid_h, grid_w * 4, QImage.Format.Format_ARGB32_Premultiplied)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # sharp cells, no blur at the rim
        p.drawImage(QRectF(0, 0, grid_w * cell / ratio, grid_h * cell / ratio), fill)
        # Rectangles that cover every cell not filled, within the nodes' extent (no edge goes past it):
        # the four bands round the largest wholly filled block found by shrinking the filled cells'
        # extent, plus the unfilled cells inside that block, as row runs stacked where rows repeat.
        # Covering a filled cell too only costs time: an edge drawn there is drawn exactly.
        nx0, nx1 = max(int(cx.min()) // cell, 0), min(int(cx.max()) // cell + 1, grid_w)
        ny0, ny1 = max(int(cy.min()) // cell, 0), min(int(cy.max()) // cell + 1, grid_h)
        rows, cols = np.nonzero(filled)
        y0, y1, x0, x1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
        table = np.zeros((grid_h + 1, grid_w + 1), np.int64)  # unfilled cells above and left of each corner
        table[1:, 1:] = (~filled).cumsum(axis=0).cumsum(axis=1)
        sums = table.tolist()

        def unfilled(top: int, bottom: int, left: int, right: int) -> int:
            return sums[bottom][right] - sums[top][right] - sums[bottom][left] + sums[top][left]

        while y0 < y1 and x0 < x1:
            width, height = x1 - x0, y1 - y0
            bare = [unfilled(y0, y0 + 1, x0, x1) / width, unfilled(y1 - 1, y1, x0, x1) / width,
                    unfilled(y0, y1, x0, x0 + 1) / height, unfilled(y0, y1, x1 - 1, x1) / height]
            side = max(range(4), key=bare.__getitem__)
            if bare[side] == 0:
                break
            if side == 0:
                y0 += 1
            elif side == 1:
                y1 -= 1
            elif side == 2:
                x0 += 1
            else:
                x1 -= 1
        x0, x1, y0, y1 = max(x0, nx0), min(x1, nx1), max(y0, ny0), min(y1, ny1)
        if x0 >= x1 or y0 >= y1:
            self._draw_lines_between(p, long_idx, ax, ay, bx, by)
            return rest, len(long)
        unit = cell / ratio
        # Each long edge is cut at the block's border (Liang-Barsky, all edges at once): its pieces
        # outside the block are drawn whole, a pixel and a half into it so nothing is left between.
        dx, dy = bx - ax, by - ay
        enter, leave = np.zeros(len(long), np.float32), np.ones(len(long), np.float32)
        missed = np.zeros(len(long), bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            sides = ((-dx, ax - x0 * unit), (dx, x1 * unit - ax), (-dy, ay - y0 * unit), (dy, y1 * unit - ay))
            for step, room in sides:
                at = room / step
                missed |= (step == 0) & (room < 0)
                enter = np.where(step < 0, np.maximum(enter, at), enter)
                leave = np.where(step > 0, np.minimum(leave, at), leave)
        crosses = ~missed & (enter < leave)
        overlap = 1.5 / np.maximum(np.maximum(np.abs(dx), np.abs(dy)), 1)
        head = crosses & (enter > 0)
        tail = crosses & (leave < 1)
        whole = ~crosses
        t_head = np.minimum(enter + overlap, 1)[head]
        t_tail = np.maximum(leave - overlap, 0)[tail]
        pieces = np.concatenate([np.flatnonzero(whole), np.flatnonzero(head), np.flatnonzero(tail)])
        start_x = np.concatenate([ax[whole], ax[head], ax[tail] + dx[tail] * t_tail])
        start_y = np.concatenate([ay[whole], ay[head], ay[tail] + dy[tail] * t_tail])
        end_x = np.concatenate([bx[whole], ax[head] + dx[head] * t_head, bx[tail]])
        end_y = np.concatenate([by[whole], ay[head] + dy[head] * t_head, by[tail]])
        self._draw_lines_between(p, long_idx[pieces], start_x, start_y, end_x, end_y)
        # Inside the block, cells not filled (few): each edge crossing one is drawn clipped to it.
        rects: list[list[int]] = []  # x0, x1, y0, y1 in cells
        previous: dict[tuple[int, int], list[int]] = {}
        for row in range(y0, y1):
            line = np.flatnonzero(np.diff(np.concatenate(([1], filled[row, x0:x1].view(np.int8), [1]))))
            current = {}
            for run_start, run_stop in zip((line[0::2] + x0).tolist(), (line[1::2] + x0).tolist()):
                rect = previous.get((run_start, run_stop))
                if rect is None:
                    rect = [run_start, run_stop, row, row + 1]
                    rects.append(rect)
                else:
                    rect[3] = row + 1
                current[(run_start, run_stop)] = rect
            previous = current
        inner = np.flatnonzero(crosses)
        if len(rects) > MAX_PASSES:  # a patchy saturation: clipping to each piece would cost more
            rects = [[x0, x1, y0, y1]]
        lo_x, hi_x = np.minimum(ax[inner], bx[inner]), np.maximum(ax[inner], bx[inner])
        lo_y, hi_y = np.minimum(ay[inner], by[inner]), np.maximum(ay[inner], by[inner])
        touched = whole.copy()
        for rx0, rx1, ry0, ry1 in rects:
            left, right, top, bottom = rx0 * unit - 1, rx1 * unit + 1, ry0 * unit - 1, ry1 * unit + 1
            meet = np.flatnonzero((lo_x <= right) & (hi_x >= left) & (lo_y <= bottom) & (hi_y >= top))
            meet = inner[meet]
            # Of those whose box meets the rectangle, the ones whose line does: not all four corners on
            # one side of it.
            sides = [np.sign(dx[meet] * (corner_y - ay[meet]) - dy[meet] * (corner_x - ax[meet]))
                     for corner_x, corner_y in ((left, top), (right, top), (left, bottom), (right, bottom))]
            meet = meet[np.abs(sides[0] + sides[1] + sides[2] + sides[3]) < 4]
            if not len(meet):
                continue
            touched[meet] = True
            p.save()
            p.setClipRect(QRectF(left, top, right - left, bottom - top), Qt.ClipOperation.IntersectClip)
            self._draw_lines_between(p, long_idx[meet], ax[meet], ay[meet], bx[meet], by[meet])
            p.restore()
        # Drawn only as part of the aggregate (besides the short pieces of them outside the block).
        self.last_render["aggregated"] = int((crosses & ~touched).sum())
        return rest, int((whole | head | tail | touched).sum())

    def _saturated_cells(self, image: QImage, long_idx: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                         bx: np.ndarray, by: np.ndarray, unit: float) -> tuple[np.ndarray | None, np.ndarray]:
        """Cells that long edges cross :data:`SATURATED` times per pixel or more, and each one's colour.

        QPainter counts the crossings: one long edge in :data:`SAMPLE` is drawn into a small picture, one
        pixel per cell, with additive blending (a density estimate, so a sample does, with fewer lines).
        A crossing of one cell stands for about a cell's width of edge, spread over its area.
        """
        cell = unit * image.devicePixelRatio()
        grid_w, grid_h = int(-(-image.width() // cell)), int(-(-image.height() // cell))
        sample = slice(None, None, SAMPLE)
        codes = self._status_code(long_idx[sample])
        counts = np.zeros((len(_STATUS_ORDER), grid_h, grid_w), np.int32)
        tally = QImage(grid_w, grid_h, QImage.Format.Format_ARGB32_Premultiplied)
        pen = QPen(QColor(255, 255, 255, 1))  # adds 1 to the alpha channel per crossing
        pen.setCosmetic(True)
        pen.setWidthF(1.0)
        sx, sy, ex, ey = ((v[sample] + 0.5 / image.devicePixelRatio()) / unit for v in (ax, ay, bx, by))
        for code in np.unique(codes).tolist():
            which = codes == code
            tally.fill(0)
            painter = QPainter(tally)
            painter.setClipRect(QRectF(0, 0, grid_w, grid_h))  # a clip rect: QPainter's quicker line path
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Plus)
            painter.setPen(pen)
            self._lines.resize(int(which.sum()))
            buffer = self._lines.ndarray()
            buffer[:, 0], buffer[:, 1], buffer[:, 2], buffer[:, 3] = sx[which], sy[which], ex[which], ey[which]
            painter.drawLines(*self._lines.drawargs())
            painter.end()
            alpha = np.frombuffer(tally.constBits(), np.uint32).reshape(grid_h, tally.bytesPerLine() // 4)
            counts[code] = (alpha[:, :grid_w] >> 24) * SAMPLE
        density = counts.sum(axis=0) / cell  # crossings per pixel
        # Not at the rim, where a cell is partly outside the graph: a saturated cell is filled when its
        # neighbours are crossed at least half as often (the graph goes on round it).
        filled = (density >= SATURATED) & _eroded(density >= SATURATED / 2)
        if not filled.any():
            return None, counts[0]
        # Each filled cell takes the colour of the status most of its crossings have; the rest: none.
        argb = np.array([EDGE_COLORS[name].rgba() | 0xFF000000 for name in _STATUS_ORDER], np.uint32)
        colour = np.where(filled, argb[counts.argmax(axis=0)], np.uint32(0))
        return filled, np.ascontiguousarray(colour)

    def _draw_lines_between(self, p: QPainter, edge_idx: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                            bx: np.ndarray, by: np.ndarray) -> None:
        """Edges as lines from (ax, ay) to (bx, by), one pen per status."""
        if not len(edge_idx):
            return
        codes = self._status_code(edge_idx)
        for code in np.unique(codes).tolist():
            which = codes == code
            status = _STATUS_ORDER[code]
            self._lines.resize(int(which.sum()))
            buffer = self._lines.ndarray()
            buffer[:, 0], buffer[:, 1], buffer[:, 2], buffer[:, 3] = ax[which], ay[which], bx[which], by[which]
            pen = QPen(EDGE_COLORS.get(status, EDGE_COLORS["accepted"]))
            pen.setCosmetic(True)
            pen.setWidthF(1.0)
            if status == "candidate":
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLines(*self._lines.drawargs())

    def _status_code(self, edge_idx: np.ndarray) -> np.ndarray:
        data = self.data
        assert data is not None
        if self._status_codes is None or len(self._status_codes) != len(data.status):
            self._status_codes = np.array([_STATUS_CODE.get(s, 0) for s in data.status], np.int8)
        return self._status_codes[edge_idx]

    def _draw_nodes(self, p: QPainter, nodes: np.ndarray, x: np.ndarray, y: np.ndarray, dense: bool) -> None:
        """Nodes as discs (or, dense, as squares) with QPainter; ``x``, ``y`` are their positions."""
        colors = self._color_index[nodes]
        for code in np.unique(colors).tolist():
            color = self._color_table[code]
            which = colors == code
            if dense:
                pen = QPen(color)
                pen.setWidthF(POINT_SIZE)
                pen.setCapStyle(Qt.PenCapStyle.SquareCap)
                p.setPen(pen)
                p.drawPoints(pg.functions.arrayToQPolygonF(x[which].astype(np.float64), y[which].astype(np.float64)))
            else:
                p.setPen(QPen(color.darker(140), 1.0))
                p.setBrush(QBrush(color))
                for px, py in zip(x[which].tolist(), y[which].tolist()):
                    p.drawEllipse(QPointF(px, py), NODE_RADIUS, NODE_RADIUS)

    def _splat_nodes(self, image: QImage, nodes: np.ndarray, cx: np.ndarray, cy: np.ndarray, clip: QRectF) -> None:
        """Dense views: write each node's square straight into the picture's pixels (numpy, no painter).

        ``cx``, ``cy`` are the nodes' centres in the picture's pixels.
        """
        if not len(nodes):
            return
        ratio = image.devicePixelRatio()
        colors = self._argb_table[self._color_index[nodes]]
        half = int(POINT_SIZE * ratio) // 2
        side = 2 * half + 1
        x0, y0 = max(0, int(np.floor(clip.left() * ratio))), max(0, int(np.floor(clip.top() * ratio)))
        x1 = min(image.width(), int(np.ceil(clip.right() * ratio)) + 1)
        y1 = min(image.height(), int(np.ceil(clip.bottom() * ratio)) + 1)
        stride = image.bytesPerLine() // 4
        flat = np.frombuffer(image.bits(), np.uint32)
        inner = (cx - half >= x0) & (cx + half < x1) & (cy - half >= y0) & (cy + half < y1)
        # Squares wholly inside the clip (nearly all): one row of a square per assignment, through a view
        # whose row i is the `side` pixels from pixel i on.
        rows = np.lib.stride_tricks.as_strided(flat, shape=(len(flat) - side + 1, side), strides=(4, 4))
        start = cy[inner] * stride + (cx[inner] - half)
        inner_colors = np.repeat(colors[inner][:, None], side, axis=1)
        for oy in range(-half, half + 1):
            rows[start + oy * stride] = inner_colors
        # The few on the clip's edge: pixel by pixel, clipped.
        pixels = flat.reshape(image.height(), stride)
        edge = ~inner
        if edge.any():
            ex, ey, ec = cx[edge], cy[edge], colors[edge]
            for oy in range(-half, half + 1):
                for ox in range(-half, half + 1):
                    px, py = ex + ox, ey + oy
                    ok = (px >= x0) & (px < x1) & (py >= y0) & (py < y1)
                    pixels[py[ok], px[ok]] = ec[ok]

    def _draw_labels(self, p: QPainter, nodes: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        data = self.data
        assert data is not None
        p.setFont(self.font)
        p.setPen(QColor(30, 30, 30))
        metrics = QFontMetricsF(self.font)
        for i, px, py in zip(nodes.tolist(), x.tolist(), y.tolist()):
            name = data.names[i]
            text = metrics.elidedText(name, Qt.TextElideMode.ElideRight, 180)
            p.drawText(QPointF(px + NODE_RADIUS + 3, py + metrics.ascent() / 2 - 1), text)

    def _draw_edge_labels(self, p: QPainter, geometry: _Geometry, edge_idx: np.ndarray) -> None:
        data = self.data
        assert data is not None
        font = QFont(self.font)
        font.setPointSizeF(self.font.pointSizeF() * 0.9)
        p.setFont(font)
        p.setPen(QColor(110, 110, 110))
        s, d = data.src[edge_idx], data.dst[edge_idx]
        mx, my = (geometry.x[s] + geometry.x[d]) / 2, (geometry.y[s] + geometry.y[d]) / 2
        for i, px, py in zip(edge_idx.tolist(), mx.tolist(), my.tolist()):
            p.drawText(QPointF(px + 2, py - 2), data.predicate[i])

    def _paint_overlay(self, p: QPainter, transform: tuple[float, float, float, float]) -> None:
        """Selection, hover and the dragged node: drawn every frame on top of the picture."""
        data = self.data
        assert data is not None
        sx, sy, dx, dy = transform

        def at(i: int) -> QPointF:
            return QPointF(data.pos[i, 0] * sx + dx, data.pos[i, 1] * sy + dy)

        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.band is not None:
            corner_a = QPointF(self.band.left() * sx + dx, self.band.top() * sy + dy)
            corner_b = QPointF(self.band.right() * sx + dx, self.band.bottom() * sy + dy)
            p.setPen(QPen(ACCENT.darker(150), 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(255, 200, 0, 40))
            p.drawRect(QRectF(corner_a, corner_b).normalized())
        if self.floating is not None:
            i = self.floating
            p.setPen(QPen(EDGE_COLORS["accepted"], 1.0))
            for e in data.incident_edges([i]).tolist():
                if self.edge_visible[e]:
                    p.drawLine(at(int(data.src[e])), at(int(data.dst[e])))
            color = self._color_table[self._color_index[i]]
            p.setPen(QPen(color.darker(140), 1.0))
            p.setBrush(QBrush(color))
            p.drawEllipse(at(i), NODE_RADIUS, NODE_RADIUS)
        accent = QPen(ACCENT, 2.5)
        if self.selected_nodes:
            chosen = [i for i in self.selected_nodes[:2000] if data.node_alive[i]]
            if len(chosen) <= 50 and not self.highlighted_edges:
                p.setPen(QPen(ACCENT.darker(130), 1.5))
                for e in data.incident_edges(chosen)[:5000].tolist():
                    if self.edge_visible[e]:
                        p.drawLine(at(int(data.src[e])), at(int(data.dst[e])))
            p.setPen(accent)
            p.setBrush(Qt.BrushStyle.NoBrush)
            for i in chosen:
                p.drawEllipse(at(i), NODE_RADIUS + 3, NODE_RADIUS + 3)
            if len(chosen) <= 20:
                self._tag(p, [(at(i), data.names[i]) for i in chosen])
        if self.highlighted_edges and self.selected_nodes:  # it goes with the selection that made it
            edges = [e for e in self.highlighted_edges[:5000] if data.edge_alive[e]]
            p.setPen(accent)
            for e in edges:
                p.drawLine(at(int(data.src[e])), at(int(data.dst[e])))
            if len(edges) <= 10:
                self._tag(p, [((at(int(data.src[e])) + at(int(data.dst[e]))) / 2, data.predicate[e]) for e in edges])
        if self.selected_edge is not None and data.edge_alive[self.selected_edge]:
            e = self.selected_edge
            start, end = at(int(data.src[e])), at(int(data.dst[e]))
            p.setPen(accent)
            p.drawLine(start, end)
            self._tag(p, [((start + end) / 2, data.predicate[e])])
        if self.hover_edge is not None and data.edge_alive[self.hover_edge]:
            e = self.hover_edge
            self._tag(p, [((at(int(data.src[e])) + at(int(data.dst[e]))) / 2, data.predicate[e])])
        if self.hover_node is not None and data.node_alive[self.hover_node]:
            self._tag(p, [(at(self.hover_node), data.names[self.hover_node])])

    def _tag(self, p: QPainter, tags: list[tuple[QPointF, str]]) -> None:
        p.setFont(self.font)
        metrics = QFontMetricsF(self.font)
        for point, text in tags:
            box = metrics.boundingRect(text).adjusted(-3, -2, 3, 2)
            box.moveTopLeft(point + QPointF(NODE_RADIUS + 4, -box.height() / 2))
            p.setPen(QPen(QColor(60, 60, 60), 1))
            p.setBrush(QColor(255, 255, 225, 235))
            p.drawRect(box)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _on_settled(self) -> None:
        cache = self._cache
        if cache is not None and not cache.exact:
            self._cache = None
        self._allow_full = True
        self.update()

    # --- geometry helpers (device pixels) -------------------------------------------

    def device_rects_of(self, nodes: list[int], edges: list[int]) -> list[QRectF] | None:
        """Small device rectangles covering these nodes (with their names) and edges, on the cached picture.

        A long edge is covered piece by piece, so patching it redraws a thin band, not its bounding box.
        """
        cache, data = self._cache, self.data
        if cache is None or data is None:
            return None
        scale, offset = np.array([cache.sx, cache.sy]), np.array([cache.dx, cache.dy])
        pad = NODE_RADIUS + 3
        label = 190 if self.last_render.get("labels") else 0
        rects = []
        for x, y in (data.pos[np.asarray(nodes, np.int64)] * scale + offset).tolist() if nodes else []:
            rects.append(QRectF(x - pad, y - pad - 8, 2 * pad + label, 2 * pad + 16))
        if edges:
            e = np.asarray(edges, np.int64)
            a, b = data.pos[data.src[e]] * scale + offset, data.pos[data.dst[e]] * scale + offset
            for (ax, ay), (bx, by) in zip(a.tolist(), b.tolist()):
                pieces = max(1, int(np.hypot(bx - ax, by - ay) // EDGE_PIECE) + 1)
                for k in range(pieces):
                    t0, t1 = k / pieces, (k + 1) / pieces
                    x0, y0 = ax + (bx - ax) * t0, ay + (by - ay) * t0
                    x1, y1 = ax + (bx - ax) * t1, ay + (by - ay) * t1
                    rects.append(QRectF(min(x0, x1) - 3, min(y0, y1) - 3, abs(x1 - x0) + 6, abs(y1 - y0) + 6))
        view = self._view_rect.adjusted(-2, -2, 2, 2)
        return [r for r in rects if r.intersects(view)]

    def nearest_node(self, x: float, y: float, radius_px: float = 8.0) -> int | None:
        """The shown node nearest to the data point (x, y), within ``radius_px`` pixels."""
        data = self.data
        if data is None or not self.node_visible.any():
            return None
        scale = self._pixel_size()
        candidates = np.flatnonzero(self.node_visible)
        d = np.hypot(data.pos[candidates, 0] - x, data.pos[candidates, 1] - y)
        k = int(np.argmin(d))
        return int(candidates[k]) if d[k] <= radius_px * scale else None

    def nearest_edge(self, x: float, y: float, radius_px: float = 5.0) -> int | None:
        """The shown edge nearest to the data point (x, y), within ``radius_px`` pixels."""
        data = self.data
        if data is None or not self.edge_visible.any():
            return None
        idx = np.flatnonzero(self.edge_visible)
        a, b = data.pos[data.src[idx]], data.pos[data.dst[idx]]
        ab = b - a
        length2 = (ab ** 2).sum(axis=1)
        t = np.clip(((np.array([x, y]) - a) * ab).sum(axis=1) / np.where(length2 == 0, 1, length2), 0, 1)
        closest = a + ab * t[:, None]
        d = np.hypot(closest[:, 0] - x, closest[:, 1] - y)
        k = int(np.argmin(d))
        return int(idx[k]) if d[k] <= radius_px * self._pixel_size() else None

    def _pixel_size(self) -> float:
        view = self.getViewBox()
        if view is None:
            return 1.0
        px = view.viewPixelSize()
        return float(max(px[0], px[1])) or 1.0


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _eroded(mask: np.ndarray) -> np.ndarray:
    """Cells of ``mask`` whose eight neighbours are in it too (cells past the border count as out)."""
    out = mask.copy()
    out[0, :] = out[-1, :] = False
    out[:, 0] = out[:, -1] = False
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dx or dy:
                out[1:-1, 1:-1] &= mask[1 + dy:mask.shape[0] - 1 + dy, 1 + dx:mask.shape[1] - 1 + dx]
    return out
