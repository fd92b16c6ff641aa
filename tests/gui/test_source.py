"""Select a fact → the inspector lists where it came from → jump to source shows the passage highlighted."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from kgstudio.domain.locators import PdfLocator
from kgstudio.gui.main_window import MainWindow
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project
from tests.gui.conftest import add_cited_triple, wait_for_tasks

pytestmark = pytest.mark.gui


@pytest.fixture
def cv_project(tmp_path: Path, shared_data: Path) -> tuple[Path, int]:
    """John Doe's CV imported, with one extracted fact citing a sentence of it."""
    path = tmp_path / "cv.kgs"
    with Project.create(path) as project:
        import_paths(project, [shared_data / "pdf" / "cv" / "CV_John_Doe.pdf"])
        triple = add_cited_triple(project, "John Doe", "worksFor", "ABC Corp", "ABC Corp, San Francisco, CA")
    return path, triple


def test_selecting_a_fact_lists_its_provenance_and_shows_the_pdf_page(
    window: MainWindow, cv_project: tuple[Path, int], qtbot,  # type: ignore[no-untyped-def]
) -> None:
    path, triple_id = cv_project
    window.open_project(path)
    wait_for_tasks(window, qtbot)
    window.canvas.select_entities([window.graph.node_ids[window.graph.names.index("John Doe")]])  # type: ignore[union-attr]
    assert window.inspector.title.text() == "John Doe"
    rows = window.inspector.evidence_rows()
    assert len(rows) == 1 and rows[0].startswith("CV_John_Doe.pdf, page ") and "ABC Corp, San Francisco, CA" in rows[0]

    window.inspector.source_button.click()
    page = window.source.page
    assert page is not None and not page.image.isNull()
    evidence = window.inspector.current_evidence()
    locator = evidence.locator  # type: ignore[union-attr]
    assert isinstance(locator, PdfLocator) and page.page == locator.page
    # The yellow box is the passage's box from the locator, at the rendering's scale...
    x0, y0, x1, y1 = locator.bbox  # type: ignore[misc]
    assert (page.passage.x(), page.passage.y(), page.passage.right(), page.passage.bottom()) == pytest.approx(  # type: ignore[union-attr]
        (x0 * page.zoom, y0 * page.zoom, x1 * page.zoom, y1 * page.zoom))
    # ...the quoted words are outlined inside it, where PyMuPDF finds them on the page...
    assert page.quotes and all(page.passage.adjusted(-2, -2, 2, 2).contains(q) for q in page.quotes)  # type: ignore[union-attr]
    with pymupdf.open(Path(evidence.document_path)) as document:  # type: ignore[union-attr]
        found = document[locator.page - 1].search_for("ABC Corp, San Francisco, CA")
    assert page.quotes[0].x() == pytest.approx(found[0].x0 * page.zoom, abs=0.5)
    # ...and the highlight is painted on the image: yellow-ish inside the box.
    inside = page.image.pixelColor(page.passage.center().toPoint())  # type: ignore[union-attr]
    assert inside.blue() < inside.red() - 20 or inside.blue() < 200
    assert "CV_John_Doe.pdf" in window.source.caption.text()
    assert not window.docks["source"].isHidden()


def test_an_email_header_fact_shows_the_message_with_its_lines_highlighted(
    window: MainWindow, tmp_path: Path, shared_data: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    window.new_project(tmp_path / "mail.kgs")
    window.import_files([shared_data / "email" / "mbox" / "complex.mbox"])
    wait_for_tasks(window, qtbot)
    graph = window.graph
    assert graph is not None and graph.edge_count > 0
    window.canvas.select_edge(int(graph.edge_alive.nonzero()[0][0]))
    rows = window.inspector.evidence_rows()
    assert rows and rows[0].startswith("complex.mbox")
    window.inspector.show_source()
    assert window.source.highlighted_lines is not None
    start, end = window.source.highlighted_lines
    assert 1 <= start <= end
    assert "background:#fff3a0" in window.source.text.toHtml().replace(" ", "") or \
        "#fff3a0" in window.source.text.toHtml()


def test_an_email_body_fact_highlights_the_body_lines(
    window: MainWindow, tmp_path: Path, shared_data: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "mail.kgs"
    with Project.create(path) as project:
        import_paths(project, [shared_data / "email" / "mbox" / "complex.mbox"])
        add_cited_triple(project, "Jothi", "explains", "MapCompletionEvents", "MapCompletionEvents are generated")
    window.open_project(path)
    wait_for_tasks(window, qtbot)
    window.canvas.select_entities([window.graph.node_ids[window.graph.names.index("Jothi")]])  # type: ignore[union-attr]
    window.inspector.show_source()
    start, end = window.source.highlighted_lines  # type: ignore[misc]
    assert start >= 1 and end >= start
    lines = window.source.text.toPlainText().split("\n")
    marked = [line for line in lines if line[:4].strip().isdigit() and start <= int(line[:4]) <= end]
    assert any("MapCompletionEvents are generated" in line for line in marked)


def test_a_spreadsheet_fact_shows_its_row(
    window: MainWindow, tmp_path: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    sheet = tmp_path / "people.csv"
    sheet.write_text("name,employer,city\nAda Lovelace,Analytical Engines,London\n"
                     "Charles Babbage,Analytical Engines,London\nGrace Hopper,US Navy,Arlington\n")
    window.new_project(tmp_path / "p.kgs")
    window.import_files([sheet])
    wait_for_tasks(window, qtbot)
    with window.project.repositories() as repos:  # type: ignore[union-attr]
        triples = [t for t in repos.graph.triples() if t.object_literal == "US Navy"]
    assert triples
    window.inspector.show_triple(triples[0].id)  # type: ignore[arg-type]
    assert window.inspector.evidence_rows()[0].startswith("people.csv, sheet")
    window.inspector.show_source()
    assert window.source.highlighted_row == 4  # Grace Hopper's row (row 1 is the header)
    table = window.source.table
    row = next(r for r in range(table.rowCount()) if table.verticalHeaderItem(r).text() == "4")
    assert [table.item(row, c).text() for c in range(table.columnCount()) if table.item(row, c)] == \
        ["Grace Hopper", "US Navy", "Arlington"]
