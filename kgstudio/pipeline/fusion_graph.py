"""What fusion reads: one snapshot of the graph, and the ontology's class hierarchy.

Read in a handful of queries (entities, aliases, triples, evidence places,
"do not merge" pairs), so a fusion run costs the same few round trips on a
hundred entities or a hundred thousand.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from kgstudio.domain import Alias, Entity, Ontology, Triple, TripleStatus
from kgstudio.edit.import_commands import KEY_ALIAS_ORIGIN
from kgstudio.pipeline.names import ORGANIZATION, OTHER, PERSON
from kgstudio.store import Project


@dataclass(frozen=True)
class Place:
    """Where a triple is stated: its document and the chunk or segment."""

    document_id: int | None
    chunk_id: int | None
    segment_id: int | None


@dataclass
class GraphSnapshot:
    entities: dict[int, Entity]  # active ones
    aliases: dict[int, list[Alias]]
    triples: list[Triple]  # every status
    places: dict[int, list[Place]]  # triple id -> evidence
    distinct: list[tuple[int, int]]
    ontology: Ontology
    max_entity_id: int = 0
    _classes: "ClassTree | None" = field(default=None, repr=False)

    @property
    def classes(self) -> "ClassTree":
        if self._classes is None:
            self._classes = ClassTree(self.ontology)
        return self._classes

    def keyed(self, entity_id: int) -> bool:
        """Identified by an import key other than an address (a message, a spreadsheet row): never resolved."""
        return any(a.origin == KEY_ALIAS_ORIGIN and not a.text.startswith("mailto:")
                   for a in self.aliases.get(entity_id, ()))

    def weights(self) -> dict[int, int]:
        """How much the graph says about each entity: its live triples plus their evidence."""
        weight: dict[int, int] = defaultdict(int)
        for triple in self.triples:
            if triple.status == TripleStatus.REJECTED:
                continue
            count = 1 + len(self.places.get(triple.id or 0, ()))
            weight[triple.subject_id] += count
            if triple.object_id is not None:
                weight[triple.object_id] += count
        return weight


def read_snapshot(project: Project, ontology: Ontology) -> GraphSnapshot:
    with project.repositories() as repos:
        entities = {e.id: e for e in repos.graph.entities(include_merged=True)}
        aliases: dict[int, list[Alias]] = defaultdict(list)
        for alias in repos.graph.all_aliases():
            aliases[alias.entity_id].append(alias)
        triples = repos.graph.triples()
        places: dict[int, list[Place]] = defaultdict(list)
        for triple_id, document_id, chunk_id, segment_id in repos.graph.evidence_places():
            places[triple_id].append(Place(document_id, chunk_id, segment_id))
        distinct = repos.graph.distinct_pairs()
    active = {i: e for i, e in entities.items() if e.status == "active"}
    return GraphSnapshot(active, dict(aliases), triples, dict(places), distinct, ontology,
                         max(entities, default=0))


class ClassTree:
    """The ontology's subclass relation: kinds for resolution, compatibility, domain/range checks."""

    def __init__(self, ontology: Ontology) -> None:
        self.parent = {c.name: c.parent for c in ontology.classes}

    def ancestors(self, name: str | None) -> list[str]:
        found: list[str] = []
        while name is not None and name not in found:
            found.append(name)
            name = self.parent.get(name)
        return found

    def kind(self, name: str | None) -> str:
        lineage = self.ancestors(name)
        if "Person" in lineage:
            return PERSON
        if "Organization" in lineage or "Organisation" in lineage:
            return ORGANIZATION
        return OTHER

    def compatible(self, a: str | None, b: str | None) -> bool:
        """One entity may have both classes: equal, one unknown, or one a subclass of the other."""
        return a is None or b is None or a in self.ancestors(b) or b in self.ancestors(a)

    def fits(self, name: str | None, expected: str | None) -> bool:
        """An instance of ``name`` may stand where ``expected`` is required (unknown fits anything)."""
        return expected is None or name is None or expected in self.ancestors(name)
