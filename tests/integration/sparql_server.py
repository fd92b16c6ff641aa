"""A throwaway SPARQL 1.1 triple store for tests: Debian's Virtuoso Open Source (``virtuoso-t``).

It runs from the installed binary (package ``virtuoso-opensource-7-bin``) in
a temporary folder, HTTP and its SQL port on 127.0.0.1 on free ports, as a
child of the test process with a parent-death signal (``setpriv
--pdeathsig``), so it stops with the tests even when they die without
cleaning up. SPARQL Update and the Graph Store Protocol are open to the
anonymous ``SPARQL`` user at ``/sparql`` and ``/sparql-graph-crud``, and to
the user ``USER`` (HTTP Digest) at ``/sparql-auth`` and
``/sparql-graph-crud-auth`` (granted through ``isql-vt`` with the fresh
database's default ``dba`` password): fine on loopback for a test, never for a
real store.

When the binaries are missing the fixture skips its tests, unless
``KGSTUDIO_REQUIRE_SPARQL=1`` (set by CI): then it fails.

Use in a test module::

    from tests.integration.sparql_server import SparqlServer, sparql_server  # noqa: F401 (fixture)

    def test_something(sparql_server: SparqlServer) -> None: ...
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "KGSTUDIO_REQUIRE_SPARQL"
DEBIAN_PACKAGE = "virtuoso-opensource-7-bin"
USER, PASSWORD = "kgstudio", "test-password-not-secret"

INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = {dir}
CheckpointInterval = 0

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 4
ServerThreads = 4

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
"""


@dataclass(frozen=True)
class SparqlServer:
    query_url: str  # SPARQL query and update endpoint: http://127.0.0.1:PORT/sparql
    graph_store_url: str  # SPARQL 1.1 Graph Store Protocol: http://127.0.0.1:PORT/sparql-graph-crud

    @property
    def auth_query_url(self) -> str:  # the same, asking USER for a password (HTTP Digest)
        return self.query_url + "-auth"

    @property
    def auth_graph_store_url(self) -> str:
        return self.graph_store_url + "-auth"

    def select(self, query: str) -> list[dict[str, Any]]:
        """The bindings of a SELECT, as {variable: value} dicts of strings."""
        import httpx

        response = httpx.post(self.query_url, data={"query": query},
                              headers={"Accept": "application/sparql-results+json"}, timeout=60)
        response.raise_for_status()
        return [{name: cell["value"] for name, cell in row.items()} for row in response.json()["results"]["bindings"]]

    def ask(self, query: str) -> bool:
        import httpx

        response = httpx.post(self.query_url, data={"query": query},
                              headers={"Accept": "application/sparql-results+json"}, timeout=60)
        response.raise_for_status()
        return bool(response.json()["boolean"])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
            process.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            continue


@pytest.fixture(scope="session")
def sparql_server() -> Iterator[SparqlServer]:
    """One Virtuoso for the test session (about 10 s to start)."""
    virtuoso, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if not virtuoso or not isql:
        reason = f"Virtuoso is not installed (Debian package {DEBIAN_PACKAGE})"
        if _required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="kgs-virtuoso-"))
    sql_port, http_port = _free_port(), _free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(INI.format(dir=folder, sql_port=sql_port, http_port=http_port))
    command = [virtuoso, "-f", "-c", str(ini)]
    setpriv = shutil.which("setpriv")
    if setpriv and sys.platform.startswith("linux"):
        command = [setpriv, "--pdeathsig", "KILL", *command]
    log = (folder / "out.log").open("wb")
    process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    base = f"http://127.0.0.1:{http_port}"
    try:
        _wait_until_up(process, base, folder)
        sql = f'GRANT SPARQL_UPDATE TO "SPARQL"; DB.DBA.USER_CREATE(\'{USER}\', \'{PASSWORD}\'); ' \
              f'GRANT SPARQL_UPDATE TO "{USER}";'
        grant = subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba", f"exec={sql}"],
                               capture_output=True, text=True, timeout=60)
        if grant.returncode != 0 or "Error" in grant.stdout + grant.stderr:
            raise RuntimeError(f"isql-vt could not grant SPARQL_UPDATE: {grant.stdout}{grant.stderr}")
        yield SparqlServer(f"{base}/sparql", f"{base}/sparql-graph-crud")
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_up(process: subprocess.Popen[bytes], base: str, folder: Path, timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"virtuoso-t exited ({process.returncode}): {(folder / 'out.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/sparql", params={"query": "ASK {}"}, timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"virtuoso-t did not answer within {timeout:.0f} s: {(folder / 'out.log').read_text()[-2000:]}")
