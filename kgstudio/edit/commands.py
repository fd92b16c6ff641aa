"""Edit commands: every change to the graph, by anyone, is one of these.

A command is a small dataclass of arguments. :meth:`EditCommand.run` performs
it through a :class:`~kgstudio.store.journal.RowJournal`, which records the
exact row changes; the inverse of a command is that change set reversed (see
:mod:`kgstudio.edit.history`). Deriving the inverse from the recorded rows
instead of writing one by hand per command means an inverse can never drift
from what the command really did, and undo works the same after a restart.

Commands are plain data (``to_dict``/``command_from_dict``) so the audit log
can show and replay them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from kgstudio.domain import EntityStatus, Origin, TripleStatus
from kgstudio.domain.iris import mint_entity_iri
from kgstudio.errors import EditError
from kgstudio.store.journal import RowJournal


@dataclass
class EditContext:
    """What a command may use: the journal to write through and project facts."""

    journal: RowJournal
    base_iri: str
    actor: str


@dataclass
class EditCommand:
    """Base class; subclasses set ``op`` and implement ``run`` and ``describe``."""

    op: ClassVar[str] = ""

    def run(self, ctx: EditContext) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, **asdict(self)}


_COMMANDS: dict[str, type[EditCommand]] = {}


def register(cls: type[EditCommand]) -> type[EditCommand]:
    """Class decorator: make a command known to :func:`command_from_dict` and the audit log."""
    _COMMANDS[cls.op] = cls
    return cls


def command_from_dict(data: dict[str, Any]) -> EditCommand:
    """Rebuild a command from :meth:`EditCommand.to_dict` output."""
    fields = dict(data)
    op = fields.pop("op")
    try:
        return _COMMANDS[op](**fields)
    except KeyError:
        raise EditError(f"unknown edit command {op!r}") from None


def command_names() -> list[str]:
    return sorted(_COMMANDS)


# --- entities ------------------------------------------------------------------


@register
@dataclass
class AddEntity(EditCommand):
    """Create an entity (and optional aliases); its IRI is minted here, once."""

    op: ClassVar[str] = "add_entity"
    name: str
    class_name: str | None = None
    aliases: list[str] = field(default_factory=list)

    def run(self, ctx: EditContext) -> None:
        name = _clean_name(self.name)
        entity_id = ctx.journal.insert("entity", {
            "name": name, "class_name": self.class_name, "iri": mint_entity_iri(ctx.base_iri, name),
            "status": str(EntityStatus.ACTIVE), "merged_into": None,
        })
        for alias in self.aliases:
            ctx.journal.insert("alias", {"entity_id": entity_id, "text": alias, "origin": "manual"})

    def describe(self) -> str:
        return f"add entity {self.name!r}" + (f" ({self.class_name})" if self.class_name else "")


@register
@dataclass
class RenameEntity(EditCommand):
    """Change an entity's canonical name; with ``keep_alias`` the old name stays as an alias. The IRI stays."""

    op: ClassVar[str] = "rename_entity"
    entity_id: int
    name: str
    keep_alias: bool = True

    def run(self, ctx: EditContext) -> None:
        entity = _active_entity(ctx, self.entity_id)
        name = _clean_name(self.name)
        if name == entity["name"]:
            raise EditError(f"entity {self.entity_id} is already called {name!r}")
        ctx.journal.update("entity", self.entity_id, name=name)
        if self.keep_alias:
            ctx.journal.insert("alias", {"entity_id": self.entity_id, "text": entity["name"], "origin": "rename"})

    def describe(self) -> str:
        return f"rename entity {self.entity_id} to {self.name!r}"


@register
@dataclass
class SetEntityClass(EditCommand):
    op: ClassVar[str] = "set_entity_class"
    entity_id: int
    class_name: str | None

    def run(self, ctx: EditContext) -> None:
        _active_entity(ctx, self.entity_id)
        ctx.journal.update("entity", self.entity_id, class_name=self.class_name)

    def describe(self) -> str:
        return f"set class of entity {self.entity_id} to {self.class_name!r}"


@register
@dataclass
class DeleteEntity(EditCommand):
    """Delete an entity with everything that hangs on it (triples, provenance, aliases, merge records)."""

    op: ClassVar[str] = "delete_entity"
    entity_id: int

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        journal.require("entity", self.entity_id)
        triple_ids = sorted(set(journal.keys("triple", subject_id=self.entity_id))
                            | set(journal.keys("triple", object_id=self.entity_id)))
        for triple_id in triple_ids:
            delete_triple(journal, triple_id)
        for alias_id in journal.keys("alias", entity_id=self.entity_id):
            journal.delete("alias", alias_id)
        for merge_id in journal.keys("merge", from_id=self.entity_id) + journal.keys("merge", into_id=self.entity_id):
            journal.delete("merge", merge_id)
        for merged_id in journal.keys("entity", merged_into=self.entity_id):
            # Entities merged into this one come back as active entities.
            journal.update("entity", merged_id, merged_into=None, status=str(EntityStatus.ACTIVE))
        journal.delete("entity", self.entity_id)

    def describe(self) -> str:
        return f"delete entity {self.entity_id}"


