"""A progress line on the terminal (stderr) with ETA; silent when stderr is not a terminal."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


class TerminalProgress:
    """A :class:`kgstudio.progress.Progress` callback that redraws one line."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self._last_draw = 0.0

    def __call__(self, done: int, total: int | None, message: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1 and done != total:
            return
        self._last_draw = now
        elapsed = now - self.started
        eta = ""
        if total and done:
            remaining = elapsed / done * (total - done)
            eta = f" ETA {int(remaining // 60)}:{int(remaining % 60):02d}"
        count = f"[{done}/{total}]" if total else f"[{done}]"
        width = shutil.get_terminal_size((100, 20)).columns
        line = f"{count}{eta} {message}"
        self.stream.write("\r" + line[: width - 1].ljust(width - 1))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
