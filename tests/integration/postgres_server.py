"""A throwaway PostgreSQL server for tests, started from the installed binaries.

Nothing is mocked: this runs Debian's ``postgres`` (package ``postgresql``,
binaries in ``/usr/lib/postgresql/<version>/bin``) in a temporary folder,
listening on 127.0.0.1 on a free port and on a unix socket inside that
folder, with ``trust`` authentication. The Debian-managed cluster/service is
never touched. Everything is stopped and removed on exit, also on failure.

PostgreSQL refuses to run as root. When the tests run as root (containers,
CI), ``initdb`` and ``postgres`` run as the ``postgres`` system user the
Debian package creates, and the temporary folder is handed to that user.

The server is a child of the test process, started with a parent-death
signal (``setpriv --pdeathsig``, util-linux), so even when the test process
dies without cleaning up (a segfault in another test, SIGKILL, a CI timeout)
the server shuts down with it instead of running on; its temporary folder
(``$TMPDIR/kgs-pg-*``) is then removed by the next run.

When the binaries are missing the ``pg_server`` fixture skips its tests with
the reason, unless ``KGSTUDIO_REQUIRE_POSTGRES=1`` (set by CI): then it fails.
``KGSTUDIO_PG_BINDIR`` points at another folder holding ``initdb`` and ``postgres``.

Use in a test module::

    from tests.integration.postgres_server import pg_server, pg_url  # noqa: F401 (fixtures)

    def test_something(pg_url: str) -> None: ...   # a fresh, empty database

Run by hand (``python tests/integration/postgres_server.py``) it starts a
server, prints a URL and waits for Ctrl-C.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "KGSTUDIO_REQUIRE_POSTGRES"
BINDIR_ENV = "KGSTUDIO_PG_BINDIR"
SUPERUSER = "postgres"  # the database role initdb creates (not the OS user)
SERVICE_USER = "postgres"  # the OS user the Debian package creates; used when we are root
DEBIAN_PACKAGE = "postgresql"
FOLDER_PREFIX = "kgs-pg-"

# A throwaway server: durability is not wanted, speed is.
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
    "shared_buffers": "32MB",
    "logging_collector": "off",
    "log_min_messages": "warning",
}


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries (or psycopg) are not installed."""


