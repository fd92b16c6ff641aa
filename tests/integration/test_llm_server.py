"""The OpenAI-compatible backend against a real server (llama_cpp.server on the embedded model): answers,
JSON-schema output, cancel, several requests in flight, clear errors, and the same extraction call as embedded."""

from __future__ import annotations

import json
import threading
import time

import pytest

from kgstudio.errors import ModelError
from kgstudio.llm.backend import Backend, ChatMessage
from kgstudio.llm.openai_compat import ChatRequest, OpenAICompatBackend, OpenAICompatSettings
from kgstudio.progress import CancelToken
from tests.integration.llama_server import LlamaServer, free_port, llm_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.model

FRANCE = [ChatMessage("user", "What is the capital of France? Answer with one word.")]
PREDICATES = ["knows", "worksFor"]
TRIPLE_SCHEMA = {
    "type": "object",
    "properties": {"subject": {"type": "string"}, "predicate": {"type": "string", "enum": PREDICATES},
                   "object": {"type": "string"}},
    "required": ["subject", "predicate", "object"],
}


def extract_one_triple(backend: Backend) -> dict[str, str]:
    """The extraction-style call issue 4 asks every backend to pass: one ontology-bound triple as JSON."""
    completion = backend.chat(
        [ChatMessage("user", "Text: Ada Lovelace worked with Charles Babbage. Give one triple as JSON.")],
        max_tokens=80, json_schema=TRIPLE_SCHEMA,
    )
    triple = json.loads(completion.text)
    assert set(triple) >= {"subject", "predicate", "object"}
    assert triple["predicate"] in PREDICATES
    assert all(isinstance(triple[key], str) and triple[key] for key in ("subject", "object"))
    return triple


@pytest.fixture(scope="module")
def server_backend(llm_server: LlamaServer):  # noqa: F811 (fixture)
    backend = OpenAICompatBackend(OpenAICompatSettings(llm_server.base_url, api_key=llm_server.api_key,
                                                       timeout=60, concurrency=2))
    yield backend
    backend.close()


def test_server_answers(server_backend: OpenAICompatBackend) -> None:
    completion = server_backend.chat(FRANCE, max_tokens=12)
    assert "paris" in completion.text.lower()
    assert completion.finish_reason in {"stop", "length"}
    assert 0 < completion.completion_tokens <= 12 + 1
    assert completion.prompt_tokens > 5


def test_json_schema_output_respects_the_enum(llm_server: LlamaServer) -> None:  # noqa: F811
    # A fresh backend: it has to find out that this server wants llama.cpp's form of the schema.
    backend = OpenAICompatBackend(OpenAICompatSettings(llm_server.base_url, api_key=llm_server.api_key))
    try:
        extract_one_triple(backend)
        extract_one_triple(backend)  # the second call goes straight to the form that works
    finally:
        backend.close()


def test_the_same_extraction_passes_embedded_and_server(server_backend: OpenAICompatBackend) -> None:
    from kgstudio.llm.llamacpp import LlamaCppBackend, LlamaCppSettings

    embedded = LlamaCppBackend(LlamaCppSettings(n_ctx=1024))
    try:
        from_embedded = extract_one_triple(embedded)
    finally:
        embedded.close()
    from_server = extract_one_triple(server_backend)
    assert from_embedded["predicate"] in PREDICATES and from_server["predicate"] in PREDICATES


def test_cancel_stops_a_long_generation(server_backend: OpenAICompatBackend) -> None:
    token = CancelToken()
    timer = threading.Timer(0.5, token.cancel)
    started = time.monotonic()
    timer.start()
    completion = server_backend.chat([ChatMessage("user", "Write a very long story about a lighthouse keeper.")],
                                     max_tokens=1500, temperature=0.8, cancel=token)
    timer.cancel()
    assert completion.finish_reason == "cancelled"
    assert completion.completion_tokens < 1500 // 2
    assert time.monotonic() - started < 0.5 + 1.0
    assert "paris" in server_backend.chat(FRANCE, max_tokens=12).text.lower()  # the server is free again