@register
@dataclass
class MergeEntities(EditCommand):
    """Merge ``from_ids`` into ``into_id``: triples re-pointed, names kept as aliases, a merge record each.

    The merged entities stay in the store with status ``merged`` so their IRIs
    still resolve (exporters can emit ``owl:sameAs``).
    """

    op: ClassVar[str] = "merge_entities"
    into_id: int
    from_ids: list[int]
    reason: str | None = None
    score: float | None = None

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        target = _active_entity(ctx, self.into_id)
        if not self.from_ids:
            raise EditError("merge needs at least one entity to merge")
        known = {journal.require("alias", key)["text"].casefold()
                 for key in journal.keys("alias", entity_id=self.into_id)}
        known.add(target["name"].casefold())
        for from_id in dict.fromkeys(self.from_ids):
            if from_id == self.into_id:
                raise EditError(f"cannot merge entity {from_id} into itself")
            source = _active_entity(ctx, from_id)
            for triple_id in journal.keys("triple", subject_id=from_id):
                journal.update("triple", triple_id, subject_id=self.into_id)
            for triple_id in journal.keys("triple", object_id=from_id):
                journal.update("triple", triple_id, object_id=self.into_id)
            for alias_id in journal.keys("alias", entity_id=from_id):
                alias = journal.require("alias", alias_id)
                if alias["text"].casefold() in known:
                    journal.delete("alias", alias_id)
                else:
                    journal.update("alias", alias_id, entity_id=self.into_id)
                    known.add(alias["text"].casefold())
            if source["name"].casefold() not in known:
                journal.insert("alias", {"entity_id": self.into_id, "text": source["name"], "origin": "merge"})
                known.add(source["name"].casefold())
            journal.update("entity", from_id, status=str(EntityStatus.MERGED), merged_into=self.into_id)
            journal.insert("merge", {"from_id": from_id, "into_id": self.into_id, "actor": ctx.actor,
                                     "reason": self.reason, "score": self.score})

    def describe(self) -> str:
        sources = ", ".join(str(i) for i in self.from_ids)
        return f"merge entities {sources} into {self.into_id}"


@register
@dataclass
class SplitEntity(EditCommand):
    """Move some triples and aliases of an entity to a new entity called ``new_name``."""

    op: ClassVar[str] = "split_entity"
    entity_id: int
    new_name: str
    triple_ids: list[int] = field(default_factory=list)
    alias_ids: list[int] = field(default_factory=list)
    class_name: str | None = None

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        source = _active_entity(ctx, self.entity_id)
        name = _clean_name(self.new_name)
        new_id = journal.insert("entity", {
            "name": name, "class_name": self.class_name or source["class_name"],
            "iri": mint_entity_iri(ctx.base_iri, name), "status": str(EntityStatus.ACTIVE), "merged_into": None,
        })
        for triple_id in self.triple_ids:
            triple = journal.require("triple", triple_id)
            changes = {}
            if triple["subject_id"] == self.entity_id:
                changes["subject_id"] = new_id
            if triple["object_id"] == self.entity_id:
                changes["object_id"] = new_id
            if not changes:
                raise EditError(f"triple {triple_id} does not involve entity {self.entity_id}")
            journal.update("triple", triple_id, **changes)
        for alias_id in self.alias_ids:
            if journal.require("alias", alias_id)["entity_id"] != self.entity_id:
                raise EditError(f"alias {alias_id} does not belong to entity {self.entity_id}")
            journal.update("alias", alias_id, entity_id=new_id)
        # A split says "these are two things": fusion must not merge them again.
        journal.insert("entity_distinct", {"entity_id": self.entity_id, "other_id": new_id, "actor": ctx.actor,
                                           "reason": f"split {name!r} off"})

    def describe(self) -> str:
        return f"split {self.new_name!r} off entity {self.entity_id}"


# --- triples -------------------------------------------------------------------


