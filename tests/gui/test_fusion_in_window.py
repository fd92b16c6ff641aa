"""A fusion merge is undone and redone from the window like any other edit (Edit > Undo, Ctrl+Z)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgstudio.gui.main_window import MainWindow
from kgstudio.pipeline.fuse import FusionSettings, run_fusion
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project

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