def test_cancel_reaches_a_request_still_queued_on_the_server(server_backend: OpenAICompatBackend) -> None:
    # llama_cpp.server runs one generation at a time: the second request waits with no token coming,
    # so only closing its connection can stop it.
    story = [ChatMessage("user", "Write a very long story about a lighthouse keeper.")]
    first, second = CancelToken(), CancelToken()
    results = {}
    running = threading.Thread(target=lambda: results.update(first=server_backend.chat(
        story, max_tokens=1500, temperature=0.8, cancel=first)))
    running.start()
    time.sleep(0.3)
    threading.Timer(0.5, second.cancel).start()
    started = time.monotonic()
    queued = server_backend.chat(story, max_tokens=1500, temperature=0.8, cancel=second)
    waited = time.monotonic() - started
    first.cancel()
    running.join(10)
    assert queued.finish_reason == "cancelled" and queued.text == ""
    assert waited < 0.5 + 1.0
    assert results["first"].finish_reason == "cancelled"


def test_chat_many_keeps_the_input_order(server_backend: OpenAICompatBackend) -> None:
    countries = [("France", "paris"), ("Italy", "rome"), ("Germany", "berlin"), ("Japan", "tokyo")]
    requests = [ChatRequest([ChatMessage("user", f"What is the capital of {country}? Answer with one word.")],
                            max_tokens=16) for country, _ in countries]
    seen: list[tuple[int, int | None]] = []
    results = server_backend.chat_many(requests, progress=lambda done, total, message="": seen.append((done, total)))
    assert len(results) == 4
    assert all(not isinstance(result, Exception) for result in results), results
    assert "paris" in results[0].text.lower()  # type: ignore[union-attr]
    # The tiny model may miss a capital, but each answer must be about its own country's question.
    answers = [result.text.lower() for result in results]  # type: ignore[union-attr]
    hits = sum(capital in answer for (_, capital), answer in zip(countries, answers))
    assert hits >= 3, answers
    assert seen[-1] == (4, 4)


def test_one_failed_request_does_not_sink_the_batch(server_backend: OpenAICompatBackend) -> None:
    too_long = ChatRequest([ChatMessage("user", "word " * 3000)], max_tokens=8)  # n_ctx is 2048
    results = server_backend.chat_many([ChatRequest(FRANCE, max_tokens=12), too_long,
                                        ChatRequest(FRANCE, max_tokens=12)])
    assert "paris" in results[0].text.lower() and "paris" in results[2].text.lower()  # type: ignore[union-attr]
    # llama_cpp.server streams nothing for a prompt past its context (and resets a request that is not
    # streamed): an error, not an empty answer. Servers that say so (llama.cpp's llama-server, vLLM, OpenAI:
    # a 400 naming the context) raise PromptTooLongError, which fails one chunk of an extraction, not the run.
    assert isinstance(results[1], ModelError) and "without a finish reason" in str(results[1])


def test_list_models_names_the_model(server_backend: OpenAICompatBackend, llm_server: LlamaServer) -> None:  # noqa: F811
    assert llm_server.model_path in server_backend.list_models()


def test_a_dead_url_is_one_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nobody listens there
    backend = OpenAICompatBackend(OpenAICompatSettings(url, api_key="sk-do-not-print", timeout=5))
    started = time.monotonic()
    with pytest.raises(ModelError) as error:
        backend.chat(FRANCE, max_tokens=4)
    assert time.monotonic() - started < 5
    message = str(error.value)
    assert url in message and "cannot reach the server" in message
    assert "sk-do-not-print" not in message and "\n" not in message
    backend.close()


def test_a_wrong_api_key_is_named_not_shown(llm_server: LlamaServer) -> None:  # noqa: F811
    backend = OpenAICompatBackend(OpenAICompatSettings(llm_server.base_url, api_key="sk-wrong-key"))
    with pytest.raises(ModelError, match="refused the API key") as error:
        backend.list_models()
    assert llm_server.base_url in str(error.value) and "sk-wrong-key" not in str(error.value)
    backend.close()


def test_not_a_url_is_refused_up_front() -> None:
    with pytest.raises(ModelError, match="not a server URL"):
        OpenAICompatBackend(OpenAICompatSettings("localhost:8080"))


def test_grounded_extraction_through_the_server(server_backend: OpenAICompatBackend) -> None:
    # llama_cpp.server takes llama.cpp's "grammar" field: the answer is grounded, as with the embedded model.
    from kgstudio.llm.grounding import check_grounding, extraction_grammar

    text = "Ada Lovelace worked with Charles Babbage on the Analytical Engine."
    completion = server_backend.chat(
        [ChatMessage("user", f"Text: {text} Give the facts as JSON triples.")], max_tokens=160,
        grammar=extraction_grammar(text, predicates=PREDICATES, max_triples=2))
    triples = json.loads(completion.text)["triples"]
    assert completion.finish_reason == "stop"
    for triple in triples:
        assert check_grounding(triple, text, predicates=PREDICATES) == [], triple
