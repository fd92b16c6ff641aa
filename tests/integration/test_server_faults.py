"""A model server that fails: gone, failing (5xx), garbling its answers, stalling, or killed mid-run.

The OpenAI-compatible backend asks again with backoff and a timeout, then
gives up with one line naming the URL; an extraction then *pauses*: what was
answered is stored, the run is recorded as paused, ``kgstudio extract`` exits
75 (not 1, not a traceback), and running it again sends only the chunks
without an answer.

The fault shapes come from a tiny stdlib HTTP server on 127.0.0.1 (below); the
kill test uses a real ``llama_cpp.server`` killed with SIGKILL mid-run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kgstudio.domain import RunStatus
from kgstudio.errors import ModelError, ModelUnavailableError, RunPausedError
from kgstudio.llm.backend import ChatMessage
from kgstudio.llm.openai_compat import OpenAICompatBackend, OpenAICompatSettings
from kgstudio.pipeline.extract import ExtractionSettings, run_extraction
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project
from tests.integration import llama_server
from tests.integration.project_files import integrity, read_count

HELLO = [ChatMessage("user", "Say hello.")]
ANSWER = '{"triples": []}'


# --- a server that misbehaves on purpose -------------------------------------------------------


class FaultServer:
    """An OpenAI-compatible chat endpoint on 127.0.0.1 whose answer to request ``n`` is ``behaviour(n, text)``
    (``text``: the request's messages).

    Behaviours: "ok" (a proper streamed answer), an error status ("404", "500", ...), "context" (llama-server's
    400 for a prompt past its context), "html" (200 and a
    web page), "garbage" (200 and
    an event stream whose pieces are not JSON), "stall" (200, one piece, then
    silence until the server is closed).
    """

    def __init__(self, behaviour: Callable[[int, str], str]) -> None:
        self.behaviour = behaviour
        self.requests: list[float] = []  # monotonic time of each request
        self.release = threading.Event()  # ends the stalls
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                body = "\n".join(message["content"] for message in request["messages"])  # what was asked
                with lock:
                    server.requests.append(time.monotonic())
                    number = len(server.requests)
                server.answer(self, server.behaviour(number, body))

        lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, handler: BaseHTTPRequestHandler, behaviour: str) -> None:
        if behaviour.isdigit():  # an HTTP error status
            body = json.dumps({"error": {"message": f"scripted failure {behaviour}"}}).encode()
            handler.send_response(int(behaviour))
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        if behaviour == "context":  # llama.cpp's llama-server on a prompt past its context, as it words it
            body = json.dumps({"error": {"code": 400, "type": "exceed_context_size_error",
                                         "message": "the request exceeds the available context size, "
                                                    "try increasing it"}}).encode()
            handler.send_response(400)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        if behaviour == "html":  # a web page where the API should be (a proxy's, a wrong port)
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.end_headers()
            handler.wfile.write(b"<html><body>Welcome to nginx!</body></html>\n")
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()  # HTTP/1.0: the body ends when the connection closes
        if behaviour == "garbage":
            handler.wfile.write(b"data: <html>502 Bad Gateway</html>\n\n")
            return
        piece = {"choices": [{"delta": {"content": ANSWER}, "finish_reason": None}]}
        handler.wfile.write(f"data: {json.dumps(piece)}\n\n".encode())
        handler.wfile.flush()
        if behaviour == "stall":
            self.release.wait(60)
            return
        end = {"choices": [{"delta": {}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 12, "completion_tokens": 4}}
        handler.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fault_server() -> Iterator[Callable[[Callable[[int, str], str]], FaultServer]]:
    servers: list[FaultServer] = []

    def start(behaviour: Callable[[int, str], str]) -> FaultServer:
        servers.append(FaultServer(behaviour))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def backend(url: str, **settings: float) -> OpenAICompatBackend:
    return OpenAICompatBackend(OpenAICompatSettings(url, **settings))  # type: ignore[arg-type]


# --- the backend: retries, backoff, timeout, one clear line --------------------------------------


def test_a_server_that_fails_twice_is_asked_again_with_growing_pauses(fault_server) -> None:  # type: ignore[no-untyped-def]
    server = fault_server(lambda n, body: "503" if n <= 2 else "ok")
    completion = backend(server.url, max_retries=3).chat(HELLO)
    assert completion.text == ANSWER and completion.finish_reason == "stop"
    first, second, third = server.requests
    assert second - first >= 0.45 and third - second >= 0.95  # backoff 0.5 s, then 1 s


@pytest.mark.parametrize(("behaviour", "says"), [
    ("500", "server error (HTTP 500: scripted failure 500)"),
    ("garbage", "the server sent a streamed piece that is not JSON: '<html>502 Bad Gateway</html>'"),
])
def test_a_server_that_keeps_failing_gives_up_after_bounded_retries(fault_server, behaviour: str,  # type: ignore[no-untyped-def]
                                                                    says: str) -> None:
    server = fault_server(lambda n, body: behaviour)
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError) as error:
        backend(server.url, max_retries=2).chat(HELLO)
    assert len(server.requests) == 3
    assert time.monotonic() - started < 0.5 + 1 + 3  # the two pauses, and no more
    message = str(error.value)
    assert message == f"{server.url}/chat/completions: {says} (gave up after 3 tries)"


def test_a_stalled_answer_times_out_and_is_retried(fault_server) -> None:  # type: ignore[no-untyped-def]
    server = fault_server(lambda n, body: "stall")
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError, match=r"the answer stalled: nothing for 1 s \(gave up after 2 tries\)"):
        backend(server.url, timeout=1, max_retries=1).chat(HELLO)
    elapsed = time.monotonic() - started
    assert len(server.requests) == 2
    assert 2.0 <= elapsed < 2 + 0.5 + 3  # two timeouts and one pause: bounded


def test_a_slow_server_within_the_timeout_is_waited_for(fault_server) -> None:  # type: ignore[no-untyped-def]
    server = fault_server(lambda n, body: "ok")
    original = server.answer

    def slow(handler: BaseHTTPRequestHandler, behaviour: str) -> None:
        time.sleep(1.5)  # slower than a fast server, well within the timeout
        original(handler, behaviour)

    server.answer = slow  # type: ignore[method-assign]
    assert backend(server.url, timeout=5, max_retries=0).chat(HELLO).text == ANSWER
    assert len(server.requests) == 1


@pytest.mark.parametrize(("behaviour", "says"), [
    ("404", "not found (HTTP 404); the base URL usually ends in /v1"),
    ("html", "the answer is not an event stream (text/html); is this an OpenAI-compatible chat server?"),
])
def test_a_wrong_url_is_said_at_once_not_retried(fault_server, behaviour: str, says: str) -> None:  # type: ignore[no-untyped-def]
    server = fault_server(lambda n, body: behaviour)
    with pytest.raises(ModelError) as error:
        backend(server.url, max_retries=3).chat(HELLO)
    assert str(error.value) == f"{server.url}/chat/completions: {says}"
    assert not isinstance(error.value, ModelUnavailableError)  # no use asking again, nor pausing
    assert len(server.requests) == 1


# --- an extraction pauses, and resumes -----------------------------------------------------------


def _seasonal_project(tmp_path: Path, shared_data: Path) -> Path:
    path = tmp_path / "paper.kgs"
    with Project.create(path) as project:
        import_paths(project, [shared_data / "pdf" / "text" / "seasonal.pdf"])
    return path


def test_an_extraction_pauses_when_the_server_fails_and_resumes_with_the_rest(
        tmp_path: Path, shared_data: Path, fault_server) -> None:  # type: ignore[no-untyped-def]
    path = _seasonal_project(tmp_path, shared_data)
    state = {"healed": False}
    server = fault_server(lambda n, body: "ok" if n <= 3 or state["healed"] else "500")
    settings = ExtractionSettings(server_url=server.url, limit=6, contract_retries=0)
    with Project.open(path) as project:
        with pytest.raises(RunPausedError) as paused:
            run_extraction(project, settings)
        with project.repositories() as repos:
            run = repos.runs.latest("extract", RunStatus.PAUSED)
    message = str(paused.value)
    assert "\n" not in message
    assert message.startswith(f"extraction paused: {server.url}/chat/completions: server error (HTTP 500")
    assert "3 of the 6 chunks to do are answered and saved" in message
    assert "run the extraction again to resume (only the 3 chunks without an answer are sent)" in message
    assert len(server.requests) == 3 + 4  # three answers, then one request and its three retries
    assert integrity(path) == "ok"
    assert read_count(path, "SELECT COUNT(*) FROM chunk_extraction") == 3  # the answered chunks are in the graph
    assert read_count(path, "SELECT COUNT(*) FROM run WHERE stage = 'extract' AND status = 'paused'") == 1
    assert run is not None and run.message == message  # the project says why it stopped

    asked_before = len(server.requests)
    state["healed"] = True
    with Project.open(path) as project:
        report = run_extraction(project, settings)
    assert report.model_calls == 3 and report.skipped == 3 and len(server.requests) == asked_before + 3
    assert read_count(path, "SELECT COUNT(*) FROM chunk_extraction") == 6


def test_a_chunk_past_the_server_context_fails_alone_and_is_sent_again_next_run(
        tmp_path: Path, shared_data: Path, fault_server) -> None:  # type: ignore[no-untyped-def]
    path = _seasonal_project(tmp_path, shared_data)
    with Project.open(path) as project, project.repositories() as repos:
        (document,) = repos.documents.list()
        marker = repos.documents.chunks(document.id)[1].text[:60]  # the second chunk is "too long"
    state = {"larger": False}
    server = fault_server(lambda n, body: "context" if marker in body and not state["larger"] else "ok")
    settings = ExtractionSettings(server_url=server.url, limit=4, concurrency=2, contract_retries=0)
    with Project.open(path) as project:
        report = run_extraction(project, settings)  # two requests in flight: the prefetching path
        with project.repositories() as repos:
            run = repos.runs.get(report.run_id)
    assert run is not None and run.status == RunStatus.DONE  # the run goes on past the chunk
    assert report.failed == 1 and report.model_calls == 3 and len(server.requests) == 4  # no retry for it
    (problem,) = report.problems
    assert problem.startswith("seasonal.pdf (chunk ") and "longer than the model's context" in problem
    assert "exceeds the available context size" in problem and problem.endswith("with a larger context")
    assert read_count(path, "SELECT COUNT(*) FROM chunk_extraction") == 3
    assert read_count(path, "SELECT COUNT(*) FROM llm_call") == 3  # nothing stored for it: it is no answer

    state["larger"] = True  # the server restarted with a larger context
    with Project.open(path) as project:
        report = run_extraction(project, settings)
    assert report.problems == [] and report.model_calls == 1 and report.skipped == 3
    assert read_count(path, "SELECT COUNT(*) FROM chunk_extraction") == 4


# --- a real server killed mid-run ----------------------------------------------------------------


def _start_llama_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    from kgstudio.llm.models import default_model_path

    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(default_model_path()),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
               "--n_threads", str(max(1, (os.cpu_count() or 2) - 1)),
               "--interrupt_requests", "False"]
    setpriv = shutil.which("setpriv")
    if setpriv and sys.platform.startswith("linux"):
        command = [setpriv, "--pdeathsig", "KILL", *command]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    deadline = time.monotonic() + 90
    import httpx

    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).is_success:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")


@pytest.mark.model
def test_extract_pauses_when_the_real_server_is_killed_and_resumes_after_a_restart(
        tmp_path: Path, shared_data: Path) -> None:
    missing = llama_server.missing_server_modules()
    if missing:
        if os.environ.get(llama_server.REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
            pytest.fail(f"{llama_server.REQUIRE_ENV}=1 but llama-cpp-python[server] lacks {missing}", pytrace=False)
        pytest.skip(f"llama-cpp-python[server] extras missing ({', '.join(missing)})")
    path = _seasonal_project(tmp_path, shared_data)
    port = llama_server.free_port()
    url = f"http://127.0.0.1:{port}/v1"  # the same URL after the restart: answers are cached per server
    log = Path(tempfile.mkstemp(prefix="kgs-fault-server-", suffix=".log")[1])
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, "-m", "kgstudio.cli.main", "extract", str(path), "--server", url, "--limit", "2",
               "--concurrency", "1", "--contract-retries", "0", "--json"]
    server = _start_llama_server(port, log)
    try:
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and child.poll() is None and \
                read_count(path, "SELECT COUNT(*) FROM llm_call") < 1:
            time.sleep(0.2)
        assert child.poll() is None, f"the extraction ended before the server could be killed: {child.stderr.read()}"
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        killed = time.monotonic()
        _out, err = child.communicate(timeout=120)
        gave_up_after = time.monotonic() - killed
        answered = read_count(path, "SELECT COUNT(*) FROM llm_call")
        assert child.returncode == 75, err  # paused: neither a crash (1, traceback) nor success
        lines = [line for line in err.splitlines() if line.startswith("kgstudio:")]
        assert len(lines) == 1 and "Traceback" not in err, err
        assert lines[0].startswith(f"kgstudio: error: extraction paused: {url}/chat/completions: ")
        assert answered == 1 and "1 of the 2 chunks to do are answered and saved" in lines[0]
        assert gave_up_after < 0.5 + 1 + 2 + 10  # the backoff, and a margin for the busy machine
        assert integrity(path) == "ok"
        assert read_count(path, "SELECT COUNT(*) FROM chunk_extraction") == answered
        assert read_count(path, "SELECT COUNT(*) FROM run WHERE status = 'paused'") == 1

        server = _start_llama_server(port, log)
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["skipped"] == 1 and report["cached"] == 0  # the answered chunk is not asked again
        asked = read_count(path, "SELECT SUM(attempts) FROM llm_call WHERE id > (SELECT MIN(id) FROM llm_call)")
        assert report["model_calls"] == asked  # (an answer may take a repair request)
        assert read_count(path, "SELECT COUNT(*) FROM chunk_extraction") == 2
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.unlink(missing_ok=True)


def test_kgstudio_extract_on_a_stalling_server_pauses_with_exit_75(
        tmp_path: Path, shared_data: Path, fault_server, capsys: pytest.CaptureFixture) -> None:  # type: ignore[no-untyped-def]
    from kgstudio.cli.main import main

    path = _seasonal_project(tmp_path, shared_data)
    with Project.open(path) as project, project.repositories() as repos:
        ids = [row[0] for row in repos.documents.current_chunk_index()]
        texts = {cid: chunk.text for cid, chunk in repos.documents.chunks_by_id(ids).items()}
    first, others = texts[ids[0]], [texts[cid] for cid in ids[1:]]
    opening = next(first[i:i + 40] for i in range(len(first)) if not any(first[i:i + 40] in o for o in others))
    # Two requests are in flight (--concurrency 2, the default): the first chunk's is answered, whichever
    # arrives first, and every other stalls.
    server = fault_server(lambda n, body: "ok" if opening in body else "stall")
    started = time.monotonic()
    status = main(["extract", str(path), "--server", server.url, "--server-timeout", "1", "--limit", "3",
                   "--contract-retries", "0"])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("kgstudio:")]
    assert status == 75, err  # paused: try again later; not 1 (a mistake) and no traceback
    assert lines == [f"kgstudio: error: extraction paused: {server.url}/chat/completions: the answer stalled: "
                     "nothing for 1 s (gave up after 4 tries). 1 of the 3 chunks to do are answered and saved; "
                     "when the model server is back, run the extraction again to resume "
                     "(only the 2 chunks without an answer are sent)"]
    assert elapsed < 4 * 1 + (0.5 + 1 + 2) + 10  # four silent seconds, the backoff, and the machine's slowness
    assert read_count(path, "SELECT COUNT(*) FROM chunk_extraction") == 1 and integrity(path) == "ok"
