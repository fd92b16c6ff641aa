"""The example plugins work from the window: the Markdown reader imports .md files and the GEXF exporter
is offered by File ▸ Export… and writes through the window's background export."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import networkx as nx
import pytest

from kgstudio import plugins
from kgstudio.edit import AddEntity, AddTriple
from kgstudio.gui.export_dialog import ExportDialog, ExportRequest
from kgstudio.gui.main_window import MainWindow

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


@pytest.fixture
def example_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both example plugins registered as if installed (their sources on sys.path, their entry points added)."""
    monkeypatch.syspath_prepend(str(PLUGINS / "kgstudio-markdown"))
    monkeypatch.syspath_prepend(str(PLUGINS / "kgstudio-gexf"))
    real = plugins.entry_points
    extra = {"kgstudio.readers": [EntryPoint("markdown", "kgstudio_markdown:MarkdownReader", "kgstudio.readers")],
             "kgstudio.exporters": [EntryPoint("gexf", "kgstudio_gexf:GexfExporter", "kgstudio.exporters")]}
    monkeypatch.setattr(plugins, "entry_points", lambda group: [*real(group=group), *extra.get(group, [])])
    yield
    for module in ("kgstudio_markdown", "kgstudio_gexf"):
        sys.modules.pop(module, None)


def test_the_export_dialog_offers_the_plugin_format(example_plugins: None, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = ExportDialog("thesis", tmp_path)
    qtbot.addWidget(dialog)
    labels = [dialog.format.itemText(i) for i in range(dialog.format.count())]
    assert "GEXF (Gephi) (.gexf)" in labels
    dialog.choose("gexf")
    assert dialog.request() == ExportRequest("gexf", tmp_path / "thesis.gexf")


def test_import_markdown_and_export_gexf_from_the_window(example_plugins: None, window: MainWindow, qtbot,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "engine.md").write_text("# The Engine\n\nAda Lovelace wrote about the Analytical Engine.\n")
    assert window.new_project(tmp_path / "notes.kgs")
    window.import_files([notes])
    qtbot.waitUntil(lambda: not window.tasks, timeout=120_000)
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        documents = repos.documents.list()
    assert [(d.kind, d.status) for d in documents] == [("markdown", "imported")]

    ada = window.execute(AddEntity("Ada Lovelace", "Person")).changes.entity_ids  # type: ignore[union-attr]
    engine = window.execute(AddEntity("Analytical Engine")).changes.entity_ids  # type: ignore[union-attr]
    window.execute(AddTriple(subject_id=next(iter(ada)), predicate="describes", object_id=next(iter(engine))))

    out = tmp_path / "notes.gexf"
    window.export(ExportRequest("gexf", out))
    qtbot.waitUntil(lambda: not window.tasks, timeout=120_000)
    assert window.errors == []  # type: ignore[attr-defined]
    graph = nx.read_gexf(out, version="1.3")
    assert [(graph.nodes[s]["label"], d["label"], graph.nodes[t]["label"]) for s, t, d in graph.edges(data=True)] \
        == [("Ada Lovelace", "describes", "Analytical Engine")]
