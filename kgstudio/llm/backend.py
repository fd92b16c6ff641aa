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
        cancel: CancelToken | None = None,
    ) -> Completion: ...

    def close(self) -> None: ...
