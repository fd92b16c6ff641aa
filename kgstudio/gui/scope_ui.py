"""The window's scope and verification part (HyDRA): the Questions and Contracts panels and the Ontology menu.

:func:`install_scope` adds both panels as tabs beside Review and Run, the
Ontology menu before Help, and wires them to the canvas, the inspector and the
Source panel, so the main window only creates it and tells it which project
is open. The Ontology menu imports a Turtle/OWL/RDF file (parsed and
validated on a worker), derives an ontology from the competency questions with
the model (on a worker, validated; one with errors is not stored) and shows or
exports the project's ontology.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QMenu, QMessageBox, QPlainTextEdit, QVBoxLayout

from kgstudio.domain import Ontology
from kgstudio.errors import KgstudioError
from kgstudio.graph.queries import chunk_evidence
from kgstudio.gui.contracts_panel import ContractsPanel, Violation
from kgstudio.gui.cq_panel import CqPanel, read_ontology
from kgstudio.gui.tasks import BackgroundTask
from kgstudio.ontology.owl import load_ontology, write_ontology
from kgstudio.ontology.validate import Problem, errors, validate_ontology
from kgstudio.pipeline import scope
from kgstudio.store import Project

if TYPE_CHECKING:
    from kgstudio.gui.main_window import MainWindow

ONTOLOGY_FILTER = "Ontologies (*.ttl *.owl *.rdf *.xml *.nt *.n3 *.jsonld);;All files (*)"


def describe_ontology(ontology: Ontology, problems: list[Problem]) -> str:
    """Classes (with their superclass) and properties (domain → range), then the validator's findings."""
    lines = [f"{len(ontology.classes)} classes:"]
    lines += [f"  {c.name}" + (f" ⊂ {c.parent}" if c.parent else "")
              + (f"  ({c.label})" if c.label and c.label != c.name else "") for c in ontology.classes]
    lines.append(f"{len(ontology.properties)} properties:")
    lines += [f"  {p.name}: {p.domain or 'anything'} → {p.range or 'anything'}  [{p.kind}"
              + (", functional" if p.functional else "") + "]" for p in ontology.properties]
    if problems:
        lines.append(f"{len(problems)} finding(s):")
        lines += [f"  {p}" for p in problems]
    else:
        lines.append("The validator found no problems.")
    return "\n".join(lines)


class OntologyActions(QObject):
    """The Ontology menu: import, derive from the questions, show, export.

    :attr:`confirm` (``text -> bool``) asks whether to store an imported
    ontology the validator found errors in; tests replace it.
    """

    def __init__(self, window: MainWindow, questions: CqPanel) -> None:
        super().__init__(window)
        self.window, self.questions = window, questions
        self.confirm = lambda text: QMessageBox.question(window, "Import Ontology", text) \
            == QMessageBox.StandardButton.Yes
        self.menu = QMenu("O&ntology", window)
        self.import_action = self.menu.addAction("&Import Ontology…")
        self.import_action.triggered.connect(lambda _checked=False: self._ask_import())
        self.derive_action = self.menu.addAction("&Derive from Competency Questions")
        self.derive_action.triggered.connect(lambda _checked=False: self.derive())
        self.menu.addSeparator()
        self.show_action = self.menu.addAction("&Show Ontology…")
        self.show_action.triggered.connect(lambda _checked=False: self.show())
        self.export_action = self.menu.addAction("&Export Ontology…")
        self.export_action.triggered.connect(lambda _checked=False: self._ask_export())
        self.menu.addSeparator()
        self.menu.addAction("Competency &Questions").triggered.connect(
            lambda _checked=False: window.show_panel("questions"))
        self.menu.addAction("&Contract Results").triggered.connect(lambda _checked=False: window.show_panel("contracts"))
        self.set_project(None)

    def set_project(self, project: Project | None) -> None:
        for action in (self.import_action, self.derive_action, self.show_action, self.export_action):
            action.setEnabled(project is not None)

    def import_ontology(self, path: str | Path, force: bool = False) -> BackgroundTask | None:
        """Read and validate an ontology file on a worker; store it (asking first when it has errors)."""
        project = self.window.project
        if project is None:
            return None
        path = Path(path)

        def work(_progress, _cancel):  # type: ignore[no-untyped-def]
            if not path.is_file():
                raise KgstudioError(f"{path}: no such file")
            ontology = load_ontology(path)
            if not ontology.properties:
                raise KgstudioError(f"{path}: no properties (owl:ObjectProperty, owl:DatatypeProperty, rdf:Property)")
            return ontology, validate_ontology(ontology)

        def done(result: Any) -> None:
            ontology, problems = result
            bad = errors(problems)
            if bad and not force and not self.confirm(
                    f"{path.name} has {len(bad)} error(s), e.g. {bad[0].term}: {bad[0].message}.\n"
                    "Extraction would be bound to it as it is. Import it anyway?"):
                self.window.statusBar().showMessage(f"{path.name} was not imported", 15_000)
                return
            self._store(project, ontology)
            self.window.statusBar().showMessage(
                f"Imported {len(ontology.classes)} classes and {len(ontology.properties)} properties from "
                f"{path.name}" + (f" ({len(problems)} finding(s): Ontology ▸ Show Ontology…)" if problems else ""),
                15_000)

        return self.window.start_task("Importing the ontology", work, done)

    def derive(self) -> BackgroundTask | None:
        """Derive an ontology from the (not rejected) questions with the model; stored when it has no errors."""
        project = self.window.project
        if project is None:
            return None
        with project.repositories() as repos:
            questions = [q.text for q in repos.questions.list() if q.status != "rejected"]
        if not questions:
            self.window.show_error("no competency questions to derive an ontology from: add some first "
                                   "(Questions panel)")
            return None
        namespace = f"{project.base_iri}ontology#"

        def with_model(backend, progress, _cancel):  # type: ignore[no-untyped-def]
            progress(0, None, f"the model is deriving an ontology from {len(questions)} questions")
            return scope.derive_ontology(backend, questions, namespace)

        def done(result: Any) -> None:
            ontology, problems = result
            if errors(problems):
                self.window.show_error("the derived ontology has errors and was not stored: "
                                       + "; ".join(str(p) for p in errors(problems)[:5])
                                       + ". Edit the questions and derive again, or import an ontology.")
                return
            self._store(project, ontology)
            self.window.statusBar().showMessage(
                f"Derived {len(ontology.classes)} classes and {len(ontology.properties)} properties from the "
                "questions (Ontology ▸ Show Ontology…)", 15_000)

        return self.window.start_task("Deriving the ontology", self.questions.model_work(with_model), done)

    def describe(self) -> str:
        """The text Ontology ▸ Show Ontology… shows."""
        project = self.window.project
        if project is None:
            return ""
        ontology = read_ontology(project)
        return describe_ontology(ontology, validate_ontology(ontology))

    def show(self) -> QDialog | None:
        """Ontology ▸ Show Ontology…: the classes and properties, and the validator's findings."""
        if self.window.project is None:
            return None
        dialog = QDialog(self.window)
        dialog.setWindowTitle(f"Ontology of {self.window.project.name}")
        text = QPlainTextEdit(self.describe())
        text.setReadOnly(True)
        text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(text)
        layout.addWidget(buttons)
        dialog.resize(640, 520)
        layout.activate()  # settle the size constraints before the native window exists (as the main window does)
        dialog.open()
        return dialog

    def export(self, path: str | Path) -> None:
        project = self.window.project
        if project is None:
            return
        try:
            write_ontology(read_ontology(project), Path(path), iri=f"{project.base_iri}ontology")
        except (OSError, KgstudioError) as exc:
            self.window.show_error(f"{path}: {exc}")
            return
        self.window.statusBar().showMessage(f"Wrote the ontology to {path}", 15_000)

    def _store(self, project: Project, ontology: Ontology) -> None:
        if project is not self.window.project:
            return  # another project was opened meanwhile
        with project.transaction() as repos:
            repos.ontology.replace(ontology.classes, ontology.properties)
        self.questions.ontology_changed()

    def _ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import Ontology", str(Path.home()), ONTOLOGY_FILTER)
        if path:
            self.import_ontology(path)

    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export Ontology", str(Path.home() / "ontology.ttl"),
                                              "Turtle (*.ttl);;RDF/XML (*.owl *.rdf);;N-Triples (*.nt);;JSON-LD (*.jsonld)")
        if path:
            self.export(path)


