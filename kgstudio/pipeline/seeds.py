"""Seed concepts (Graphusion step 1): corpus keyphrases by TextRank, no LLM.

TextRank (Mihalcea & Tarau, 2004): candidate words (not stopwords, not
numbers) are the vertices of a networkx graph whose edges join words that
occur within ``window`` candidates of each other in one sentence; PageRank,
weighted by how often two words co-occur, ranks them; the top third of the
words are then put back in reading order, and adjacent top words form
multi-word keyphrases. The text is read once, as a stream: what is kept is
the word graph and the distinct runs of adjacent candidate words, never the
text itself.

Each distinct paragraph counts once, so the overlap between chunks and running
page headers do not outweigh the body text. Results are deterministic: ties
are broken by the phrase's text.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from kgstudio.domain import Seed, SeedOrigin, SeedStatus
from kgstudio.pipeline.stopwords import stopwords
from kgstudio.progress import CancelToken, Progress, no_progress
from kgstudio.store import Project

DEFAULT_LANGUAGES = ("en", "de")
MAX_PHRASE_WORDS = 4

_PARAGRAPH = re.compile(r"\n\s*\n")
_LINK = re.compile(r"\S+://\S+|www\.\S+|\S+@\S+\.\w+")
_WORD = re.compile(r"\w+(?:['’]\w+)*")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_JOINS = re.compile(r"\s+|-")  # what may stand between two words of one phrase
_SENTENCE_END = re.compile(r"[.!?;:](?:\s|$)")


@dataclass
class _Corpus:
    """What one pass over the text leaves: the co-occurrence graph and the runs of candidate words."""

    window: int
    stop: frozenset[str]
    fold_plurals: bool
    # the co-occurrence graph, counted here and built once at the end (networkx per edge is slow)
    words: dict[str, None] = field(default_factory=dict)  # in order of first use: a stable node order
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    # run of word keys -> Counter of its lowercased surfaces (words and the joins between them)
    runs: dict[tuple[str, ...], Counter[tuple[tuple[str, ...], tuple[str, ...]]]] = field(default_factory=dict)
    seen: set[bytes] = field(default_factory=set)  # digests of the paragraphs read (~100 bytes each)
    # lowercase word -> its spellings; a sentence's first word says nothing about casing, so apart
    casing: dict[str, Counter[str]] = field(default_factory=dict)
    initial_casing: dict[str, Counter[str]] = field(default_factory=dict)

    def add_text(self, text: str) -> None:
        for paragraph in _PARAGRAPH.split(text):
            digest = hashlib.blake2b(" ".join(paragraph.split()).casefold().encode(), digest_size=12).digest()
            if digest in self.seen:
                continue
            self.seen.add(digest)
            for sentence in _sentences(_LINK.sub(" | ", paragraph)):
                self._add_sentence(sentence)

    def _add_sentence(self, tokens: list[tuple[str, str]]) -> None:
        """``tokens``: (word, gap before the next word) pairs of one sentence."""
        candidates: list[str] = []
        run: list[tuple[str, str, str]] = []  # (key, lowercased word, join to the next word)
        for position, (word, gap) in enumerate(tokens):
            key = self._key(word)
            if key is None:
                self._close_run(run)
                continue
            casing = self.initial_casing if position == 0 else self.casing
            casing.setdefault(word.casefold(), Counter())[word] += 1
            candidates.append(key)
            joined = _JOINS.fullmatch(gap)
            run.append((key, word.casefold(), "-" if "-" in gap else " "))
            if not joined:
                self._close_run(run)
        self._close_run(run)
        for i, key in enumerate(candidates):
            self.words.setdefault(key, None)
            for other in candidates[i + 1:i + self.window]:
                if other != key:
                    self.pairs[(key, other) if key < other else (other, key)] += 1

    def _close_run(self, run: list[tuple[str, str, str]]) -> None:
        if run:
            keys, words, joins = zip(*run, strict=True)
            self.runs.setdefault(keys, Counter())[(words, joins[:-1])] += 1
            run.clear()

    def graph(self) -> nx.Graph:
        graph = nx.Graph()
        graph.add_nodes_from(self.words)
        graph.add_weighted_edges_from((u, v, count) for (u, v), count in self.pairs.items())
        return graph

    def spelling(self, lowered: str) -> str:
        """A word's most frequent spelling inside sentences (ties: lowercase first)."""
        spellings = self.casing.get(lowered) or self.initial_casing.get(lowered) or Counter({lowered: 1})
        return min(spellings, key=lambda s: (-spellings[s], s != lowered, s))

    def _key(self, word: str) -> str | None:
        """The graph vertex of a word, or None when it cannot be part of a keyphrase."""
        lowered = word.casefold()
        if len(lowered) < 2 or lowered[0].isdigit() or "_" in lowered or lowered in self.stop:
            return None
        if not any(c.isalpha() for c in lowered):
            return None
        if self.fold_plurals and len(lowered) > 3 and lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
            return lowered[:-1]  # "insulators" and "insulator" are one concept
        return lowered


