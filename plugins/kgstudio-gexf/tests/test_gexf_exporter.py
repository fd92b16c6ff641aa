"""The GEXF exporter, installed next to kgstudio, writes what Gephi's format reader (networkx's here) reads back.

Run after ``pip install plugins/kgstudio-gexf``: the tests export through
kgstudio's registry, so they also prove the entry point is registered.
"""

from __future__ import annotations

import io
from pathlib import Path

import networkx as nx
import pytest

from kgstudio.api import Cancelled, CancelToken, check_plugin
from kgstudio.edit import AddEntity, AddTriple, EditHistory, MergeEntities
from kgstudio.export import export_formats, export_project
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project
from kgstudio_gexf import GexfExporter

HOSTILE = 'Ada "the <first>" & \x00 programmer\nof 1843'
SHOWN = 'Ada "the <first>" & \ufffd programmer of 1843'  # XML cannot hold NUL; names are single-spaced

MESSAGE = """\
From: Ada Lovelace <ada@example.org>
To: Charles Babbage <charles@example.org>
Subject: Notes on the Analytical Engine
Date: Tue, 5 Sep 1843 10:00:00 +0000
Message-ID: <note-g@example.org>

Dear Babbage, the notes are done.
"""


def add_entity(history: EditHistory, name: str, class_name: str | None = None, aliases: list[str] | None = None) -> int:
    record = history.execute(AddEntity(name, class_name, aliases=aliases or []))
    return next(iter(record.changes.keys("entity")))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    project = Project.create(tmp_path / "graph.kgs")
    history = EditHistory(project)
    ada = add_entity(history, HOSTILE, "Person", aliases=["Countess of Lovelace"])
    babbage = add_entity(history, "Charles Babbage", "Person")
    engine = add_entity(history, "Analytical Engine")
    duplicate = add_entity(history, "Analytical engine")
    history.execute(AddTriple(ada, "knows", object_id=babbage, confidence=0.75))
    history.execute(AddTriple(babbage, "designed", object_id=engine))
    history.execute(AddTriple(ada, "born", object_literal="1815-12-10", datatype="xsd:date"))
    history.execute(AddTriple(ada, "wrote", object_literal="Note G"))
    history.execute(AddTriple(ada, "wrote", object_literal="Note A"))
    history.execute(AddTriple(ada, "motto", object_literal="line one\n\tline two\r\n"))
    history.execute(AddTriple(ada, "admired", object_id=duplicate))
    history.execute(MergeEntities(into_id=engine, from_ids=[duplicate], reason="same engine"))
    return project


def test_the_exporter_fits_the_plugin_contract_and_is_registered() -> None:
    assert check_plugin("exporters", GexfExporter, "gexf") == []
    assert "gexf" in [f.name for f in export_formats()]


def test_nodes_edges_and_attributes_read_back(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "graph.gexf"
    report = export_project(project, "gexf", out)
    assert (report.entities, report.warnings) == (3, [
        "XML cannot hold NUL and other control characters; they were written as U+FFFD"])

    graph = nx.read_gexf(out, version="1.3")
    labels = {data["label"]: node for node, data in graph.nodes(data=True)}
    assert set(labels) == {SHOWN, "Charles Babbage", "Analytical Engine"}
    ada = graph.nodes[labels[SHOWN]]
    assert ada["class"] == "Person" and ada["aliases"] == '["Countess of Lovelace"]'
    assert ada["born"] == "1815-12-10" and ada["wrote"] == '["Note G", "Note A"]'
    assert ada["motto"] == "line one\n\tline two\r\n"
    assert ada["iri"].startswith(project.base_iri)

    edges = {(graph.nodes[s]["label"], d["label"], graph.nodes[t]["label"], d["weight"])
             for s, t, d in graph.edges(data=True)}
    assert edges == {
        (SHOWN, "knows", "Charles Babbage", 0.75),
        ("Charles Babbage", "designed", "Analytical Engine", 1.0),
        # the merged duplicate is gone; the edge that pointed at it now points at the survivor
        (SHOWN, "admired", "Analytical Engine", 1.0),
    }
    assert all(d["status"] == "accepted" and d["origin"] == "manual" for _, _, d in graph.edges(data=True))


def test_provenance_from_an_imported_email(tmp_path: Path) -> None:
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "note.eml").write_text(MESSAGE)
    project = Project.create(tmp_path / "mail.kgs")
    import_paths(project, [mail])
    stream = io.BytesIO()
    report = export_project(project, "gexf", stream, status="all", provenance=True)
    assert report.target is None and report.entities > 0

    stream.seek(0)
    graph = nx.read_gexf(stream, version="1.3")
    names = {data["label"] for _, data in graph.nodes(data=True)}
    assert {"Ada Lovelace", "Charles Babbage"} <= names
    edges = [d for _, _, d in graph.edges(data=True)]
    assert edges and all(d["origin"] == "header" for d in edges)
    assert all('"message_id"' in d["locators"] or "note-g@example.org" in d["locators"] for d in edges)


def test_a_cancelled_export_leaves_the_old_file(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "graph.gexf"
    out.write_text("previous export")
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        export_project(project, "gexf", out, cancel=cancel)
    assert out.read_text() == "previous export"
    assert not (tmp_path / "graph.gexf.part").exists()
