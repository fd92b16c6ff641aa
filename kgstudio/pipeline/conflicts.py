"""Conflict resolution: a functional property keeps one value per subject.

For each subject (after the planned merges) and each property the ontology
declares functional, the live triples (not rejected) are grouped by value.
With more than one value, the value with the strongest support wins: a value
someone accepted beats a candidate, then more pieces of evidence, then higher
confidence. A tie is put to the model with the source passages when one is
available; otherwise it is reported and left for the user. Losers are
rejected with the reason, so they stay visible and can be restored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kgstudio.domain import Triple, TripleStatus
from kgstudio.pipeline.fusion_graph import GraphSnapshot

# (subject name, predicate, values as text, passages per value) -> index of the value to keep, or None
TieBreaker = Callable[[str, str, list[str], list[list[str]]], int | None]


@dataclass
class Conflict:
    subject_id: int
    subject: str
    predicate: str
    kept: str | None  # None: a tie nobody could break
    values: list[dict[str, Any]] = field(default_factory=list)  # {"value", "triples", "evidence", "accepted"}
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"triple_id", "value", "reason"}
    decided_by: str = "evidence"  # "evidence", "model" or "unresolved"


def find_conflicts(snapshot: GraphSnapshot, representative: dict[int, int], names: dict[int, str],
                   passages: Callable[[Triple], list[str]] | None = None,
                   break_tie: TieBreaker | None = None) -> list[Conflict]:
    """Conflicts of functional properties, decided. ``representative`` maps merged ids to their cluster's."""
    functional = {p.name for p in snapshot.ontology.properties if p.functional}
    groups: dict[tuple[int, str], dict[tuple, list[Triple]]] = defaultdict(lambda: defaultdict(list))
    for triple in snapshot.triples:
        if triple.predicate not in functional or triple.status == TripleStatus.REJECTED:
            continue
        subject = representative.get(triple.subject_id, triple.subject_id)
        groups[(subject, triple.predicate)][_value_key(triple, representative)].append(triple)
    conflicts = []
    for (subject, predicate), by_value in sorted(groups.items()):
        if len(by_value) < 2:
            continue
        ranked = sorted(by_value.items(), key=lambda item: _support(item[1], snapshot), reverse=True)
        labels = [_label(triples[0], names, representative) for _, triples in ranked]
        conflict = Conflict(subject, names.get(subject, str(subject)), predicate, None, values=[
            {"value": label, "triples": [t.id for t in triples],
             "evidence": sum(len(snapshot.places.get(t.id or 0, ())) for t in triples),
             "accepted": any(t.status == TripleStatus.ACCEPTED for t in triples)}
            for label, (_, triples) in zip(labels, ranked, strict=True)])
        winner: int | None = 0
        if _support(ranked[0][1], snapshot)[:3] == _support(ranked[1][1], snapshot)[:3]:
            winner = None
            if break_tie is not None and passages is not None:
                winner = break_tie(conflict.subject, predicate, labels,
                                   [[p for t in triples for p in passages(t)][:3] for _, triples in ranked])
            conflict.decided_by = "model" if winner is not None else "unresolved"
        if winner is None:
            conflicts.append(conflict)
            continue
        conflict.kept = labels[winner]
        kept_support = conflict.values[winner]
        why = "the model chose it from the source passages" if conflict.decided_by == "model" else \
            f"{kept_support['evidence']} source(s){', accepted' if kept_support['accepted'] else ''}"
        for index, (_, triples) in enumerate(ranked):
            if index == winner:
                continue
            support = conflict.values[index]
            reason = (f"{predicate} holds one value: kept {labels[winner]!r} ({why}) over {labels[index]!r} "
                      f"({support['evidence']} source(s))")
            conflict.rejected.extend({"triple_id": t.id, "value": labels[index], "reason": reason} for t in triples)
        conflicts.append(conflict)
    return conflicts


def _value_key(triple: Triple, representative: dict[int, int]) -> tuple:
    if triple.object_id is not None:
        return ("entity", representative.get(triple.object_id, triple.object_id))
    return ("literal", " ".join((triple.object_literal or "").split()).casefold(), triple.datatype or "")


def _support(triples: list[Triple], snapshot: GraphSnapshot) -> tuple:
    accepted = any(t.status == TripleStatus.ACCEPTED for t in triples)
    evidence = sum(len(snapshot.places.get(t.id or 0, ())) for t in triples) or len(triples)
    confidence = max((t.confidence or 0.0) for t in triples)
    first = min(t.id or 0 for t in triples)
    return accepted, evidence, round(confidence, 6), -first


def _label(triple: Triple, names: dict[int, str], representative: dict[int, int]) -> str:
    if triple.object_id is not None:
        target = representative.get(triple.object_id, triple.object_id)
        return names.get(target, f"entity {target}")
    return triple.object_literal or ""
