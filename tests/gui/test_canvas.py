"""The graph canvas as a user sees it: drawn nodes, click to select, search, filters, drag, layouts, export."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from kgstudio.edit import AddEntity, AddTriple, DeleteEntity
from kgstudio.graph.data import GraphData
from kgstudio.gui.canvas import GraphCanvas, GraphFilter
from kgstudio.gui.main_window import MainWindow
from tests.gui.conftest import wait_for_tasks

pytestmark = pytest.mark.gui


def device_point(canvas: GraphCanvas, node: int) -> QPointF:
    """Where a node is drawn, in the canvas's viewport pixels."""
    x, y = canvas.graph.pos[node]  # type: ignore[union-attr]
    return QPointF(canvas.mapFromScene(canvas.view.mapViewToScene(QPointF(x, y))))


def grab(canvas: GraphCanvas) -> QImage:
    return canvas.grab().toImage()


@pytest.fixture
def shown(window: MainWindow, graph_project: Path, qtbot) -> MainWindow:  # type: ignore[no-untyped-def]
    window.open_project(graph_project)
    window.show()
    qtbot.waitExposed(window)
    wait_for_tasks(window, qtbot)  # the force-directed layout a small graph gets on opening
    return window


def test_opening_a_project_draws_its_graph(shown: MainWindow) -> None:
    canvas = shown.canvas
    canvas.layer.invalidate()  # a whole new picture, not a patch of the last one
    image = grab(canvas)
    assert canvas.layer.last_render["mode"] == "full"
    assert canvas.layer.last_render["nodes"] == 2 and canvas.layer.last_render["edges"] == 1
    assert canvas.layer.last_render["labels"]  # few nodes: names are written beside them
    point = device_point(canvas, 0).toPoint()
    assert image.pixelColor(point) != canvas.layer.background  # a disc is painted where the node is


def test_clicking_a_node_selects_it_and_the_inspector_shows_it(shown: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    canvas = shown.canvas
    ibm = canvas.graph.names.index("IBM")  # type: ignore[union-attr]
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=device_point(canvas, ibm).toPoint())
    assert canvas.layer.selected_nodes == [ibm]
    assert shown.inspector.title.text() == "IBM"
    assert shown.inspector.fields["Class"].text() == "Organization"
    assert shown.inspector.fields["IRI"].text().startswith("urn:kgstudio:")
    statement = shown.inspector.statements.topLevelItem(0)
    assert (statement.text(0), statement.text(1)) == ("headquarteredIn", "Armonk")
    # Clicking the empty background clears the selection.
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPointF(3, 3).toPoint())
    assert canvas.layer.selected_nodes == [] and shown.inspector.title.text() == "Nothing selected"


def test_clicking_an_edge_selects_the_triple(shown: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    canvas = shown.canvas
    middle = (device_point(canvas, 0) + device_point(canvas, 1)) / 2
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=middle.toPoint())
    assert canvas.selected_triple_id() is not None
    assert shown.inspector.title.text() == "IBM — headquarteredIn → Armonk"


