"""Long work off the GUI thread: a function ``work(progress, cancel)`` run on a QThread.

The core's long functions all take a ``progress(done, total, message)``
callable and a :class:`~kgstudio.progress.CancelToken`; :class:`BackgroundTask`
runs one of them on its own thread and brings its progress, result or error
back to the GUI thread as signals, so the window never waits on I/O or a model.
:class:`TaskProgress` is the widget that shows one: a bar, the message, the
time left and a Cancel button.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from kgstudio.errors import KgstudioError
from kgstudio.progress import CancelToken, Cancelled, Progress

Work = Callable[[Progress, CancelToken], Any]


def format_eta(seconds: float | None) -> str:
    """``75`` → "1 min 15 s left"; None (not known yet) → ""."""
    if seconds is None:
        return ""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s left"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s left"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min left"


def estimate_eta(elapsed: float, done: int, total: int | None) -> float | None:
    """Seconds left at the average pace so far; None until there is a pace to go by."""
    if not total or done <= 0 or elapsed <= 0 or done > total:
        return None
    return elapsed / done * (total - done)


Dialog = TypeVar("Dialog", bound="QDialog | None")


def replace_dialog(old: QDialog | None, new: Dialog) -> Dialog:
    """Close and delete ``old`` (a finished task's result window), show ``new`` in front; returns ``new``."""
    if old is not None:
        old.close()
        old.deleteLater()
    if new is not None:
        new.show()
    return new


class _Worker(QObject):
    """Lives on the task's thread; everything it emits is queued to the GUI thread."""

    progressed = Signal(int, int, str)  # done, total (-1 = unknown), message
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()

    def __init__(self, work: Work, cancel: CancelToken) -> None:
        super().__init__()
        self._work, self._cancel = work, cancel
        self._last_emit = 0.0

    def run(self) -> None:
        try:
            result = self._work(self._progress, self._cancel)
        except Cancelled:
            self.cancelled.emit()
        except KgstudioError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 — the user sees the one line; the trace goes to stderr
            traceback.print_exc()
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            if self._cancel.cancelled:
                self.cancelled.emit()
            self.succeeded.emit(result)
        finally:
            self.ended.emit()

    def _progress(self, done: int, total: int | None, message: str = "") -> None:
        # Throttled: a flood of queued signals would itself make the window sluggish.
        now = time.monotonic()
        if now - self._last_emit < 0.05 and (total is None or done < total):
            return
        self._last_emit = now
        self.progressed.emit(done, -1 if total is None else total, message)


class BackgroundTask(QObject):
    """One run of ``work`` on its own QThread.

    Signals (all on the GUI thread): :attr:`progressed` ``(done, total, message,
    eta_seconds)``, then exactly one of :attr:`succeeded` ``(result)``,
    :attr:`failed` ``(message)``; :attr:`cancelled` comes before
    :attr:`succeeded` when the work stopped early and returned what it had, and
    alone when it raised :class:`Cancelled`. :attr:`finished` always comes last.
    """

    progressed = Signal(int, int, str, object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, title: str, work: Work, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.token = CancelToken()
        self._thread = QThread()
        self._thread.setObjectName(f"kgstudio task: {title}")
        self._worker = _Worker(work, self.token)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progressed.connect(self._on_progress)
        self._worker.succeeded.connect(self.succeeded)
        self._worker.failed.connect(self.failed)
        self._worker.cancelled.connect(self.cancelled)
        # Direct: the worker's thread ends its own loop, so wait() from the GUI thread cannot deadlock.
        self._worker.ended.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        self._started = 0.0
        self.running = False

    def start(self) -> None:
        self._started = time.monotonic()
        self.running = True
        self._thread.start()

    def cancel(self) -> None:
        """Ask the work to stop (it finishes the item in hand; what it committed stays)."""
        self.token.cancel()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until the thread ended (for shutdown and tests)."""
        return self._thread.wait(timeout_ms)

    def _on_progress(self, done: int, total: int, message: str) -> None:
        total_or_none = None if total < 0 else total
        eta = estimate_eta(time.monotonic() - self._started, done, total_or_none)
        self.progressed.emit(done, total, message, eta)

    def _on_thread_finished(self) -> None:
        self.running = False
        self.finished.emit()


class TaskProgress(QWidget):
    """Shows the running task: its title and message, a bar, the time left, and Cancel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskProgress")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setMinimumWidth(200)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.eta = QLabel()
        self.cancel_button = QPushButton("Cancel")
        for widget in (self.label, self.bar, self.eta, self.cancel_button):
            layout.addWidget(widget)
        self._task: BackgroundTask | None = None
        self.cancel_button.clicked.connect(self._cancel)
        self.hide()

    def follow(self, task: BackgroundTask) -> None:
        """Show ``task`` until it finishes."""
        self._task = task
        self.label.setText(task.title)
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.eta.setText("")
        self.cancel_button.setEnabled(True)
        task.progressed.connect(lambda *report: self._on_progress(*report) if task is self._task else None)
        task.finished.connect(lambda: self._on_finished(task))
        self.show()

    def _on_progress(self, done: int, total: int, message: str, eta: float | None) -> None:
        if total < 0:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, max(total, 1))
            self.bar.setValue(min(done, max(total, 1)))
        title = self._task.title if self._task else ""
        shown = message if len(message) <= 60 else "…" + message[-59:]
        self.label.setText(f"{title}: {shown}" if shown else title)
        self.eta.setText(format_eta(eta))

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)
            self.eta.setText("cancelling…")

    def _on_finished(self, task: BackgroundTask) -> None:
        if task is not self._task:
            return  # an earlier task ended while a newer one is shown: its Cancel must stay
        self._task = None
        self.hide()
