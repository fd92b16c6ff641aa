"""Embedded inference with llama.cpp (llama-cpp-python): the default model or any GGUF file.

A ``llama_cpp.Llama`` is not thread-safe, so a :class:`LlamaCppBackend` is
owned by the thread that created it and refuses calls from any other thread.
Generation is a token loop of our own over llama-cpp-python's low-level
API, so a cancel request stops it within one token, a grammar costs about
nothing per token (:mod:`kgstudio.llm.constrained`), and the prompt prefix
shared with the previous request (the instructions and the ontology before
the chunk) stays in the KV cache instead of being evaluated again.
"""

from __future__ import annotations

import codecs
import ctypes
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np

from kgstudio.errors import ModelError, PromptTooLongError
from kgstudio.llm.backend import ChatMessage, Completion
from kgstudio.llm.constrained import ConstraintStats, GrammarConstraint, Vocabulary, sample_from
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


# Prompt tokens evaluated between two looks at the cancel token (a second's work on a slow laptop).
_PROMPT_PIECE = 128


@dataclass(frozen=True)
class GenerationStats:
    """What the last :meth:`LlamaCppBackend.chat` cost: tokens and seconds, prompt and answer apart."""

    prompt_tokens: int
    prompt_tokens_evaluated: int  # the rest came from the cache (the prefix shared with the previous call)
    completion_tokens: int
    prompt_seconds: float
    generation_seconds: float
    constraint: ConstraintStats | None  # how the grammar decided the tokens; None without a grammar

    @property
    def tokens_per_second(self) -> float:
        """Generated tokens per second of generation (the prompt not counted)."""
        return self.completion_tokens / self.generation_seconds if self.generation_seconds > 0 else 0.0


