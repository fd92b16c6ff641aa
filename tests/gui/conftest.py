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
