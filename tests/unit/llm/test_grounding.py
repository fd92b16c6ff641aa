"""The grounded-extraction grammar: which answers it allows (checked by llama.cpp's own grammar engine), escaping,
spans, size and build time for a 512-token chunk; and the after-the-fact grounding check."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest

from kgstudio.llm.grounding import check_grounding, extraction_grammar, text_spans, words_of

TEXT = ('Rothari (or Rothair), (c. 606 - 652), of the house of "Arodus", was king. '
        'Charlotte E. Ray wrote C:\\path\tand "naïve" 中文 text — “quoted”.\nNext line here.')
PREDICATES = ["ethnic group", "languages spoken, written or signed", 'says "hi"']


def answer(*triples: dict[str, str]) -> str:
    return json.dumps({"triples": list(triples)}, ensure_ascii=False, separators=(",", ":"))


def triple(subject: str, predicate: str, obj: str, evidence: str, **classes: str) -> dict[str, str]:
    result = {"subject": subject}
    if classes:
        result["subject_class"] = classes["subject_class"]
    result |= {"predicate": predicate, "object": obj}
    if classes:
        result["object_class"] = classes["object_class"]
    result["evidence"] = evidence
    return result


# --- pure Python ---------------------------------------------------------------------------


def test_words_trim_punctuation_at_their_ends_only() -> None:
    words = [TEXT[w.start:w.end] for w in words_of(TEXT)]
    assert words[:6] == ["Rothari", "or", "Rothair", "c", "606", "652"]  # "-" is no word
    assert "Arodus" in words and "E" in words and "C:\\path" in words and "“quoted" not in words
    assert "quoted" in words and "中文" in words and "naïve" in words


def test_spans_are_the_text_as_it_appears() -> None:
    spans = set(text_spans(TEXT, 3))
    assert {"Rothari", "Rothari (or Rothair", "606 - 652", "Charlotte E. Ray", 'house of "Arodus'} <= spans
    assert "Rothari (or Rothair)" not in spans  # punctuation at the end is trimmed
    assert "Rothari or Rothair" not in spans  # never rewritten
    assert "of the house of" not in spans  # four words


def test_check_grounding_names_the_bad_fields() -> None:
    good = triple("Charlotte E. Ray", "ethnic group", "Rothari", "Charlotte E. Ray wrote")
    assert check_grounding(good, TEXT, predicates=PREDICATES) == []
    assert check_grounding(triple("Charlotte Ray", "ethnic group", "Rothari", "house of"), TEXT) == ["subject"]
    bad = triple("Rothari", "likes", "Lombards", "was queen")
    assert check_grounding(bad, TEXT, predicates=PREDICATES) == ["object", "predicate", "evidence"]
    assert check_grounding(bad, TEXT, names=["Lombards"]) == ["evidence"]  # a known name is grounded
    assert check_grounding({"subject": "Rothari", "predicate": "x"}, TEXT) == ["object"]
    with_classes = triple("Rothari", "x", "Rothair", "Rothari", subject_class="human", object_class="art")
    assert check_grounding(with_classes, TEXT, classes=["human"]) == ["object_class"]
    # Free-form answers lose line breaks; whitespace runs count as one space.
    assert check_grounding(triple("text", "x", "Next line", "text — “quoted”. Next line"), TEXT) == []


def test_nothing_to_ground_allows_only_the_empty_answer() -> None:
    empty = 'root ::= "{\\"triples\\":[]}"\n'
    assert extraction_grammar("", predicates=PREDICATES) == empty
    assert extraction_grammar(" -- ", predicates=PREDICATES) == empty
    assert extraction_grammar(TEXT, predicates=[]) == empty
    assert extraction_grammar(TEXT, classes=[]) == empty
    assert extraction_grammar(TEXT, max_triples=0) == empty
    assert extraction_grammar("", names=["Ada Lovelace"]) != empty


def test_rule_names_are_valid_gbnf() -> None:
    grammar = extraction_grammar(TEXT, names=["Ada"], predicates=PREDICATES, classes=["human"])
    for line in grammar.splitlines():
        assert re.fullmatch(r"[a-zA-Z0-9-]+ ::= .+", line), line


def chunk_of_512_tokens() -> str:
    from kgstudio.llm.grounding import words_of as _words  # noqa: F401 (same module; keeps the import local)

    path = __import__("tests.conftest", fromlist=["SHARED_DATA"]).SHARED_DATA
    culture = path / "bench" / "text2kgbench" / "wikidata_tekgen" / "ont_10_culture_test.jsonl"
    if culture.exists():
        sentences = [json.loads(line)["sent"] for line in culture.read_text().splitlines() if line.strip()]
    else:
        sentences = ["Augusta Savage worked for equal rights for African Americans in the arts."] * 40
    text = ""
    for sentence in sentences:
        if len(text.split()) >= 390:  # about 512 tokens of English
            break
        text += sentence + " "
    return text


def test_a_512_token_chunk_gives_a_small_grammar_quickly() -> None:
    text = chunk_of_512_tokens()
    started = time.perf_counter()
    grammar = extraction_grammar(text, names=["Jacob Lawrence"], predicates=PREDICATES, classes=["human", "art"])
    seconds = time.perf_counter() - started
    # Measured: ~390 words -> ~86 KB, ~3,100 rules, ~18 ms. An enum of the same spans would be ~3,100
    # alternatives of ~40 characters for each of subject and object, and slow for llama.cpp to match.
    assert len(grammar) < 200_000
    assert grammar.count("::=") < 6_000
    assert seconds < 1.0


# --- llama.cpp's grammar engine decides (vocabulary only: no weights are loaded) --------------


@pytest.fixture(scope="module")
def vocab():
    from llama_cpp import Llama

    from kgstudio.llm.constrained import Vocabulary
    from kgstudio.llm.models import default_model_path

    model = Llama(model_path=str(default_model_path()), vocab_only=True, verbose=False)
    return model, Vocabulary(model)


def accepts(vocab, grammar: str, output: str) -> bool:
    """True when llama.cpp's grammar matcher takes ``output`` token by token and then allows the end."""
    from kgstudio.llm.constrained import GrammarConstraint

    model, vocabulary = vocab
    with GrammarConstraint(vocabulary, grammar) as constraint:
        for token in model.tokenize(output.encode("utf-8"), add_bos=False, special=False):
            if not constraint.allowed(np.array([token], dtype=np.int32))[0]:
                return False
            constraint.accept(token)
        return bool(constraint.allowed(vocabulary.end_of_generation).any())


