"""Novel-triple discovery: relations that only appear when documents are read together.

Two entities *meet across documents* when each is linked to a third one (the
bridge) by facts from different documents and they are not linked to each
other. For such a pair the model sees both facts with their passages and
picks a relation from the ontology properties whose domain and range fit the
two entities' classes, or "none". What it picks becomes a candidate triple
with origin ``fused`` and the two passages as evidence, for review.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kgstudio.domain import Triple, TripleStatus
from kgstudio.pipeline.fusion_graph import GraphSnapshot, Place

MAX_NEIGHBOURS = 24  # per bridge: a hub's neighbours are pairs squared


@dataclass
class Meeting:
    a: int
    b: int
    bridge: int
    fact_a: Triple
    fact_b: Triple
    predicates: list[str]


@dataclass
class Proposal:
    subject_id: int
    subject: str
    predicate: str
    object_id: int
    object: str
    via: str
    confidence: float = 0.5
    evidence: list[dict[str, Any]] = field(default_factory=list)  # {"chunk_id", "segment_id"}


def find_meetings(snapshot: GraphSnapshot, representative: dict[int, int], limit: int) -> list[Meeting]:
    """Pairs that meet across documents through a bridge, at most ``limit``, most-connected bridges first."""
    def rep(entity_id: int) -> int:
        return representative.get(entity_id, entity_id)

    linked: set[frozenset[int]] = set()
    around: dict[int, list[tuple[int, Triple, frozenset[int]]]] = defaultdict(list)
    for triple in snapshot.triples:
        if triple.object_id is None or triple.status == TripleStatus.REJECTED:
            continue
        s, o = rep(triple.subject_id), rep(triple.object_id)
        if s == o:
            continue
        linked.add(frozenset((s, o)))
        documents = frozenset(p.document_id for p in snapshot.places.get(triple.id or 0, ()) if p.document_id)
        if documents:
            around[s].append((o, triple, documents))
            around[o].append((s, triple, documents))
    classes = snapshot.classes
    entities = snapshot.entities
    properties = [p for p in snapshot.ontology.properties if p.kind == "object"]
    bridges = sorted(around, key=lambda x: (-len(set().union(*(d for _, _, d in around[x]))), x))
    meetings: list[Meeting] = []
    seen: set[frozenset[int]] = set()
    for bridge in bridges:
        neighbours = [n for n in around[bridge] if n[0] in entities and not snapshot.keyed(n[0])][:MAX_NEIGHBOURS]
        for i, (a, fact_a, docs_a) in enumerate(neighbours):
            for b, fact_b, docs_b in neighbours[i + 1:]:
                pair = frozenset((a, b))
                if a == b or docs_a & docs_b or pair in linked or pair in seen:
                    continue
                class_a, class_b = entities[a].class_name, entities[b].class_name
                fitting = [p.name for p in properties
                           if classes.fits(class_a, p.domain) and classes.fits(class_b, p.range)]
                if not fitting:
                    continue
                seen.add(pair)
                meetings.append(Meeting(a, b, bridge, fact_a, fact_b, fitting))
                if len(meetings) >= limit:
                    return meetings
    return meetings


def propose(meetings: list[Meeting], names: dict[int, str], representative: dict[int, int],
            snapshot: GraphSnapshot, ask: Callable[[list[str], str, str, list[str]], str | None],
            passages: Callable[[Triple], list[str]]) -> list[Proposal]:
    """Ask about each meeting: ``ask(facts, subject, object, predicates)`` returns a predicate or None."""
    def name(entity_id: int) -> str:
        return names.get(representative.get(entity_id, entity_id), str(entity_id))

    proposals = []
    for meeting in meetings:
        facts = []
        for fact in (meeting.fact_a, meeting.fact_b):
            said = f"{name(fact.subject_id)} {fact.predicate} {name(fact.object_id or 0)}"
            quoted = passages(fact)[:1]
            facts.append(said + (f' (source: "{quoted[0]}")' if quoted else ""))
        predicate = ask(facts, names[meeting.a], names[meeting.b], meeting.predicates)
        if predicate is None or predicate not in meeting.predicates:
            continue
        evidence = [_place(p) for fact in (meeting.fact_a, meeting.fact_b)
                    for p in snapshot.places.get(fact.id or 0, ())[:1]]
        proposals.append(Proposal(meeting.a, names[meeting.a], predicate, meeting.b, names[meeting.b],
                                  names.get(meeting.bridge, str(meeting.bridge)), evidence=evidence))
    return proposals


def _place(place: Place) -> dict[str, Any]:
    return {"chunk_id": place.chunk_id, "segment_id": place.segment_id}
