"""Any OpenAI-compatible chat server (llama.cpp's llama-server, llama-cpp-python, vLLM, Ollama) as a backend.

A GBNF ``grammar`` (grounded decoding) is sent as the ``grammar`` field of
the request, which llama.cpp's server and llama-cpp-python's accept; a server
that refuses the field (400/422) gets the request again without it, and one
that silently ignores it (vLLM, Ollama) answers unconstrained: callers check
the answer either way (``kgstudio.llm.grounding.check_grounding``).

Unlike the embedded model, one :class:`OpenAICompatBackend` may be used from
several threads at once: at most ``concurrency`` requests are in flight, over
a connection pool of that size. Answers are streamed (server-sent events) so
a cancel request closes the connection within a fraction of a second, and the
server stops generating when it notices the client is gone.

A server that is gone, failing (429, 5xx), silent for ``timeout`` seconds,
or that breaks off or garbles its answer, is asked again ``max_retries``
times with exponential backoff (0.5 s, 1 s, 2 s, ...); then
:class:`~kgstudio.errors.ModelUnavailableError` says so in one line naming
the URL. A chat has no side effects, so asking again is always safe. Answers
that say the request itself is wrong (401, 404, 400) raise a plain
:class:`~kgstudio.errors.ModelError` at once; a prompt past the model's
context raises :class:`~kgstudio.errors.PromptTooLongError`, which fails that
chunk only.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from kgstudio.errors import ModelError, ModelUnavailableError, PromptTooLongError
from kgstudio.llm.backend import ChatMessage, Completion
from kgstudio.progress import Cancelled, CancelToken, Progress, no_progress

_RETRY_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class OpenAICompatSettings:
    """Where the server is and how hard to try. ``model=""`` lets a one-model server pick its own."""

    base_url: str  # e.g. "http://127.0.0.1:8080/v1"
    model: str = ""
    api_key: str | None = field(default=None, repr=False)  # never printed, never in an error message
    timeout: float = 120.0  # seconds to connect, and between two streamed pieces of an answer
    max_retries: int = 3  # on connection errors, timeouts, 429/5xx and garbled answers, with exponential backoff
    concurrency: int = 2  # requests in flight at once (and the size of the connection pool)


@dataclass(frozen=True)
class ChatRequest:
    """One chat for :meth:`OpenAICompatBackend.chat_many`; the fields are ``chat``'s arguments."""

    messages: list[ChatMessage]
    max_tokens: int = 256
    temperature: float = 0.0
    json_schema: dict[str, Any] | None = None
    grammar: str | None = None


