"""Chunking: consecutive passages of one document packed into LLM-sized pieces with overlap.

A chunk never crosses documents and records the ordinals of the segments it
holds, so each chunk keeps the exact locators of its text. Token counts are
estimated (about four characters per token for English BPE vocabularies);
the extraction stage checks real counts with the model's tokenizer.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

from kgstudio.domain import Chunk, Segment

# Passage kinds the LLM reads. E-mail headers and spreadsheet rows are already
# structured facts; sending them to the model would only duplicate them.
CHUNKED_KINDS = frozenset({"text", "heading", "table"})


@dataclass(frozen=True)
class ChunkSettings:
    max_tokens: int = 512
    overlap_tokens: int = 64


def estimate_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def chunk_segments(segments: list[Segment], settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    """Chunks for one document's segments (in reading order)."""
    pieces = [(s.ordinal, part) for s in segments if s.kind in CHUNKED_KINDS
              for part in _split_long(s.text, settings.max_tokens)]
    if not pieces:
        return []
    document_id = segments[0].document_id
    chunks: list[Chunk] = []
    start = 0
    while start < len(pieces):
        end, tokens = start, 0
        while end < len(pieces) and (end == start or tokens + estimate_tokens(pieces[end][1]) <= settings.max_tokens):
            tokens += estimate_tokens(pieces[end][1])
            end += 1
        chunks.append(_make_chunk(document_id, pieces[start:end]))
        if end >= len(pieces):
            break
        # Step back over whole pieces worth at most overlap_tokens, but always move forward.
        back, overlap = end, 0
        while back - 1 > start and overlap + estimate_tokens(pieces[back - 1][1]) <= settings.overlap_tokens:
            back -= 1
            overlap += estimate_tokens(pieces[back][1])
        start = back
    return chunks


def _make_chunk(document_id: int, pieces: list[tuple[int, str]]) -> Chunk:
    text = "\n\n".join(part for _, part in pieces)
    return Chunk(document_id, pieces[0][0], pieces[-1][0], text, estimate_tokens(text),
                 hashlib.sha256(text.encode("utf-8")).hexdigest())


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _split_long(text: str, max_tokens: int) -> list[str]:
    """A passage longer than a chunk, cut at sentence ends (or hard, for one endless sentence)."""
    if estimate_tokens(text) <= max_tokens:
        return [text]
    limit = max_tokens * 4
    parts, current = [], ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(sentence[:limit])
            sentence = sentence[limit:]
        if current and len(current) + 1 + len(sentence) > limit:
            parts.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        parts.append(current)
    return parts
