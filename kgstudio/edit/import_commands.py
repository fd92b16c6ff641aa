"""Edit commands of the import stage: structural facts in, a changed file's facts out.

Facts read from structure (e-mail headers, spreadsheet rows) enter the graph
through :class:`ImportStructuralFacts`, so an import is undoable and audited
like any other change. An entity is found again by its import key (stored as
an alias with origin ``key``, e.g. ``mailto:ada@example.com``), so one person
is one entity across messages and files. These commands can carry thousands
of facts: their audit entry records a summary, and the change set holds the
exact rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kgstudio.domain import EntityStatus, Origin, TripleStatus
from kgstudio.domain.iris import mint_entity_iri
from kgstudio.edit.commands import EditCommand, EditContext, delete_triple, register
from kgstudio.store.journal import RowJournal

KEY_ALIAS_ORIGIN = "key"
# Surface forms the extraction stage met an entity under (see extract_commands).
EXTRACTED_ALIAS_ORIGIN = "extracted"


@register
@dataclass
class ImportStructuralFacts(EditCommand):
    """Add the facts one document states by its structure.

    Each fact is a dict: ``subject`` and (for an entity object) ``object`` as
    ``{"key", "name", "class"}``; a literal object as ``{"literal", "datatype",
    "lang"}``; ``predicate``; ``origin`` ("header" or "table"); ``segment_id``
    (the evidence). A triple that already exists gets one more provenance row
    instead of a duplicate.
    """

    op: ClassVar[str] = "import_structural_facts"
    document_id: int
    facts: list[dict[str, Any]] = field(default_factory=list)

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        entities = _EntityIndex(journal, ctx.base_iri)
        entities.ensure_all([f["subject"] for f in self.facts]
                            + [f["object"] for f in self.facts if "key" in f["object"]])
        # Triples that may already exist can only hang on subjects that existed before.
        subjects = {entities[f["subject"]["key"]] for f in self.facts} & entities.existing
        known = {tuple(row[1:]): row[0] for row in journal.columns_in("triple", "subject_id", subjects, _IDENTITY_ROW)}
        new_rows: list[dict[str, Any]] = []
        pending: dict[tuple, int] = {}  # identity -> index in new_rows
        evidence: list[tuple[tuple, int]] = []  # (identity, segment id)
        for fact in self.facts:
            values = _triple_values(fact, entities)
            identity = _identity(values)
            if identity not in known and identity not in pending:
                pending[identity] = len(new_rows)
                new_rows.append({**values, "status": str(TripleStatus.ACCEPTED),
                                 "origin": str(Origin(fact["origin"])), "confidence": 1.0, "status_reason": None})
            evidence.append((identity, fact["segment_id"]))
        for identity, triple_id in zip(pending, journal.insert_many("triple", new_rows), strict=True):
            known[identity] = triple_id
        journal.insert_many("provenance", [
            {"triple_id": known[identity], "segment_id": segment_id, "chunk_id": None, "span_start": None,
             "span_end": None, "run_id": None}
            for identity, segment_id in evidence
        ])

    def describe(self) -> str:
        return f"import {len(self.facts)} facts from document {self.document_id}"

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "document_id": self.document_id, "facts": len(self.facts)}


@register
@dataclass
class RetractDocumentFacts(EditCommand):
    """Take back what a document's segments and chunks were evidence for (the file changed or went away).

    Provenance rows pointing at them go; a triple left without evidence goes;
    an entity left without triples goes when nobody but the import named it.
    """

    op: ClassVar[str] = "retract_document_facts"
    document_id: int
    segment_ids: list[int] = field(default_factory=list)
    chunk_ids: list[int] = field(default_factory=list)

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        provenance = [key for _, key in journal.keys_in("provenance", "segment_id", self.segment_ids)]
        provenance += [key for _, key in journal.keys_in("provenance", "chunk_id", self.chunk_ids)]
        touched_triples: set[int] = set()
        for key in sorted(set(provenance)):
            touched_triples.add(journal.require("provenance", key)["triple_id"])
            journal.delete("provenance", key)
        touched_entities: set[int] = set()
        for triple_id in sorted(touched_triples):
            if journal.keys("provenance", triple_id=triple_id):
                continue  # still stated by another document
            triple = journal.require("triple", triple_id)
            touched_entities.update(i for i in (triple["subject_id"], triple["object_id"]) if i is not None)
            delete_triple(journal, triple_id)
        for entity_id in sorted(touched_entities):
            _delete_if_only_imported(journal, entity_id)

    def describe(self) -> str:
        return f"retract the facts of document {self.document_id}"

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "document_id": self.document_id, "segments": len(self.segment_ids),
                "chunks": len(self.chunk_ids)}


class _EntityIndex:
    """Import keys → entity ids; entities for keys seen for the first time are created in one batch."""

    def __init__(self, journal: RowJournal, base_iri: str) -> None:
        self.journal, self.base_iri = journal, base_iri
        self.ids: dict[str, int] = {}
        self.existing: set[int] = set()

    def ensure_all(self, refs: list[dict[str, Any]]) -> None:
        wanted = {ref["key"]: ref for ref in refs}
        # Batched (a big import names ~100,000 known keys): one query per 500 keys, then per 500 entities.
        found = self.journal.columns_in("alias", "text", wanted, ("text", "entity_id"), origin=KEY_ALIAS_ORIGIN)
        merged = {entity_id for entity_id, status in self.journal.columns_in(
            "entity", "id", {entity_id for _, entity_id in found}, ("id", "status"))
            if status == EntityStatus.MERGED}
        for key, entity_id in found:
            if entity_id in merged:
                entity_id = _active(self.journal, entity_id)
            self.ids.setdefault(key, entity_id)
            self.existing.add(entity_id)
        missing = [ref for key, ref in wanted.items() if key not in self.ids]
        names = [" ".join(str(ref.get("name") or ref["key"]).split()) or ref["key"] for ref in missing]
        entity_ids = self.journal.insert_many("entity", [
            {"name": name, "class_name": ref.get("class"), "iri": mint_entity_iri(self.base_iri, name),
             "status": str(EntityStatus.ACTIVE), "merged_into": None}
            for ref, name in zip(missing, names, strict=True)
        ])
        self.journal.insert_many("alias", [
            {"entity_id": entity_id, "text": ref["key"], "origin": KEY_ALIAS_ORIGIN}
            for ref, entity_id in zip(missing, entity_ids, strict=True)
        ])
        self.ids.update((ref["key"], entity_id) for ref, entity_id in zip(missing, entity_ids, strict=True))

    def __getitem__(self, key: str) -> int:
        return self.ids[key]


def _triple_values(fact: dict[str, Any], entities: _EntityIndex) -> dict[str, Any]:
    obj = fact["object"]
    values: dict[str, Any] = {"subject_id": entities[fact["subject"]["key"]], "predicate": fact["predicate"]}
    if "key" in obj:
        values.update(object_id=entities[obj["key"]], object_literal=None, datatype=None, lang=None)
    else:
        values.update(object_id=None, object_literal=obj["literal"], datatype=obj.get("datatype"), lang=obj.get("lang"))
    return values


_IDENTITY = ("subject_id", "predicate", "object_id", "object_literal", "datatype", "lang")
_IDENTITY_ROW = ("id", *_IDENTITY)


def _identity(row: dict[str, Any]) -> tuple:
    return tuple(row[k] for k in _IDENTITY)


def _active(journal: RowJournal, entity_id: int) -> int:
    """Follow merges to the entity that stands for this one now."""
    seen = set()
    while entity_id not in seen:
        seen.add(entity_id)
        row = journal.require("entity", entity_id)
        if row["status"] != EntityStatus.MERGED or row["merged_into"] is None:
            return entity_id
        entity_id = row["merged_into"]
    return entity_id


def _delete_if_only_imported(journal: RowJournal, entity_id: int) -> None:
    if journal.keys("triple", subject_id=entity_id) or journal.keys("triple", object_id=entity_id):
        return
    if journal.keys("merge", from_id=entity_id) or journal.keys("merge", into_id=entity_id):
        return
    if journal.keys("entity", merged_into=entity_id):
        return
    aliases = journal.keys("alias", entity_id=entity_id)
    origins = {journal.require("alias", a)["origin"] for a in aliases}
    if not origins or not origins <= {KEY_ALIAS_ORIGIN, EXTRACTED_ALIAS_ORIGIN}:
        return  # not created by a machine stage, or someone (a user, fusion) gave it another name: keep it
    for alias_id in aliases:
        journal.delete("alias", alias_id)
    journal.delete("entity", entity_id)
