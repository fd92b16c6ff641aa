"""Fixtures for the Qt user interface tests (pytest-qt, offscreen).

The platform is set before anything imports Qt, so the tests never open a
real window and run the same on a desktop, in CI and over SSH.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from kgstudio.edit import AddEntity, AddTriple, EditHistory  # noqa: E402
from kgstudio.gui.main_window import MainWindow  # noqa: E402
from kgstudio.store import Project  # noqa: E402


@pytest.fixture
def make_window(qtbot) -> Callable[[], MainWindow]:  # type: ignore[no-untyped-def]
    """Build main windows whose error dialogs are recorded in ``window.errors`` instead of shown."""

    def make() -> MainWindow:
        window = MainWindow()
        window.errors = []  # type: ignore[attr-defined]
        window.show_error = window.errors.append  # type: ignore[method-assign, attr-defined]
        qtbot.addWidget(window)  # closed (and its project closed) when the test ends
        return window

    return make


@pytest.fixture
def window(make_window: Callable[[], MainWindow]) -> MainWindow:
    return make_window()


@pytest.fixture
def graph_project(tmp_path: Path) -> Path:
    """A project made with the core alone: entities "IBM" and "Armonk", and one triple between them."""
    path = tmp_path / "acme.kgs"
    with Project.create(path) as project:
        history = EditHistory(project)
        (ibm,) = history.execute(AddEntity("IBM", class_name="Organization")).changes.entity_ids
        (armonk,) = history.execute(AddEntity("Armonk", class_name="Place")).changes.entity_ids
        history.execute(AddTriple(subject_id=ibm, predicate="headquarteredIn", object_id=armonk))
    return path


def wait_for_tasks(window: MainWindow, qtbot, timeout: int = 120_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until the window's background work (import, layout, extraction, export) has finished."""
    qtbot.waitUntil(lambda: not window.tasks, timeout=timeout)


def add_cited_triple(project: Project, subject: str, predicate: str, obj: str, quote: str,
                     status: str = "candidate", confidence: float | None = 0.8) -> int:
    """Add subject —predicate→ obj as an extracted triple citing ``quote`` in the first chunk that has it.

    This is exactly what extraction records (a candidate with provenance to a chunk and a span),
    made without a model so the GUI tests are fast and exact.
    """
    from sqlalchemy import select

    from kgstudio.store.schema import ChunkRow

    with project.read() as session:
        chunks = session.execute(select(ChunkRow.id, ChunkRow.text).order_by(ChunkRow.id)).all()
    chunk_id, text = next((c for c in chunks if quote in c.text), (None, ""))
    assert chunk_id is not None, f"no chunk quotes {quote!r}"
    start = text.index(quote)
    history = EditHistory(project)
    ids = []
    for name in (subject, obj):
        with project.repositories() as repos:
            found = repos.graph.find_entities(name)
        ids.append(found[0].id if found else
                   next(iter(history.execute(AddEntity(name)).changes.entity_ids)))
    record = history.execute(AddTriple(
        subject_id=ids[0], predicate=predicate, object_id=ids[1], status=status, origin="extracted",
        confidence=confidence, chunk_id=chunk_id, span=(start, start + len(quote))), actor="extraction")
    return next(iter(record.changes.triple_ids))


class EventLoopProbe:
    """How late a 20 ms timer fires on the GUI thread: the event loop's latency, in ms.

    Latencies count from :meth:`count` on (call it once the work under test is
    underway, so starting a thread is not in the window). A watchdog, faulthandler's
    own thread (it needs no GIL), writes every thread's stack whenever the GUI thread
    misses a tick by ``stall_ms``; :meth:`stop` returns what it wrote, so a failure
    names the stall's cause.
    """

    def __init__(self, folder: Path, stall_ms: int = 120) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.latencies: list[float] = []
        self._counting = False
        self._stall = stall_ms / 1000
        self._clock = QElapsedTimer()
        self._stacks = (folder / "stalls.txt").open("w+")
        self._timer = QTimer()
        self._timer.timeout.connect(self._tick)

    def start(self) -> "EventLoopProbe":
        self._clock.start()
        self._last = self._clock.elapsed()
        self._timer.start(20)
        return self

    def count(self, *_: object) -> None:
        self._counting = True

    def stop(self) -> str:
        """Stop; the stacks the watchdog wrote ("" when the loop never stalled)."""
        import faulthandler

        self._timer.stop()
        faulthandler.cancel_dump_traceback_later()
        self._stacks.seek(0)
        stacks = self._stacks.read()
        self._stacks.close()
        return stacks

    def _tick(self) -> None:
        import faulthandler

        now = self._clock.elapsed()
        if self._counting:
            self.latencies.append(now - self._last - 20)
        self._last = now
        faulthandler.dump_traceback_later(self._stall, file=self._stacks)