class OpenAICompatBackend:
    """A chat backend over HTTP; thread-safe, with up to ``settings.concurrency`` requests in flight."""

    name = "openai"

    def __init__(self, settings: OpenAICompatSettings) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self._slots = threading.BoundedSemaphore(max(1, settings.concurrency))
        # Which structured-output form this server accepts: OpenAI's "json_schema", or
        # "json_object" with a schema (llama.cpp). Learned on the first rejection.
        self._schema_form = "json_schema"
        self._grammar_field = True  # False once the server refused llama.cpp's "grammar" field
        if not _is_server_url(self.base_url):
            raise ModelError(f"{settings.base_url!r}: not a server URL (one looks like http://127.0.0.1:8080/v1)")
        pool = max(1, settings.concurrency)
        self._client = httpx.Client(
            headers={"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {},
            timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0)),
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        )

    # --- the Backend protocol ----------------------------------------------------------

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        json_schema: dict[str, Any] | None = None,
        grammar: str | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:
        """Complete a chat; ``grammar`` (GBNF, wins) or ``json_schema`` constrains the answer where the
        server can; returns early when ``cancel`` is set."""
        if cancel is not None and cancel.cancelled:
            return Completion("", 0, 0, "cancelled")
        body: dict[str, Any] = {"messages": [{"role": m.role, "content": m.content} for m in messages],
                                "max_tokens": max_tokens, "temperature": temperature,
                                "stream": True, "stream_options": {"include_usage": True}}
        if self.settings.model:
            body["model"] = self.settings.model
        url = f"{self.base_url}/chat/completions"
        with self._slots:
            failures = 0
            try:
                while True:
                    body.pop("grammar", None)
                    body.pop("response_format", None)
                    if grammar is not None and self._grammar_field:
                        form: str | None = "grammar"
                        body["grammar"] = grammar
                    else:
                        form = self._schema_form if json_schema is not None else None
                        if form is not None:
                            body["response_format"] = _response_format(form, json_schema or {})
                    try:
                        response = self._open("POST", url, body, form)
                        if response is not None:
                            try:
                                return self._read_stream(url, response, messages, cancel)
                            finally:
                                response.close()
                    except _Transient as problem:
                        failures = self._after_failure(url, problem, failures, cancel)
                        continue
                    # refused: fall back once, remembered for later calls
                    if form == "grammar":
                        self._grammar_field = False
                    else:
                        self._schema_form = "json_object"
            except Cancelled:
                return Completion("", 0, 0, "cancelled")

    def close(self) -> None:
        self._client.close()

    # --- more than the protocol ----------------------------------------------------------

    def chat_many(
        self, requests: list[ChatRequest], progress: Progress | None = None, cancel: CancelToken | None = None
    ) -> list[Completion | Exception]:
        """Run chats with up to ``concurrency`` in flight; results in input order.

        A request that fails leaves its exception in its slot (the others still
        run); requests not started when ``cancel`` is set come back "cancelled".
        """
        report = progress or no_progress
        done = 0
        lock = threading.Lock()

        def run(request: ChatRequest) -> Completion | Exception:
            nonlocal done
            try:
                result: Completion | Exception = self.chat(
                    request.messages, max_tokens=request.max_tokens, temperature=request.temperature,
                    json_schema=request.json_schema, grammar=request.grammar, cancel=cancel,
                )
            except Exception as exc:  # kept in the result list, never dropped
                result = exc
            with lock:
                done += 1
                report(done, len(requests), f"{done}/{len(requests)} chats")
            return result

        report(0, len(requests), "chats")
        with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency), thread_name_prefix="kgs-llm") as pool:
            return list(pool.map(run, requests))

    def list_models(self) -> list[str]:
        """The model ids the server offers (GET ``/models``)."""
        url = f"{self.base_url}/models"
        failures = 0
        while True:
            response = self._send("GET", url, None)
            try:
                response.read()
                break
            except httpx.HTTPError as exc:
                failures = self._after_failure(url, _Transient(f"the answer broke off ({type(exc).__name__})"),
                                               failures, None)
            finally:
                response.close()
        try:
            return [str(model["id"]) for model in response.json()["data"]]
        except (ValueError, KeyError, TypeError):
            raise ModelError(f"{url}: the answer is not an OpenAI model list") from None

    # --- internals -----------------------------------------------------------------------

    def _send(self, method: str, url: str, body: dict[str, Any] | None) -> httpx.Response:
        """The open, streamed response of a request that has no fallback form, retried as ``chat`` is."""
        failures = 0
        while True:
            try:
                response = self._open(method, url, body, None)
                assert response is not None  # only a request with a form can be refused
                return response
            except _Transient as problem:
                failures = self._after_failure(url, problem, failures, None)

    def _open(self, method: str, url: str, body: dict[str, Any] | None, form: str | None) -> httpx.Response | None:
        """One attempt: the open, streamed response.

        None when the server refused OpenAI's ``json_schema`` response format or the
        ``grammar`` field (``form``); raises :class:`_Transient` for a problem worth
        another try and :class:`ModelError` for one that is not.
        """
        try:
            response = self._client.send(self._client.build_request(method, url, json=body), stream=True)
        except httpx.TimeoutException:
            raise _Transient(f"no answer within {self.settings.timeout:g} s") from None
        except httpx.HTTPError as exc:  # refused, reset, unknown host
            raise _Transient(f"cannot reach the server ({exc or type(exc).__name__})") from None
        if response.status_code < 400:
            return response
        with contextlib.suppress(httpx.HTTPError):
            response.read()  # the error text, for the message
        response.close()
        if _overflows_context(response):  # before the fallbacks: a 400 for the length is no refused field
            raise PromptTooLongError(f"{url}: the request is longer than the model's context "
                                     f"({_server_message(response)})")
        if form == "json_schema" and _rejects_schema_form(response) or \
                form == "grammar" and _rejects_field(response, "grammar"):
            return None
        raise _Transient(_status_problem(url, response))

    def _after_failure(self, url: str, problem: _Transient, failures: int, cancel: CancelToken | None) -> int:
        """Wait before the next try, or raise :class:`ModelUnavailableError` when the tries are spent."""
        if failures >= self.settings.max_retries:
            tries = "1 try" if failures == 0 else f"{failures + 1} tries"
            raise ModelUnavailableError(f"{url}: {problem} (gave up after {tries})")
        _backoff(failures, cancel)
        return failures + 1

    def _read_stream(
        self, url: str, response: httpx.Response, messages: list[ChatMessage], cancel: CancelToken | None
    ) -> Completion:
        """Collect the streamed answer; a watcher closes the socket as soon as ``cancel`` is set."""
        pieces: list[str] = []
        events = 0
        finish_reason: str | None = None
        usage: dict[str, Any] | None = None
        finished = threading.Event()
        watcher = None
        if cancel is not None:
            watcher = threading.Thread(target=_close_on_cancel, args=(cancel, response, finished), daemon=True)
            watcher.start()
        try:
            for chunk in _events(url, response):
                events += 1
                if cancel is not None and cancel.cancelled:
                    break
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    pieces.append((choice.get("delta") or {}).get("content") or "")
                    finish_reason = choice.get("finish_reason") or finish_reason
        except httpx.TimeoutException:
            if cancel is None or not cancel.cancelled:
                raise _Transient(f"the answer stalled: nothing for {self.settings.timeout:g} s") from None
        except httpx.HTTPError as exc:
            if cancel is None or not cancel.cancelled:
                raise _Transient(f"the answer broke off ({type(exc).__name__}: {exc})") from None
        finally:
            finished.set()  # before the response is closed: the watcher never touches a pooled socket
            if watcher is not None:
                watcher.join()
        text = "".join(pieces)
        if cancel is not None and cancel.cancelled:
            finish_reason = "cancelled"
        elif finish_reason is None and not events and "event-stream" not in response.headers.get("content-type", ""):
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            raise ModelError(f"{url}: the answer is not an event stream ({kind}); "
                             "is this an OpenAI-compatible chat server?")
        elif finish_reason is None:
            # llama-cpp-python's server ends a stream so when a newer request cuts it (its
            # --interrupt_requests, on by default) or the prompt overflows its context.
            raise ModelError(f"{url}: the server ended the answer without a finish reason "
                             "(cut off by another request, or the prompt is longer than its context?)")
        if usage and "completion_tokens" in usage:
            cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
            return Completion(text, int(usage.get("prompt_tokens", 0)), int(usage["completion_tokens"]), finish_reason,
                              prompt_cached_tokens=int(cached))
        prompt_chars = sum(len(message.content) for message in messages)
        # No usage from the server: about 4 characters a token, and one streamed piece per token.
        return Completion(text, max(1, prompt_chars // 4), sum(1 for piece in pieces if piece), finish_reason)


class _Transient(Exception):
    """A problem another try may not have (the server gone, failing, stalled or garbling); its text is for the user."""


def _is_server_url(text: str) -> bool:
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        return False
    return "://" in text and url.scheme in ("http", "https") and bool(url.host)


def _response_format(form: str, schema: dict[str, Any]) -> dict[str, Any]:
    if form == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema, "strict": True}}
    return {"type": "json_object", "schema": schema}


