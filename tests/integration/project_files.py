"""Looking into a project file from outside, as another process would (plain sqlite3, no kgstudio code)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def read_count(path: Path, sql: str, *, missing_is_zero: bool = False) -> int:
    """The number ``sql`` selects, over a read-only connection.

    With ``missing_is_zero``, a table the writer has not created yet (or a file
    not yet there) reads as 0, for polling a process that is still starting.
    """
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return int(db.execute(sql).fetchone()[0] or 0)
    except sqlite3.OperationalError:
        if missing_is_zero:
            return 0
        raise
    finally:
        db.close()


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check``'s answer: "ok" for a sound file."""
    db = sqlite3.connect(path, timeout=10)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()
