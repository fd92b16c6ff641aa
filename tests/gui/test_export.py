"""File ▸ Export…: every installed exporter is offered; Turtle is written in the background."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from kgstudio.export import export_formats
from kgstudio.gui.export_dialog import ExportDialog
from kgstudio.gui.main_window import MainWindow
from tests.gui.conftest import wait_for_tasks

pytestmark = pytest.mark.gui


def test_the_dialog_lists_every_exporter_and_suggests_a_file(window: MainWindow, tmp_path: Path) -> None:
    dialog = ExportDialog("acme", tmp_path, window)
    names = [dialog.format.itemData(i) for i in range(dialog.format.count())]
    assert names == [f.name for f in export_formats()] and "ttl" in names
    assert dialog.format.currentData() == "ttl"  # Turtle first: what most users want
    assert dialog.request().path == tmp_path / "acme.ttl"
    dialog.choose("graphml")
    assert dialog.request().path.suffix == ".graphml"


def test_export_turtle_from_the_window(window: MainWindow, graph_project: Path, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.open_project(graph_project)
    wait_for_tasks(window, qtbot)
    dialog = ExportDialog("acme", tmp_path, window)
    dialog.provenance.setChecked(True)
    request = dialog.request()
    assert request.status == "accepted" and request.provenance
    window.export(request)
    wait_for_tasks(window, qtbot)
    assert window.errors == []
    graph = rdflib.Graph().parse(tmp_path / "acme.ttl")
    labels = {str(o) for o in graph.objects(predicate=rdflib.RDFS.label)}
    assert {"IBM", "Armonk"} <= labels
    assert "Exported 2 entities and 1 triple to" in window.statusBar().currentMessage()
