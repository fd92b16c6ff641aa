"""The LLM backend protocol every model source implements (embedded llama.cpp, OpenAI-compatible servers).

Backends are registered by name in the entry-point group ``kgstudio.backends``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from kgstudio.progress import CancelToken


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system", "user", "assistant"
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop", "length", "cancelled"
    prompt_cached_tokens: int = 0  # prompt tokens the backend reused from its cache instead of evaluating


class Backend(Protocol):
    """Something that completes a chat. Not assumed thread-safe: one owner thread per instance."""

    name: str

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
        """Complete a chat.

        ``grammar`` is a llama.cpp GBNF grammar (root rule ``root``, e.g. from
        :func:`kgstudio.llm.grounding.extraction_grammar`); it wins over
        ``json_schema``. A server that does not know llama.cpp's ``grammar``
        field ignores it, so callers check the answer after parsing anyway
        (``kgstudio.llm.grounding.check_grounding``).
        """
        ...

    def close(self) -> None: ...
