"""Constrained generation with the embedded model: the same greedy answer as llama-cpp-python's whole-vocabulary
grammar sampler, always a valid answer, cancel within a token, and the instruction prefix evaluated once."""

from __future__ import annotations

import json
import threading
import time

import pytest

from kgstudio.errors import ModelError
from kgstudio.llm import ChatMessage
from kgstudio.llm.grounding import check_grounding, extraction_grammar
from kgstudio.progress import CancelToken

pytestmark = pytest.mark.model

RELATIONS = ["ethnic group", "languages spoken, written or signed", "dedicated to", "inception"]
INSTRUCTIONS = ("You extract knowledge-graph triples from a sentence. Subject and object are short names copied "
                "exactly from the sentence. The predicate is one of: " + "; ".join(RELATIONS) + ".")
SENTENCES = [
    "Augusta Savage worked for equal rights for African Americans in the arts.",
    "Percy Lavon Julian was one of the first African Americans to receive a doctorate in chemistry.",
    'Elizabeth Lundeen writes of Dudley Pettey\'s views, "Sarah Dudley Petteys promotion of womens public work".',
]


def messages(sentence: str) -> list[ChatMessage]:
    return [ChatMessage("system", INSTRUCTIONS), ChatMessage("user", f"Sentence: {sentence}")]


@pytest.fixture(scope="module")
def backend():
    from kgstudio.llm.llamacpp import LlamaCppBackend, LlamaCppSettings

    model = LlamaCppBackend(LlamaCppSettings(n_ctx=1024, n_threads=1))
    yield model
    model.close()


def test_greedy_answers_equal_llama_cpp_python_s_own_grammar_sampler(backend) -> None:
    from llama_cpp import LlamaGrammar

    for sentence in SENTENCES[:2]:
        grammar = extraction_grammar(sentence, predicates=RELATIONS, max_triples=1)
        backend._llama.reset()  # both evaluate the whole prompt in one batch: the same logits
        stock = backend._llama.create_chat_completion(
            messages=[{"role": m.role, "content": m.content} for m in messages(sentence)],
            max_tokens=80, temperature=0.0, grammar=LlamaGrammar.from_string(grammar, verbose=False))
        backend._llama.reset()
        ours = backend.chat(messages(sentence), max_tokens=80, grammar=grammar)
        assert ours.text == stock["choices"][0]["message"]["content"]
        stats = backend.last_stats.constraint
        assert stats.first_choice > stats.top_k + stats.full_vocabulary  # the cheap check decides most tokens


def test_every_answer_is_grounded_and_parses_even_when_sampling(backend) -> None:
    for sentence in SENTENCES:
        for temperature in (0.0, 0.9):
            completion = backend.chat(messages(sentence), max_tokens=400, temperature=temperature,
                                      grammar=extraction_grammar(sentence, predicates=RELATIONS, max_triples=2))
            assert completion.finish_reason == "stop"
            for triple in json.loads(completion.text)["triples"]:
                assert check_grounding(triple, sentence, predicates=RELATIONS) == []


def test_json_schema_goes_through_the_fast_path_too(backend) -> None:
    schema = {"type": "object", "properties": {"predicate": {"type": "string", "enum": RELATIONS},
                                               "object": {"type": "string"}}, "required": ["predicate", "object"]}
    completion = backend.chat(messages(SENTENCES[0]), max_tokens=60, json_schema=schema)
    assert json.loads(completion.text)["predicate"] in RELATIONS
    assert backend.last_stats.constraint is not None


def test_the_instructions_are_evaluated_once_per_run(backend) -> None:
    backend._llama.reset()
    first = backend.chat(messages(SENTENCES[0]), max_tokens=8)
    assert first.prompt_cached_tokens == 0
    second = backend.chat(messages(SENTENCES[1]), max_tokens=8)
    own = len(backend._llama.tokenize(messages(SENTENCES[1])[1].content.encode(), add_bos=False))
    evaluated = second.prompt_tokens - second.prompt_cached_tokens
    assert evaluated == backend.last_stats.prompt_tokens_evaluated
    assert evaluated <= own + 8  # the chunk and the chat template's few tokens around it
    assert second.prompt_cached_tokens >= len(backend._llama.tokenize(INSTRUCTIONS.encode(), add_bos=False))


def test_cancel_stops_a_constrained_generation(backend) -> None:
    story = [ChatMessage("user", "Write a long story.")]
    backend.chat(story, max_tokens=1)  # the prompt is in the cache: what is timed is generation
    token = CancelToken()
    timer = threading.Timer(0.3, token.cancel)
    grammar = 'root ::= "a" [a-z ]{0,3000}'
    started = time.monotonic()
    timer.start()
    completion = backend.chat(story, max_tokens=900, temperature=0.8, grammar=grammar, cancel=token)
    timer.cancel()
    assert completion.finish_reason == "cancelled"
    assert time.monotonic() - started < 0.3 + 1.0


def test_cancel_stops_a_long_prompt_between_pieces(backend) -> None:
    token = CancelToken()
    token.cancel()
    completion = backend.chat([ChatMessage("user", "word " * 600)], max_tokens=10, cancel=token)
    assert completion.finish_reason == "cancelled" and completion.completion_tokens == 0


def test_a_broken_grammar_is_one_clear_error(backend) -> None:
    with pytest.raises(ModelError, match="not valid GBNF"):
        backend.chat(messages(SENTENCES[0]), max_tokens=4, grammar='root ::= "unclosed')