@pytest.mark.model
def test_every_span_and_name_is_allowed_and_reads_back_exactly(vocab) -> None:
    grammar = extraction_grammar(TEXT, names=['Ada "the" Countess'], predicates=PREDICATES, max_span_words=3)
    evidence = "Rothari (or Rothair), (c. 606 - 652), of the house of \"Arodus\", was king"
    spans = sorted(set(text_spans(TEXT, 3))) + ['Ada "the" Countess']
    assert len(spans) > 60
    for span in spans:
        output = answer(triple(span, 'says "hi"', span, evidence))
        assert accepts(vocab, grammar, output), span
        assert json.loads(output)["triples"][0]["subject"] == span
    assert accepts(vocab, grammar, answer())  # no triple at all is an answer too
    assert accepts(vocab, grammar, answer(*[triple("Rothari", "ethnic group", "C:\\path", "Next line here")] * 8))


@pytest.mark.model
def test_what_is_not_in_the_text_is_refused(vocab) -> None:
    grammar = extraction_grammar(TEXT, predicates=PREDICATES, max_span_words=3)
    ok = triple("Rothari", "ethnic group", "Charlotte E. Ray", "Charlotte E. Ray wrote")
    assert accepts(vocab, grammar, answer(ok))
    refused = [
        answer(ok | {"subject": "Lombards"}),  # not in the text
        answer(ok | {"subject": "Rothari Rothair"}),  # words that are not next to each other
        answer(ok | {"subject": "Rothari (or Rothair)"}),  # untrimmed punctuation
        answer(ok | {"subject": "of the house of"}),  # more than max_span_words
        answer(ok | {"subject": "rothari"}),  # another case
        answer(ok | {"predicate": "king of"}),  # not an ontology property
        answer(ok | {"evidence": "was king. Charlotte"}),  # evidence across a sentence end
        answer(ok | {"subject": "naive"}),
        answer(*[ok] * 9),  # more than max_triples
        json.dumps({"triples": [ok]}),  # free whitespace
        answer(ok) + " ",
    ]
    for output in refused:
        assert not accepts(vocab, grammar, output), output


@pytest.mark.model
def test_escapes_round_trip(vocab) -> None:
    grammar = extraction_grammar(TEXT, predicates=PREDICATES, max_span_words=3)
    tricky = ['house of "Arodus', "C:\\path\tand", "naïve", "中文", "Next", "text — “quoted"]
    for span in tricky:
        output = answer(triple(span, "ethnic group", span, "naïve\" 中文 text — “quoted"))
        assert accepts(vocab, grammar, output), span
        assert json.loads(output)["triples"][0]["object"] == span
    # JSON has one way to write these here: an unescaped quote or a raw tab is refused.
    assert not accepts(vocab, grammar, answer(triple("x", "ethnic group", "x", "x")).replace('"x"', '"house of "Arodus"'))
    raw_tab = answer(triple("C:\\path\tand", "ethnic group", "Rothari", "Rothari")).replace("\\t", "\t")
    assert not accepts(vocab, grammar, raw_tab)


@pytest.mark.model
def test_classes_and_free_predicates(vocab) -> None:
    grammar = extraction_grammar(TEXT, classes=["human", "ethnic group"])
    good = triple("Rothari", "bornIn", "Charlotte E. Ray", "Rothari", subject_class="human", object_class="ethnic group")
    assert accepts(vocab, grammar, answer(good))
    assert accepts(vocab, grammar, answer(good | {"predicate": "was king of"}))
    assert not accepts(vocab, grammar, answer(good | {"subject_class": "art"}))
    assert not accepts(vocab, grammar, answer(good | {"predicate": "a b c d e"}))  # at most 4 words
    assert not accepts(vocab, grammar, answer(good | {"predicate": "9lives"}))
    no_classes = {k: v for k, v in good.items() if not k.endswith("_class")}
    assert not accepts(vocab, grammar, answer(no_classes))
    assert not accepts(vocab, extraction_grammar(TEXT), answer(good))  # no classes asked: none allowed


@pytest.mark.model
def test_a_512_token_chunk_compiles_in_llama_cpp(vocab) -> None:
    from kgstudio.llm.constrained import GrammarConstraint

    text = chunk_of_512_tokens()
    grammar = extraction_grammar(text, predicates=PREDICATES)
    started = time.perf_counter()
    GrammarConstraint(vocab[1], grammar).close()
    assert time.perf_counter() - started < 1.0  # measured ~4 ms
    last = text_spans(text, 8)
    span = list(last)[-1]
    assert accepts(vocab, grammar, answer(triple(span, "ethnic group", span, span)))
