"""The Questions panel and the Ontology menu: competency questions written, imported, proposed, given a checked
SPARQL query, verified on the graph, and a click on one highlights the triples behind its answers.

The model is scripted here (the real one is tested headless in tests/integration/test_contracts_model.py).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit

from kgstudio.gui.main_window import MainWindow
from kgstudio.llm.backend import ChatMessage, Completion
from kgstudio.progress import CancelToken
from tests.gui.conftest import EventLoopProbe, wait_for_tasks

pytestmark = pytest.mark.gui

CV_QUESTIONS = ["Who works for which organisation?", "Which skills does each person have?",
                "Where did each person study?"]
CV_ONTOLOGY = {"classes": [{"name": "Person"}, {"name": "Organization"}, {"name": "Skill"}],
               "properties": [
                   {"name": "worksFor", "kind": "object", "domain": "Person", "range": "Organization"},
                   {"name": "hasSkill", "kind": "object", "domain": "Person", "range": "Skill"},
                   {"name": "studiedAt", "kind": "object", "domain": "Person", "range": "Organization"}]}
QUERY_OF = {"work": ("worksFor", "org"), "skill": ("hasSkill", "skill"), "study": ("studiedAt", "school")}


class ScopeModel:
    """A scripted model for every step of the HyDRA flow, answering from what each prompt asks.

    - proposing CQs: three questions about CVs;
    - deriving an ontology: :data:`CV_ONTOLOGY`;
    - drafting SPARQL: the query for the question's key word, with the prefix the prompt lists;
    - extraction of a chunk of Jane Smith's CV: two good triples, and two that break a contract
      (a predicate outside the ontology; a Skill where the range is an Organization).

    ``seconds`` per answer is spent computing (holding the GIL as a tokenizer would), checking ``cancel``.
    """

    name = "scripted-scope"
    identity = "scripted-scope:v1"

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.asked: list[str] = []
        self.thinking = False  # set when an answer starts

    def chat(self, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0,
             json_schema: dict[str, Any] | None = None, grammar: str | None = None,
             cancel: CancelToken | None = None) -> Completion:
        self.thinking = True
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            if cancel is not None and cancel.cancelled:
                return Completion("", 10, 0, "cancelled")
            sum(i * i for i in range(2000))
        system = messages[0].content
        if system.startswith("You help scope"):
            self.asked.append("propose")
            answer: Any = {"personas": ["recruiter"], "scope": ["jobs", "skills"],
                           "questions": ["Which company does each person work for?", "Which degree does each "
                                         "person hold?", "Which languages does each person speak?"]}
        elif system.startswith("You design a small ontology"):
            self.asked.append("derive")
            answer = CV_ONTOLOGY
        elif system.startswith("You translate a question"):
            self.asked.append("sparql")
            question = messages[-1].content.lower()
            prop, var = next(v for k, v in QUERY_OF.items() if k in question)
            prefix = re.search(rf"(\w+):{prop}\b", system).group(1)  # type: ignore[union-attr]
            answer = {"sparql": f"SELECT ?person ?{var} WHERE {{ ?p {prefix}:{prop} ?o . ?p rdfs:label ?person . "
                                f"?o rdfs:label ?{var} }}"}
        else:
            self.asked.append("extract")
            text = next(m.content for m in reversed(messages) if m.role == "user" and "Text:" in m.content)
            text = text.split("Text:", 1)[1]
            triples = []
            if "Jane Smith" in text and "XYZ Marketing" in text:
                triples = [
                    {"subject": "Jane Smith", "subject_class": "Person", "predicate": "worksFor",
                     "object": "XYZ Marketing", "object_class": "Organization", "evidence": "XYZ Marketing"},
                    {"subject": "Jane Smith", "subject_class": "Person", "predicate": "hasSkill",
                     "object": "Google Analytics", "object_class": "Skill", "evidence": "Google Analytics"},
                    {"subject": "Jane Smith", "predicate": "likes", "object": "Creativity", "evidence": "Creativity"},
                    {"subject": "Jane Smith", "subject_class": "Person", "predicate": "worksFor",
                     "object": "SEO", "object_class": "Skill", "evidence": "SEO"},
                ]
            answer = {"triples": triples}
        return Completion(json.dumps(answer), 100, 40, "stop")

    def close(self) -> None:
        pass


def add_typed(window: MainWindow, qtbot, text: str) -> None:  # type: ignore[no-untyped-def]
    field = window.scope.questions.new_question
    field.setText(text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def click_row(panel: Any, row: int, qtbot) -> None:  # type: ignore[no-untyped-def]
    item = panel.list.topLevelItem(row)
    rect = panel.list.visualItemRect(item)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_done_when_three_cv_questions_an_ontology_extraction_under_contracts_and_verify(
    window: MainWindow, tmp_path: Path, shared_data: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    window.show()
    qtbot.waitExposed(window)
    assert window.new_project(tmp_path / "cv.kgs")
    window.import_files([shared_data / "pdf" / "cv" / "CV_Jane_Smith.pdf"])
    wait_for_tasks(window, qtbot)
    panel, model = window.scope.questions, ScopeModel()
    panel.backend_factory = lambda: model
    window.run_panel.backend_factory = lambda: model
    window.show_panel("questions")
    for text in CV_QUESTIONS:
        add_typed(window, qtbot, text)
    assert [r["text"] for r in panel.rows()] == CV_QUESTIONS
    assert {r["answered"] for r in panel.rows()} == {"no query"}

    # Ontology ▸ Derive from Competency Questions (on a worker), then Draft SPARQL for all three
    window.scope.ontology.derive_action.trigger()
    wait_for_tasks(window, qtbot)
    shown = window.scope.ontology.describe()
    assert "worksFor: Person → Organization" in shown and "studiedAt: Person → Organization" in shown
    panel.list.selectAll()
    panel.buttons["draft"].click()
    wait_for_tasks(window, qtbot)
    assert {r["answered"] for r in panel.rows()} == {"not verified"}
    assert model.asked.count("sparql") == 3

    # Extraction under contracts (the default), from the Run panel
    window.run_panel.run_button.click()
    qtbot.waitUntil(lambda: not window.run_panel.running, timeout=120_000)
    wait_for_tasks(window, qtbot)
    window.show_panel("contracts")
    contracts = window.scope.contracts
    rates = contracts.rates()
    assert rates["predicate_in_ontology"][0] < rates["predicate_in_ontology"][1]
    assert rates["domain_range"][0] < rates["domain_range"][1]
    broken = {(v.subject, v.predicate, v.object, v.rule) for v in contracts.rows()}
    assert ("Jane Smith", "likes", "Creativity", "predicate_in_ontology") in broken
    assert ("Jane Smith", "worksFor", "SEO", "domain_range") in broken

    # Verify: which questions the graph answers, and why
    panel.verify_button.click()
    wait_for_tasks(window, qtbot)
    answered = {r["text"]: r["answered"] for r in panel.rows()}
    assert answered == {CV_QUESTIONS[0]: "✓ answered (1 answer)", CV_QUESTIONS[1]: "✓ answered (1 answer)",
                        CV_QUESTIONS[2]: "✗ unanswered"}
    assert panel.coverage.text() == "Coverage: 2 of 3 questions answered"

    click_row(panel, 0, qtbot)
    graph = window.graph
    assert graph is not None
    highlighted = {(graph.names[graph.src[e]], graph.predicate[e], graph.names[graph.dst[e]])
                   for e in window.canvas.layer.highlighted_edges}
    assert highlighted == {("Jane Smith", "worksFor", "XYZ Marketing")}  # not SEO: that one broke a contract
    assert {graph.names[i] for i in window.canvas.layer.selected_nodes} == {"Jane Smith", "XYZ Marketing"}
    assert "person: Jane Smith, org: XYZ Marketing" in panel.answers.toPlainText()
    assert "Jane Smith —worksFor→ XYZ Marketing" in panel.answers.toPlainText()
    click_row(panel, 2, qtbot)
    assert window.canvas.layer.highlighted_edges == [] and "Not answered" in panel.answers.toPlainText()
    assert window.errors == []  # type: ignore[attr-defined]

    # The verdicts survive reopening: the badges come from the store
    path = window.project.location.path  # type: ignore[union-attr]
    window.close_project()
    assert window.open_project(path)  # type: ignore[arg-type]
    assert [r["answered"] for r in panel.rows()][0] == "✓ answered (1 answer)"
    panel.select_question(panel.rows()[1]["id"])
    assert len(window.canvas.layer.highlighted_edges) == 1


def test_a_query_is_checked_as_it_is_typed_and_a_bad_one_is_not_saved(
    window: MainWindow, graph_project: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    assert window.open_project(graph_project)
    panel = window.scope.questions
    add_typed(window, qtbot, "Where is each organisation headquartered?")
    panel.sparql_edit.setPlainText("SELECT ?o WHERE { ?o kgs:headquarteredIn ?p }")
    qtbot.waitUntil(lambda: panel.check_label.text() != "", timeout=5_000)
    assert "kgs:headquarteredIn is not a term of the ontology" in panel.check_label.text()
    assert panel.save_button.isEnabled()
    panel.save_button.click()
    assert window.errors and "kgs:headquarteredIn is not a term" in window.errors[-1]  # type: ignore[attr-defined]
    assert panel.rows()[0]["answered"] == "no query"  # nothing stored
    panel.sparql_edit.setPlainText("SELECT ?o WHERE { ?o kgs:locatedIn ?p")
    assert panel.check_query().problems[0].startswith("the query does not parse")  # type: ignore[union-attr]
    panel.sparql_edit.setPlainText("SELECT ?org ?place WHERE { ?o kgs:locatedIn ?p . ?o rdfs:label ?org . "
                                   "?p rdfs:label ?place }")
    assert panel.check_query().ok  # type: ignore[union-attr]
    assert panel.check_label.text().startswith("✓ parses; uses kgs:locatedIn, rdfs:label")
    assert panel.save_current()
    assert panel.rows()[0]["answered"] == "not verified" and not panel.save_button.isEnabled()
    panel.verify()
    wait_for_tasks(window, qtbot)
    # the graph says headquarteredIn, which is not locatedIn: unanswered, and the panel says so
    assert panel.rows()[0]["answered"] == "✗ unanswered" and "Not answered" in panel.answers.toPlainText()


def test_import_a_question_file_and_a_file_that_is_not_one(
    window: MainWindow, graph_project: Path, tmp_path: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    assert window.open_project(graph_project)
    panel = window.scope.questions
    add_typed(window, qtbot, "Who works for which organisation?")
    questions = tmp_path / "cqs.txt"
    questions.write_text("# CV questions\n1. Who works for which organisation\n- Where did each person study?\n\n"
                         "* Which skills does each person have?\n", encoding="utf-8")
    added = panel.import_questions(questions)
    assert [q.text for q in added] == ["Where did each person study?", "Which skills does each person have?"]
    assert len(panel.rows()) == 3 and {r["status"] for r in panel.rows()} == {"accepted"}
    binary = tmp_path / "cqs.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    assert panel.import_questions(binary) == []
    assert window.errors == [f"{binary}: cannot read it as text (" + window.errors[0].split("(", 1)[1]]  # type: ignore[attr-defined]
    assert len(panel.rows()) == 3


def test_proposed_questions_are_accepted_rejected_or_deleted_and_cancel_stops_the_model(
    window: MainWindow, graph_project: Path, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    assert window.open_project(graph_project)
    wait_for_tasks(window, qtbot)  # the layout a small graph gets on opening
    panel = window.scope.questions
    slow = ScopeModel(seconds=30)
    panel.backend_factory = lambda: slow
    probe = EventLoopProbe(tmp_path, stall_ms=200).start()
    task = panel.propose("CVs of job candidates")
    assert task is not None and not panel.buttons["propose"].isEnabled()
    try:
        qtbot.waitUntil(lambda: slow.thinking, timeout=30_000)
        probe.count()  # the model is "thinking" from here on
        qtbot.wait(600)
        started = time.monotonic()
        window.task_progress.cancel_button.click()  # the status bar's Cancel
        wait_for_tasks(window, qtbot, timeout=10_000)
    finally:
        stacks = probe.stop()
    assert time.monotonic() - started < 2.0  # the answer in progress was stopped, not waited for
    assert panel.rows() == [] and window.errors == []  # type: ignore[attr-defined]
    latencies = probe.latencies
    assert len(latencies) > 5, (latencies, stacks)
    # the window kept answering while the model "thought"
    assert max(latencies) < 250, f"the event loop stalled for {max(latencies)} ms; the threads then:\n{stacks}"

    panel.backend_factory = lambda: ScopeModel()
    panel.propose("CVs of job candidates")
    wait_for_tasks(window, qtbot)
    rows = panel.rows()
    assert [r["status"] for r in rows] == ["proposed"] * 3
    panel.set_status("accepted", [rows[0]["id"]])
    panel.set_status("rejected", [rows[1]["id"]])
    panel.delete([rows[2]["id"]])
    assert [(r["status"], r["answered"]) for r in panel.rows()] == [("accepted", "no query"),
                                                                    ("rejected", "rejected")]
    assert panel.coverage.text() == "Coverage: 0 of 1 questions answered (1 not verified)"


def test_import_an_ontology_file_and_one_with_errors_only_when_the_user_agrees(
    window: MainWindow, graph_project: Path, shared_data: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    assert window.open_project(graph_project)
    actions = window.scope.ontology
    actions.import_ontology(shared_data / "bench" / "text2kgbench" / "wikidata_tekgen" / "ont_7_space.ttl")
    wait_for_tasks(window, qtbot)
    assert "siteOfAstronomicalDiscovery: Asteroid → Observatory  [object]" in actions.describe()
    dialog = actions.show()  # Ontology ▸ Show Ontology…
    assert dialog is not None and "Asteroid → Observatory" in dialog.findChild(QPlainTextEdit).toPlainText()
    dialog.close()
    asked: list[str] = []
    actions.confirm = lambda text: asked.append(text) or False
    actions.import_ontology(shared_data / "ontologies" / "foaf-0.1.ttl")
    wait_for_tasks(window, qtbot)
    assert "foaf-0.1.ttl has" in asked[0] and "error(s)" in asked[0]
    assert "siteOfAstronomicalDiscovery" in actions.describe()  # declined: the space ontology stays
    # a query is now checked against the imported ontology
    panel = window.scope.questions
    add_typed(window, qtbot, "Which observatory discovered each asteroid?")
    panel.sparql_edit.setPlainText("SELECT ?a WHERE { ?a kgs:worksFor ?o }")
    checked = panel.check_query()  # kgstudio's own prefix went with its default ontology
    assert checked is not None and checked.problems == ["the query does not parse: Unknown namespace prefix : kgs"]
    actions.import_ontology(shared_data / "ontologies" / "no-such.ttl")
    wait_for_tasks(window, qtbot)
    assert window.errors[-1].endswith("no-such.ttl: no such file")  # type: ignore[attr-defined]
