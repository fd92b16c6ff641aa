"""The Run panel: estimate, run extraction on a worker thread with progress, cancel; the window stays responsive."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from kgstudio.gui.main_window import MainWindow
from kgstudio.llm.backend import Completion
from kgstudio.pipeline.importing import import_paths
from kgstudio.progress import CancelToken
from kgstudio.store import Project
from tests.gui.conftest import EventLoopProbe, wait_for_tasks

pytestmark = pytest.mark.gui

NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b")


class SlowBackend:
    """Takes ``seconds`` per answer (as a model generating tokens would) and links the chunk's first two names.

    It busy-computes in Python instead of sleeping, so the GIL is held as by a real
    tokenizer loop: the window must stay responsive all the same.
    """

    name = "slow"
    identity = "slow-scripted:v1"

    def __init__(self, seconds: float = 0.4) -> None:
        self.seconds = seconds

    def chat(self, messages: list[Any], *, max_tokens: int = 256, temperature: float = 0.0,
             json_schema: dict[str, Any] | None = None, cancel: CancelToken | None = None) -> Completion:
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            if cancel is not None and cancel.cancelled:
                return Completion("", 10, 0, "cancelled")
            sum(i * i for i in range(2000))
        asked = next(m.content for m in reversed(messages) if m.role == "user" and "Text:" in m.content)
        text = asked.split("Text:", 1)[1]
        names = list(dict.fromkeys(NAME.findall(text)))
        triples = []
        if len(names) >= 2:
            sentence = next((s for s in re.split(r"(?<=[.!?])\s+", text) if names[0] in s), names[0])
            triples.append({"subject": names[0], "predicate": "related to", "object": names[1],
                            "evidence": sentence.strip()[:300]})
        return Completion(json.dumps({"triples": triples}), 100, 40, "stop")

    def close(self) -> None:
        pass


@pytest.fixture
def mail_project(tmp_path: Path, shared_data: Path) -> Path:
    path = tmp_path / "mail.kgs"
    with Project.create(path) as project:
        import_paths(project, [shared_data / "pdf" / "cv", shared_data / "email" / "mbox" / "complex.mbox"])
    return path


def test_extraction_runs_in_the_background_and_the_window_stays_responsive(
    window: MainWindow, mail_project: Path, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    window.open_project(mail_project)
    wait_for_tasks(window, qtbot)
    panel = window.run_panel
    panel.backend_factory = lambda: SlowBackend(0.4)
    panel.limit.setValue(5)
    panel.estimate()
    assert panel.estimate_label.text().startswith("5 chunks to extract")

    probe = EventLoopProbe(tmp_path).start()  # counted from the moment the worker reports the run underway
    clicked = time.perf_counter()
    panel.run_button.click()
    click_ms = (time.perf_counter() - clicked) * 1000
    assert panel.running and panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    seen_rate = []
    panel.task.progressed.connect(probe.count)
    panel.task.progressed.connect(lambda *_: seen_rate.append((panel.rate.text(), panel.eta.text())))
    try:
        qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    finally:
        where = probe.stop()
    latencies = probe.latencies
    report = panel.last_report
    assert report is not None and report.chunks == 5 and report.candidates > 0, panel.status.text()
    assert click_ms < 100, f"the Run button's click handler took {click_ms:.0f} ms"
    assert len(latencies) > 50
    assert max(latencies) < 100, f"the event loop stalled for {max(latencies)} ms; the threads then:\n{where}"
    assert any("tokens/s" in rate for rate, _eta in seen_rate) and any("left" in eta for _rate, eta in seen_rate)
    assert panel.status.text().startswith("Extraction done: 5 chunks")
    # The candidates are waiting in the review queue and on the canvas.
    assert 1 <= len(window.review.rows()) <= report.candidates  # one triple may gather several candidates
    assert window.graph.edge_count >= 1  # type: ignore[union-attr]


def test_cancel_stops_the_run_within_a_second(window: MainWindow, mail_project: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.open_project(mail_project)
    wait_for_tasks(window, qtbot)
    panel = window.run_panel
    panel.backend_factory = lambda: SlowBackend(5.0)
    panel.run()
    qtbot.wait(300)
    started = time.monotonic()
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    assert time.monotonic() - started < 2.0
    assert panel.last_report is not None and panel.last_report.cancelled
    assert "cancelled" in panel.status.text()


def test_the_panel_says_what_is_missing(window: MainWindow, tmp_path: Path) -> None:
    panel = window.run_panel
    assert panel.problem() == "open a project first" and not panel.run_button.isEnabled()
    window.new_project(tmp_path / "p.kgs")
    panel.gguf.setChecked(True)
    assert panel.problem() == "choose a GGUF model file" and not panel.run_button.isEnabled()
    panel.server.setChecked(True)
    panel.server_url.setText("http://127.0.0.1:8080/v1")
    panel.server_model.setText("qwen")
    assert panel.problem() is None
    settings = panel.settings()
    assert settings.server_url == "http://127.0.0.1:8080/v1" and settings.server_model == "qwen"


@pytest.mark.model
def test_extraction_with_the_embedded_model(window: MainWindow, tmp_path: Path, shared_data: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cv.kgs"
    with Project.create(path) as project:
        import_paths(project, [shared_data / "pdf" / "cv" / "CV_John_Doe.pdf"])
    window.open_project(path)
    wait_for_tasks(window, qtbot)
    panel = window.run_panel
    panel.limit.setValue(1)
    panel.run()
    qtbot.waitUntil(lambda: not panel.running, timeout=300_000)
    assert panel.last_error is None and panel.last_report is not None, panel.status.text()
    assert panel.last_report.chunks == 1 and panel.last_report.model_calls >= 1
    assert panel.status.text().startswith("Extraction done")


def test_a_model_server_that_is_gone_pauses_the_run_and_says_how_to_resume(  # type: ignore[no-untyped-def]
        window: MainWindow, mail_project: Path, qtbot) -> None:
    from kgstudio.llm.openai_compat import OpenAICompatBackend, OpenAICompatSettings
    from tests.integration.llama_server import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"  # nobody listens there
    window.open_project(mail_project)
    wait_for_tasks(window, qtbot)
    panel = window.run_panel
    panel.backend_factory = lambda: OpenAICompatBackend(OpenAICompatSettings(url, max_retries=1))
    panel.limit.setValue(2)
    panel.run()
    qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
    text = panel.status.text()
    # the same line as `kgstudio extract` prints (tests/integration/test_server_faults.py), not "failed"
    assert text.startswith(f"Extraction paused: {url}/chat/completions: cannot reach the server"), text
    assert "0 of the 2 chunks to do are answered" in text and "run the extraction again to resume" in text
    assert panel.run_button.isEnabled() and panel.last_report is None


def test_opening_a_project_whose_extraction_was_killed_says_run_goes_on(window: MainWindow, tmp_path: Path) -> None:
    import subprocess
    import sys

    from kgstudio.domain import Run
    from kgstudio.store import owners

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # stands for a killed kgstudio
    path = tmp_path / "killed.kgs"
    with Project.create(path) as project, project.transaction() as repos:
        repos.runs.start(Run("extract", owner=owners._owner(child.pid)))
    child.kill()
    child.wait()
    assert window.open_project(path)
    assert "stopped before it ended" in window.run_panel.status.text()
    assert "Run goes on from there" in window.run_panel.status.text()