@register
@dataclass
class AddTriple(EditCommand):
    """Add a statement whose object is an entity (``object_id``) or a literal (``object_literal``)."""

    op: ClassVar[str] = "add_triple"
    subject_id: int
    predicate: str
    object_id: int | None = None
    object_literal: str | None = None
    datatype: str | None = None
    lang: str | None = None
    status: str = str(TripleStatus.ACCEPTED)
    origin: str = str(Origin.MANUAL)
    confidence: float | None = None
    chunk_id: int | None = None
    span: tuple[int, int] | list[int] | None = None
    run_id: int | None = None

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        if (self.object_id is None) == (self.object_literal is None):
            raise EditError("a triple needs exactly one object: an entity or a literal")
        if not self.predicate.strip():
            raise EditError("a triple needs a predicate")
        _active_entity(ctx, self.subject_id)
        if self.object_id is not None:
            _active_entity(ctx, self.object_id)
        TripleStatus(self.status), Origin(self.origin)  # raises ValueError on an unknown value
        triple_id = journal.insert("triple", {
            "subject_id": self.subject_id, "predicate": self.predicate.strip(), "object_id": self.object_id,
            "object_literal": self.object_literal, "datatype": self.datatype, "lang": self.lang,
            "status": self.status, "origin": self.origin, "confidence": self.confidence, "status_reason": None,
        })
        if self.chunk_id is not None or self.run_id is not None:
            start, end = self.span if self.span else (None, None)
            journal.insert("provenance", {"triple_id": triple_id, "chunk_id": self.chunk_id, "segment_id": None,
                                          "span_start": start, "span_end": end, "run_id": self.run_id})

    def describe(self) -> str:
        obj = f"entity {self.object_id}" if self.object_id is not None else repr(self.object_literal)
        return f"add triple ({self.subject_id}) {self.predicate} {obj}"


@register
@dataclass
class RetractTriple(EditCommand):
    """Remove a triple and its provenance from the graph (undo brings both back)."""

    op: ClassVar[str] = "retract_triple"
    triple_id: int

    def run(self, ctx: EditContext) -> None:
        delete_triple(ctx.journal, self.triple_id)

    def describe(self) -> str:
        return f"retract triple {self.triple_id}"


@register
@dataclass
class RepointTriple(EditCommand):
    """Change a triple's subject, predicate or (entity) object."""

    op: ClassVar[str] = "repoint_triple"
    triple_id: int
    subject_id: int | None = None
    predicate: str | None = None
    object_id: int | None = None

    def run(self, ctx: EditContext) -> None:
        triple = ctx.journal.require("triple", self.triple_id)
        changes: dict[str, Any] = {}
        if self.subject_id is not None:
            _active_entity(ctx, self.subject_id)
            changes["subject_id"] = self.subject_id
        if self.object_id is not None:
            if triple["object_id"] is None:
                raise EditError(f"triple {self.triple_id} has a literal object; it cannot point to an entity")
            _active_entity(ctx, self.object_id)
            changes["object_id"] = self.object_id
        if self.predicate is not None:
            changes["predicate"] = self.predicate.strip()
        if not changes:
            raise EditError("re-point needs a new subject, predicate or object")
        ctx.journal.update("triple", self.triple_id, **changes)

    def describe(self) -> str:
        return f"re-point triple {self.triple_id}"


@register
@dataclass
class AcceptCandidate(EditCommand):
    """Accept a candidate (or previously rejected) triple."""

    op: ClassVar[str] = "accept_candidate"
    triple_id: int

    def run(self, ctx: EditContext) -> None:
        _set_status(ctx.journal, self.triple_id, TripleStatus.ACCEPTED, None)

    def describe(self) -> str:
        return f"accept triple {self.triple_id}"


@register
@dataclass
class RejectCandidate(EditCommand):
    """Reject a triple; it stays in the store, with the reason, and can be restored."""

    op: ClassVar[str] = "reject_candidate"
    triple_id: int
    reason: str | None = None

    def run(self, ctx: EditContext) -> None:
        _set_status(ctx.journal, self.triple_id, TripleStatus.REJECTED, self.reason)

    def describe(self) -> str:
        return f"reject triple {self.triple_id}"


# --- helpers -------------------------------------------------------------------


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise EditError("an entity needs a non-empty name")
    return cleaned


def _active_entity(ctx: EditContext, entity_id: int) -> dict[str, Any]:
    entity = ctx.journal.require("entity", entity_id)
    if entity["status"] != EntityStatus.ACTIVE:
        raise EditError(f"entity {entity_id} was merged into entity {entity['merged_into']}; edit that one")
    return entity


def delete_triple(journal: RowJournal, triple_id: int) -> None:
    journal.require("triple", triple_id)
    for provenance_id in journal.keys("provenance", triple_id=triple_id):
        journal.delete("provenance", provenance_id)
    journal.delete("triple", triple_id)


def _set_status(journal: RowJournal, triple_id: int, status: TripleStatus, reason: str | None) -> None:
    triple = journal.require("triple", triple_id)
    if triple["status"] == status and triple["status_reason"] == reason:
        raise EditError(f"triple {triple_id} is already {status}")
    journal.update("triple", triple_id, status=str(status), status_reason=reason)
