"""Canvas frame times against pyqtgraph's GraphItem as-is, side by side in one run, offscreen.

Prints one JSON object. For 10k nodes / 20k edges and 100k / 200k (the
sizes of issue 6), on the same positions and edges, zoomed to fit, without
antialiasing for GraphItem (its fast setting). Every figure is one real
frame: ``viewport().repaint()`` of a shown widget on the offscreen platform,
which paints the whole viewport into its backing store, for both sides.
The definitions (also in the output's ``definitions``):

- ``pan_ms``: one frame of a pan gesture (the view moves by 5 pixels);
- ``zoom_ms``: one frame of a wheel-zoom gesture (the view scales by 2%);
- ``settle_ms`` (settled redraw): the frame drawn once the zoom gesture
  stops, sharp at the new zoom: everything recomputed at that zoom, no
  picture reused. GraphItem has no such split: its figure is its zoom frame;
- ``full_ms`` (full redraw): a repaint of an unchanged view with every cache
  of ours thrown away (what a new layout or a first frame costs). GraphItem's
  figure is a repaint of an unchanged view too (``update()``): it keeps the
  QPicture of its lines and its symbol atlas, as it does as-is;
- ``edit_ms``: a node dragged to a new place until it is on screen, against
  ``GraphItem.setData`` with the moved position plus its redraw;
- ``open_s`` (100k only): opening a project of that size until the graph is
  drawn, against reading its rows from SQLite.

Each is the median over ``--frames`` frames, in wall time (``*_ms``) and in
this process's CPU time (``*_cpu_ms``): on a shared, loaded machine the CPU
time is the steadier of the two. The ``speedup_*`` ratios use wall time,
the ``cpu_speedup_*`` ones CPU time. ``picture`` counts the pixels where our
fit-zoom frame differs from one with every edge drawn one by one (no
occlusion test, no aggregate): what the level of detail changes.

Run: ``.venv/bin/python tests/bench/bench_canvas.py [--sizes 10000,100000] [--frames 20]``.
These machines are noisy: compare the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kgstudio.graph.data import GraphData  # noqa: E402
from kgstudio.graph.layouts import quick_layout  # noqa: E402
from kgstudio.gui.canvas import GraphCanvas  # noqa: E402

SIZE = (1000, 700)
DEFINITIONS = {
    "frame": "viewport().repaint() of a shown widget, offscreen: the whole viewport painted into its backing store",
    "pan": "one frame after the view moves by 5 pixels",
    "zoom": "one frame after the view scales by 2% (mid-gesture)",
    "settle": "settled redraw: the frame drawn once the zoom gesture stops, everything recomputed at the new zoom "
              "(GraphItem: its zoom frame)",
    "full": "full redraw: repaint of an unchanged view with all our caches dropped (GraphItem: update() and "
            "repaint, keeping its own QPicture as it does as-is)",
    "edit": "a node moved until it is on screen (GraphItem: setData with the moved position, then a frame)",
    "picture": "pixels of our fit-zoom frame that differ from a frame with every edge drawn one by one",
}


def make_graph(n: int, seed: int = 1, hairball: bool = False) -> GraphData:
    """n nodes and 2n edges, laid out as a force-directed layout leaves a real graph.

    Nodes are spread over a square and 95% of the edges join near neighbours
    (5% cross the graph), which is what spring layouts do to knowledge
    graphs: linked entities end up close. ``hairball`` instead joins random
    nodes placed by the instant spiral layout (every edge long): the worst case.
    """
    rng = np.random.default_rng(seed)
    m = 2 * n
    side = int(np.ceil(np.sqrt(n)))
    if hairball:
        src = rng.integers(1, n, m)
        back = np.minimum(src, rng.geometric(0.02, m))
        dst = np.where(rng.random(m) < 0.9, src - back, rng.integers(0, n, m))
    else:
        src = rng.integers(0, n, m)
        step = np.where(rng.random(m) < 0.5, rng.integers(1, 4, m), side + rng.integers(-2, 3, m))
        dst = np.where(rng.random(m) < 0.95, np.clip(src + step, 0, n - 1), rng.integers(0, n, m))
    data = GraphData()
    classes = ["Person", "Organization", "Place", "Event", "Concept", None]
    data.set_nodes(list(range(1, n + 1)), [f"node {i}" for i in range(n)], [classes[i % 6] for i in range(n)])
    rows = [(k + 1, int(s) + 1, int(d) + 1, "relatedTo" if k % 3 else "partOf", "accepted", None)
            for k, (s, d) in enumerate(zip(src, dst))]
    data.set_edges(rows)
    if hairball:
        data.pos = quick_layout(n, data.src, data.dst)
    else:
        k = np.arange(n)
        data.pos = np.stack([k % side, k // side], axis=1) + rng.normal(0, 0.3, (n, 2))
    return data


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median milliseconds of ``fn``: wall time and this process's CPU time."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def record(result: dict, name: str, figures: tuple[float, float]) -> None:
    result[f"{name}_ms"], result[f"{name}_cpu_ms"] = figures


def frame(widget) -> None:
    widget.viewport().repaint()  # paint now, synchronously, like one frame of the event loop


def bench_graphitem(data: GraphData, frames: int) -> dict[str, float]:
    widget = pg.PlotWidget()
    widget.resize(*SIZE)
    widget.getPlotItem().hideAxis("left")
    widget.getPlotItem().hideAxis("bottom")
    item = pg.GraphItem(pos=data.pos, adj=np.stack([data.src, data.dst], axis=1), size=6, pxMode=True,
                        antialias=False, pen=pg.mkPen(120, 120, 120))
    widget.addItem(item)
    widget.show()
    QApplication.processEvents()
    view = widget.getPlotItem().getViewBox()
    view.setAspectLocked(True)
    view.autoRange(padding=0.02)
    frame(widget)
    step = view.viewPixelSize()[0] * 5
    result: dict[str, float] = {}
    record(result, "pan", timed(lambda: (view.translateBy(t=(step, 0)), frame(widget)), frames))
    record(result, "zoom", timed(lambda: (view.scaleBy((0.98, 0.98)), frame(widget)), frames))
    result["settle_ms"], result["settle_cpu_ms"] = result["zoom_ms"], result["zoom_cpu_ms"]
    view.autoRange(padding=0.02)
    frame(widget)
    record(result, "full", timed(lambda: (item.update(), frame(widget)), max(3, frames // 2)))
    pos = data.pos.copy()
    adj = np.stack([data.src, data.dst], axis=1)

    def edit() -> None:
        pos[0] += step
        item.setData(pos=pos, adj=adj, size=6, pxMode=True, antialias=False, pen=pg.mkPen(120, 120, 120))
        frame(widget)

    record(result, "edit", timed(edit, max(3, frames // 4)))
    widget.close()
    return result


def bench_canvas(data: GraphData, frames: int) -> dict[str, float]:
    canvas = GraphCanvas()
    canvas.resize(*SIZE)
    canvas.show()
    QApplication.processEvents()
    canvas.set_graph(data)
    frame(canvas)
    view = canvas.view
    layer = canvas.layer
    step = view.viewPixelSize()[0] * 5
    result: dict[str, object] = {}
    record(result, "pan", timed(lambda: (view.translateBy(t=(step, 0)), frame(canvas)), frames))
    assert layer.last_render["mode"] == "shift", layer.last_render
    record(result, "zoom", timed(lambda: (view.scaleBy((0.98, 0.98)), frame(canvas)), frames))
    assert layer.last_render["mode"] == "scaled", layer.last_render

    def zoom_then_settle() -> tuple[float, float]:
        canvas.zoom_to_fit()  # each gesture starts from the fit view, drawn sharp: the goal is about that zoom
        layer._on_settled()
        frame(canvas)
        view.scaleBy((0.98, 0.98))
        frame(canvas)  # mid-gesture: the last picture, stretched
        assert layer.last_render["mode"] == "scaled", layer.last_render
        started, started_cpu = time.perf_counter(), time.process_time()
        layer._on_settled()  # what the settle timer does when the wheel stops
        frame(canvas)
        assert layer.last_render["mode"] == "full", layer.last_render
        return (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000

    settles = [zoom_then_settle() for _ in range(max(3, frames // 2))]
    result["settle_ms"] = statistics.median(s[0] for s in settles)
    result["settle_cpu_ms"] = statistics.median(s[1] for s in settles)
    canvas.zoom_to_fit()
    frame(canvas)

    def full() -> None:
        layer.invalidate()
        frame(canvas)

    record(result, "full", timed(full, max(3, frames // 2)))
    result["picture"] = picture_error(canvas)
    frame(canvas)
    rng = np.random.default_rng(3)

    def edit() -> None:
        node = int(rng.integers(0, data.node_count))
        x, y = data.pos[node]
        canvas.move_node(node, x + step, y)
        frame(canvas)

    record(result, "edit", timed(edit, max(3, frames // 2)))
    assert layer.last_render["mode"] == "blit", layer.last_render
    result["dense_lod"] = bool(layer.last_render.get("dense"))
    canvas.close()
    return result


def picture_error(canvas: GraphCanvas) -> dict[str, int]:
    """Pixels where the fit-zoom frame differs from one with every edge drawn one by one."""
    from kgstudio.gui import graph_layer

    def pixels() -> np.ndarray:
        canvas.layer.invalidate()
        canvas.layer.last_render.pop("aggregated", None)
        image = canvas.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        return np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1)[:, :image.width()].copy()

    ours = pixels()
    drawn, aggregated = canvas.layer.last_render["edges_drawn"], canvas.layer.last_render.get("aggregated", 0)
    saved = graph_layer.OCCLUDED_EDGE, graph_layer.SATURATED
    graph_layer.OCCLUDED_EDGE, graph_layer.SATURATED = 0, float("inf")
    try:
        exact = pixels()
    finally:
        graph_layer.OCCLUDED_EDGE, graph_layer.SATURATED = saved
    return {"pixels": int(ours.size), "differing": int((ours != exact).sum()), "edges_drawn": int(drawn),
            "edges_aggregated": int(aggregated), "edges_drawn_exact": int(canvas.layer.last_render["edges_drawn"])}


def bench_open(n: int) -> dict[str, float]:
    """Open a project with n entities and 2n triples: read its rows vs show its graph."""
    from sqlalchemy import select

    from kgstudio.store import Project
    from kgstudio.store.schema import EntityRow, TripleRow

    folder = Path(tempfile.mkdtemp(prefix="kgstudio-bench-"))
    path = folder / "big.kgs"
    data = make_graph(n)
    with Project.create(path) as project:
        with project.transaction() as repos:  # bulk rows straight in: the benchmark is about reading
            connection = repos.session.connection()
            connection.execute(EntityRow.__table__.insert(), [
                {"id": int(i), "name": name, "class_name": cls, "iri": f"urn:x:{i}", "status": "active"}
                for i, name, cls in zip(data.node_ids, data.names, data.node_class)])
            connection.execute(TripleRow.__table__.insert(), [
                {"id": int(t), "subject_id": int(data.node_ids[s]), "predicate": p,
                 "object_id": int(data.node_ids[o]), "status": "accepted", "origin": "manual"}
                for t, s, o, p in zip(data.edge_ids, data.src, data.dst, data.predicate)])
    with Project.open(path) as project:
        started = time.perf_counter()
        with project.read() as session:
            session.execute(select(EntityRow.id, EntityRow.name, EntityRow.class_name)).all()
            session.execute(select(TripleRow.id, TripleRow.subject_id, TripleRow.object_id, TripleRow.predicate,
                                   TripleRow.status, TripleRow.confidence)).all()
        read_s = time.perf_counter() - started
        canvas = GraphCanvas()
        canvas.resize(*SIZE)
        canvas.show()
        QApplication.processEvents()
        started = time.perf_counter()
        graph = GraphData.load(project)
        graph.pos = quick_layout(len(graph.node_ids), graph.src, graph.dst)
        canvas.set_graph(graph)
        frame(canvas)
        open_s = time.perf_counter() - started
        canvas.close()
    return {"read_rows_s": read_s, "open_and_draw_s": open_s, "ratio": open_s / read_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--no-open", action="store_true", help="skip the open-a-project measurement")
    parser.add_argument("--hairball", action="store_true", help="random long edges on the spiral layout (worst case)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])  # noqa: F841
    out: dict[str, object] = {"viewport": list(SIZE), "cpus": os.cpu_count(),
                              "load_average": [round(x, 2) for x in os.getloadavg()],
                              "graph": "hairball" if args.hairball else "local",
                              "definitions": DEFINITIONS}
    per_size = {}
    for n in (int(s) for s in args.sizes.split(",")):
        data = make_graph(n, hairball=args.hairball)
        mine, theirs = bench_canvas(data, args.frames), bench_graphitem(data, args.frames)
        per_size[n] = mine
        entry: dict[str, object] = {
            "canvas": {k: round(v, 2) if isinstance(v, float) else v for k, v in mine.items()},
            "graphitem": {k: round(v, 2) for k, v in theirs.items()},
        }
        for clock, suffix in (("", "_ms"), ("cpu_", "_cpu_ms")):
            for label, key in (("pan", "pan"), ("zoom_frame", "zoom"), ("settled_redraw", "settle"),
                               ("full_redraw", "full"), ("edit", "edit")):
                entry[f"{clock}speedup_{label}"] = round(theirs[key + suffix] / mine[key + suffix], 2)  # type: ignore[operator]
        out[f"{n}_nodes"] = entry
    sizes = sorted(per_size)
    if len(sizes) >= 2:
        small, big = per_size[sizes[0]], per_size[sizes[-1]]
        out["growth_small_to_big"] = {k: round(big[k] / small[k], 2)  # type: ignore[operator]
                                      for k in ("pan_ms", "zoom_ms", "settle_ms", "full_ms", "edit_ms",
                                                "settle_cpu_ms", "full_cpu_ms")}
    if not args.no_open:
        out[f"open_{sizes[-1]}"] = {k: round(v, 3) for k, v in bench_open(sizes[-1]).items()}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
