"""Grammar-constrained token choice that costs about nothing when the model already agrees with the grammar.

llama-cpp-python puts llama.cpp's grammar sampler in front of the sampling
chain, so every token is matched against the grammar for the *whole*
vocabulary: for each of the 49,152 (SmolLM2) or 262,144 (Gemma 3) tokens its
text is run through the grammar's stacks. Measured with one thread, that is
~7 ms a token for SmolLM2 and ~55 ms for Gemma 3, more than the model itself.

:class:`GrammarConstraint` asks the same matcher (``llama_sampler_init_grammar``,
so the same GBNF and the same answers) about few tokens instead, the way
llama.cpp's own ``common/sampling.cpp`` does:

1. greedy: the model's favourite token alone; most of the time the grammar
   allows it and the choice is made (one token checked instead of the vocabulary);
2. else the model's ``TOP_K`` best tokens: the best one the grammar allows is,
   exactly, the best allowed token of the whole vocabulary (all the others
   score lower);
3. only when none of those is allowed, the whole vocabulary, narrowed first
   to the tokens whose first character the grammar allows (one probe token
   per character; a forced ``","evidence":"`` leaves a few hundred tokens).

With a temperature the candidates are the ``top_k`` best allowed tokens
(steps 2-3), then top-p, min-p and the temperature as llama.cpp applies them.
Greedy choices are identical to masking the whole vocabulary first.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

import numpy as np

TOP_K = 64

_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)], align=True)


@dataclass
class ConstraintStats:
    """How each token was decided: by the fast check, the top-K check or the whole vocabulary."""

    first_choice: int = 0
    top_k: int = 0
    full_vocabulary: int = 0


class Vocabulary:
    """What a constraint needs to know about a model's vocabulary; made once per loaded model."""

    def __init__(self, model: Any) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.pointer = model._model.vocab
        self.size = int(model.n_vocab())
        is_eog = llama_cpp.llama_vocab_is_eog
        self.end_of_generation = np.array([t for t in range(self.size) if is_eog(self.pointer, t)], dtype=np.int32)
        self._by_first_char: _FirstCharIndex | None = None

    def by_first_char(self) -> _FirstCharIndex:
        """The tokens grouped by their first character (built on first use: one pass over the vocabulary)."""
        if self._by_first_char is None:
            self._by_first_char = _FirstCharIndex(self)
        return self._by_first_char

    def piece(self, token: int) -> bytes:
        """The bytes a token stands for (special tokens: empty)."""
        buffer = ctypes.create_string_buffer(256)
        n = self._lib.llama_token_to_piece(self.pointer, token, buffer, 256, 0, False)
        return buffer.raw[:n] if n > 0 else b""


