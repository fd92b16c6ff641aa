"""The Contracts panel: per extraction run, each rule's pass rate and the candidates that broke a rule; a click
selects what the candidate names on the canvas and shows the page it came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from kgstudio.gui.main_window import MainWindow
from kgstudio.llm.backend import ChatMessage, Completion
from tests.gui.conftest import wait_for_tasks
from tests.gui.test_cq_panel import ScopeModel

pytestmark = pytest.mark.gui


class CvModel(ScopeModel):
    """:class:`ScopeModel`, and for John Doe's CV one good triple and one with a vague subject ("he"), twice."""

    def chat(self, messages: list[ChatMessage], **options: Any) -> Completion:
        asked = next((m.content for m in reversed(messages) if m.role == "user" and "Text:" in m.content), "")
        if "John Doe" in asked and "ABC Corp" in asked:
            return Completion(json.dumps({"triples": [
                {"subject": "John Doe", "subject_class": "Person", "predicate": "worksFor", "object": "ABC Corp",
                 "object_class": "Organization", "evidence": "ABC Corp"},
                {"subject": "he", "predicate": "worksFor", "object": "ABC Corp", "evidence": "ABC Corp"},
                {"subject": "he", "predicate": "worksFor", "object": "ABC Corp", "evidence": "ABC Corp"}]}),
                100, 40, "stop")
        return super().chat(messages, **options)


def extract(window: MainWindow, qtbot, *files: Path) -> None:  # type: ignore[no-untyped-def]
    window.import_files(list(files))
    wait_for_tasks(window, qtbot)
    window.run_panel.backend_factory = CvModel
    window.run_panel.run_button.click()
    qtbot.waitUntil(lambda: not window.run_panel.running, timeout=120_000)
    wait_for_tasks(window, qtbot)


def test_pass_rates_per_rule_per_run_and_the_violations_behind_them(
    window: MainWindow, tmp_path: Path, shared_data: Path, qtbot,  # type: ignore[no-untyped-def]
) -> None:
    window.show()
    qtbot.waitExposed(window)
    assert window.new_project(tmp_path / "cv.kgs")
    panel = window.scope.contracts
    window.show_panel("contracts")
    assert panel.summary.text() == "No extraction under contracts yet." and not panel.run_choice.isEnabled()
    cv = shared_data / "pdf" / "cv"
    extract(window, qtbot, cv / "CV_Jane_Smith.pdf")
    project = window.project
    assert project is not None
    with project.repositories() as repos:
        (first,) = repos.contracts.pass_rates()
        stored = repos.contracts.pass_rates(first)[first]
        failed = repos.contracts.failures(first)
    assert panel.run_id == first and panel.rates() == stored  # what the store says, rule by rule
    assert sum(v.times for v in panel.rows()) == len(failed)  # repeats listed once, counted
    broken = {(v.subject, v.predicate, v.object, v.rule) for v in panel.rows()}
    assert ("Jane Smith", "likes", "Creativity", "predicate_in_ontology") in broken
    assert ("Jane Smith", "hasSkill", "Google Analytics", "predicate_in_ontology") in broken  # not in the default
    assert f"{len(failed):,} rule violations kept out of the graph" in panel.summary.text()
    worst = panel.rules.topLevelItem(0)
    assert worst.text(0) == "predicate_in_ontology" and worst.text(1).endswith("%") and worst.text(1) != "100%"

    # A click on a violation: the entity it names is selected and its page shown in the Source panel
    likes = next(k for k, v in enumerate(panel.rows()) if v.predicate == "likes")
    panel.choose(likes)
    graph = window.graph
    assert graph is not None
    assert [graph.names[i] for i in window.canvas.layer.selected_nodes] == ["Jane Smith"]  # "Creativity" never
    assert window.inspector.title.text().startswith("Jane Smith")                          # became an entity
    assert window.source.page is not None and "CV_Jane_Smith.pdf" in window.source.caption.text()

    # A second run: newest first in the run list; each run keeps its own figures
    extract(window, qtbot, cv / "CV_John_Doe.pdf")
    assert panel.run_choice.count() == 2 and panel.run_id is not None and panel.run_id > first
    second = [(v.subject, v.rule, v.times) for v in panel.rows()]
    assert second == [("he", "names_normalised", 2)]  # listed once, counted twice
    assert panel.rates()["names_normalised"] == (1, 3)
    panel.show_run(first)
    assert panel.rates() == stored
    # choosing a rule lists only its violations
    panel.rules.setCurrentItem(panel.rules.findItems("predicate_in_ontology", Qt.MatchFlag.MatchExactly)[0])
    assert panel.rows() and {v.rule for v in panel.rows()} == {"predicate_in_ontology"}
    assert window.errors == []  # type: ignore[attr-defined]
