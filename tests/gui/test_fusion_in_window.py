"""Fusion from the window: Run > Fuse Entities, the unclear pairs merged or kept apart, all undoable (Ctrl+Z)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgstudio.edit import AddEntity, EditHistory
from kgstudio.gui.fusion_ui import KEPT_APART, MERGED
from kgstudio.gui.main_window import MainWindow
from kgstudio.pipeline.fuse import FusionSettings, run_fusion
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project
from tests.gui.conftest import wait_for_tasks

pytestmark = pytest.mark.gui


def active_names(path: Path) -> set[str]:
    with Project.open(path) as project, project.repositories() as repos:
        return {entity.name for entity in repos.graph.entities()}


def test_a_fusion_merge_undoes_and_redoes_from_the_window(window: MainWindow, tmp_path: Path,
                                                          shared_data: Path) -> None:
    path = tmp_path / "mail.kgs"
    with Project.create(path) as project:
        import_paths(project, [shared_data / "email"])
        report = run_fusion(project, FusionSettings(use_llm=False))
    merged = {member["name"] for plan in report.merges for member in plan.members}
    assert "Gary Gregory" in merged  # merged into "Gary D. Gregory"
    last = report.merges[-1]
    last_names = {member["name"] for member in last.members}
    assert not last_names & active_names(path)

    assert window.open_project(path)
    assert window.undo_action.isEnabled()
    assert f"as '{last.name}'" in window.undo_action.text()  # the menu names the merge it would undo
    window.undo_action.trigger()  # the newest fusion edit: the last merged cluster
    assert last_names <= active_names(path)
    window.redo_action.trigger()
    assert not last_names & active_names(path)


@pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints\(\)|raise\(\)|grabbing the keyboard)")
def test_fuse_from_the_run_menu_then_merge_one_unclear_pair_and_keep_the_other_apart(
        window: MainWindow, tmp_path: Path, shared_data: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mail.kgs"
    with Project.create(path) as project:
        import_paths(project, [shared_data / "email"])
        history = EditHistory(project)
        for name, kind in (("Jon Smith", "Person"), ("John Smith", "Person"),
                           ("University of Oxford", "Organization"), ("Oxford University", "Organization")):
            history.execute(AddEntity(name, class_name=kind))
    assert window.open_project(path)
    window.fusion.rules_action.trigger()  # Run > Fuse Entities Without a Model
    wait_for_tasks(window, qtbot)
    view = window.fusion.view
    assert view is not None and view.isVisible()
    merged = [view.merged.topLevelItem(i).text(0) for i in range(view.merged.topLevelItemCount())]
    assert "Gary D. Gregory" in merged  # a clear case, merged by the run
    assert "Gary Gregory" not in active_names(path)
    graph = window.canvas.graph
    assert graph is not None
    assert "Gary Gregory" not in {name for name, alive in zip(graph.names, graph.node_alive) if alive}  # redrawn
    pairs = {(view.unclear.topLevelItem(i).text(0), view.unclear.topLevelItem(i).text(1)): i
             for i in range(view.unclear.topLevelItemCount())}
    assert set(pairs) == {("Jon Smith", "John Smith"), ("University of Oxford", "Oxford University")}

    assert view.merge(pairs[("Jon Smith", "John Smith")])
    assert view.keep_apart(pairs[("University of Oxford", "Oxford University")])
    assert sorted(view.states) == sorted([MERGED, KEPT_APART])
    assert "John Smith" not in active_names(path) and "Jon Smith" in active_names(path)
    window.fusion.rules_action.trigger()  # fusing again asks about neither pair
    wait_for_tasks(window, qtbot)
    assert window.fusion.view is not None and window.fusion.view.pairs == []

    window.undo_action.trigger()  # the keep-apart decision
    window.undo_action.trigger()  # the user's merge
    assert "John Smith" in active_names(path)


@pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints\(\)|raise\(\)|grabbing the keyboard)")
def test_fuse_with_the_run_panels_model_asks_it_about_the_unclear_pairs(
        window: MainWindow, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "people.kgs"
    with Project.create(path) as project:
        history = EditHistory(project)
        for name in ("Jon Smith", "John Smith"):
            history.execute(AddEntity(name, class_name="Person"))
    assert window.open_project(path)
    assert window.run_panel.problem() is None  # the embedded default model
    window.fusion.with_model_action.trigger()  # Run > Fuse Entities
    wait_for_tasks(window, qtbot, timeout=600_000)
    assert window.errors == []  # type: ignore[attr-defined]
    report = window.fusion.last_report
    assert report is not None and report.questions == 1  # the one unclear pair went to the model
    view = window.fusion.view
    assert view is not None and view.pairs == report.suggestions  # what the model left unsure is listed