def test_ctrl_f_finds_and_centres_on_a_match(shown: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(shown, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert shown.search.hasFocus()
    qtbot.keyClicks(shown.search, "armonk")
    qtbot.keyClick(shown.search, Qt.Key.Key_Return)
    canvas = shown.canvas
    armonk = canvas.graph.names.index("Armonk")  # type: ignore[union-attr]
    assert canvas.layer.selected_nodes == [armonk]
    centre = canvas.view.viewRect().center()
    assert (centre.x(), centre.y()) == pytest.approx(tuple(canvas.graph.pos[armonk]), abs=1e-6)  # type: ignore[union-attr]
    assert shown.inspector.title.text() == "Armonk"
    assert shown.find("no such thing") == []


def test_filters_hide_classes_and_statuses(shown: MainWindow) -> None:
    canvas = shown.canvas
    canvas.apply_filter(GraphFilter(classes={"Organization"}))
    assert canvas.layer.node_visible.sum() == 1 and canvas.layer.edge_visible.sum() == 0
    canvas.apply_filter(GraphFilter(statuses={"candidate"}))
    assert canvas.layer.node_visible.sum() == 2 and canvas.layer.edge_visible.sum() == 0
    shown.filters.reset()
    assert canvas.layer.edge_visible.sum() == 1


def test_an_edit_patches_the_picture_instead_of_redrawing_it(shown: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    canvas = shown.canvas
    grab(canvas)
    cache = canvas.layer._cache
    (ibm,) = shown.history.project.repositories().__enter__().graph.find_entities("IBM")  # type: ignore[union-attr]
    record = shown.execute(AddEntity("Big Blue", class_name="Organization"))
    new = next(iter(record.changes.entity_ids))  # type: ignore[union-attr]
    shown.execute(AddTriple(subject_id=new, predicate="sameAs", object_id=ibm.id))
    assert canvas.layer._cache is cache  # patched in place, not thrown away
    grab(canvas)
    assert canvas.layer.last_render["mode"] == "blit"
    assert canvas.graph.node_count == 3 and canvas.graph.edge_count == 2  # type: ignore[union-attr]
    shown.execute(DeleteEntity(new))
    assert canvas.graph.node_count == 2 and canvas.graph.edge_count == 1  # type: ignore[union-attr]


def test_dragging_a_node_moves_it(shown: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    canvas = shown.canvas
    grab(canvas)
    start = device_point(canvas, 0).toPoint()
    target = start + QPointF(40, 25).toPoint()
    qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(canvas.viewport(), start + (target - start) * step / 5)
    qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, pos=target)
    moved = device_point(canvas, 0)
    assert abs(moved.x() - target.x()) <= 2 and abs(moved.y() - target.y()) <= 2
    assert canvas.layer.floating is None


def test_layouts_run_off_the_gui_thread(shown: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    task = shown.lay_out("circular")
    assert task is not None and task._thread is not None
    wait_for_tasks(shown, qtbot)
    pos = shown.canvas.graph.pos  # type: ignore[union-attr]
    assert np.hypot(*pos[0]) == pytest.approx(np.hypot(*pos[1]))  # both on one circle
    shown.lay_out("hierarchical")
    wait_for_tasks(shown, qtbot)
    assert pos is not shown.canvas.graph.pos  # type: ignore[union-attr]


def test_export_the_view_as_png_and_svg(shown: MainWindow, tmp_path: Path) -> None:
    png = shown.canvas.export_image(tmp_path / "view.png")
    image = QImage(str(png))
    assert image.size() == shown.canvas.viewport().size()
    svg = shown.canvas.export_image(tmp_path / "view.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and "IBM" in svg  # names are text in the drawing


def test_a_big_graph_is_drawn_as_points_and_pans_without_a_full_redraw(qtbot) -> None:  # type: ignore[no-untyped-def]
    n = 20_000
    rng = np.random.default_rng(0)
    data = GraphData()
    data.set_nodes(list(range(1, n + 1)), [f"n{i}" for i in range(n)], ["A" if i % 2 else None for i in range(n)])
    src, dst = rng.integers(0, n, 2 * n), rng.integers(0, n, 2 * n)
    data.set_edges([(k + 1, int(a) + 1, int(b) + 1, "p", "accepted", None) for k, (a, b) in enumerate(zip(src, dst))])
    data.pos = rng.random((n, 2)) * 100
    canvas = GraphCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.set_graph(data)
    grab(canvas)
    assert canvas.layer.last_render["dense"] and not canvas.layer.last_render["labels"]
    image = grab(canvas)
    class_colors = {canvas.layer.color_of("A").rgb(), canvas.layer.color_of(None).rgb()}
    drawn = [image.pixelColor(device_point(canvas, i).toPoint()).rgb() for i in range(0, n, 997)]
    assert all(color in class_colors for color in drawn)  # each node is a square of its class's colour
    canvas.view.translateBy(t=(canvas.view.viewPixelSize()[0] * 7, 0))
    grab(canvas)
    assert canvas.layer.last_render["mode"] == "shift"  # only the strip that scrolled in was drawn
    canvas.view.scaleBy((0.5, 0.5))
    grab(canvas)
    assert canvas.layer.last_render["mode"] == "scaled"  # mid-gesture: the picture is stretched
    qtbot.wait(300)  # the wheel stopped: the picture is drawn sharp again
    grab(canvas)
    assert canvas.layer.last_render["mode"] in ("full", "blit")
    assert canvas.layer._cache is not None and canvas.layer._cache.sx == pytest.approx(canvas.layer._geom.key[0])


def test_shift_drag_selects_every_node_in_the_box(shown: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    canvas = shown.canvas
    points = [device_point(canvas, i) for i in (0, 1)]
    left = min(p.x() for p in points) - 7
    top = min(p.y() for p in points) - 7
    right = max(p.x() for p in points) + 7
    bottom = max(p.y() for p in points) + 7
    start, end = QPointF(left, top).toPoint(), QPointF(right, bottom).toPoint()
    shift = Qt.KeyboardModifier.ShiftModifier
    qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, shift, start)
    for step in range(1, 6):  # QTest's mouseMove has no modifiers: send the moves with Shift held
        at = QPointF(start + (end - start) * step / 5)
        move = QMouseEvent(QEvent.Type.MouseMove, at, canvas.viewport().mapToGlobal(at), Qt.MouseButton.NoButton,
                           Qt.MouseButton.LeftButton, shift)
        QApplication.sendEvent(canvas.viewport(), move)
    assert canvas.layer.band is not None  # the box is drawn while dragging
    qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, shift, end)
    assert sorted(canvas.layer.selected_nodes) == [0, 1]
    assert canvas.layer.band is None
    assert shown.editor.merge_action.isEnabled()


def test_a_big_project_is_read_in_the_background(window: MainWindow, tmp_path: Path, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kgstudio.gui import main_window as main_window_module
    from kgstudio.store import Project

    monkeypatch.setattr(main_window_module, "BACKGROUND_LOAD_LIMIT", 2)  # "big" = more than 2 entities
    path = tmp_path / "big.kgs"
    with Project.create(path) as project:
        from kgstudio.edit import EditHistory

        history = EditHistory(project)
        for name in ("Ada", "Charles", "Mary"):
            history.execute(AddEntity(name))
    window.open_project(path)
    assert window.tasks and "Reading the graph" in window.canvas.message
    wait_for_tasks(window, qtbot)
    assert window.graph is not None and window.graph.node_count == 3 and window.canvas.message == ""


def test_the_graph_shows_in_a_grab_of_the_whole_window(shown: MainWindow) -> None:
    # The canvas is painted at an offset inside the window's image: the picture must follow it.
    image = shown.grab().toImage()
    canvas = shown.canvas
    for node in (0, 1):
        at = canvas.viewport().mapTo(shown, device_point(canvas, node).toPoint())
        assert image.pixelColor(at) != canvas.layer.background


def test_a_dragged_node_stays_where_it_was_left_when_the_project_is_reopened(
        window: MainWindow, graph_project: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.open_project(graph_project)
    window.show()
    qtbot.waitExposed(window)
    wait_for_tasks(window, qtbot)  # the force-directed layout a small graph gets on opening
    canvas = window.canvas
    grab(canvas)
    ibm = canvas.graph.names.index("IBM")  # type: ignore[union-attr]
    start = device_point(canvas, ibm).toPoint()
    target = start + QPointF(-60, 35).toPoint()
    with qtbot.waitSignal(window.positions.saved, timeout=10_000):
        qtbot.mousePress(canvas.viewport(), Qt.MouseButton.LeftButton, pos=start)
        for step in range(1, 6):
            qtbot.mouseMove(canvas.viewport(), start + (target - start) * step / 5)
        qtbot.mouseRelease(canvas.viewport(), Qt.MouseButton.LeftButton, pos=target)
    left = {name: tuple(canvas.graph.pos[i]) for i, name in enumerate(canvas.graph.names)}  # type: ignore[union-attr]
    window.close_project()
    assert window.open_project(graph_project)
    wait_for_tasks(window, qtbot)
    graph = window.canvas.graph
    assert graph is not None and graph.positions_restored == 2
    # Both nodes where they were left, the dragged one included: no fresh layout ran over them.
    assert {name: tuple(graph.pos[i]) for i, name in enumerate(graph.names)} == left  # saved exactly
    assert left["IBM"] != left["Armonk"]


def test_saving_the_positions_of_a_big_graph_happens_off_the_gui_thread(tmp_path: Path, qtbot,
                                                                          monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    from kgstudio.gui import canvas as canvas_module
    from kgstudio.gui.canvas import PositionSaver
    from kgstudio.graph.data import load_positions, save_positions
    from kgstudio.store import Project

    n = 100_000
    data = GraphData()
    data.set_nodes(list(range(1, n + 1)), [f"n{i}" for i in range(n)], [None] * n)
    data.pos = np.random.default_rng(1).random((n, 2)) * 300
    threads = []

    def recording_save(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        save_positions(*args, **kwargs)

    monkeypatch.setattr(canvas_module, "save_positions", recording_save)
    with Project.create(tmp_path / "big.kgs") as project:
        saver = PositionSaver(delay_ms=10)
        saver.set_project(project)
        data.pos[5] = (-1.0, -2.0)  # a drag
        with qtbot.waitSignal(saver.saved, timeout=30_000):
            saver.schedule(data)
        assert threads and threads[0] is not threading.main_thread()
        ids, pos = load_positions(project)  # type: ignore[misc]
        assert len(ids) == n and tuple(pos[5]) == (-1.0, -2.0)
        # A change still waiting when the project closes is written before it does.
        data.pos[6] = (7.0, 8.0)
        saver.schedule(data)
        saver.set_project(None)
        assert tuple(load_positions(project)[1][6]) == (7.0, 8.0)  # type: ignore[index]


def _dense_graph(n: int, seed: int = 2) -> GraphData:
    """A big graph as a spring layout leaves it: a grid of nodes, 95% of the edges between neighbours."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    src = rng.integers(0, n, 2 * n)
    step = np.where(rng.random(2 * n) < 0.5, rng.integers(1, 4, 2 * n), side + rng.integers(-2, 3, 2 * n))
    dst = np.where(rng.random(2 * n) < 0.95, np.clip(src + step, 0, n - 1), rng.integers(0, n, 2 * n))
    data = GraphData()
    data.set_nodes(list(range(1, n + 1)), [f"n{i}" for i in range(n)], [("A", "B", None)[i % 3] for i in range(n)])
    statuses = ("accepted", "accepted", "candidate", "inferred")
    data.set_edges([(k + 1, int(a) + 1, int(b) + 1, "p", statuses[k % 4], None)
                    for k, (a, b) in enumerate(zip(src.tolist(), dst.tolist()))])
    k = np.arange(n)
    data.pos = np.stack([k % side, k // side], axis=1) + rng.normal(0, 0.3, (n, 2))
    return data


def test_a_dense_view_leaves_out_hidden_edges_and_looks_the_same(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from kgstudio.gui import graph_layer

    canvas = GraphCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(600, 450)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.set_graph(_dense_graph(60_000))

    def picture() -> np.ndarray:
        canvas.layer.invalidate()
        canvas.layer.last_render.pop("aggregated", None)
        image = grab(canvas).convertToFormat(QImage.Format.Format_RGB32)
        return np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1)[:, :image.width()].copy()

    def every_edge_drawn() -> np.ndarray:
        with monkeypatch.context() as patch:
            patch.setattr(graph_layer, "OCCLUDED_EDGE", 0)
            patch.setattr(graph_layer, "SATURATED", float("inf"))
            return picture()

    fit = picture()
    render = dict(canvas.layer.last_render)
    assert render["dense"] and render["edges"] == canvas.graph.edge_count  # type: ignore[union-attr]
    # Most edges lie under node squares or in the aggregate of long ones: far fewer drawn one by one...
    assert render["edges_drawn"] < render["edges"] / 5 and render.get("aggregated", 0) > 0
    # ...and the picture is the one drawing every edge gives, to a few pixels in 270,000.
    exact = every_edge_drawn()
    assert (fit != exact).sum() <= fit.size * 0.0005
    assert (exact != exact[0, 0]).sum() > fit.size * 0.3  # (a real picture, not an empty one)
    # Zoomed in, edges thin out: none aggregated, and again the same picture as every edge drawn.
    canvas.center_on(canvas.graph.node_count // 2)  # type: ignore[union-attr]
    close = picture()
    assert "aggregated" not in canvas.layer.last_render
    assert (close != every_edge_drawn()).sum() <= close.size * 0.0005


def test_ctrl_c_in_the_middle_of_a_paint_closes_the_window_after_the_paint(
        shown: MainWindow, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Python runs a SIGINT handler between any two bytecodes, so Ctrl+C can land inside the canvas's paint."""
    from kgstudio.gui.app import close_on_interrupt
    from kgstudio.gui.graph_layer import GraphLayer

    render = GraphLayer.render
    interrupted = []

    def render_interrupted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not interrupted:
            interrupted.append(True)
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, before the drawing goes on
        return render(self, *args, **kwargs)

    monkeypatch.setattr(GraphLayer, "render", render_interrupted)
    restore = close_on_interrupt(shown)
    try:
        shown.canvas.layer.invalidate()
        image = grab(shown.canvas)  # pytest-qt fails the test on an exception inside the paint
        assert interrupted
        assert shown.isVisible() and shown.project is not None  # nothing closed under the painter
        assert image.pixelColor(device_point(shown.canvas, 0).toPoint()) != shown.canvas.layer.background
        qtbot.waitUntil(lambda: not shown.isVisible())  # then the window closes, as on its close button
        assert shown.project is None
    finally:
        restore()