def _rejects_schema_form(response: httpx.Response) -> bool:
    """True when the server refused OpenAI's ``json_schema`` response format (llama-cpp-python: 500)."""
    status = response.status_code
    return status in (400, 422) or (status == 500 and "response_format" in response.text)


def _rejects_field(response: httpx.Response, field: str) -> bool:
    """True when the server refused a request field it does not know (400/422, or a 500 that names it)."""
    status = response.status_code
    return status in (400, 422) or (status == 500 and field in response.text)


def _server_message(response: httpx.Response) -> str:
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = response.text
    return (message.strip().splitlines() or [response.reason_phrase])[0][:200]


# How servers say a prompt is past the context: llama.cpp's llama-server ("the request exceeds the
# available context size"), llama-cpp-python's and vLLM's ("This model's maximum context length is N
# tokens"), OpenAI's error code.
_CONTEXT_OVERFLOW = re.compile(
    r"exceeds? the available context|maximum context length|context_length_exceeded|exceed context window", re.I)


def _overflows_context(response: httpx.Response) -> bool:
    return response.status_code in (400, 413, 422) and _CONTEXT_OVERFLOW.search(response.text) is not None


def _status_problem(url: str, response: httpx.Response) -> str:
    """The problem of a retryable status in words; raises ModelError for the others."""
    status = response.status_code
    if status in (401, 403):
        raise ModelError(f"{url}: the server refused the API key (HTTP {status})")
    if status == 404:
        raise ModelError(f"{url}: not found (HTTP 404); the base URL usually ends in /v1")
    if status not in _RETRY_STATUS:
        raise ModelError(f"{url}: the server refused the request (HTTP {status}: {_server_message(response)})")
    return f"server error (HTTP {status}: {_server_message(response)})"


def _backoff(attempt: int, cancel: CancelToken | None) -> None:
    """Sleep 0.5 s, 1 s, 2 s, ... in small steps; raises Cancelled if ``cancel`` is set meanwhile."""
    deadline = time.monotonic() + 0.5 * 2**attempt
    while time.monotonic() < deadline:
        if cancel is not None:
            cancel.raise_if_cancelled()
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def _events(url: str, response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The JSON payloads of a server-sent event stream, up to ``[DONE]``."""
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue  # blank separators, ": ping" comments, "event:" lines
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            raise _Transient(f"the server sent a streamed piece that is not JSON: {data[:80]!r}") from None
        if isinstance(chunk, dict) and "error" in chunk:
            raise ModelError(f"{url}: the server failed mid-answer ({str(chunk['error'])[:200]})")
        yield chunk


def _close_on_cancel(cancel: CancelToken, response: httpx.Response, finished: threading.Event) -> None:
    """Shut the socket down when ``cancel`` is set, waking a read that waits for the server."""
    while not finished.wait(0.05):
        if cancel.cancelled:
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)
            return
