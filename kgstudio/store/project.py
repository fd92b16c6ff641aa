"""An open project: the engine, its safety checks, transactions and counts."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from kgstudio import __version__
from kgstudio.domain import DocumentStatus, EditState, EntityStatus, Origin, RunStatus, SeedStatus, TripleStatus
from kgstudio.errors import ProjectError, SchemaTooNewError
from kgstudio.store import migrations
from kgstudio.store.location import ProjectLocation, read_sqlite_meta
from kgstudio.store.repositories import Repositories
from kgstudio.store.schema import (
    APPLICATION_NAME,
    SCHEMA_VERSION,
    SQLITE_APPLICATION_ID,
    Base,
    CandidateRow,
    ChunkRow,
    DocumentRow,
    EditLogRow,
    EntityRow,
    Meta,
    RunRow,
    SeedRow,
    SegmentRow,
    TripleRow,
)

PROJECT_SUFFIX = ".kgs"


class Project:
    """A kgstudio project: one SQLite file, or a database behind a SQLAlchemy URL.

    Use :meth:`create` or :meth:`open`, then :meth:`transaction` for changes
    (one writer at a time within a process) and :meth:`read` for queries.
    Graph changes go through :mod:`kgstudio.edit`, never straight to the tables.
    """

    def __init__(self, location: ProjectLocation, engine: Engine) -> None:
        self.location = location
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._write_lock = threading.RLock()
        with self.read() as session:
            self.meta = {row.key: row.value for row in session.scalars(select(Meta))}
        try:
            # Checked again on the live connection: it also sees commits still in the WAL.
            _check_meta(location, self.meta)
        except ProjectError:
            engine.dispose()
            raise

    # --- lifecycle -------------------------------------------------------------

    @classmethod
    def create(cls, target: str | Path, *, base_iri: str | None = None) -> "Project":
        """Create a new, empty project. Refuses to touch anything that already exists."""
        location = ProjectLocation.parse(target)
        project_id = str(uuid.uuid4())
        meta = {
            "application": APPLICATION_NAME,
            "schema_version": str(SCHEMA_VERSION),
            "project_id": project_id,
            "base_iri": base_iri or f"urn:kgstudio:{project_id}:",
            "created_with": __version__,
        }
        if location.path is not None:
            path = location.path
            if path.exists():
                raise ProjectError(f"{path}: already exists; choose another name or open it")
            if not path.parent.is_dir():
                raise ProjectError(f"{path}: the folder {path.parent} does not exist")
        engine = _make_engine(location)
        try:
            if location.path is None and inspect(engine).get_table_names():
                raise ProjectError(f"{location}: the database is not empty; use an empty database")
            if location.path is not None:
                _sqlite_outside_transaction(engine, "PRAGMA journal_mode=WAL",
                                            f"PRAGMA application_id={SQLITE_APPLICATION_ID}")
            with engine.begin() as connection:
                Base.metadata.create_all(connection)
                connection.execute(Meta.__table__.insert(), [{"key": k, "value": v} for k, v in meta.items()])
            _checkpoint(engine, location)
        except BaseException as exc:
            engine.dispose()
            if location.path is not None:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{location.path}{suffix}").unlink(missing_ok=True)
            if isinstance(exc, _STORAGE_ERRORS):
                raise _storage_error(location, "cannot create the project", exc) from None
            raise
        return cls(location, engine)

    @classmethod
    def open(cls, target: str | Path) -> "Project":
        """Open an existing project, migrating an older schema after a backup.

        Raises :class:`ProjectError` (naming the file) for anything that is not
        a readable kgstudio project; such files are left byte-for-byte unchanged.
        """
        location = ProjectLocation.parse(target)
        if location.path is not None:
            meta = read_sqlite_meta(location.path)
            version = _check_meta(location, meta)
            engine = _make_engine(location)
        else:
            engine = _make_engine(location)
            try:
                if not inspect(engine).has_table(Meta.__tablename__):
                    raise ProjectError(f"{location}: not a kgstudio project (no kgstudio tables in the database)")
                with engine.connect() as connection:
                    meta = {row.key: row.value for row in connection.execute(select(Meta))}
                version = _check_meta(location, meta)
            except BaseException as exc:
                engine.dispose()
                if isinstance(exc, DBAPIError):
                    raise _storage_error(location, "cannot open the project", exc) from None
                raise
        try:
            if version < SCHEMA_VERSION:
                _migrate(location, engine, version)
            return cls(location, engine)
        except _STORAGE_ERRORS as exc:  # e.g. a read-only folder, a full disk, a locked file
            engine.dispose()
            raise _storage_error(location, "cannot open the project", exc) from None

    def close(self) -> None:
        """Release the database; for SQLite this also checkpoints the WAL into the file."""
        self._engine.dispose()

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- facts -----------------------------------------------------------------

    @property
    def name(self) -> str:
        if self.location.path is not None:
            return self.location.path.stem
        return self.location.url.database or str(self.location)

    @property
    def base_iri(self) -> str:
        return self.meta["base_iri"]

    @property
    def schema_version(self) -> int:
        return int(self.meta["schema_version"])

    # --- sessions --------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Repositories]:
        """A write transaction: committed when the block ends, rolled back on error.

        Writers take turns across processes, from the transaction's start, so
        what an edit checks cannot change before it writes.
        """
        try:
            with self._write_lock, self._sessions.begin() as session:
                if self.location.path is not None:
                    # SQLite: BEGIN IMMEDIATE takes the file's write lock before the first
                    # read (another process waits, up to the busy timeout).
                    session.connection(execution_options={_SQLITE_BEGIN: "IMMEDIATE"})
                else:
                    # A database server lets other processes write at the same time, and its
                    # default isolation (READ COMMITTED) would let two of them undo the same edit
                    # or overwrite each other's rows between the journal's check and its write.
                    # Locking one meta row makes writers take turns, as SQLite's file lock does.
                    session.execute(select(Meta.key).where(Meta.key == "schema_version").with_for_update())
                yield Repositories(session)
        except OperationalError as exc:
            if _disk_full(exc):
                raise ProjectError(
                    f"{self.location}: the disk is full, so the last change was not saved (the project is "
                    "intact); free some space and run the same command again") from None
            raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries (nothing it changes is committed)."""
        session = self._sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def repositories(self) -> Iterator[Repositories]:
        """Repositories over a read-only session."""
        with self.read() as session:
            yield Repositories(session)

    # --- status ----------------------------------------------------------------

    def counts(self) -> dict[str, Any]:
        """What is in the project, for ``kgstudio status`` and the status bar."""
        with self.read() as s:
            def grouped(column: Any, keys: type) -> dict[str, int]:
                result = {str(key): 0 for key in keys}
                for value, count in s.execute(select(column, func.count()).group_by(column)):
                    result[value] = count
                return result

            def count(row: type, *where: Any) -> int:
                return s.scalar(select(func.count()).select_from(row).where(*where)) or 0

            documents = grouped(DocumentRow.status, DocumentStatus)
            triples_by_status = grouped(TripleRow.status, TripleStatus)
            entities = grouped(EntityRow.status, EntityStatus)
            runs = grouped(RunRow.status, RunStatus)
            # Runs whose process was killed still say "running" until the next run marks them.
            gone = len(Repositories(s).runs.interrupted())
            runs[RunStatus.RUNNING] -= gone
            runs[RunStatus.INTERRUPTED] += gone
            edits = grouped(EditLogRow.state, EditState)
            seeds = grouped(SeedRow.status, SeedStatus)
            failed_candidates = count(CandidateRow, CandidateRow.error.is_not(None))
            return {
                "project": str(self.location),
                "schema_version": self.schema_version,
                "documents": {"total": sum(documents.values()), "by_status": documents},
                "segments": count(SegmentRow),
                "chunks": count(ChunkRow),
                "candidates": {"total": count(CandidateRow), "failed": failed_candidates},
                "entities": {"total": sum(entities.values()), "by_status": entities},
                "triples": {
                    "total": sum(triples_by_status.values()),
                    "by_status": triples_by_status,
                    "by_origin": grouped(TripleRow.origin, Origin),
                },
                "runs": {"total": sum(runs.values()), "by_status": runs},
                "seeds": {"total": sum(seeds.values()), "by_status": seeds},
                "errors": {
                    "documents": documents[DocumentStatus.FAILED],
                    "candidates": failed_candidates,
                    "runs": runs[RunStatus.FAILED],
                },
                "edits": {"undoable": edits[EditState.DONE], "redoable": edits[EditState.UNDONE]},
                "problems": [
                    {"path": d.path, "status": str(d.status), "error": d.error}
                    for d in Repositories(s).documents.problems()
                ],
            }