class ScopeUi:
    """What :func:`install_scope` added to the window."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.questions = CqPanel(window.start_task, window.run_panel.settings)
        self.contracts = ContractsPanel()
        self.ontology = OntologyActions(window, self.questions)
        self.questions.triples_chosen.connect(self.highlight)
        self.questions.message.connect(lambda text: window.statusBar().showMessage(text, 15_000))
        self.questions.failed.connect(window.show_error)
        self.questions.verified.connect(lambda _report: self.contracts.refresh(window.project))
        self.contracts.violation_chosen.connect(self.show_violation)

    def set_project(self, project: Project | None) -> None:
        """Show ``project``'s questions, contract results and ontology actions (None: none open)."""
        self.questions.set_project(project)
        self.contracts.refresh(project)
        self.ontology.set_project(project)

    def highlight(self, triple_ids: list[int]) -> list[int]:
        """Select these triples and their entities on the canvas (a question's supporting subgraph)."""
        shown = self.window.canvas.select_triples(triple_ids)
        if triple_ids and not shown:
            self.window.statusBar().showMessage("The triples behind this answer are no longer in the graph; "
                                                "Verify again", 10_000)
        return shown

    def show_violation(self, violation: Violation) -> None:
        """Select what a violating candidate names on the canvas, and show the passage it came from."""
        window, graph = self.window, self.window.graph
        if graph is not None:
            nodes = [i for i, name in enumerate(graph.names)
                     if name in (violation.subject, violation.object) and graph.node_alive[i]]
            same = [int(e) for e in graph.incident_edges(nodes).tolist()
                    if graph.predicate[e] == violation.predicate and graph.edge_alive[e]
                    and {graph.names[graph.src[e]], graph.names[graph.dst[e]]} <= {violation.subject, violation.object}]
            if same:
                window.canvas.select_edge(same[0])  # the same fact was accepted from another passage
            else:
                window.canvas.select_nodes(nodes)
        if window.project is not None:
            evidence = chunk_evidence(window.project, violation.chunk_id, violation.span)
            if evidence is not None:
                window.show_source(evidence)


def install_scope(window: MainWindow) -> ScopeUi:
    """Add the Questions and Contracts panels (tabs beside Review and Run) and the Ontology menu to ``window``."""
    ui = ScopeUi(window)
    tab_widget, _review = window.tabs["review"]
    for name, label, panel in (("questions", "Questions", ui.questions), ("contracts", "Contracts", ui.contracts)):
        tab_widget.addTab(panel, label)
        window.tabs[name] = (tab_widget, panel)
    menu_bar = window.menuBar()
    help_action = next((a for a in menu_bar.actions() if a.text().replace("&", "") == "Help"), None)
    if help_action is not None:
        menu_bar.insertMenu(help_action, ui.ontology.menu)
    else:
        menu_bar.addMenu(ui.ontology.menu)
    return ui
