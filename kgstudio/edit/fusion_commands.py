"""Edit commands of global fusion: merge a cluster, reject conflicting values, add fused triples, keep apart.

Fusion changes the graph only through these (actor ``fusion``), so each
decision is in the audit log with its reason and score and can be undone:
one :class:`FuseCluster` edit per cluster, so ``kgstudio undo`` takes back
one merge at a time. :class:`MarkDistinct` is the user's "do not merge",
stored in ``entity_distinct`` and respected by every later fusion run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kgstudio.domain import Origin, TripleStatus
from kgstudio.edit.commands import EditCommand, EditContext, MergeEntities, _active_entity, _clean_name, register
from kgstudio.errors import EditError

FUSION_ALIAS_ORIGIN = "fusion"


@register
@dataclass
class FuseCluster(EditCommand):
    """Merge ``members`` into ``into_id`` (whose IRI survives) and give it the canonical ``name``.

    ``members``: ``[{"id", "score", "reason"}]``, one merge record each. The
    merged entities' names stay as aliases; when the canonical name was an
    alias or another member's name, the old name of ``into_id`` becomes one.
    """

    op: ClassVar[str] = "fuse_cluster"
    into_id: int
    members: list[dict[str, Any]] = field(default_factory=list)
    name: str | None = None

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        if not self.members:
            raise EditError("a fused cluster needs at least one entity to merge")
        for member in self.members:
            MergeEntities(self.into_id, [member["id"]], member.get("reason"), member.get("score")).run(ctx)
        target = _active_entity(ctx, self.into_id)
        if self.name is None or _clean_name(self.name) == target["name"]:
            return
        name = _clean_name(self.name)
        for alias_id in journal.keys("alias", entity_id=self.into_id):
            if journal.require("alias", alias_id)["text"].casefold() == name.casefold() and \
                    journal.require("alias", alias_id)["origin"] in ("merge", FUSION_ALIAS_ORIGIN):
                journal.delete("alias", alias_id)  # it is the name now
        texts = {journal.require("alias", a)["text"].casefold() for a in journal.keys("alias", entity_id=self.into_id)}
        if target["name"].casefold() not in texts and target["name"].casefold() != name.casefold():
            journal.insert("alias", {"entity_id": self.into_id, "text": target["name"], "origin": FUSION_ALIAS_ORIGIN})
        journal.update("entity", self.into_id, name=name)

    def describe(self) -> str:
        ids = ", ".join(str(m["id"]) for m in self.members)
        named = f" as {self.name!r}" if self.name else ""
        return f"fuse entities {ids} into {self.into_id}{named}"


@register
@dataclass
class RejectConflicting(EditCommand):
    """Reject the losing values of conflicts: ``[{"triple_id", "reason"}]``; they stay, restorable."""

    op: ClassVar[str] = "reject_conflicting"
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def run(self, ctx: EditContext) -> None:
        for item in self.rejections:
            triple = ctx.journal.require("triple", item["triple_id"])
            if triple["status"] == TripleStatus.REJECTED:
                continue
            ctx.journal.update("triple", item["triple_id"], status=str(TripleStatus.REJECTED),
                               status_reason=item["reason"])

    def describe(self) -> str:
        return f"reject {len(self.rejections)} conflicting values"

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "rejections": len(self.rejections)}


@register
@dataclass
class AddFusedTriples(EditCommand):
    """Add relations fusion found across documents: candidates with origin ``fused``.

    ``proposals``: ``[{"subject_id", "predicate", "object_id", "confidence",
    "evidence": [{"chunk_id", "segment_id"}], "run_id"}]``; the evidence is
    the passages the relation was inferred from, so review can show them.
    """

    op: ClassVar[str] = "add_fused_triples"
    proposals: list[dict[str, Any]] = field(default_factory=list)

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        for proposal in self.proposals:
            _active_entity(ctx, proposal["subject_id"])
            _active_entity(ctx, proposal["object_id"])
        ids = journal.insert_many("triple", [
            {"subject_id": p["subject_id"], "predicate": p["predicate"], "object_id": p["object_id"],
             "object_literal": None, "datatype": None, "lang": None, "status": str(TripleStatus.CANDIDATE),
             "origin": str(Origin.FUSED), "confidence": p.get("confidence"), "status_reason": None}
            for p in self.proposals
        ])
        journal.insert_many("provenance", [
            {"triple_id": triple_id, "chunk_id": place.get("chunk_id"), "segment_id": place.get("segment_id"),
             "span_start": None, "span_end": None, "run_id": p.get("run_id")}
            for triple_id, p in zip(ids, self.proposals, strict=True) for place in p.get("evidence", [])
        ])

    def describe(self) -> str:
        return f"propose {len(self.proposals)} relations found across documents"

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "proposals": len(self.proposals)}


@register
@dataclass
class MarkDistinct(EditCommand):
    """Record that two entities are different things: fusion never merges them (or their clusters)."""

    op: ClassVar[str] = "mark_distinct"
    entity_id: int
    other_id: int
    reason: str | None = None

    def run(self, ctx: EditContext) -> None:
        if self.entity_id == self.other_id:
            raise EditError("an entity cannot be distinct from itself")
        ctx.journal.require("entity", self.entity_id)
        ctx.journal.require("entity", self.other_id)
        ctx.journal.insert("entity_distinct", {"entity_id": self.entity_id, "other_id": self.other_id,
                                               "actor": ctx.actor, "reason": self.reason})

    def describe(self) -> str:
        return f"keep entities {self.entity_id} and {self.other_id} apart"
