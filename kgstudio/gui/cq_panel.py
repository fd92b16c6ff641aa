"""The Questions panel: the competency questions (HyDRA), their SPARQL, and which ones the graph answers.

A competency question (CQ) says what the graph must be able to answer. The
panel lists them with a badge (answered, with the answer count / unanswered /
no query / not verified yet) and the coverage at a glance; the user adds,
edits, deletes, imports (a text file, one question a line), and accepts or
rejects the ones the model proposed. The model's work — proposing questions,
drafting a question's SPARQL — and verification run on a worker thread
(:meth:`MainWindow.start_task`, with progress and Cancel). A query the user
types is checked as they type: it must parse and use only ontology terms.
Clicking a question emits :attr:`CqPanel.triples_chosen` with the triples
that support its answers, which the window highlights on the canvas.

CQs are scope, not graph facts: they are stored directly (as ``kgstudio cq``
does), not through edit commands.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFontDatabase
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kgstudio.domain import CompetencyQuestion, Ontology
from kgstudio.gui.tasks import BackgroundTask, Work
from kgstudio.llm.backend import Backend
from kgstudio.ontology.sparql import SparqlCheck, check_sparql, curie
from kgstudio.pipeline import scope
from kgstudio.ontology.owl import default_ontology
from kgstudio.pipeline.extract import ExtractionSettings, make_backend
from kgstudio.pipeline.verify import CqOutcome, VerificationReport, verify_project
from kgstudio.progress import CancelToken
from kgstudio.store import Project

StartTask = Callable[[str, Work, Callable[[Any], None]], BackgroundTask]
ANSWERED, UNANSWERED, MUTED = QColor(30, 130, 60), QColor(190, 40, 40), QColor(120, 120, 120)
CHECK_DELAY_MS = 250  # the query is checked once typing pauses


class CancellableBackend:
    """A backend whose every answer stops when ``cancel`` is set (the scope functions take no token)."""

    def __init__(self, backend: Backend, cancel: CancelToken) -> None:
        self._backend, self._cancel = backend, cancel
        self.name = getattr(backend, "name", "model")

    def chat(self, messages: list[Any], **options: Any) -> Any:
        self._cancel.raise_if_cancelled()
        completion = self._backend.chat(messages, **{**options, "cancel": self._cancel})
        self._cancel.raise_if_cancelled()  # a cancelled answer is cut short: never parse it
        return completion

    def close(self) -> None:
        self._backend.close()


def badge(question: CompetencyQuestion) -> tuple[str, QColor | None]:
    """What the list says about a question's last verification, and its colour."""
    if question.status == "rejected":
        return "rejected", MUTED
    last = question.last_answer[-1] if question.last_answer else None
    if not question.sparql:
        return "no query", MUTED
    if not last:
        return "not verified", MUTED
    if last.get("answered"):
        count = int(last.get("count") or 0)
        return f"✓ answered ({count} answer{'s' if count != 1 else ''})", ANSWERED
    return "✗ unanswered", UNANSWERED


def read_ontology(project: Project) -> Ontology:
    """The ontology extraction will use: the project's, or kgstudio's default (not stored: opening writes nothing)."""
    with project.repositories() as repos:
        ontology = Ontology(repos.ontology.classes(), repos.ontology.properties())
    return ontology if ontology.properties else default_ontology()