def default_project_path(name: str | Path) -> Path:
    """``name`` with the ``.kgs`` suffix added when it has none."""
    path = Path(name)
    return path if path.suffix else path.with_suffix(PROJECT_SUFFIX)


def _make_engine(location: ProjectLocation) -> Engine:
    if location.path is None:
        try:
            return create_engine(location.url)
        except (SQLAlchemyError, ImportError) as exc:
            raise ProjectError(f"{location}: cannot use this database ({exc})") from None
    # check_same_thread=False: connections come from a pool and background
    # workers use their own sessions; a connection is never shared concurrently.
    engine = create_engine(location.url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


_SQLITE_BEGIN = "kgstudio_sqlite_begin"


def _sqlite_begin(connection: Any) -> None:
    # pysqlite's own transaction handling is off (see _sqlite_pragmas); SQLAlchemy's
    # "begin" becomes a real BEGIN: DEFERRED for reads (a consistent snapshot),
    # IMMEDIATE for Project.transaction() (the write lock up front).
    mode = connection.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


# What the database, its driver or the file system raise when a project cannot be used.
_STORAGE_ERRORS = (DBAPIError, OSError, sqlite3.Error)


def _storage_error(location: ProjectLocation, doing: str, exc: BaseException) -> ProjectError:
    """A database's refusal (unreachable, no such database, no permission, disk full) as one line for the user."""
    detail = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = " ".join(line.strip() for line in str(detail).splitlines() if line.strip())
    return ProjectError(f"{location}: {doing}: {reason}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The documented SQLAlchemy recipe: let SQLite itself, not the driver, see BEGIN/COMMIT.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a committed review decision survives a power cut, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    # 64 MiB of page cache (SQLite's default is 2 MiB): an import of a million facts inserts into
    # a dozen indexes at random places; with the default cache most of them are read back from the
    # OS for each insert (measured: 20% less CPU for 300,000 facts). Only used as pages are touched.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _check_meta(location: ProjectLocation, meta: dict[str, str]) -> int:
    if meta.get("application") != APPLICATION_NAME:
        raise ProjectError(f"{location}: not a kgstudio project")
    try:
        version = int(meta["schema_version"])
    except (KeyError, ValueError):
        raise ProjectError(f"{location}: the project has no valid schema version; it is damaged") from None
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"{location}: saved by a newer kgstudio (project schema version {version}; "
            f"kgstudio {__version__} reads up to version {SCHEMA_VERSION}); update kgstudio to open it"
        )
    return version


def _migrate(location: ProjectLocation, engine: Engine, version: int) -> None:
    try:
        migrations.pending_steps(version, SCHEMA_VERSION)
    except KeyError as exc:
        engine.dispose()
        raise ProjectError(f"{location}: cannot upgrade this project: {exc.args[0]}") from None
    if location.path is not None:
        migrations.backup_sqlite(location.path, version)
    with engine.begin() as connection:
        migrations.migrate(connection, version, SCHEMA_VERSION)
    _checkpoint(engine, location)


def _checkpoint(engine: Engine, location: ProjectLocation) -> None:
    """Move schema and meta changes from the WAL into the main file.

    Other processes classify a project by reading its main file (see
    ``read_sqlite_meta``), so what makes it a project must not wait in the WAL.
    """
    if location.path is not None:
        _sqlite_outside_transaction(engine, "PRAGMA wal_checkpoint(TRUNCATE)")


def _sqlite_outside_transaction(engine: Engine, *statements: str) -> None:
    """Statements SQLite refuses inside a transaction (journal mode, checkpoints)."""
    connection = engine.raw_connection()
    try:
        for statement in statements:
            connection.driver_connection.execute(statement)
    finally:
        connection.close()


def _disk_full(exc: OperationalError) -> bool:
    """SQLite's SQLITE_FULL, or PostgreSQL's disk_full (SQLSTATE 53100)."""
    original = exc.orig
    return (getattr(original, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or getattr(original, "sqlstate", None) == "53100")
