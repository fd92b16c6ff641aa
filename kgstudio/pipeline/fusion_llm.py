"""The questions fusion asks a model, cached by content like extraction's answers.

A question's key hashes its prompt version, the model's identity and the
exact messages and answer schema, so a re-run (or the real run after a
``--dry-run``) asks the model nothing it has asked before. Answers are parsed
against their schema; an answer that does not parse counts as "no" and is
recorded with the reason, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from kgstudio.domain import LlmCall
from kgstudio.llm.backend import Backend, ChatMessage
from kgstudio.progress import CancelToken
from kgstudio.store import Project

FUSION_PROMPT_VERSION = "fuse@1"

SAME_SCHEMA = {"type": "object", "properties": {"same": {"type": "boolean"}}, "required": ["same"]}


class FusionQuestions:
    """Asks (and caches) fusion's questions; the backend is made only when a question is not cached."""

    def __init__(self, project: Project, model: str, *, backend: Backend | None = None,
                 factory: Callable[[], Backend] | None = None, limit: int, cancel: CancelToken | None = None) -> None:
        self.project, self.model, self.limit, self.cancel = project, model, limit, cancel
        self._backend, self._factory = backend, factory
        self.asked = 0  # questions that reached the model (cache misses)
        self.answered = 0  # questions answered (cached or not)

    @property
    def exhausted(self) -> bool:
        return self.asked >= self.limit or (self.cancel is not None and self.cancel.cancelled)

    def ask(self, messages: list[ChatMessage], schema: dict[str, Any], max_tokens: int = 32) -> dict[str, Any] | None:
        """The parsed answer, or None (not asked: over the limit or cancelled; or unusable)."""
        key = hashlib.sha256(json.dumps([FUSION_PROMPT_VERSION, self.model, [(m.role, m.content) for m in messages],
                                         schema], sort_keys=True).encode("utf-8")).hexdigest()
        with self.project.repositories() as repos:
            cached = repos.extraction.calls_by_key([key]).get(key)
        if cached is None:
            if self.exhausted:
                return None
            cached = self._call(key, messages, schema, max_tokens)
        self.answered += 1
        return _parse(cached.raw, schema) if cached.error is None else None

    def close(self) -> None:
        if self._factory is not None and self._backend is not None:
            self._backend.close()

    def _call(self, key: str, messages: list[ChatMessage], schema: dict[str, Any], max_tokens: int) -> LlmCall:
        if self._backend is None:
            self._backend = self._factory()  # type: ignore[misc]
        started = time.perf_counter()
        completion = self._backend.chat(messages, max_tokens=max_tokens, temperature=0.0, json_schema=schema,
                                        cancel=self.cancel)
        self.asked += 1
        error = None if _parse(completion.text, schema) is not None else "the answer does not fit the schema"
        call = LlmCall(key, self.model, FUSION_PROMPT_VERSION, completion.text, 1, completion.prompt_tokens,
                       completion.completion_tokens, time.perf_counter() - started, {"schema": schema}, error)
        if completion.finish_reason == "cancelled":
            return call  # not cached: ask again next time
        with self.project.transaction() as repos:
            return repos.extraction.add_call(call)


def _parse(raw: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    start, end = raw.find("{"), raw.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        data = json.loads(raw[start:end + 1])
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for name in schema.get("required", []):
        if name not in data:
            return None
    for name, spec in schema.get("properties", {}).items():
        if name not in data:
            continue
        value = data[name]
        if spec.get("type") == "boolean" and not isinstance(value, bool):
            return None
        if "enum" in spec and value not in spec["enum"]:
            return None
    return data