class CqPanel(QWidget):
    """Competency questions: list with badges, editor with a live SPARQL check, model actions, Verify.

    ``start_task(title, work, done)`` runs work on a worker (the window's,
    which shows it with Cancel). ``model_settings()`` says which model the
    model actions use (the Run panel's choice); tests set
    :attr:`backend_factory` instead (called on the worker thread).
    """

    triples_chosen = Signal(list)  # ids of the triples that support the chosen question's answers
    verified = Signal(object)  # VerificationReport
    message = Signal(str)  # a one-line result for the status bar
    failed = Signal(str)  # an error for the user

    def __init__(self, start_task: StartTask, model_settings: Callable[[], ExtractionSettings] = ExtractionSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cqPanel")
        self._start_task = start_task
        self.model_settings = model_settings
        self.backend_factory: Callable[[], Backend] | None = None
        self._project: Project | None = None
        self._ontology: Ontology | None = None  # read when first needed (parsing the default takes ~30 ms)
        self._outcomes: dict[int, CqOutcome] = {}
        self._questions: dict[int, CompetencyQuestion] = {}
        self.task: BackgroundTask | None = None
        self.last_check: SparqlCheck | None = None

        self.coverage = QLabel("")
        self.coverage.setObjectName("cqCoverage")
        font = self.coverage.font()
        font.setBold(True)
        self.coverage.setFont(font)
        self.verify_button = QPushButton("Verify")
        self.verify_button.setToolTip("Run every question's SPARQL on the graph (and validate the SHACL shapes)")
        self.verify_button.clicked.connect(lambda: self.verify())
        self.new_question = QLineEdit()
        self.new_question.setPlaceholderText("Type a competency question and press Enter, e.g. Who works for "
                                             "which organisation?")
        self.new_question.returnPressed.connect(self._add_typed)
        self.list = QTreeWidget()
        self.list.setObjectName("cqList")
        self.list.setHeaderLabels(["Question", "Status", "Answered"])
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        header = self.list.header()
        header.setStretchLastSection(False)  # the question gets the room; status and badge their width
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemClicked.connect(lambda item, _column: self._show_support(item))
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, text, tip, slot in (
            ("import", "Import…", "add the questions of a text file (one a line, # comments)", self._ask_import),
            ("propose", "Propose CQs…", "let the model propose questions from a description and sample chunks",
             self._ask_propose),
            ("accept", "Accept", "accept the selected proposed questions", lambda: self.set_status("accepted")),
            ("reject", "Reject", "reject the selected questions (verification skips them)",
             lambda: self.set_status("rejected")),
            ("delete", "Delete", "delete the selected questions", lambda: self.delete()),
            ("draft", "Draft SPARQL", "let the model write the query of the selected questions (or of every "
             "question without one)", lambda: self.draft_sparql()),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.coverage, 1)
        top.addWidget(self.verify_button)
        left_layout.addLayout(top)
        left_layout.addWidget(self.new_question)
        left_layout.addWidget(self.list, 1)
        left_layout.addLayout(row)

        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("the question")
        self.sparql_edit = QPlainTextEdit()
        self.sparql_edit.setObjectName("cqSparql")
        self.sparql_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.sparql_edit.setPlaceholderText("SELECT ?person ?org WHERE { ?p kgs:worksFor ?o . "
                                            "?p rdfs:label ?person . ?o rdfs:label ?org }")
        self.check_label = QLabel("")
        self.check_label.setWordWrap(True)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(lambda: self.save_current())
        self.answers = QPlainTextEdit()
        self.answers.setObjectName("cqAnswers")
        self.answers.setReadOnly(True)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.check_query)
        self.sparql_edit.textChanged.connect(self._check_timer.start)
        self.text_edit.textChanged.connect(self._update)
        self.sparql_edit.textChanged.connect(self._update)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.text_edit)
        right_layout.addWidget(self.sparql_edit, 2)
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_label, 1)
        check_row.addWidget(self.save_button)
        right_layout.addLayout(check_row)
        right_layout.addWidget(self.answers, 2)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(split)
        self.set_project(None)

    # --- state ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    def set_project(self, project: Project | None) -> None:
        """Show ``project``'s questions (None: an empty, disabled panel)."""
        if project is not self._project:
            self._outcomes, self._ontology = {}, None
        self._project = project
        self.refresh()

    @property
    def ontology(self) -> Ontology:
        """The ontology queries are checked against: the project's, or the default extraction would use."""
        if self._ontology is None:
            self._ontology = read_ontology(self._project) if self._project is not None else Ontology()
        return self._ontology

    def ontology_changed(self) -> None:
        """Forget the ontology read before (after an import or a derivation) and check the query again."""
        self._ontology = None
        self.refresh()
        if self.sparql_edit.toPlainText().strip():
            self.check_query()

    def refresh(self) -> None:
        """Re-read the questions; the selection stays where it was."""
        current = self.current_id()
        before = self._questions.get(current) if current is not None else None
        self.list.blockSignals(True)  # a refresh is not a click: nothing is highlighted
        self.list.clear()
        self._questions = {}
        if self._project is not None:
            with self._project.repositories() as repos:
                questions = repos.questions.list()
            for question in questions:
                self._questions[question.id] = question  # type: ignore[index]
                text, color = badge(question)
                item = QTreeWidgetItem([question.text, question.status, text])
                item.setData(0, Qt.ItemDataRole.UserRole, question.id)
                item.setToolTip(0, question.text)
                if color is not None:
                    item.setForeground(2, QBrush(color))
                if question.status == "rejected":
                    item.setForeground(0, QBrush(MUTED))
                self.list.addTopLevelItem(item)
                if question.id == current:
                    self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._show_coverage()
        if self.current_id() != current or self._questions.get(current) != before:  # type: ignore[arg-type]
            self._show_question(self.current_id())  # (an unchanged one keeps what the user is typing)
        else:
            self._update()

    def rows(self) -> list[dict[str, Any]]:
        """What the list shows, row by row: ``{"id", "text", "status", "answered"}``."""
        return [{"id": item.data(0, Qt.ItemDataRole.UserRole), "text": item.text(0), "status": item.text(1),
                 "answered": item.text(2)}
                for item in (self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount()))]

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def selected_ids(self) -> list[int]:
        ids = [item.data(0, Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]
        return ids or ([self.current_id()] if self.current_id() is not None else [])  # type: ignore[list-item]

    def select_question(self, question_id: int) -> None:
        """Choose a question, as a click does: its details show and its supporting triples are highlighted."""
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == question_id:
                if self.list.currentItem() is item:
                    self._show_support(item)
                else:
                    self.list.setCurrentItem(item)  # shows it and highlights its support
                return

    def supporting_triples(self, question_id: int) -> list[int]:
        """Ids of the triples behind the question's answers at its last verification."""
        outcome = self._outcomes.get(question_id)
        if outcome is not None:
            return [int(t["id"]) for t in outcome.triples]
        question = self._questions.get(question_id)
        last = question.last_answer[-1] if question is not None and question.last_answer else None
        return [int(t) for t in (last or {}).get("triples", [])]

    # --- editing --------------------------------------------------------------------------

    def add_question(self, text: str, sparql: str | None = None) -> CompetencyQuestion | None:
        """Add an accepted question (its SPARQL, when given, must pass the check); None when refused."""
        text = " ".join(text.split())
        if self._project is None or not text:
            return None
        if sparql and not self._accept_query(sparql):
            return None
        with self._project.transaction() as repos:
            existing = [q.text for q in repos.questions.list()]
            if not scope.dedupe_questions([text], existing):
                self.failed.emit(f"“{text}” is already a question (or nearly the same as one)")
                return None
            question = repos.questions.add(CompetencyQuestion(text, sparql.strip() if sparql else None, "accepted"))
        self.refresh()
        self.select_question(question.id)  # type: ignore[arg-type]
        return question

    def import_questions(self, path: str | Path) -> list[CompetencyQuestion]:
        """Add the questions of a text file (one a line, ``#`` comments), skipping near-duplicates."""
        if self._project is None:
            return []
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.failed.emit(f"{path}: cannot read it as text ({getattr(exc, 'strerror', None) or exc})")
            return []
        found = scope.read_questions(text)
        if not found:
            self.failed.emit(f"{path}: no questions in it (one a line; lines starting with # are comments)")
            return []
        with self._project.transaction() as repos:
            existing = [q.text for q in repos.questions.list()]
            added = [repos.questions.add(CompetencyQuestion(t, None, "accepted"))
                     for t in scope.dedupe_questions(found, existing)]
        self.refresh()
        self.message.emit(f"Imported {len(added)} of {len(found)} questions from {path.name}"
                          + (" (the rest were already there)" if len(added) < len(found) else ""))
        return added

    def set_status(self, status: str, ids: list[int] | None = None) -> None:
        """Accept or reject questions (the selected ones by default)."""
        ids = self.selected_ids() if ids is None else ids
        if self._project is None or not ids:
            return
        with self._project.transaction() as repos:
            for question_id in ids:
                question = repos.questions.get(question_id)
                question.status = status
                repos.questions.update(question)
        self.refresh()

    def delete(self, ids: list[int] | None = None) -> None:
        """Delete questions (the selected ones by default)."""
        ids = self.selected_ids() if ids is None else ids
        if self._project is None or not ids:
            return
        with self._project.transaction() as repos:
            for question_id in ids:
                repos.questions.delete(question_id)
        for question_id in ids:
            self._outcomes.pop(question_id, None)
        self.refresh()

    def check_query(self) -> SparqlCheck | None:
        """Check the query in the editor (parses, only ontology terms) and say so under it."""
        self._check_timer.stop()
        query = self.sparql_edit.toPlainText().strip()
        if not query:
            self.last_check = None
            self.check_label.setText("No query: write one, or let the model draft it (Draft SPARQL)."
                                     if self.current_id() is not None else "")
            return None
        self.last_check = check_sparql(query, self.ontology)
        if self.last_check.ok:
            used = sorted(curie(t, self.ontology) for t in self.last_check.terms)
            self.check_label.setText("✓ parses; uses " + (", ".join(used) if used else "no ontology terms"))
            self.check_label.setStyleSheet(f"color: {ANSWERED.name()}")
        else:
            self.check_label.setText("✗ " + "; ".join(self.last_check.problems))
            self.check_label.setStyleSheet(f"color: {UNANSWERED.name()}")
        return self.last_check

    def save_current(self) -> bool:
        """Store the edited text and query of the chosen question; a query that fails the check is refused."""
        question_id = self.current_id()
        if self._project is None or question_id is None:
            return False
        text = " ".join(self.text_edit.text().split())
        query = self.sparql_edit.toPlainText().strip()
        if not text:
            self.failed.emit("a question cannot be empty (Delete removes it)")
            return False
        if query and not self._accept_query(query):
            return False
        with self._project.transaction() as repos:
            question = repos.questions.get(question_id)
            if query != (question.sparql or ""):
                question.last_answer = None  # that answer was to another query
                self._outcomes.pop(question_id, None)
            question.text, question.sparql = text, query or None
            repos.questions.update(question)
        self.refresh()
        self.message.emit("Question saved" + ("; Verify to see whether the graph answers it" if query else ""))
        return True

    # --- the model and verification, on a worker --------------------------------------------

    def propose(self, description: str, count: int = 8, samples: int = 3) -> BackgroundTask | None:
        """Let the model propose questions (stored as *proposed*, for the user to accept or reject)."""
        project = self._project
        if project is None or self._busy():
            return None

        def with_model(backend: Backend, progress, cancel) -> Any:  # type: ignore[no-untyped-def]
            with project.repositories() as repos:
                existing = [q.text for q in repos.questions.list()]
                texts = [t for _, t in zip(range(samples), repos.documents.current_chunk_texts(), strict=False)]
            progress(0, None, "the model is proposing questions")
            proposal = scope.propose_questions(backend, description, texts, count=count, existing=existing)
            cancel.raise_if_cancelled()
            with project.transaction() as repos:
                for text in proposal.questions:
                    repos.questions.add(CompetencyQuestion(text, None, "proposed"))
            return proposal

        def done(proposal: Any) -> None:
            self.refresh()
            found = len(proposal.questions)
            self.message.emit(f"The model proposed {found} new question{'s' if found != 1 else ''}; accept or reject "
                              "each" + (f" (personas: {'; '.join(proposal.personas)})" if proposal.personas else ""))

        return self._run("Proposing questions", self.model_work(with_model), done)

    def draft_sparql(self, ids: list[int] | None = None) -> BackgroundTask | None:
        """Let the model draft the SPARQL of these questions (default: the selected ones, else all without one)."""
        project = self._project
        if project is None or self._busy():
            return None
        chosen = ids if ids is not None else [i for i in self.selected_ids() if i in self._questions]
        questions = [self._questions[i] for i in chosen] if chosen else [
            q for q in self._questions.values() if not q.sparql and q.status != "rejected"]
        if not questions:
            self.message.emit("Every question has a query; select one to redraft it")
            return None
        known = self._ontology

        def with_model(backend: Backend, progress, cancel) -> Any:  # type: ignore[no-untyped-def]
            ontology = known if known is not None else read_ontology(project)
            results: list[tuple[CompetencyQuestion, str, SparqlCheck]] = []
            for k, question in enumerate(questions):
                progress(k, len(questions), question.text)
                query, checked = scope.draft_sparql(backend, question.text, ontology)
                cancel.raise_if_cancelled()
                if checked.ok:
                    with project.transaction() as repos:  # each good draft is kept, even if a later one is cancelled
                        stored = repos.questions.get(question.id)  # type: ignore[arg-type]
                        stored.sparql, stored.last_answer = query, None
                        repos.questions.update(stored)
                results.append((question, query, checked))
            return results

        def done(results: Any) -> None:
            for question, _query, checked in results:
                if checked.ok:
                    self._outcomes.pop(question.id, None)
            self.refresh()
            bad = [(q, c) for q, _, c in results if not c.ok]
            text = f"Drafted {len(results) - len(bad)} of {len(results)} queries"
            if bad:
                text += "; no usable query for " + "; ".join(f"“{q.text}” ({'; '.join(c.problems)})" for q, c in bad)
            self.message.emit(text)

        return self._run("Drafting SPARQL", self.model_work(with_model), done)

    def verify(self) -> BackgroundTask | None:
        """Answer every question on the graph (and validate SHACL shapes) on a worker; the badges follow."""
        project = self._project
        if project is None or self._busy():
            return None

        def work(progress, _cancel) -> VerificationReport:  # type: ignore[no-untyped-def]
            progress(0, None, "answering the competency questions")
            return verify_project(project)

        def done(report: Any) -> None:
            if project is not self._project:
                return
            self._outcomes = {q.id: q for q in report.questions}
            self.refresh()
            self.verified.emit(report)
            shacl = "SHACL: conforms" if report.shacl_conforms else f"SHACL: {report.shacl_total} violation(s)"
            self.message.emit(f"{report.answered} of {len(report.questions)} questions answered; {shacl}")
            current = self.current_id()
            if current is not None:
                self.select_question(current)

        return self._run("Verifying", work, done)

    def model_work(self, with_model: Callable[[Backend, Any, CancelToken], Any]) -> Work:
        """Work that creates the model on the worker thread (it owns it), runs ``with_model``, closes it."""
        factory = self.backend_factory
        settings = self.model_settings() if factory is None else None

        def work(progress, cancel):  # type: ignore[no-untyped-def]
            progress(0, None, "loading the model")
            backend = factory() if factory is not None else make_backend(settings)  # type: ignore[arg-type]
            try:
                return with_model(CancellableBackend(backend, cancel), progress, cancel)  # type: ignore[arg-type]
            finally:
                backend.close()

        return work

    # --- internals ----------------------------------------------------------------------------

    def _run(self, title: str, work: Work, done: Callable[[Any], None]) -> BackgroundTask:
        self.task = self._start_task(title, work, done)
        self.task.finished.connect(self._update)
        self._update()
        return self.task

    def _busy(self) -> bool:
        if self.running:
            self.failed.emit(f"wait until “{self.task.title}” has finished, or cancel it")  # type: ignore[union-attr]
            return True
        return False

    def _accept_query(self, query: str) -> bool:
        checked = check_sparql(query, self.ontology)
        if not checked.ok:
            self.failed.emit("the query cannot be used: " + "; ".join(checked.problems))
        return checked.ok

    def _add_typed(self) -> None:
        if self.add_question(self.new_question.text()) is not None:
            self.new_question.clear()

    def _ask_import(self) -> None:
        folder = self._project.location.path.parent if self._project and self._project.location.path else Path.home()
        path, _ = QFileDialog.getOpenFileName(self, "Import Competency Questions", str(folder),
                                              "Text files (*.txt *.md);;All files (*)")
        if path:
            self.import_questions(path)

    def _ask_propose(self) -> None:
        description, ok = QInputDialog.getMultiLineText(
            self, "Propose Competency Questions",
            "A few words on the domain and who will use the graph, e.g. “CVs of job candidates, read by a\n"
            "recruiter” (the model also reads a few passages of the documents):")
        if ok:
            self.propose(description)

    def _show_coverage(self) -> None:
        if self._project is None:
            self.coverage.setText("No project open")
            return
        active = [q for q in self._questions.values() if q.status != "rejected"]
        if not active:
            self.coverage.setText("No competency questions yet: type one below, import a file or let the model "
                                  "propose some")
            return
        verified = [q for q in active if q.sparql and q.last_answer]
        answered = sum(bool(q.last_answer[-1].get("answered")) for q in verified)  # type: ignore[index]
        text = f"Coverage: {answered} of {len(active)} questions answered"
        if len(verified) < len(active):
            text += f" ({len(active) - len(verified)} not verified)"
        self.coverage.setText(text)

    def _on_current(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        self._show_question(current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None)
        if current is not None:
            self._show_support(current)

    def _show_question(self, question_id: int | None) -> None:
        question = self._questions.get(question_id) if question_id is not None else None
        for widget in (self.text_edit, self.sparql_edit):
            widget.blockSignals(True)
        self.text_edit.setText(question.text if question else "")
        self.sparql_edit.setPlainText(question.sparql or "" if question else "")
        for widget in (self.text_edit, self.sparql_edit):
            widget.blockSignals(False)
        self.check_label.setText("")
        self.check_label.setStyleSheet("")
        if question is not None:
            self._check_timer.start()  # not now: a click must not wait on the SPARQL parser
        self.answers.setPlainText(self._describe_answer(question) if question else "")
        self._update()

    def _show_support(self, item: QTreeWidgetItem) -> None:
        question_id = item.data(0, Qt.ItemDataRole.UserRole)
        self.triples_chosen.emit(self.supporting_triples(question_id))

    def _describe_answer(self, question: CompetencyQuestion) -> str:
        outcome = self._outcomes.get(question.id)  # type: ignore[arg-type]
        last = question.last_answer[-1] if question.last_answer else None
        if outcome is None and last is None:
            return "Not verified yet: press Verify." if question.sparql else ""
        answered = outcome.answered if outcome else bool(last.get("answered"))  # type: ignore[union-attr]
        count = outcome.answer_count if outcome else int(last.get("count") or 0)  # type: ignore[union-attr]
        answers = outcome.answers if outcome else list(last.get("answers") or [])  # type: ignore[union-attr]
        problem = outcome.problem if outcome else last.get("problem")  # type: ignore[union-attr]
        lines = [f"Answered: {count} answer{'s' if count != 1 else ''}" if answered else "Not answered by the graph"]
        if last and last.get("at") and outcome is None:
            lines[0] += f" (verified {last['at']})"
        if problem:
            lines.append(f"Problem: {problem}")
        lines += ["  = " + ", ".join(f"{k}: {v}" for k, v in answer.items()) for answer in answers[:20]]
        if count > len(answers[:20]):
            lines.append(f"  … {count - len(answers[:20])} more")
        if outcome is not None and outcome.triples:
            lines.append(f"Because of {len(outcome.triples)} triple{'s' if len(outcome.triples) != 1 else ''} "
                         "(highlighted on the canvas):")
            lines += [f"  #{t['id']} {t['subject']} —{t['predicate']}→ {t['object']}" for t in outcome.triples[:30]]
        elif last and last.get("triples"):
            lines.append(f"Because of {len(last['triples'])} triple(s), highlighted on the canvas")
        return "\n".join(lines)

    def _update(self) -> None:
        has_project = self._project is not None
        busy = self.running
        chosen = bool(self.list.selectedItems()) or self.current_id() is not None
        statuses = {self._questions[i].status for i in self.selected_ids() if i in self._questions} if chosen else set()
        self.new_question.setEnabled(has_project)
        self.buttons["import"].setEnabled(has_project)
        self.buttons["propose"].setEnabled(has_project and not busy)
        self.buttons["draft"].setEnabled(has_project and not busy and bool(self._questions))
        self.buttons["accept"].setEnabled(chosen and statuses != {"accepted"})
        self.buttons["reject"].setEnabled(chosen and statuses != {"rejected"})
        self.buttons["delete"].setEnabled(chosen)
        self.verify_button.setEnabled(has_project and not busy)
        question = self._questions.get(self.current_id()) if self.current_id() is not None else None  # type: ignore[arg-type]
        self.text_edit.setEnabled(question is not None)
        self.sparql_edit.setEnabled(question is not None)
        edited = question is not None and (" ".join(self.text_edit.text().split()) != question.text
                                           or self.sparql_edit.toPlainText().strip() != (question.sparql or ""))
        self.save_button.setEnabled(edited)

