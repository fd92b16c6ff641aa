"""The edit command of the reflection pass: one critic finding, acted on.

Each :class:`ApplyReflection` is one correction, so a user reviews and
undoes them one by one. ``drop`` rejects the triple with the critic's
reason (it stays in the store, restorable). ``fix`` rejects it the same way
and adds the corrected statement as a new candidate (origin ``reflected``)
carrying the old one's evidence, so the correction is reviewed like any
extraction and "jump to source" still works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kgstudio.domain import Origin, TripleStatus
from kgstudio.edit.commands import EditCommand, EditContext, register
from kgstudio.edit.extract_commands import _EntityNames, _identity
from kgstudio.errors import EditError


@register
@dataclass
class ApplyReflection(EditCommand):
    """Act on one critic finding about ``triple_id``: ``action`` is "drop" or "fix".

    A fix gives the corrected ``subject``, ``predicate`` and ``object`` by
    name (entities are found by name, or created), with optional classes.
    """

    op: ClassVar[str] = "apply_reflection"
    triple_id: int
    action: str
    reason: str
    run_id: int | None = None
    fix: dict[str, Any] = field(default_factory=dict)

    def run(self, ctx: EditContext) -> None:
        journal = ctx.journal
        triple = journal.require("triple", self.triple_id)
        if triple["status"] == TripleStatus.REJECTED:
            raise EditError(f"triple {self.triple_id} is already rejected")
        if self.action not in ("drop", "fix"):
            raise EditError(f"unknown reflection action {self.action!r} (drop or fix)")
        journal.update("triple", self.triple_id, status=str(TripleStatus.REJECTED),
                       status_reason=f"reflection: {self.reason}")
        if self.action == "drop":
            return
        names = _EntityNames(journal, ctx.base_iri)
        names.ensure([(self.fix["subject"], self.fix.get("subject_class")),
                      (self.fix["object"], self.fix.get("object_class"))])
        values = {"subject_id": names[self.fix["subject"]], "predicate": self.fix["predicate"],
                  "object_id": names[self.fix["object"]], "object_literal": None, "datatype": None, "lang": None}
        existing = [row for row in journal.rows_in("triple", "subject_id", [values["subject_id"]])
                    if _identity(row) == _identity(values)]
        if existing:
            new_id = existing[0]["id"]  # the corrected statement is already known: it gains this evidence
        else:
            new_id = journal.insert("triple", {**values, "status": str(TripleStatus.CANDIDATE),
                                               "origin": str(Origin.REFLECTED), "confidence": triple["confidence"],
                                               "status_reason": f"reflection: {self.reason}"})
        for provenance_id in journal.keys("provenance", triple_id=self.triple_id):
            old = journal.require("provenance", provenance_id)
            journal.insert("provenance", {
                "triple_id": new_id, "chunk_id": old["chunk_id"], "segment_id": old["segment_id"],
                "span_start": old["span_start"], "span_end": old["span_end"],
                "run_id": self.run_id if self.run_id is not None else old["run_id"]})

    def describe(self) -> str:
        if self.action == "fix":
            return (f"reflection: replace triple {self.triple_id} by ({self.fix.get('subject')}) "
                    f"{self.fix.get('predicate')} ({self.fix.get('object')})")
        return f"reflection: drop triple {self.triple_id}"
