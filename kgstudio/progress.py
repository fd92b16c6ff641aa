"""Progress reporting and cancellation for long work, the same headless and in the GUI.

Long work is a function ``run(inputs, progress, cancel)``: it calls
``progress(done, total, message)`` now and then and checks ``cancel`` often
enough to stop within a second. The CLI shows a terminal bar, the GUI a
progress bar with a Cancel button.
"""

from __future__ import annotations

import threading
from typing import Protocol


class Progress(Protocol):
    def __call__(self, done: int, total: int | None, message: str = "") -> None: ...


def no_progress(done: int, total: int | None, message: str = "") -> None:
    """A progress callback that ignores everything."""


class Cancelled(Exception):
    """Raised by :meth:`CancelToken.raise_if_cancelled`; work stops cleanly, committed work stays."""


class CancelToken:
    """Thread-safe flag a worker polls; the GUI or a signal handler sets it."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()
