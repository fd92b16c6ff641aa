"""A real OpenAI-compatible server for tests: llama-cpp-python's ``llama_cpp.server`` on the embedded model.

It listens on 127.0.0.1 on a free port, as a child of the test process with a
parent-death signal (``setpriv --pdeathsig``, util-linux) and in its own
process group, so it stops with the tests even when they die without
cleaning up.

The server needs ``llama-cpp-python[server]`` (uvicorn, fastapi,
sse-starlette, starlette-context, pydantic-settings). Without them the
fixture skips its tests, unless ``KGSTUDIO_REQUIRE_LLM_SERVER=1`` (CI): then
it fails.

Use in a test module::

    from tests.integration.llama_server import llm_server  # noqa: F401 (fixture)

    def test_something(llm_server: LlamaServer) -> None: ...  # llm_server.base_url ends in /v1
"""

from __future__ import annotations

import importlib.util
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

import pytest

REQUIRE_ENV = "KGSTUDIO_REQUIRE_LLM_SERVER"
API_KEY = "test-key-not-secret"  # the server demands it, so a wrong key can be tested
_SERVER_MODULES = ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")


@dataclass(frozen=True)
class LlamaServer:
    base_url: str  # http://127.0.0.1:PORT/v1
    api_key: str
    model_path: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing_server_modules() -> list[str]:
    return [name for name in _SERVER_MODULES if importlib.util.find_spec(name) is None]


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log_path: str, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited ({process.returncode}):\n{_tail(log_path)}")
        try:
            if httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"llama_cpp.server did not answer {url}/models within {timeout:.0f} s:\n{_tail(log_path)}")


def _tail(path: str, lines: int = 30) -> str:
    with open(path, errors="replace") as log:
        return "".join(log.readlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)  # its own group: uvicorn's worker threads and all
            process.wait(wait)
            return
        except (subprocess.TimeoutExpired, ProcessLookupError):
            continue


@pytest.fixture(scope="session")
def llm_server() -> Iterator[LlamaServer]:
    """One llama_cpp.server on the embedded SmolLM2 model for the whole session."""
    missing = missing_server_modules()
    if missing:
        reason = f"llama-cpp-python[server] extras missing ({', '.join(missing)})"
        if os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from kgstudio.llm.models import default_model_path

    model = str(default_model_path())
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "2048", "--n_threads", str(max(1, (os.cpu_count() or 2) - 1)), "--api_key", API_KEY,
        # By default a new request cuts the one being streamed; kgstudio runs several at once.
        "--interrupt_requests", "False",
    ]
    setpriv = shutil.which("setpriv")
    if setpriv and sys.platform.startswith("linux"):
        command = [setpriv, "--pdeathsig", "TERM", *command]
    log = tempfile.NamedTemporaryFile(prefix="kgs-llama-server-", suffix=".log", delete=False)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    log.close()
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(process, base_url, log.name, timeout=60)
        yield LlamaServer(base_url, API_KEY, model)
    finally:
        _stop(process)
        os.unlink(log.name)
