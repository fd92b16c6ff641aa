"""Embedded inference with llama.cpp (llama-cpp-python): the default model or any GGUF file.

A ``llama_cpp.Llama`` is not thread-safe, so a :class:`LlamaCppBackend` is
owned by the thread that created it and refuses calls from any other thread.
Generation is streamed token by token so a cancel request stops it within
one token.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgstudio.errors import ModelError
from kgstudio.llm.backend import ChatMessage, Completion
from kgstudio.llm.models import default_model_path, read_model_info
from kgstudio.progress import CancelToken


@dataclass(frozen=True)
class LlamaCppSettings:
    """How to load a GGUF model. ``model_path=None`` means the embedded default model."""

    model_path: Path | None = None
    n_ctx: int = 4096
    n_threads: int | None = None  # None: default_threads()
    n_gpu_layers: int = 0
    seed: int = 0


def default_threads() -> int:
    """All cores but one: the GUI keeps a core, and llama.cpp's OpenMP workers
    spin-wait, so on a busy machine more threads than free cores is much slower
    (measured on 2 cores with other work running: 1 thread 26.7 tokens/s, 2 threads 8.8)."""
    return max(1, (os.cpu_count() or 2) - 1)


class LlamaCppBackend:
    """A loaded GGUF model. Create it on the worker thread that will use it."""

    name = "llamacpp"

    def __init__(self, settings: LlamaCppSettings = LlamaCppSettings()) -> None:
        from llama_cpp import Llama  # heavy native import: only when a model is really loaded

        path = settings.model_path or default_model_path()
        read_model_info(path)  # a clear ModelError for a missing or non-GGUF file before llama.cpp sees it
        self.model_path = Path(path)
        self._owner = threading.get_ident()
        try:
            self._llama = Llama(
                model_path=str(path),
                n_ctx=settings.n_ctx,
                n_threads=settings.n_threads or default_threads(),
                n_gpu_layers=settings.n_gpu_layers,
                seed=settings.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: llama.cpp could not load the model ({exc})") from None

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        json_schema: dict[str, Any] | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:
        """Complete a chat with the model's own chat template; stops early when ``cancel`` is set."""
        if threading.get_ident() != self._owner:
            raise RuntimeError("a LlamaCppBackend must only be used by the thread that created it")
        response_format = {"type": "json_object", "schema": json_schema} if json_schema else None
        stream = self._llama.create_chat_completion(
            messages=[{"role": m.role, "content": m.content} for m in messages],
            max_tokens=max_tokens,
            temperature=temperature,
            response_format=response_format,
            stream=True,
        )
        pieces: list[str] = []
        finish_reason = "length"
        for chunk in stream:
            if cancel is not None and cancel.cancelled:
                finish_reason = "cancelled"
                break
            choice = chunk["choices"][0]
            pieces.append(choice["delta"].get("content") or "")
            if choice.get("finish_reason"):
                finish_reason = choice["finish_reason"]
        text = "".join(pieces)
        prompt_tokens = len(self._llama.tokenize(self._prompt_text(messages).encode("utf-8"), add_bos=False))
        completion_tokens = len(self._llama.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
        return Completion(text, prompt_tokens, completion_tokens, finish_reason)

    def close(self) -> None:
        self._llama.close()

    @staticmethod
    def _prompt_text(messages: list[ChatMessage]) -> str:
        return "\n".join(message.content for message in messages)
