"""Words for what a project holds, as the status bar shows them."""

from __future__ import annotations

from typing import Any


def count_summary(counts: dict[str, Any]) -> str:
    """``project.counts()`` as "3 documents · 12 entities · 20 triples"."""
    return " · ".join((
        plural(counts["documents"]["total"], "document", "documents"),
        plural(counts["entities"]["total"], "entity", "entities"),
        plural(counts["triples"]["total"], "triple", "triples"),
    ))


def plural(number: int, one: str, many: str) -> str:
    """``plural(1, "triple", "triples")`` → "1 triple"; 1200 → "1,200 triples"."""
    return f"{number:,} {one if number == 1 else many}"
