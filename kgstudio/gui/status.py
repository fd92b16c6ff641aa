"""Words for what a project holds, as the status bar shows them."""

from __future__ import annotations

from typing import Any


def count_summary(counts: dict[str, Any]) -> str:
    """``project.counts()`` as "3 documents · 12 entities · 20 triples"."""
    return " · ".join((
        _plural(counts["documents"]["total"], "document", "documents"),
        _plural(counts["entities"]["total"], "entity", "entities"),
        _plural(counts["triples"]["total"], "triple", "triples"),
    ))


def _plural(number: int, one: str, many: str) -> str:
    return f"{number:,} {one if number == 1 else many}"
