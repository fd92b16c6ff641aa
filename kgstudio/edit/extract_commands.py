"""The edit command of the extraction stage: a batch of chunks' model answers into the graph.

One :class:`AddExtractedTriples` holds what the model said about a few chunks
of one document: the candidate rows (every triple the model proposed, with
the reason when it was not usable), the triples made from the usable ones
(status ``candidate``, origin ``extracted``, with provenance to the chunk,
the evidence span and its segment), and the marks that those chunks are
done. All of it is one journaled change, so it commits or fails as a whole
(a killed run never leaves half a batch) and undoing it makes the chunks
pending again.

Entities are found by name: an active entity with exactly that name, or one
the extraction already met under that surface form (an alias with origin
``extracted``, which keeps working after the user renames the entity). Near
matches ("ACME Corp." / "Acme") are fusion's job, not this command's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kgstudio.domain import EntityStatus, Origin, TripleStatus
from kgstudio.domain.iris import mint_entity_iri
from kgstudio.edit.commands import EditCommand, EditContext, register
from kgstudio.edit.import_commands import EXTRACTED_ALIAS_ORIGIN
from kgstudio.store.journal import RowJournal


@register
@dataclass
class AddExtractedTriples(EditCommand):
    """Add a batch of extraction results.

    ``chunks``: one dict per chunk, ``{"chunk_id", "llm_call_id", "candidates": [...]}``.
    A candidate is ``{"subject", "predicate", "object", "subject_class",
    "object_class", "span_start", "span_end", "segment_id", "literal",
    "datatype", "raw", "error", "llm_call_id", "contracts"}``; one with an
    ``error`` is recorded but makes no triple. ``literal`` marks an object that
    is a value (a data property), not an entity. ``llm_call_id`` (default: the
    chunk's) names the answer a contract retry gave; ``contracts`` holds the
    verdicts ``[rule, passed, message]``, recorded as ``contract_result`` rows
    of the candidate (journaled too, so undo removes them with it).
    """

    op: ClassVar[str] = "add_extracted_triples"
    document_id: int
    run_id: int
    chunks: list[dict[str, Any]] = field(default_factory=list)

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        usable = [(chunk, c) for chunk in self.chunks for c in chunk["candidates"] if not c.get("error")]
        names = _EntityNames(journal, ctx.base_iri)
        names.ensure([(c["subject"], c.get("subject_class")) for _, c in usable]
                     + [(c["object"], c.get("object_class")) for _, c in usable if not c.get("literal")])
        known = {_identity(row): row["id"] for row in journal.rows_in("triple", "subject_id", names.existing)}
        new_rows: list[dict[str, Any]] = []
        pending: dict[tuple, int] = {}
        evidence: list[tuple[tuple, dict[str, Any], dict[str, Any]]] = []
        seen: set[tuple] = set()  # a small model repeats itself: one provenance row per place, not per repeat
        for chunk, candidate in usable:
            values = _triple_values(candidate, names)
            identity = _identity(values)
            if identity not in known and identity not in pending:
                pending[identity] = len(new_rows)
                new_rows.append({**values, "status": str(TripleStatus.CANDIDATE), "origin": str(Origin.EXTRACTED),
                                 "confidence": candidate.get("confidence"), "status_reason": None})
            place = (identity, chunk["chunk_id"], candidate.get("span_start"), candidate.get("span_end"))
            if place not in seen:
                seen.add(place)
                evidence.append((identity, chunk, candidate))
        for identity, triple_id in zip(pending, journal.insert_many("triple", new_rows), strict=True):
            known[identity] = triple_id
        journal.insert_many("provenance", [
            {"triple_id": known[identity], "chunk_id": chunk["chunk_id"], "segment_id": c.get("segment_id"),
             "span_start": c.get("span_start"), "span_end": c.get("span_end"), "run_id": self.run_id}
            for identity, chunk, c in evidence
        ])
        proposals = [c for chunk in self.chunks for c in chunk["candidates"]]
        candidate_ids = journal.insert_many("candidate", [
            {"run_id": self.run_id, "chunk_id": chunk["chunk_id"],
             "llm_call_id": c.get("llm_call_id", chunk["llm_call_id"]),
             "subject": c.get("subject"), "predicate": c.get("predicate"), "object": c.get("object"),
             "subject_class": c.get("subject_class"), "object_class": c.get("object_class"),
             "span_start": c.get("span_start"), "span_end": c.get("span_end"), "confidence": c.get("confidence"),
             "raw": c.get("raw"), "error": c.get("error")}
            for chunk in self.chunks for c in chunk["candidates"]
        ])
        journal.insert_many("contract_result", [
            {"run_id": self.run_id, "subject_table": "candidate", "subject_id": candidate_id, "rule": rule,
             "passed": bool(passed), "message": message}
            for candidate_id, c in zip(candidate_ids, proposals, strict=True)
            for rule, passed, message in c.get("contracts", ())
        ])
        journal.insert_many("chunk_extraction", [
            {"chunk_id": chunk["chunk_id"], "llm_call_id": chunk["llm_call_id"], "run_id": self.run_id}
            for chunk in self.chunks
        ])

    def describe(self) -> str:
        count = sum(len(chunk["candidates"]) for chunk in self.chunks)
        return f"extract {count} candidate triples from {len(self.chunks)} chunks of document {self.document_id}"

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "document_id": self.document_id, "run_id": self.run_id,
                "chunks": [chunk["chunk_id"] for chunk in self.chunks]}


class _EntityNames:
    """Surface names → active entity ids; names met for the first time become entities in one batch."""

    def __init__(self, journal: RowJournal, base_iri: str) -> None:
        self.journal, self.base_iri = journal, base_iri
        self.ids: dict[str, int] = {}
        self.existing: set[int] = set()

    def ensure(self, refs: list[tuple[str, str | None]]) -> None:
        wanted: dict[str, str | None] = {}
        for name, cls in refs:
            if wanted.get(name) is None:
                wanted[name] = cls
        for name, entity_id in self.journal.keys_in("entity", "name", wanted, status=str(EntityStatus.ACTIVE)):
            self._found(name, entity_id)
        rest = [name for name in wanted if name not in self.ids]
        for name, alias_id in self.journal.keys_in("alias", "text", rest, origin=EXTRACTED_ALIAS_ORIGIN):
            entity_id = self.journal.require("alias", alias_id)["entity_id"]
            if self.journal.require("entity", entity_id)["status"] == EntityStatus.ACTIVE:
                self._found(name, entity_id)
        missing = [name for name in wanted if name not in self.ids]
        entity_ids = self.journal.insert_many("entity", [
            {"name": name, "class_name": wanted[name], "iri": mint_entity_iri(self.base_iri, name),
             "status": str(EntityStatus.ACTIVE), "merged_into": None}
            for name in missing
        ])
        self.journal.insert_many("alias", [
            {"entity_id": entity_id, "text": name, "origin": EXTRACTED_ALIAS_ORIGIN}
            for name, entity_id in zip(missing, entity_ids, strict=True)
        ])
        self.ids.update(zip(missing, entity_ids, strict=True))

    def _found(self, name: str, entity_id: int) -> None:
        if name not in self.ids:  # the lowest id wins when several entities share a name
            self.ids[name] = entity_id
            self.existing.add(entity_id)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


def _triple_values(candidate: dict[str, Any], names: _EntityNames) -> dict[str, Any]:
    values: dict[str, Any] = {"subject_id": names[candidate["subject"]], "predicate": candidate["predicate"]}
    if candidate.get("literal"):
        values.update(object_id=None, object_literal=candidate["object"], datatype=candidate.get("datatype"),
                      lang=None)
    else:
        values.update(object_id=names[candidate["object"]], object_literal=None, datatype=None, lang=None)
    return values


def _identity(row: dict[str, Any]) -> tuple:
    return tuple(row[k] for k in ("subject_id", "predicate", "object_id", "object_literal", "datatype", "lang"))
