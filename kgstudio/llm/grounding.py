"""Grounded decoding: a grammar that lets a model copy facts out of one chunk, and nothing else.

:func:`extraction_grammar` builds a llama.cpp GBNF grammar for the answer to
one extraction request. The answer is compact JSON (no free whitespace)::

    {"triples":[{"subject":S,"subject_class":C,"predicate":P,"object":O,"object_class":C,"evidence":E},...]}

with 0 to ``max_triples`` triples, where

- S and O are spans of 1 to ``max_span_words`` consecutive words of the text,
  exactly as they appear there (inner punctuation and spacing kept, punctuation
  at the two ends trimmed), or one of ``names`` (seed concepts, known entities);
- P is one of ``predicates`` (the ontology's properties) when given, else a
  free name of 1 to 4 words of letters, digits and ``_`` (``bornIn``,
  ``born in``), each starting with a letter;
- the two ``*_class`` keys are there only when ``classes`` is given, and then
  hold one of ``classes``;
- E, the evidence (left out with ``evidence=False``), is a span of consecutive words of the text that does not
  cross the end of a sentence (".", "!" or "?" and a space before a capital,
  except after an initial such as "E.") or a paragraph (a blank line), and
  has at most ``max_evidence_words`` words.

Every string is JSON-escaped, so ``json.loads`` gives back the exact text
spans (quotes, backslashes, line breaks, non-ASCII letters included).

A *word* is a run of non-space characters; a word that is punctuation only
("-", "—", "(") joins the next word, so it never starts or ends a span. The
allowed subjects and objects are stored as a character trie with chains
compressed (a radix tree), one grammar rule per branching node: the grammar
grows with the text (about n·L nodes for n words and spans of L words), and
is deterministic character by character, which keeps llama.cpp's grammar
matcher to a handful of stacks. The evidence is one rule per word ("stop here,
or go on with the next word"), entered through a radix tree of the words.

:func:`check_grounding` is the same contract checked after the fact, for
models and servers that cannot take a grammar.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

ROOT = "root"
QUOTE = '"'
OPEN_ANSWER = '{"triples":['
_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s")
_PARAGRAPH_END = re.compile(r"\n[^\S\n]*\n")


@dataclass(frozen=True)
class Word:
    """One word of a text: ``text[start:end]`` with punctuation at both ends trimmed."""

    start: int
    end: int


def words_of(text: str) -> list[Word]:
    """The words of ``text`` in order; punctuation-only runs belong to no word (they join the gap)."""
    found = []
    for match in _WORD.finditer(text):
        start, end = match.start(), match.end()
        while start < end and _is_punctuation(text[start]):
            start += 1
        while end > start and _is_punctuation(text[end - 1]):
            end -= 1
        if start < end:
            found.append(Word(start, end))
    return found


def text_spans(text: str, max_words: int) -> Iterator[str]:
    """Every span of 1 to ``max_words`` consecutive words of ``text``, as it appears there (with repeats)."""
    found = words_of(text)
    for i, first in enumerate(found):
        for last in found[i:i + max_words]:
            yield text[first.start:last.end]


def extraction_grammar(
    text: str,
    *,
    names: Sequence[str] = (),
    predicates: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    max_triples: int = 8,
    max_span_words: int = 8,
    max_evidence_words: int = 40,
    evidence: bool = True,
) -> str:
    """The GBNF grammar (root rule ``root``) of an extraction answer grounded in ``text``; see the module doc.

    An empty ``predicates`` or ``classes`` list, or a text without words and no
    names, allows only the empty answer ``{"triples":[]}``.
    """
    if max_span_words < 1 or max_evidence_words < 1 or max_triples < 0:
        raise ValueError("max_span_words and max_evidence_words must be at least 1, max_triples at least 0")
    found = words_of(text)
    entity_names = [name for name in names if name]
    possible = bool(found or entity_names) and (predicates is None or len(predicates) > 0) \
        and (classes is None or len(classes) > 0)
    rules: dict[str, str] = {}
    if not possible or max_triples == 0:
        rules[ROOT] = _literal(OPEN_ANSWER + "]}")
        return _render(rules)
    rules["entity"] = _entity_rule(text, found, entity_names, max_span_words, rules)
    if evidence:
        rules["evidence"] = _evidence_rule(text, found, entity_names, max_evidence_words, rules)
    if predicates is None:
        word = "[A-Za-z] [A-Za-z0-9_]{0,23}"
        rules["predicate"] = f"{word} (\" \" {word}){{0,3}}"
    else:
        rules["predicate"] = _choice(predicates)
    fields = [("subject", "entity")]
    if classes is not None:
        rules["class"] = _choice(classes)
        fields.append(("subject_class", "class"))
    fields += [("predicate", "predicate"), ("object", "entity")]
    if classes is not None:
        fields.append(("object_class", "class"))
    if evidence:
        fields.append(("evidence", "evidence"))
    parts = []
    for index, (key, rule) in enumerate(fields):
        opening = "{" if index == 0 else ","
        parts.append(f"{_literal(opening + json.dumps(key) + ':' + QUOTE)} {rule} {_literal(QUOTE)}")
    rules["triple"] = " ".join(parts) + " " + _literal("}")
    more = f' ("," triple){{0,{max_triples - 1}}}' if max_triples > 1 else ""
    rules[ROOT] = f"{_literal(OPEN_ANSWER)} (triple{more})? {_literal(']}')}"
    return _render(rules)


def check_grounding(
    triple: Mapping[str, object],
    text: str,
    *,
    names: Sequence[str] = (),
    predicates: Sequence[str] | None = None,
    classes: Sequence[str] | None = None,
    max_span_words: int = 8,
) -> list[str]:
    """The fields of a parsed triple that break the grounding contract; ``[]`` when it holds.

    For answers generated without a grammar. Checked, with runs of whitespace
    counted as one space (free-form answers rarely keep line breaks):

    - ``subject``, ``object``: a span of 1 to ``max_span_words`` words of
      ``text`` (as :func:`extraction_grammar` allows) or one of ``names``;
    - ``evidence`` (when present): appears verbatim in ``text``;
    - ``predicate``: one of ``predicates`` when given, else any non-empty string;
    - ``subject_class``, ``object_class``: one of ``classes`` when given.

    A field that is missing or not a string counts as not grounded (the
    evidence and class fields only when they are expected).
    """
    spans = {_squeeze(span) for span in text_spans(text, max_span_words)}
    spans.update(_squeeze(name) for name in names if name)
    flat_text = _squeeze(text)
    bad = []
    for key in ("subject", "object"):
        value = triple.get(key)
        if not isinstance(value, str) or _squeeze(value) not in spans:
            bad.append(key)
    predicate = triple.get("predicate")
    if not isinstance(predicate, str) or not predicate.strip() or predicates is not None and predicate not in predicates:
        bad.append("predicate")
    if classes is not None:
        bad += [key for key in ("subject_class", "object_class") if triple.get(key) not in classes]
    evidence = triple.get("evidence")
    if "evidence" in triple and (not isinstance(evidence, str) or not evidence.strip()
                                 or _squeeze(evidence) not in flat_text):
        bad.append("evidence")
    return bad


# --- building the grammar -----------------------------------------------------------------


class _Trie:
    """A character trie whose nodes may carry a grammar continuation (``""``: the string may end here)."""

    __slots__ = ("children", "ends")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.ends: list[str] = []

    def insert(self, chars: str, end: str = "") -> _Trie:
        node = self
        for char in chars:
            child = node.children.get(char)
            if child is None:
                child = node.children[char] = _Trie()
            node = child
        if end not in node.ends:
            node.ends.append(end)
        return node


def _entity_rule(text: str, found: list[Word], names: list[str], max_words: int, rules: dict[str, str]) -> str:
    """Radix-tree rules for every span of up to ``max_words`` words and every name; returns the entry rule."""
    trie = _Trie()
    for i, first in enumerate(found):
        # One walk per first word: each shorter span is a prefix of the longest one.
        window = found[i:i + max_words]
        node, position = trie, first.start
        for word in window:
            node = node.insert(text[position:word.end])
            position = word.end
    for name in names:
        trie.insert(name)
    return _emit(trie, "s", rules)


def _evidence_rule(text: str, found: list[Word], names: list[str], max_words: int, rules: dict[str, str]) -> str:
    """One rule per word ("end here, or take the gap and the next word"), entered by a radix tree of the words."""
    trie = _Trie()
    if not found:  # a text without words: the evidence can only be a name
        for name in names:
            trie.insert(name)
        return _emit(trie, "v", rules)
    # goes_on[k]: word k+1 belongs to the same evidence block as word k (same sentence, block not full)
    goes_on, run = [], 1
    for k, word in enumerate(found[:-1]):
        gap, nxt = text[word.end:found[k + 1].start], found[k + 1]
        ends_sentence = bool(_PARAGRAPH_END.search(gap)) or bool(_SENTENCE_END.search(gap)) \
            and text[nxt.start].isupper() and not _is_initial(text[word.start:word.end])
        goes_on.append(not ends_sentence and run < max_words)
        run = run + 1 if goes_on[-1] else 1
    goes_on.append(False)
    for k in range(len(found) - 1, -1, -1):
        if goes_on[k]:
            step = _literal(_json_chars(text[found[k].end:found[k + 1].end]))
            rules[f"e{k}"] = f"({step} e{k + 1})?" if goes_on[k + 1] else f"({step})?"
    for k, word in enumerate(found):
        trie.insert(text[word.start:word.end], f"e{k}" if goes_on[k] else "")
    return _emit(trie, "v", rules)


def _emit(trie: _Trie, prefix: str, rules: dict[str, str]) -> str:
    """Rules for the trie below ``trie`` (chains of single children merged); returns the entry expression."""
    counter = [0]

    def alternatives(node: _Trie) -> list[str]:
        result = []
        for char, child in node.children.items():
            label = [char]
            while len(child.children) == 1 and not child.ends:
                (char, child), = child.children.items()
                label.append(char)
            literal = _literal(_json_chars("".join(label)))
            tails = [end for end in child.ends if end]
            stop = "" in child.ends
            if child.children:
                counter[0] += 1
                name = f"{prefix}{counter[0]}"
                rules[name] = " | ".join(alternatives(child))
                tails.append(name)
            if not tails:
                result.append(literal)
            else:
                tail = tails[0] if len(tails) == 1 else "(" + " | ".join(tails) + ")"
                result.append(f"{literal} {tail}{'?' if stop else ''}")
        return result

    entry = alternatives(trie)
    return " | ".join(entry) if entry else _literal("")


def _choice(options: Sequence[str]) -> str:
    unique = list(dict.fromkeys(options))
    return " | ".join(_literal(_json_chars(option)) for option in unique)


def _render(rules: dict[str, str]) -> str:
    ordered = [ROOT, *[name for name in rules if name != ROOT]]
    return "\n".join(f"{name} ::= {rules[name]}" for name in ordered) + "\n"


def _json_chars(value: str) -> str:
    """``value`` as it is written inside a JSON string (without the quotes)."""
    out = []
    for char in value:
        code = ord(char)
        if char == '"' or char == "\\":
            out.append("\\" + char)
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF:
            out.append(json.dumps(char)[1:-1])  # \n, \t, ... or \u00XX; a lone surrogate as \udXXX
        else:
            out.append(char)
    return "".join(out)


def _literal(chars: str) -> str:
    """A GBNF string literal matching exactly ``chars``."""
    out = ['"']
    for char in chars:
        code = ord(char)
        if char == '"' or char == "\\":
            out.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def _is_initial(word: str) -> bool:
    """"E" of "Charlotte E. Ray": a one-letter word before a full stop is an initial, not a sentence end."""
    return len(word) == 1 and word.isupper()


def _squeeze(value: str) -> str:
    return " ".join(value.split())