def require_postgres() -> bool:
    """True when the environment says PostgreSQL tests must run (CI)."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def find_bindir() -> Path:
    """The folder with ``initdb`` and ``postgres`` (newest Debian version first)."""
    needed = ("initdb", "postgres")
    override = os.environ.get(BINDIR_ENV)
    if override:
        folder = Path(override)
        if all(os.access(folder / name, os.X_OK) for name in needed):
            return folder
        # Set on purpose but wrong: an error, not a reason to skip.
        raise RuntimeError(f"{BINDIR_ENV}={override} has no executable {', '.join(needed)}")

    def version(folder: str) -> tuple[int, ...]:
        match = re.search(r"/postgresql/([\d.]+)/bin$", folder)
        return tuple(int(part) for part in match.group(1).split(".") if part) if match else ()

    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all(os.access(Path(candidate, name), os.X_OK) for name in needed):
            return Path(candidate)
    found = [shutil.which(name) for name in needed]
    if all(found):
        return Path(found[1]).resolve().parent  # the real folder, not that of a symlink
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin "
        f"or on PATH; install the Debian package '{DEBIAN_PACKAGE}' (apt-get install -y {DEBIAN_PACKAGE}) "
        f"or set {BINDIR_ENV}"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def remove_stale_folders(parent: Path, min_age_s: float = 900) -> None:
    """Delete folders left by test processes that died (their server died with them, see above).

    A folder is stale when no live process holds its ``postmaster.pid`` and it
    is old enough not to be one that another session is still setting up.
    """
    for folder in parent.glob(f"{FOLDER_PREFIX}*"):
        try:
            if time.time() - folder.stat().st_mtime < min_age_s:
                continue
            pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
        except FileNotFoundError:
            pid = None
        except (OSError, ValueError, IndexError):
            continue
        if pid is not None:
            try:
                os.kill(pid, 0)
                continue  # still running
            except PermissionError:
                continue  # running, as someone else
            except ProcessLookupError:
                pass
        shutil.rmtree(folder, ignore_errors=True)


class PostgresServer:
    """One private PostgreSQL cluster in a temporary folder (see :func:`postgres_server`)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.root: Path | None = None
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # --- paths -----------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None
        return self.root / "socket"

    @property
    def log_file(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    # --- lifecycle -------------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        parent = self._temp_parent()
        remove_stale_folders(Path(parent))
        self.root = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=parent))
        try:
            self.socket_dir.mkdir()
            if self.as_root:
                user = self._service_user()
                for path in (self.root, self.socket_dir):
                    os.chown(path, user.pw_uid, user.pw_gid)
            self._run(
                "initdb", "-D", str(self.data_dir), "--auth=trust", f"--username={SUPERUSER}",
                "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions",
            )
            for attempt in range(5):
                self.port = free_port()
                self._write_settings()
                if self._launch(timeout):
                    return
                if attempt == 4 or "already in use" not in self.log_tail():
                    raise RuntimeError(f"PostgreSQL did not start:\n{self.log_tail()}")
                # the free port was taken in the meantime: try another
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (if running) and delete its folder. Safe to call twice."""
        self._terminate()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    # --- using it ----------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for ``database`` over TCP on 127.0.0.1."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", connect_timeout: int = 10) -> Any:  # a psycopg.Connection
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=database,
                               autocommit=True, connect_timeout=connect_timeout)

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database; returns its name."""
        name = name or f"kgs_{uuid.uuid4().hex[:12]}"
        with self.connect() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with self.connect() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def version_num(self) -> int:
        """The server's ``server_version_num`` (150018 for 15.18)."""
        with self.connect() as connection:
            return int(connection.execute("SHOW server_version_num").fetchone()[0])  # type: ignore[index]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- internals ---------------------------------------------------------------

    def _temp_parent(self) -> str:
        """The system temp folder, or /tmp when the postgres user could not reach it."""
        parent = Path(tempfile.gettempdir()).resolve()
        if not self.as_root:
            return str(parent)
        for folder in (parent, *parent.parents):
            if not folder.stat().st_mode & stat.S_IXOTH:
                return "/tmp"
        return str(parent)

    def _write_settings(self) -> None:
        settings = dict(_SETTINGS, port=str(self.port), unix_socket_directories=f"'{self.socket_dir}'")
        conf = self.data_dir / "postgresql.auto.conf"
        # ALTER SYSTEM's file, read after postgresql.conf; rewritten on each attempt.
        conf.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
        if self.as_root:
            user = self._service_user()
            os.chown(conf, user.pw_uid, user.pw_gid)

    def _service_user(self) -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise RuntimeError(
                f"running as root but there is no '{SERVICE_USER}' system user to run PostgreSQL as "
                f"(the Debian package '{DEBIAN_PACKAGE}' creates it)"
            ) from None

    def _child_options(self) -> dict[str, Any]:
        """Popen arguments: a clean environment, and the postgres user's ids when we are root."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        options: dict[str, Any] = {"cwd": self.root, "env": env, "stdin": subprocess.DEVNULL}
        if self.as_root:
            user = self._service_user()
            options.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        return options

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.bindir / program), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, timeout=120, **self._child_options(),
        )
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed (exit {result.returncode}):\n{result.stdout.strip()}")

    def _launch(self, timeout: float) -> bool:
        """Start the postmaster and wait until it accepts connections; False if it exited instead."""
        import psycopg

        command = [str(self.bindir / "postgres"), "-D", str(self.data_dir)]
        setpriv = shutil.which("setpriv")
        if setpriv and sys.platform.startswith("linux"):
            # Fast shutdown when this process dies (strictly: the thread starting it, here the
            # main thread); setpriv execs, so postgres stays our child and is reaped by stop().
            command = [setpriv, "--pdeathsig", "INT", *command]
        self.log_file.unlink(missing_ok=True)  # the log of this attempt only
        with self.log_file.open("ab") as log:  # the child keeps its own descriptor
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **self._child_options()
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                self._process = None
                return False
            try:
                # Through the socket in our own folder: the server answering is ours.
                psycopg.connect(host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname="postgres",
                                connect_timeout=2).close()
                return True
            except psycopg.OperationalError:  # not up yet
                if time.monotonic() > deadline:
                    self._terminate()
                    raise RuntimeError(f"PostgreSQL did not accept connections within {timeout:.0f} s:\n"
                                       f"{self.log_tail()}") from None
                time.sleep(0.05)

    def _terminate(self) -> None:
        """Fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL; always reaps the process."""
        process, self._process = self._process, None
        if process is None:
            return
        for sig, wait in ((signal.SIGINT, 30), (signal.SIGQUIT, 10), (signal.SIGKILL, 10)):
            if process.poll() is not None:
                return
            try:
                process.send_signal(sig)
                process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a private server; stop it and delete its files when the block ends, however it ends.

    Raises :class:`PostgresUnavailable` when the binaries or psycopg are missing.
    """
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise PostgresUnavailable("psycopg 3 is not installed (pip install 'kgstudio[postgres]')") from None
    server = PostgresServer(find_bindir())
    atexit.register(server.stop)  # also when the interpreter is left without unwinding this block
    try:
        server.start()
        yield server
    finally:
        server.stop()
        atexit.unregister(server.stop)


# --- pytest fixtures -------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One throwaway server for the whole test session."""
    try:
        context = postgres_server()
        server = context.__enter__()
    except PostgresUnavailable as exc:
        if require_postgres():
            pytest.fail(f"{REQUIRE_ENV}=1 but PostgreSQL is unavailable: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL is unavailable: {exc}")
    try:
        yield server
    finally:
        context.__exit__(None, None, None)


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, empty database (dropped after the test)."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


if __name__ == "__main__":
    with postgres_server() as server:
        print(f"PostgreSQL {server.bindir} running (pid {server.pid}); database URL: {server.url()}", flush=True)
        print("Ctrl-C stops it and deletes its files.", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
