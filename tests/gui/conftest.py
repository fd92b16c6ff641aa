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