def _sentences(paragraph: str) -> Iterator[list[tuple[str, str]]]:
    """The words of a paragraph, sentence by sentence, each with the text up to the next word."""
    sentence: list[tuple[str, str]] = []
    matches = list(_WORD.finditer(paragraph))
    for i, match in enumerate(matches):
        word = match.group()
        end = match.end()
        possessive = _POSSESSIVE.search(word)
        if possessive:
            word, end = word[:possessive.start()], match.start() + possessive.start()
        gap = paragraph[end:matches[i + 1].start() if i + 1 < len(matches) else len(paragraph)]
        sentence.append((word, gap))
        if i + 1 == len(matches) or _SENTENCE_END.search(gap):
            yield sentence
            sentence = []


def compute_seeds(
    texts: Iterable[str],
    top: int = 30,
    window: int = 4,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> list[tuple[str, float]]:
    """The ``top`` keyphrases of a corpus, best first, with scores in (0, 1] (the best is 1).

    ``languages`` names the stopword lists to use (ISO 639-1 codes). A phrase is
    shown in its most frequent spelling in the text.
    """
    if window < 2:
        raise ValueError("window must be at least 2")
    corpus = _Corpus(window, stopwords(languages), fold_plurals="en" in languages)
    for text in texts:
        corpus.add_text(text)
    if not corpus.words or top <= 0:
        return []
    ranks = pagerank(corpus.graph())
    ordered = sorted(ranks, key=lambda key: (-ranks[key], key))
    keep = set(ordered[:max(1, len(ordered) // 3)])

    phrases: dict[tuple[str, ...], Counter[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for keys, surfaces in corpus.runs.items():
        for start, end in _top_spans(keys, keep):
            forms = phrases.setdefault(keys[start:end], Counter())
            for (words, joins), count in surfaces.items():
                forms[(words[start:end], joins[start:end - 1])] += count
    scored = []
    for keys, forms in phrases.items():
        # dict.fromkeys, not set: a set's order (and so a float sum) changes with PYTHONHASHSEED
        score = _phrase_score([ranks[key] for key in dict.fromkeys(keys)], sum(forms.values()))
        words, joins = min(forms, key=lambda form: (-forms[form], form))  # e.g. plural or singular, "air-gap"
        scored.append((_spell(tuple(corpus.spelling(w) for w in words), joins), score))
    if not scored:  # every top word only inside runs too long to be a keyphrase
        return []
    scored.sort(key=lambda item: (-item[1], item[0].casefold(), item[0]))
    best = scored[0][1]
    return [(text, round(score / best, 6)) for text, score in scored[:top]]


def pagerank(graph: nx.Graph, alpha: float = 0.85, max_iter: int = 100, tol: float = 1.0e-6) -> dict[str, float]:
    """Weighted PageRank of an undirected graph, as ``networkx.pagerank`` computes it.

    ``networkx.pagerank`` needs SciPy, which kgstudio does not depend on; this is
    the same power iteration over the edge list with NumPy (O(edges) a step).
    Nodes without edges share out their rank evenly, as networkx does.
    """
    nodes = list(graph)
    n = len(nodes)
    index = {node: i for i, node in enumerate(nodes)}
    edges = [(index[u], index[v], float(w)) for u, v, w in graph.edges(data="weight", default=1.0)]
    source = np.array([u for u, v, _ in edges] + [v for u, v, _ in edges], dtype=np.int64)
    target = np.array([v for u, v, _ in edges] + [u for u, v, _ in edges], dtype=np.int64)
    weight = np.array([w for *_, w in edges] * 2, dtype=np.float64)
    out = np.bincount(source, weights=weight, minlength=n)
    share = weight / out[source] if len(source) else weight
    dangling = out == 0
    rank = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        previous = rank
        flow = np.bincount(target, weights=share * previous[source], minlength=n)
        rank = alpha * (flow + previous[dangling].sum() / n) + (1.0 - alpha) / n
        if np.abs(rank - previous).sum() < n * tol:
            break
    return {node: float(rank[i]) for i, node in enumerate(nodes)}


def _phrase_score(word_ranks: list[float], count: int) -> float:
    """Summed word ranks, damped for length (or every long run would win) and raised by frequency."""
    return sum(word_ranks) / math.sqrt(len(word_ranks)) * math.log1p(count)


def _top_spans(keys: tuple[str, ...], keep: set[str]) -> Iterator[tuple[int, int]]:
    """Maximal stretches of top-ranked words in a run, short enough to be a keyphrase."""
    start = None
    for i, key in enumerate((*keys, None)):
        if key is not None and key in keep:
            start = i if start is None else start
        elif start is not None:
            if i - start <= MAX_PHRASE_WORDS:
                yield start, i
            start = None


def _spell(words: tuple[str, ...], joins: tuple[str, ...]) -> str:
    return words[0] + "".join(join + word for join, word in zip(joins, words[1:], strict=True))


def run_seeds(
    project: Project,
    top: int = 30,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    window: int = 4,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> list[Seed]:
    """Recompute the project's seeds from the chunks of its current documents.

    The ``top`` best phrases not already reviewed replace the machine proposals;
    accepted, rejected and user seeds stay (see ``SeedRepository.replace_proposed``).
    Returns every seed that is not rejected, best first. Cancelling raises
    :class:`~kgstudio.progress.Cancelled` and changes nothing.
    """
    with project.repositories() as repos:
        total = repos.documents.count_current_chunks()
        # Kept seeds may be among the best phrases; rank enough to still propose ``top`` new ones.
        wanted = top + repos.seeds.count()

        def texts() -> Iterator[str]:
            for done, text in enumerate(repos.documents.current_chunk_texts()):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                if done % 100 == 0:
                    progress(done, total, "reading chunks")
                yield text

        phrases = compute_seeds(texts(), wanted, window, languages)
    progress(total, total, "storing seeds")
    if cancel is not None:
        cancel.raise_if_cancelled()
    with project.transaction() as repos:
        repos.seeds.replace_proposed((Seed(text, score) for text, score in phrases), limit=top)
        return repos.seeds.list()


def add_user_seed(project: Project, text: str) -> Seed:
    """Add a phrase the user typed, accepted; a phrase already there (any case) is accepted instead."""
    with project.transaction() as repos:
        existing = repos.seeds.find(text)
        if existing is not None:
            return repos.seeds.set_status(existing.id, SeedStatus.ACCEPTED)  # type: ignore[arg-type]
        return repos.seeds.add(Seed(text, 0.0, SeedStatus.ACCEPTED, SeedOrigin.USER))


def seed_hints(project: Project, limit: int = 30) -> list[str]:
    """Phrases to pass to extraction as hints: accepted seeds first, then proposals; never rejected ones."""
    with project.repositories() as repos:
        seeds = repos.seeds.list()
    seeds.sort(key=lambda seed: seed.status != SeedStatus.ACCEPTED)  # stable: keeps the score order
    return [seed.text for seed in seeds[:limit]]
