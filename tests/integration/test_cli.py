"""The kgstudio command as a user runs it: separate processes, real files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kgstudio import __version__
from kgstudio.edit import AddEntity, EditHistory
from kgstudio.store import Project
from tests.conftest import sha256_of


def kgstudio(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kgstudio", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_version() -> None:
    result = kgstudio("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"kgstudio {__version__}"


def test_new_then_status_json_has_zero_counts(tmp_path: Path) -> None:
    assert kgstudio("new", "p.kgs", cwd=tmp_path).returncode == 0
    result = kgstudio("status", "p.kgs", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["documents"]["total"] == status["segments"] == status["chunks"] == 0
    assert status["entities"]["total"] == status["triples"]["total"] == status["candidates"]["total"] == 0
    assert all(v == 0 for v in status["triples"]["by_status"].values())
    assert all(v == 0 for v in status["errors"].values())
    human = kgstudio("status", "p.kgs", cwd=tmp_path)
    assert "Entities  0" in human.stdout


def test_models_lists_the_embedded_model() -> None:
    result = kgstudio("models", "--json")
    assert result.returncode == 0, result.stderr
    models = json.loads(result.stdout)
    embedded = [m for m in models if m["source"] == "embedded"]
    assert embedded and embedded[0]["path"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert embedded[0]["architecture"] == "llama" and embedded[0]["default"] is True
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in kgstudio("models").stdout


def test_models_with_a_bad_path_is_one_clear_error(tmp_path: Path) -> None:
    result = kgstudio("models", str(tmp_path / "nope.gguf"))
    assert result.returncode == 1
    assert result.stderr.strip() == f"kgstudio: error: {tmp_path / 'nope.gguf'}: no such model file"


def _future(path: Path) -> None:
    assert kgstudio("new", str(path)).returncode == 0
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE kgstudio_meta SET value = '7' WHERE key = 'schema_version'")
    connection.close()


def _truncated(path: Path) -> None:
    with Project.create(path) as project:  # big enough to span many pages
        history = EditHistory(project)
        for n in range(40):
            history.execute(AddEntity(f"Entity {n} " + "x" * 200))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("kind, make, message", [
    ("text", lambda p: p.write_text("Dear diary,\n"), "not an SQLite database"),
    ("empty", lambda p: p.write_bytes(b""), "the file is empty"),
    ("truncated", _truncated, "truncated"),
    ("future", _future, "newer kgstudio"),
])
def test_status_on_bad_input_is_one_line_and_leaves_the_file_alone(tmp_path: Path, kind: str, make, message: str) -> None:
    path = tmp_path / f"{kind}.kgs"
    make(path)
    before = sha256_of(path)
    result = kgstudio("status", str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kgstudio: error: {path}: ") and message in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sha256_of(path) == before


def test_edit_undo_redo_log_across_processes(tmp_path: Path) -> None:
    p = str(tmp_path / "p.kgs")
    assert kgstudio("new", p).returncode == 0
    assert "new id 1" in kgstudio("edit", p, "add-entity", "Ada Lovelace", "--class", "Person").stdout
    assert "new id 2" in kgstudio("edit", p, "add-entity", "Charles Babbage").stdout
    added = kgstudio("edit", p, "--reason", "letter of 1843", "add-triple", "1", "knows", "--object", "2")
    assert added.returncode == 0, added.stderr
    triples = json.loads(kgstudio("triples", p, "--json").stdout)
    assert [(t["subject"], t["predicate"], t["object"]) for t in triples] == [("Ada Lovelace", "knows", "Charles Babbage")]

    assert kgstudio("undo", p).stdout.startswith("Undid #3: add triple")
    assert json.loads(kgstudio("triples", p, "--json").stdout) == []
    assert kgstudio("redo", p).stdout.startswith("Redid #3")
    assert len(json.loads(kgstudio("triples", p, "--json").stdout)) == 1

    log = json.loads(kgstudio("log", p, "--json").stdout)
    assert [(e["id"], e["actor"], e["state"]) for e in log] == [(3, "user", "done"), (2, "user", "done"),
                                                              (1, "user", "done")]
    assert log[0]["reason"] == "letter of 1843"
    for _ in range(3):
        assert kgstudio("undo", p).returncode == 0
    nothing = kgstudio("undo", p)
    assert nothing.returncode == 1 and nothing.stderr.strip() == "kgstudio: error: nothing to undo"
    assert json.loads(kgstudio("status", p, "--json").stdout)["edits"] == {"undoable": 0, "redoable": 3}


def test_user_mistakes_in_edits_are_one_line(tmp_path: Path) -> None:
    p = str(tmp_path / "p.kgs")
    kgstudio("new", p)
    result = kgstudio("edit", p, "rename-entity", "42", "Nobody")
    assert result.returncode == 1
    assert result.stderr.strip() == "kgstudio: error: there is no entity with id 42"
    assert kgstudio("new", p).stderr.strip().endswith("already exists; choose another name or open it")


def test_no_display_gives_a_clear_error_instead_of_a_crash(tmp_path: Path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                                         "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "kgstudio"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("kgstudio: error: ") and "display" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_user_gguf_is_remembered_listed_and_made_default(tmp_path: Path) -> None:
    from tests.unit.llm.test_models import make_gguf

    folder = tmp_path / "my-models"
    folder.mkdir()
    model = make_gguf(folder / "tiny.gguf", "My Tiny Model")
    assert kgstudio("models", "--add", str(folder)).returncode == 0
    listed = {m["name"]: m for m in json.loads(kgstudio("models", "--json").stdout)}
    assert listed["My Tiny Model"]["source"] == "settings" and listed["My Tiny Model"]["default"] is False
    assert kgstudio("models", "--default", str(model)).returncode == 0
    listed = {m["name"]: m for m in json.loads(kgstudio("models", "--json").stdout)}
    assert listed["My Tiny Model"]["default"] is True
    assert not any(m["default"] for name, m in listed.items() if name != "My Tiny Model")
    bad = kgstudio("models", "--default", str(tmp_path / "x.txt"))
    assert bad.returncode == 1 and "no such model file" in bad.stderr


@pytest.mark.model
def test_models_check_runs_the_embedded_model() -> None:
    result = kgstudio("models", "--check")
    assert result.returncode == 0, result.stderr
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in result.stdout
    assert "answered" in result.stdout and "tokens/s" in result.stdout


def test_a_project_path_alone_means_open_it_in_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The .desktop file runs `kgstudio %F`: a bare path opens the GUI on it."""
    import kgstudio.gui.app as gui_app
    from kgstudio.cli.main import main

    opened = []
    monkeypatch.setattr(gui_app, "run_gui", lambda project=None: opened.append(project) or 0)
    assert main(["thesis.kgs"]) == 0
    assert main([]) == 0
    assert main(["gui", "other.kgs"]) == 0
    assert opened == ["thesis.kgs", None, "other.kgs"]


def test_output_cut_short_by_its_reader_ends_quietly(tmp_path: Path) -> None:
    # `kgstudio triples P | head -1`: the reader leaves after one line; no traceback, the shell's 141.
    rows = "\n".join(f"Person {i},Town {i % 50},{1900 + i % 100}" for i in range(3000))
    (tmp_path / "people.csv").write_text("name,town,born\n" + rows + "\n", encoding="utf-8")
    assert kgstudio("new", "p.kgs", cwd=tmp_path).returncode == 0
    assert kgstudio("import", "p.kgs", "people.csv", cwd=tmp_path).returncode == 0
    reader = subprocess.Popen([sys.executable, "-m", "kgstudio", "triples", "p.kgs"], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.readline()
    reader.stdout.close()  # far more than a pipe's buffer is still to come
    errors = reader.stderr.read().decode()
    assert reader.wait(timeout=120) == 141 and "Traceback" not in errors and "BrokenPipe" not in errors, errors
