"""The Run panel: choose a model, see the estimate, run extraction in the background, cancel it.

The model is created on the task's own thread by ``run_extraction`` (a
llama.cpp model is owned by one thread), so the window stays responsive
while it generates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kgstudio.domain import RunStatus
from kgstudio.gui.tasks import BackgroundTask, format_eta
from kgstudio.store import Project, owners

try:  # extraction is built alongside the window; without it the panel says so instead of failing
    from kgstudio.pipeline.extract import ExtractionSettings, estimate_extraction, run_extraction
    from kgstudio.pipeline.seeds import run_seeds

    EXTRACTION_ERROR: str | None = None
except ImportError as exc:  # pragma: no cover - only while the pipeline is incomplete
    ExtractionSettings = estimate_extraction = run_extraction = run_seeds = None  # type: ignore[assignment,misc]
    EXTRACTION_ERROR = f"extraction not available ({exc})"

_RATE = re.compile(r"([\d.]+) tokens/s")


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown until the model has answered once"
    seconds = round(seconds)
    if seconds < 90:
        return f"about {seconds} s"
    if seconds < 5400:
        return f"about {round(seconds / 60)} min"
    return f"about {seconds / 3600:.1f} h"


class RunPanel(QWidget):
    """Extraction settings, estimate, Run/Cancel and live progress.

    :attr:`finished` carries the :class:`ExtractionReport` (or None after an error).
    ``backend_factory`` (tests) replaces the model: called on the worker thread.
    """

    started = Signal()
    finished = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runPanel")
        self._project: Project | None = None
        self.task: BackgroundTask | None = None
        self.backend_factory: Callable[[], Any] | None = None
        self.last_report: Any = None
        self.last_error: str | None = None

        self.embedded = QRadioButton("Embedded model (SmolLM2-135M, installed with kgstudio)")
        self.gguf = QRadioButton("GGUF model file:")
        self.server = QRadioButton("Model server:")
        self.server.setToolTip("an OpenAI-compatible server: llama.cpp server, vLLM, Ollama")
        self.embedded.setChecked(True)
        group = QButtonGroup(self)
        for button in (self.embedded, self.gguf, self.server):
            group.addButton(button)
            button.toggled.connect(self._update)
        self.gguf_path = QLineEdit()
        self.gguf_path.setPlaceholderText("/path/to/model.gguf")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._ask_gguf)
        self.server_url = QLineEdit()
        self.server_url.setPlaceholderText("OpenAI-compatible URL, e.g. http://127.0.0.1:8080/v1")
        self.server_model = QLineEdit()
        self.server_model.setPlaceholderText("model name (as the server knows it)")
        self.gguf_path.textChanged.connect(self._update)
        self.server_url.textChanged.connect(self._update)
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 64)
        self.concurrency.setToolTip("requests in flight (servers only)")
        self.limit = QSpinBox()
        self.limit.setRange(0, 10_000_000)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("extract only the first N chunks (0: all)")

        grid = QGridLayout()
        grid.addWidget(self.embedded, 0, 0, 1, 4)
        grid.addWidget(self.gguf, 1, 0)
        grid.addWidget(self.gguf_path, 1, 1, 1, 2)
        grid.addWidget(browse, 1, 3)
        grid.addWidget(self.server, 2, 0)
        grid.addWidget(self.server_url, 2, 1)
        grid.addWidget(self.server_model, 2, 2, 1, 2)
        grid.addWidget(QLabel("Chunks (0: all):"), 3, 0)
        limits = QHBoxLayout()
        limits.addWidget(self.limit)
        limits.addWidget(QLabel("Requests in flight:"))
        limits.addWidget(self.concurrency)
        limits.addStretch(1)
        grid.addLayout(limits, 3, 1, 1, 3)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 1)

        self.estimate_label = QLabel("")
        self.estimate_label.setWordWrap(True)
        self.estimate_button = QPushButton("Estimate")
        self.run_button = QPushButton("Run Extraction")
        self.cancel_button = QPushButton("Cancel")
        self.estimate_button.clicked.connect(self.estimate)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)  # a paused run's message names the server and how to resume
        self.eta = QLabel("")
        self.rate = QLabel("")
        buttons = QHBoxLayout()
        for widget in (self.estimate_button, self.run_button, self.cancel_button):
            buttons.addWidget(widget)
        buttons.addWidget(self.estimate_label, 1)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 2)
        progress_row.addWidget(self.eta)
        progress_row.addWidget(self.rate)
        progress_row.addWidget(self.status, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addLayout(progress_row)
        layout.addStretch(1)
        self._update()

    # --- state -----------------------------------------------------------------------

    @property
    def available(self) -> bool:
        return EXTRACTION_ERROR is None

    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    def set_project(self, project: Project | None) -> None:
        opened = project is not self._project  # (not a reload of the same project: the last run's words stay)
        self._project = project
        self.estimate_label.setText("")
        if opened and not self.running:
            self.status.setText(unfinished_extraction(project) or "")
            self.status.setToolTip("")
        self._update()

    def settings(self) -> Any:
        """The :class:`ExtractionSettings` the panel describes."""
        limit = self.limit.value() or None
        if self.server.isChecked():
            return ExtractionSettings(server_url=self.server_url.text().strip(),
                                      server_model=self.server_model.text().strip() or None,
                                      concurrency=self.concurrency.value(), limit=limit)
        if self.gguf.isChecked():
            return ExtractionSettings(model_path=Path(self.gguf_path.text().strip()).expanduser(), limit=limit)
        return ExtractionSettings(limit=limit)

    def problem(self) -> str | None:
        """Why Run cannot start now, in words; None when it can."""
        if not self.available:
            return EXTRACTION_ERROR
        if self._project is None:
            return "open a project first"
        if self.gguf.isChecked() and not Path(self.gguf_path.text().strip()).expanduser().is_file():
            return "choose a GGUF model file"
        if self.server.isChecked() and not self.server_url.text().strip().startswith(("http://", "https://")):
            return "enter the server's URL (http://…)"
        return None

    # --- actions -----------------------------------------------------------------------

    def estimate(self) -> None:
        """Show what a run would do (chunks, cached answers, tokens, time) without loading the model."""
        problem = self.problem()
        if problem:
            self.estimate_label.setText(problem)
            return
        try:
            est = estimate_extraction(self._project, self.settings())
        except Exception as exc:  # noqa: BLE001 — shown to the user as one line
            self.estimate_label.setText(f"cannot estimate: {exc}")
            return
        self.last_estimate = est
        self.estimate_label.setText(
            f"{est.chunks:,} chunks to extract ({est.cached:,} answered before), {est.model_calls:,} model calls, "
            f"~{est.prompt_tokens:,} prompt tokens and ~{est.output_tokens:,} generated; "
            f"time: {format_duration(est.seconds)}.")

    def run(self) -> None:
        """Start extraction on a worker thread."""
        problem = self.problem()
        if problem or self.running:
            self.status.setText(problem or "already running")
            return
        project, settings, factory = self._project, self.settings(), self.backend_factory

        def work(progress, cancel):  # type: ignore[no-untyped-def]
            with project.repositories() as repos:
                has_seeds = repos.seeds.count() > 0
            if not has_seeds:  # as `kgstudio build` does: seed concepts steer a small model
                progress(0, None, "finding seed concepts")
                run_seeds(project, cancel=cancel)
            backend = factory() if factory is not None else None
            model = getattr(backend, "identity", None) if backend is not None else None
            return run_extraction(project, settings, progress=progress, cancel=cancel, backend=backend, model=model)

        self.last_report, self.last_error = None, None
        self.task = BackgroundTask("Extraction", work, self)
        self.task.progressed.connect(self._on_progress)
        self.task.succeeded.connect(self._on_done)
        self.task.failed.connect(self._on_failed)
        self.task.finished.connect(self._update)
        self.progress.setRange(0, 0)
        self.status.setText("loading the model…")
        self.eta.setText("")
        self.rate.setText("")
        self.task.start()
        self._update()
        self.started.emit()

    def cancel(self) -> None:
        if self.task is not None and self.task.running:
            self.task.cancel()
            self.status.setText("cancelling (the answer in progress is stopped)…")

    # --- progress ------------------------------------------------------------------------

    def _on_progress(self, done: int, total: int, message: str, eta: float | None) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.status.setText(message)
        self.eta.setText(format_eta(eta))
        match = _RATE.search(message)
        if match:
            self.rate.setText(f"{float(match.group(1)):.0f} tokens/s")

    def _on_done(self, report: Any) -> None:
        self.last_report = report
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.eta.setText("")
        if report.tokens_per_second:
            self.rate.setText(f"{report.tokens_per_second:.0f} tokens/s")
        ending = "cancelled" if report.cancelled else "done"
        self.status.setText(
            f"Extraction {ending}: {report.chunks:,} chunks, {report.candidates:,} candidates, "
            f"{report.failed:,} failed, {report.cached:,} from the cache, in {report.seconds:.0f} s.")
        # The chunks left undone, named (the first in the line, all of them in the tooltip).
        problems = report.problems
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.status.setText(f"{self.status.text()} Not extracted: {problems[0]}{more}")
        self.status.setToolTip("\n".join(problems))
        self.finished.emit(report)

    def _on_failed(self, message: str) -> None:
        self.last_error = message
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        if message.startswith("extraction paused:"):  # RunPausedError: the model server went; Run resumes
            self.status.setText("E" + message[1:])
        else:
            self.status.setText(f"Extraction failed: {message}")
        self.finished.emit(None)

    def _update(self) -> None:
        running = self.running
        problem = self.problem()
        self.run_button.setEnabled(not running and problem is None)
        self.estimate_button.setEnabled(not running and problem is None)
        self.cancel_button.setEnabled(running)
        self.gguf_path.setEnabled(self.gguf.isChecked())
        self.server_url.setEnabled(self.server.isChecked())
        self.server_model.setEnabled(self.server.isChecked())
        self.concurrency.setEnabled(self.server.isChecked())
        if not self.available:
            self.status.setText(EXTRACTION_ERROR or "")

    def _ask_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "GGUF model", str(Path.home()), "GGUF models (*.gguf)")
        if path:
            self.gguf_path.setText(path)
            self.gguf.setChecked(True)


def unfinished_extraction(project: Project | None) -> str | None:
    """What the panel says on opening a project whose last extraction did not end, or None."""
    if project is None:
        return None
    with project.repositories() as repos:
        last = repos.runs.latest_of("extract")
    if last is None:
        return None
    if last.status == RunStatus.INTERRUPTED or (last.status == RunStatus.RUNNING and owners.is_gone(last.owner)):
        return ("The last extraction stopped before it ended (kgstudio was closed or killed); what it finished is "
                "kept, and Run goes on from there.")
    if last.status == RunStatus.PAUSED:  # its message says what failed, what is kept and how to go on
        message = last.message or "extraction paused: the model stopped answering; Run goes on from there"
        return "The last " + message
    return None