class _FirstCharIndex:
    """Tokens by first character, to narrow a full-vocabulary grammar check down to the tokens that can match.

    A token can only be allowed when its first character is, so the grammar is
    first asked about one single-character token per character ("probes"),
    then about the tokens starting with an allowed character, plus those whose
    first character has no probe or is not a whole UTF-8 character (always asked).
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        groups: dict[str, list[int]] = {}
        probes: dict[str, int] = {}
        always: list[int] = []
        for token in range(vocabulary.size):
            piece = vocabulary.piece(token)
            if not piece:
                continue  # special tokens: the grammar never allows them (end of generation is asked apart)
            try:
                text = piece.decode("utf-8")
            except UnicodeDecodeError:
                head = piece[:4].decode("utf-8", errors="ignore")[:1]
                if not head or head.encode("utf-8") != piece[:len(head.encode("utf-8"))]:
                    always.append(token)
                    continue
                text = head
            groups.setdefault(text[0], []).append(token)
            if len(text) == 1:
                probes.setdefault(text, token)
        self.probe_chars = [char for char in groups if char in probes]
        self.probe_tokens = np.array([probes[char] for char in self.probe_chars], dtype=np.int32)
        self.groups = {char: np.array(tokens, dtype=np.int32) for char, tokens in groups.items()}
        unprobed = [self.groups[char] for char in groups if char not in probes]
        self.always = np.concatenate([np.array(always, dtype=np.int32), *unprobed])

    def candidates(self, constraint: GrammarConstraint) -> np.ndarray:
        """Every token the grammar may allow next (a superset), from one probe per character."""
        ok = constraint.allowed(self.probe_tokens)
        chosen = [self.groups[self.probe_chars[i]] for i in np.nonzero(ok)[0]]
        return np.concatenate([self.always, *chosen])


class GrammarConstraint:
    """llama.cpp's GBNF matcher for one generation over ``vocabulary``.

    Raises ValueError when llama.cpp cannot parse the grammar.
    """

    def __init__(self, vocabulary: Vocabulary, grammar: str, root: str = "root") -> None:
        import llama_cpp

        self._lib = llama_cpp
        self.n_vocab = vocabulary.size
        sampler = llama_cpp.llama_sampler_init_grammar(vocabulary.pointer, grammar.encode("utf-8"),
                                                       root.encode("utf-8"))
        if not sampler:
            raise ValueError("llama.cpp could not parse the grammar (its log names the line)")
        self._sampler = sampler
        self._vocabulary = vocabulary
        self._eog = vocabulary.end_of_generation
        self._one = np.zeros(1, dtype=_TOKEN_DATA)
        self.stats = ConstraintStats()

    def close(self) -> None:
        if self._sampler:
            self._lib.llama_sampler_free(self._sampler)
            self._sampler = None

    def __enter__(self) -> GrammarConstraint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- asking the grammar ---------------------------------------------------------------

    def allowed(self, tokens: np.ndarray) -> np.ndarray:
        """Which of ``tokens`` the grammar allows next (an end-of-generation token: when the answer is complete)."""
        data = np.zeros(len(tokens), dtype=_TOKEN_DATA)
        data["id"] = tokens
        self._apply(data)
        return np.isfinite(data["logit"])

    def accept(self, token: int) -> None:
        """Advance the grammar over ``token`` (never an end-of-generation token)."""
        self._lib.llama_sampler_accept(self._sampler, token)

    def _apply(self, data: np.ndarray) -> None:
        array = self._lib.llama_token_data_array(
            data=data.ctypes.data_as(ctypes.POINTER(self._lib.llama_token_data)),
            size=len(data), selected=-1, sorted=False,
        )
        self._lib.llama_sampler_apply(self._sampler, ctypes.byref(array))

    # --- choosing a token -----------------------------------------------------------------

    def choose_greedy(self, logits: np.ndarray) -> int | None:
        """The allowed token with the highest logit; None when the grammar allows nothing."""
        best = int(np.argmax(logits))
        self._one["id"] = best
        self._one["logit"] = 0.0
        self._apply(self._one)
        if np.isfinite(self._one["logit"][0]):
            self.stats.first_choice += 1
            return best
        candidates = _top(logits, TOP_K)
        ok = self.allowed(candidates)
        if ok.any():
            self.stats.top_k += 1
            return int(candidates[np.argmax(ok)])  # candidates are sorted best first
        if len(self._eog) and self.allowed(self._eog).any():
            # The answer is complete and none of the model's favourites continues it: stop.
            self.stats.top_k += 1
            return int(self._eog[0])
        self.stats.full_vocabulary += 1
        allowed = self._allowed_anywhere()
        return int(allowed[np.argmax(logits[allowed])]) if len(allowed) else None

    def choose_sampled(self, logits: np.ndarray, temperature: float, rng: np.random.Generator, *,
                       top_k: int = 40, top_p: float = 0.95, min_p: float = 0.05) -> int | None:
        """A token drawn from the ``top_k`` best allowed ones (then top-p, min-p, temperature)."""
        candidates = _top(logits, max(top_k, 1))
        ok = self.allowed(candidates)
        if ok.any():
            self.stats.top_k += 1
            candidates = candidates[ok]
        else:
            self.stats.full_vocabulary += 1
            allowed = self._allowed_anywhere()
            if not len(allowed):
                return None
            candidates = allowed[_top(logits[allowed], max(top_k, 1))]
        return sample_from(logits[candidates].astype(np.float64), candidates, temperature, rng, top_p, min_p)

    def _allowed_anywhere(self) -> np.ndarray:
        """All the tokens of the vocabulary the grammar allows next."""
        candidates = self._vocabulary.by_first_char().candidates(self)
        return candidates[self.allowed(candidates)]


def sample_from(scores: np.ndarray, tokens: np.ndarray, temperature: float, rng: np.random.Generator,
                top_p: float = 0.95, min_p: float = 0.05) -> int:
    """Draw one of ``tokens`` (sorted best first) from the softmax of ``scores / temperature``, cut by top-p and min-p."""
    scaled = (scores - scores.max()) / max(temperature, 1e-6)
    probs = np.exp(scaled)
    probs /= probs.sum()
    keep = int(np.searchsorted(np.cumsum(probs), top_p) + 1)
    keep = max(1, min(keep, int((probs >= min_p * probs[0]).sum())))
    probs = probs[:keep] / probs[:keep].sum()
    return int(tokens[rng.choice(keep, p=probs)])


def _top(logits: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` tokens with the highest logits, best first."""
    k = min(k, len(logits))
    part = np.argpartition(logits, -k)[-k:]
    return part[np.argsort(-logits[part], kind="stable")].astype(np.int32)
