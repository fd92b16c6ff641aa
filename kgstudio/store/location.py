"""Where a project lives, and a look at a file before anything writes to it.

A project is a path to an SQLite file (suffix ``.kgs`` by convention) or any
SQLAlchemy URL (``postgresql+psycopg://...`` for a team). Opening must never
change a file that is not a kgstudio project, so SQLite files are inspected
byte-wise and then through a read-only connection before SQLAlchemy opens
them for writing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, make_url

from kgstudio.errors import ProjectError

SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class ProjectLocation:
    """A project's address: a SQLAlchemy URL, and the file path when it is SQLite."""

    url: URL
    path: Path | None

    @classmethod
    def parse(cls, target: str | Path) -> "ProjectLocation":
        """Accept a file path or a SQLAlchemy URL (``sqlite:///x.kgs``, ``postgresql+psycopg://...``)."""
        text = str(target)
        if "://" in text:
            try:
                url = make_url(text)
            except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
                raise ProjectError(f"{text}: not a valid database URL ({exc})") from None
            if url.get_backend_name() == "sqlite":
                if not url.database or url.database == ":memory:":
                    raise ProjectError(f"{text}: a project needs a file, not an in-memory database")
                return cls.parse(Path(url.database))
            return cls(url, None)
        path = Path(text).expanduser()
        return cls(URL.create("sqlite", database=str(path)), path)

    @property
    def is_sqlite_file(self) -> bool:
        return self.path is not None

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else self.url.render_as_string(hide_password=True)


def read_sqlite_meta(path: Path) -> dict[str, str]:
    """Return the ``kgstudio_meta`` table of an SQLite project file, read-only.

    Raises :class:`ProjectError` naming the file and the problem when it is
    missing, empty, not SQLite, truncated, damaged or not a kgstudio project.
    The file is opened read-only, so it is never modified.
    """
    if not path.exists():
        raise ProjectError(f"{path}: no such project file")
    if path.is_dir():
        raise ProjectError(f"{path}: is a folder, not a kgstudio project file")
    size = path.stat().st_size
    if size == 0:
        raise ProjectError(f"{path}: the file is empty; it is not a kgstudio project")
    with path.open("rb") as handle:
        header = handle.read(100)
    if not header.startswith(SQLITE_HEADER):
        raise ProjectError(f"{path}: not a kgstudio project (the file is not an SQLite database)")
    # With a -wal file the main file may lag behind: a checkpoint cut short (by a full
    # disk, say) can leave its header promising pages that the WAL still holds.
    wal_pending = Path(f"{path}-wal").exists() and Path(f"{path}-wal").stat().st_size > 0
    expected = _expected_size(header)
    if len(header) < 100 or (expected is not None and size < expected and not wal_pending):
        raise ProjectError(
            f"{path}: the project file is truncated ({size:,} bytes; its header says "
            f"{expected or '?':,} bytes); restore it from a backup"
        )
    # Without a -wal file nothing is pending and the main file is complete:
    # immutable=1 reads it without locks or side files. With one (the project
    # is open elsewhere, or a crash left it), mode=ro sees the pending commits.
    mode = "mode=ro" if Path(f"{path}-wal").exists() else "immutable=1"
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
    except sqlite3.Error as exc:
        raise ProjectError(f"{path}: cannot be opened ({exc})") from None
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "kgstudio_meta" not in tables:
            raise ProjectError(f"{path}: not a kgstudio project (an SQLite database without kgstudio's tables)")
        return {key: value for key, value in connection.execute("SELECT key, value FROM kgstudio_meta")}
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"{path}: the project file is damaged ({exc}); restore it from a backup") from None
    finally:
        connection.close()


def _expected_size(header: bytes) -> int | None:
    """File size the SQLite header promises, or None when the header does not say.

    The in-header page count is only valid when the "version-valid-for" number
    (offset 92) equals the change counter (offset 24); see the SQLite file format.
    """
    if len(header) < 100 or header[24:28] != header[92:96]:
        return None
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    return page_size * page_count or None