class LlamaCppBackend:
    """A loaded GGUF model. Create it on the worker thread that will use it."""

    name = "llamacpp"

    def __init__(self, settings: LlamaCppSettings = LlamaCppSettings()) -> None:
        from llama_cpp import Llama  # heavy native import: only when a model is really loaded

        path = settings.model_path or default_model_path()
        read_model_info(path)  # a clear ModelError for a missing or non-GGUF file before llama.cpp sees it
        self.model_path = Path(path)
        self._owner = threading.get_ident()
        threads = settings.n_threads or default_threads()
        try:
            self._llama = Llama(
                model_path=str(path),
                n_ctx=settings.n_ctx,
                n_threads=threads,
                # Prompts too: llama-cpp-python's default is every core, whose spinning OpenMP workers
                # made a 35-token prompt take 7-18 s instead of 0.2 s on a busy 2-core machine.
                n_threads_batch=threads,
                n_gpu_layers=settings.n_gpu_layers,
                seed=settings.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: llama.cpp could not load the model ({exc})") from None
        self._formatter = _chat_formatter(self._llama)
        self._rng = np.random.default_rng(settings.seed)
        self._pieces: dict[int, bytes] = {}
        self._vocabulary = Vocabulary(self._llama)
        self.last_stats: GenerationStats | None = None

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        json_schema: dict[str, Any] | None = None,
        grammar: str | None = None,
        cancel: CancelToken | None = None,
        until: Callable[[str], str | None] | None = None,
    ) -> Completion:
        """Complete a chat with the model's own chat template; stops early when ``cancel`` is set.

        ``until`` sees the answer so far each time a generated piece holds a
        ``}``; when it returns a text, generation stops and that text is the
        answer (``finish_reason`` "stop"). Extraction uses it to end an answer
        that has started to repeat itself, a loop small models fall into.

        ``grammar`` (llama.cpp GBNF, root rule ``root``) or else ``json_schema``
        constrains the answer; the answer always matches it (unless cut by
        ``max_tokens`` or ``cancel``). Prompt tokens shared with the previous
        call (the instructions before the chunk) are not evaluated again.
        """
        if threading.get_ident() != self._owner:
            raise RuntimeError("a LlamaCppBackend must only be used by the thread that created it")
        if grammar is None and json_schema is not None:
            from llama_cpp.llama_grammar import json_schema_to_gbnf

            grammar = json_schema_to_gbnf(json.dumps(json_schema))
        prompt = self._prompt_tokens(messages)
        if len(prompt) >= self._llama.n_ctx():
            raise PromptTooLongError(
                f"the prompt has {len(prompt)} tokens, more than the model's context of {self._llama.n_ctx()}")
        max_tokens = max(0, min(max_tokens, self._llama.n_ctx() - len(prompt)))
        constraint = None
        if grammar is not None:
            try:
                constraint = GrammarConstraint(self._vocabulary, grammar)
            except ValueError as exc:
                raise ModelError(f"the grammar is not valid GBNF ({exc})") from None
        try:
            return self._generate(prompt, max_tokens, temperature, constraint, cancel, until)
        finally:
            if constraint is not None:
                constraint.close()

    def close(self) -> None:
        self._llama.close()

    # --- generation ----------------------------------------------------------------------

    def _generate(self, prompt: list[int], max_tokens: int, temperature: float,
                  constraint: GrammarConstraint | None, cancel: CancelToken | None,
                  until: Callable[[str], str | None] | None = None) -> Completion:
        import llama_cpp

        llama = self._llama
        started = time.perf_counter()
        reused = self._reuse_prefix(prompt)
        for start in range(reused, len(prompt), _PROMPT_PIECE):
            if cancel is not None and cancel.cancelled:
                return Completion("", len(prompt), 0, "cancelled", prompt_cached_tokens=reused)
            llama.eval(prompt[start:start + _PROMPT_PIECE])
        prompt_done = time.perf_counter()
        vocab = llama._model.vocab
        n_vocab = llama.n_vocab()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pieces: list[str] = []
        finish_reason = "length"
        generated = 0
        for _ in range(max_tokens):
            if cancel is not None and cancel.cancelled:
                finish_reason = "cancelled"
                break
            logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(n_vocab,))
            token = self._choose(logits, temperature, constraint)
            if token is None or llama_cpp.llama_vocab_is_eog(vocab, token):
                finish_reason = "stop"
                break
            if constraint is not None:
                constraint.accept(token)
            generated += 1
            pieces.append(decoder.decode(self._piece(token)))
            if until is not None and "}" in pieces[-1]:
                final = until("".join(pieces))
                if final is not None:
                    pieces, finish_reason, decoder = [final], "stop", None
                    break
            if generated < max_tokens:  # the last token's logits are never needed (and may not fit the context)
                llama.eval([token])
        if decoder is not None:  # None: ``until`` gave the final text
            pieces.append(decoder.decode(b"", final=True))
        finished = time.perf_counter()
        self.last_stats = GenerationStats(
            prompt_tokens=len(prompt), prompt_tokens_evaluated=len(prompt) - reused, completion_tokens=generated,
            prompt_seconds=prompt_done - started, generation_seconds=finished - prompt_done,
            constraint=constraint.stats if constraint is not None else None,
        )
        return Completion("".join(pieces), len(prompt), generated, finish_reason, prompt_cached_tokens=reused)

    def _reuse_prefix(self, prompt: list[int]) -> int:
        """Keep the cached state of the longest shared prompt prefix; returns how many tokens are kept.

        At least the last prompt token is evaluated again: its logits start the answer.
        """
        llama = self._llama
        cached = llama.input_ids[:llama.n_tokens]
        limit = min(len(cached), len(prompt) - 1)
        if limit > 0:
            differs = np.nonzero(cached[:limit] != np.asarray(prompt[:limit]))[0]
            shared = int(differs[0]) if len(differs) else limit
        else:
            shared = 0
        if shared > 0 and not llama._ctx.kv_cache_seq_rm(-1, shared, -1):
            shared = 0  # a model whose memory cannot be cut (recurrent): start over
        if shared == 0:
            llama.reset()
            llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        llama.n_tokens = shared
        return shared

    def _choose(self, logits: np.ndarray, temperature: float, constraint: GrammarConstraint | None) -> int | None:
        if constraint is not None:
            if temperature <= 0:
                return constraint.choose_greedy(logits)
            return constraint.choose_sampled(logits, temperature, self._rng)
        if temperature <= 0:
            return int(np.argmax(logits))
        top = np.argpartition(logits, -40)[-40:]
        top = top[np.argsort(-logits[top], kind="stable")]
        return sample_from(logits[top].astype(np.float64), top, temperature, self._rng)

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            import llama_cpp

            buffer = ctypes.create_string_buffer(64)
            n = llama_cpp.llama_token_to_piece(self._llama._model.vocab, token, buffer, 64, 0, False)
            if n < 0:
                buffer = ctypes.create_string_buffer(-n)
                n = llama_cpp.llama_token_to_piece(self._llama._model.vocab, token, buffer, -n, 0, False)
            piece = self._pieces[token] = buffer.raw[:n]
        return piece

    def _prompt_tokens(self, messages: list[ChatMessage]) -> list[int]:
        """The chat rendered with the model's template (fixed instructions first, so they can be reused)."""
        chat = [{"role": m.role, "content": m.content} for m in messages]
        if self._formatter is not None:
            text = self._formatter(messages=chat).prompt
            return self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        text = _builtin_template(self._llama, messages)
        return self._llama.tokenize(text.encode("utf-8"), add_bos=True, special=True)


def _builtin_template(llama: Any, messages: list[ChatMessage]) -> str:
    """The chat in one of llama.cpp's built-in templates, for a GGUF file without a template of its own
    (Gemma's template for Gemma models, ChatML for the others)."""
    import llama_cpp

    architecture = str(llama.metadata.get("general.architecture", ""))
    name = b"gemma" if architecture.startswith("gemma") else b"chatml"
    encoded = [(m.role.encode("utf-8"), m.content.encode("utf-8")) for m in messages]
    chat = (llama_cpp.llama_chat_message * len(encoded))(*[llama_cpp.llama_chat_message(r, c) for r, c in encoded])
    size = 2 * sum(len(r) + len(c) for r, c in encoded) + 256
    buffer = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_chat_apply_template(name, chat, len(encoded), True, buffer, size)
    if n > size:
        buffer = ctypes.create_string_buffer(n)
        n = llama_cpp.llama_chat_apply_template(name, chat, len(encoded), True, buffer, n)
    if n < 0:
        return "".join(f"{m.role}: {m.content}\n" for m in messages) + "assistant: "
    return buffer.raw[:n].decode("utf-8", errors="replace")


def _chat_formatter(llama: Any) -> Any:
    """The Jinja chat template of the GGUF file, as llama-cpp-python renders it; None when the file has none."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    model = llama._model
    eos, bos = llama.token_eos(), llama.token_bos()
    return Jinja2ChatFormatter(
        template=template,
        eos_token=model.token_get_text(eos) if eos != -1 else "",
        bos_token=model.token_get_text(bos) if bos != -1 else "",
    )
