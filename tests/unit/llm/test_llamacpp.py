"""The embedded SmolLM2 model really runs through llama.cpp: no download, JSON output, cancel, one owner thread."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from kgstudio.errors import ModelError
from kgstudio.llm import ChatMessage
from kgstudio.progress import CancelToken

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def backend():
    from kgstudio.llm.llamacpp import LlamaCppBackend, LlamaCppSettings

    model = LlamaCppBackend(LlamaCppSettings(n_ctx=1024))
    yield model
    model.close()


def test_embedded_model_answers(backend) -> None:
    completion = backend.chat([ChatMessage("user", "What is the capital of France? Answer with one word.")],
                              max_tokens=12)
    assert "paris" in completion.text.lower()
    assert completion.finish_reason in {"stop", "length"}
    assert 0 < completion.completion_tokens <= 12 + 1
    assert completion.prompt_tokens > 5


def test_json_schema_constrains_the_output(backend) -> None:
    schema = {
        "type": "object",
        "properties": {"subject": {"type": "string"}, "predicate": {"type": "string", "enum": ["knows", "worksFor"]},
                       "object": {"type": "string"}},
        "required": ["subject", "predicate", "object"],
    }
    completion = backend.chat(
        [ChatMessage("user", "Text: Ada Lovelace worked with Charles Babbage. Give one triple as JSON.")],
        max_tokens=80, json_schema=schema,
    )
    triple = json.loads(completion.text)
    assert triple["predicate"] in {"knows", "worksFor"}
    assert set(triple) >= {"subject", "predicate", "object"}


def test_cancel_stops_generation(backend) -> None:
    token = CancelToken()
    timer = threading.Timer(0.2, token.cancel)
    timer.start()
    completion = backend.chat([ChatMessage("user", "Write a very long story about a lighthouse keeper.")],
                              max_tokens=2000, temperature=0.8, cancel=token)
    timer.cancel()
    assert completion.finish_reason == "cancelled"
    assert completion.completion_tokens < 2000


def test_only_the_owner_thread_may_use_it(backend) -> None:
    errors = []

    def other_thread() -> None:
        try:
            backend.chat([ChatMessage("user", "hi")], max_tokens=1)
        except RuntimeError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert errors and "thread that created it" in errors[0]


def test_a_file_that_is_not_a_model_is_named(tmp_path: Path) -> None:
    from kgstudio.llm.llamacpp import LlamaCppBackend, LlamaCppSettings

    bogus = tmp_path / "model.gguf"
    bogus.write_text("hello")
    with pytest.raises(ModelError, match=f"{bogus}: not a GGUF model file"):
        LlamaCppBackend(LlamaCppSettings(model_path=bogus))
