"""Seed concepts (Graphusion step 1): corpus-level keyphrases that steer extraction.

Seeds are computed from the whole corpus without an LLM (TextRank), then
reviewed by the user: accepted seeds are passed to extraction as hints, and
rejected ones are remembered so a recompute never proposes them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SeedStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class SeedOrigin(StrEnum):
    TEXTRANK = "textrank"  # computed from the corpus
    USER = "user"  # typed in by the user


@dataclass
class Seed:
    """One seed concept: a keyphrase, its corpus score and its review state."""

    text: str
    score: float = 0.0
    status: SeedStatus = SeedStatus.PROPOSED
    origin: SeedOrigin = SeedOrigin.TEXTRANK
    id: int | None = None
