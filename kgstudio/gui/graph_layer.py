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
  numpy), with a **level of detail**: dense views draw nodes as points
  without antialiasing; sparse views draw discs, names and predicates.

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

from kgstudio.gui.graph_data import GraphData

DENSE_NODES = 3_000  # more nodes than this in view: points, no antialiasing
LABEL_NODES = 250  # at most this many nodes in view: their names are drawn
LABEL_EDGES = 80  # at most this many edges in view: their predicates are drawn
NODE_RADIUS = 5.0
POINT_SIZE = 3.0
EDGE_PIECE = 40.0  # an edited edge is redrawn in pieces this long (pixels)
SETTLE_MS = 90  # after a zoom gesture stops, redraw sharp

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
    key: tuple
    dx: float  # the pan offset the positions below were computed at
    dy: float
    xy: np.ndarray  # node positions in device pixels
    a: np.ndarray  # edge starts
    b: np.ndarray  # edge ends
    lo: np.ndarray  # edge bounding boxes
    hi: np.ndarray
    view_nodes: int  # shown nodes inside the view when computed (chooses the level of detail)
    _columns: tuple[np.ndarray, ...] | None = None
    _short: np.ndarray | None = None

    @property
    def short(self) -> np.ndarray:
        """Edges shorter than a dense view's node square: they lie under their two ends' squares."""
        if self._short is None:
            self._short = np.abs(self.b - self.a).max(axis=1) < POINT_SIZE
        return self._short

    def columns(self) -> tuple[np.ndarray, ...]:
        """The edge boxes as four contiguous columns (lo x, lo y, hi x, hi y)."""
        if self._columns is None:
            self._columns = tuple(np.ascontiguousarray(c) for c in (self.lo[:, 0], self.lo[:, 1],
                                                                    self.hi[:, 0], self.hi[:, 1]))
        return self._columns


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
        xy = geometry.xy
        node_subset = np.flatnonzero(self.node_visible & (xy[:, 0] >= grown.left()) & (xy[:, 0] <= grown.right())
                                     & (xy[:, 1] >= grown.top()) & (xy[:, 1] <= grown.bottom()))
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
        # Column-wise (contiguous) comparisons: about twice as fast as on (n, 2) arrays.
        lo_x, lo_y, hi_x, hi_y = geometry.columns()
        mask = self.edge_visible & (lo_x <= right) & (hi_x >= left) & (lo_y <= bottom) & (hi_y >= top)
        if skip_short:
            mask &= ~geometry.short
        return np.flatnonzero(mask)

    def render(self, p: QPainter, transform: tuple[float, float, float, float], clip: QRectF,
               fill: bool = False, among: np.ndarray | None = None,
               among_nodes: np.ndarray | None = None) -> None:
        """Draw the static graph inside ``clip`` (device pixels) with painter ``p`` in device coordinates."""
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
        xy = geometry.xy
        margin = NODE_RADIUS + 2
        pool = np.flatnonzero(self.node_visible) if among_nodes is None else among_nodes
        pxy = xy[pool]
        nodes = pool[(pxy[:, 0] >= left - margin) & (pxy[:, 0] <= right + margin)
                     & (pxy[:, 1] >= top - margin) & (pxy[:, 1] <= bottom + margin)]
        if self.floating is not None:
            nodes = nodes[nodes != self.floating]
        # The level of detail is chosen from the whole view, so a strip looks like its neighbours.
        dense = geometry.view_nodes > DENSE_NODES
        labels = geometry.view_nodes <= LABEL_NODES
        if among is None:
            edge_idx = self._edges_meeting(geometry, transform, clip, skip_short=dense)
        else:
            lo, hi = geometry.lo[among], geometry.hi[among]
            edge_idx = among[(lo[:, 0] <= right) & (hi[:, 0] >= left) & (lo[:, 1] <= bottom) & (hi[:, 1] >= top)]
        if self.floating is not None:
            edge_idx = edge_idx[(data.src[edge_idx] != self.floating) & (data.dst[edge_idx] != self.floating)]
        if dense and among is not None:
            edge_idx = edge_idx[~geometry.short[edge_idx]]
        a, b = geometry.a[edge_idx], geometry.b[edge_idx]
        p.setRenderHint(QPainter.RenderHint.Antialiasing, not dense)
        self._draw_edges(p, edge_idx, a, b)
        if not dense and len(edge_idx) <= LABEL_EDGES:
            self._draw_edge_labels(p, edge_idx, a, b)
        image = p.device()
        if dense and isinstance(image, QImage) and image.format() == QImage.Format.Format_ARGB32_Premultiplied:
            self._splat_nodes(image, nodes, xy + (ox, oy), clip)
        else:
            self._draw_nodes(p, nodes, xy, dense)
        if labels:
            self._draw_labels(p, nodes, xy)
        p.restore()
        self.last_render.update(nodes=int(len(nodes)), edges=int(len(edge_idx)), dense=bool(dense),
                                labels=bool(labels))

    def _geometry(self, transform: tuple[float, float, float, float]) -> _Geometry:
        """Device positions of every node and edge end at this zoom (kept until zoom or data change)."""
        data = self.data
        assert data is not None
        sx, sy, dx, dy = transform
        key = (sx, sy, data.version, self.filter_version, len(data.node_ids), len(data.edge_ids))
        geometry = self._geom
        if geometry is not None and geometry.key == key:
            return geometry
        xy = (data.pos * (sx, sy) + (dx, dy)).astype(np.float32)
        a, b = xy[data.src], xy[data.dst]
        rect = self._view_rect
        inside = self.node_visible & (xy[:, 0] >= rect.left()) & (xy[:, 0] <= rect.right()) \
            & (xy[:, 1] >= rect.top()) & (xy[:, 1] <= rect.bottom())
        self._geom = _Geometry(key, dx, dy, xy, a, b, np.minimum(a, b), np.maximum(a, b), int(inside.sum()))
        return self._geom

    def moved(self, node: int) -> None:
        """Update the geometry for one moved node and its edges (a drag), without recomputing the rest."""
        data, geometry = self.data, self._geom
        if data is None or geometry is None:
            return
        sx, sy = geometry.key[0], geometry.key[1]
        geometry.xy[node] = data.pos[node] * (sx, sy) + (geometry.dx, geometry.dy)
        edges = data.incident_edges([node])
        geometry.a[edges] = geometry.xy[data.src[edges]]
        geometry.b[edges] = geometry.xy[data.dst[edges]]
        geometry.lo[edges] = np.minimum(geometry.a[edges], geometry.b[edges])
        geometry.hi[edges] = np.maximum(geometry.a[edges], geometry.b[edges])
        geometry._columns = None
        geometry._short = None
        geometry.key = (sx, sy, data.version, *geometry.key[3:])

    def _draw_edges(self, p: QPainter, edge_idx: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        data = self.data
        assert data is not None
        if not len(edge_idx):
            return
        codes = self._status_code(edge_idx)
        for code in np.unique(codes).tolist():
            which = codes == code
            status = _STATUS_ORDER[code]
            self._lines.resize(int(which.sum()))
            buffer = self._lines.ndarray()
            buffer[:, 0:2], buffer[:, 2:4] = a[which], b[which]
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

    def _draw_nodes(self, p: QPainter, nodes: np.ndarray, xy: np.ndarray, dense: bool) -> None:
        data = self.data
        assert data is not None
        colors = self._color_index[nodes]
        for code in np.unique(colors).tolist():
            color = self._color_table[code]
            points = xy[nodes[colors == code]]
            if dense:
                pen = QPen(color)
                pen.setWidthF(POINT_SIZE)
                pen.setCapStyle(Qt.PenCapStyle.SquareCap)
                p.setPen(pen)
                p.drawPoints(pg.functions.arrayToQPolygonF(points[:, 0].astype(np.float64),
                                                            points[:, 1].astype(np.float64)))
            else:
                p.setPen(QPen(color.darker(140), 1.0))
                p.setBrush(QBrush(color))
                for x, y in points.tolist():
                    p.drawEllipse(QPointF(x, y), NODE_RADIUS, NODE_RADIUS)

    def _splat_nodes(self, image: QImage, nodes: np.ndarray, xy: np.ndarray, clip: QRectF) -> None:
        """Dense views: write each node's square straight into the picture's pixels (numpy, no painter)."""
        if not len(nodes):
            return
        ratio = image.devicePixelRatio()
        pixels = np.frombuffer(image.bits(), np.uint32).reshape(image.height(), image.bytesPerLine() // 4)
        centre = np.rint(xy[nodes] * ratio).astype(np.int64)
        colors = self._argb_table[self._color_index[nodes]]
        half = int(POINT_SIZE * ratio) // 2
        x0, y0 = max(0, int(np.floor(clip.left() * ratio))), max(0, int(np.floor(clip.top() * ratio)))
        x1 = min(image.width(), int(np.ceil(clip.right() * ratio)) + 1)
        y1 = min(image.height(), int(np.ceil(clip.bottom() * ratio)) + 1)
        stride = image.bytesPerLine() // 4
        flat = pixels.reshape(-1)
        cx, cy = centre[:, 0], centre[:, 1]
        inner = (cx - half >= x0) & (cx + half < x1) & (cy - half >= y0) & (cy + half < y1)
        # Squares wholly inside the clip (nearly all): one flat assignment per pixel offset.
        index, inner_colors = (cy[inner] * stride + cx[inner]), colors[inner]
        for oy in range(-half, half + 1):
            for ox in range(-half, half + 1):
                flat[index + (oy * stride + ox)] = inner_colors
        # The few on the clip's edge: pixel by pixel, clipped.
        edge = ~inner
        if edge.any():
            ex, ey, ec = cx[edge], cy[edge], colors[edge]
            for oy in range(-half, half + 1):
                for ox in range(-half, half + 1):
                    x, y = ex + ox, ey + oy
                    ok = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
                    pixels[y[ok], x[ok]] = ec[ok]

    def _draw_labels(self, p: QPainter, nodes: np.ndarray, xy: np.ndarray) -> None:
        data = self.data
        assert data is not None
        p.setFont(self.font)
        p.setPen(QColor(30, 30, 30))
        metrics = QFontMetricsF(self.font)
        for i in nodes.tolist():
            name = data.names[i]
            text = metrics.elidedText(name, Qt.TextElideMode.ElideRight, 180)
            p.drawText(QPointF(xy[i, 0] + NODE_RADIUS + 3, xy[i, 1] + metrics.ascent() / 2 - 1), text)

    def _draw_edge_labels(self, p: QPainter, edge_idx: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
        data = self.data
        assert data is not None
        font = QFont(self.font)
        font.setPointSizeF(self.font.pointSizeF() * 0.9)
        p.setFont(font)
        p.setPen(QColor(110, 110, 110))
        middle = (a + b) / 2
        for k, i in enumerate(edge_idx.tolist()):
            p.drawText(QPointF(middle[k, 0] + 2, middle[k, 1] - 2), data.predicate[i])

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
