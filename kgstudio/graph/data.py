"""The graph as the canvas draws it: column arrays of nodes and edges (no Qt here).

Loaded with one column query per table (no domain objects per row, so a
100k-node project loads in about the time SQLite takes to hand the rows
over) and then kept in step with the project by :meth:`GraphData.apply`,
which reads a :class:`~kgstudio.domain.ChangeSet` instead of reloading.
Deleted nodes and edges are masked, not removed, so indices stay stable
while the canvas holds them.
"""

from __future__ import annotations

import base64
import binascii
import logging
import zlib
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from kgstudio.domain import ChangeSet, EntityStatus
from kgstudio.store import Project
from kgstudio.store.schema import EntityRow, Meta, TripleRow

POSITIONS_KEY = "view.node_positions"  # the layout as the user left it, in the project's key/value table
_POSITIONS_FORMAT = "kgstudio-positions-1:"

log = logging.getLogger(__name__)


@dataclass
class GraphDelta:
    """What :meth:`GraphData.apply` changed, as node and edge indices (for incremental redraws)."""

    nodes: set[int] = field(default_factory=set)
    edges: set[int] = field(default_factory=set)
    added_nodes: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.nodes or self.edges)


class GraphData:
    """Nodes (entities) and edges (triples between two entities) as parallel arrays.

    Triples with a literal object are facts about a node, not edges; the
    inspector shows them. ``pos`` is the layout, in arbitrary units.
    """

    def __init__(self) -> None:
        self.node_ids = np.zeros(0, np.int64)
        self.names: list[str] = []
        self.node_class: list[str | None] = []
        self.node_alive = np.zeros(0, bool)
        self.pos = np.zeros((0, 2), np.float64)
        self.edge_ids = np.zeros(0, np.int64)
        self.src = np.zeros(0, np.int32)
        self.dst = np.zeros(0, np.int32)
        self.predicate: list[str] = []
        self.status: list[str] = []
        self.confidence = np.zeros(0, np.float64)  # NaN when unknown
        self.edge_alive = np.zeros(0, bool)
        self._node_index: dict[int, int] = {}
        self._edge_index: dict[int, int] = {}
        self.version = 0  # bumped on every change, so views know their caches are stale
        self.positions_restored = 0  # how many nodes took their place from the project's saved layout

    # --- loading ---------------------------------------------------------------

    @classmethod
    def load(cls, project: Project) -> "GraphData":
        """Read every active entity and every entity-to-entity triple of ``project``."""
        data = cls()
        with project.read() as session:
            nodes = session.execute(
                select(EntityRow.id, EntityRow.name, EntityRow.class_name)
                .where(EntityRow.status == str(EntityStatus.ACTIVE)).order_by(EntityRow.id)
            ).all()
            edges = session.execute(
                select(TripleRow.id, TripleRow.subject_id, TripleRow.object_id, TripleRow.predicate,
                       TripleRow.status, TripleRow.confidence)
                .where(TripleRow.object_id.is_not(None)).order_by(TripleRow.id)
            ).all()
        data.set_nodes([r[0] for r in nodes], [r[1] for r in nodes], [r[2] for r in nodes])
        data.set_edges(edges)
        return data

    def set_nodes(self, ids: list[int], names: list[str], classes: list[str | None]) -> None:
        self.node_ids = np.asarray(ids, np.int64)
        self.names, self.node_class = list(names), list(classes)
        self.node_alive = np.ones(len(ids), bool)
        self.pos = np.zeros((len(ids), 2))
        self._node_index = {int(i): k for k, i in enumerate(ids)}
        self.version += 1

    def set_edges(self, rows: list[tuple]) -> None:  # (id, subject_id, object_id, predicate, status, confidence)
        index = self._node_index
        kept = [r for r in rows if r[1] in index and r[2] in index]
        self.edge_ids = np.fromiter((r[0] for r in kept), np.int64, len(kept))
        self.src = np.fromiter((index[r[1]] for r in kept), np.int32, len(kept))
        self.dst = np.fromiter((index[r[2]] for r in kept), np.int32, len(kept))
        self.predicate = [r[3] for r in kept]
        self.status = [r[4] for r in kept]
        self.confidence = np.array([np.nan if r[5] is None else r[5] for r in kept], np.float64)
        self.edge_alive = np.ones(len(kept), bool)
        self._edge_index = {int(r[0]): k for k, r in enumerate(kept)}
        self.version += 1

    def restore_positions(self, project: Project) -> int:
        """Put the nodes where the project's saved layout has them (see :func:`save_positions`).

        A node the saved layout does not know (added since) goes beside a neighbour that it does know,
        or keeps its place. Returns how many nodes were placed from the saved layout (0: none saved).
        """
        saved = load_positions(project)
        self.positions_restored = 0
        if saved is None or not len(self.node_ids):
            return 0
        ids, pos = saved
        order = np.argsort(ids)
        ids, pos = ids[order], pos[order]
        at = np.searchsorted(ids, self.node_ids).clip(0, max(len(ids) - 1, 0))
        known = ids[at] == self.node_ids if len(ids) else np.zeros(len(self.node_ids), bool)
        if not known.any():
            return 0
        self.pos = self.pos.astype(np.float64, copy=True)
        self.pos[known] = pos[at[known]]
        # Newcomers: next to a neighbour with a saved place, a little apart (seeded by the node: stable),
        # or, with none, on a spiral round the middle of the saved layout (the other positions are a
        # fresh layout's, in other units).
        spread = float(np.ptp(self.pos[known], axis=0).max()) if known.sum() > 1 else 1.0
        centre = self.pos[known].mean(axis=0)
        for k, i in enumerate(np.flatnonzero(~known).tolist()):
            edges = self.incident_edges([i])
            others = [int(o) for e in edges.tolist() for o in (self.src[e], self.dst[e]) if o != i and known[o]]
            if others:
                offset = np.random.default_rng(i).normal(0, spread * 0.01 + 1e-9, 2)
                self.pos[i] = self.pos[others[0]] + offset
            else:
                angle = k * 2.399963229728653
                self.pos[i] = centre + spread * (0.05 + 0.01 * np.sqrt(k)) * np.array([np.cos(angle), np.sin(angle)])
        self.positions_restored = int(known.sum())
        self.version += 1
        return self.positions_restored

    # --- lookups ---------------------------------------------------------------

    @property
    def node_count(self) -> int:
        return int(self.node_alive.sum())

    @property
    def edge_count(self) -> int:
        return int(self.edge_alive.sum())

    def node_index(self, entity_id: int) -> int | None:
        index = self._node_index.get(int(entity_id))
        return index if index is not None and self.node_alive[index] else None

    def edge_index(self, triple_id: int) -> int | None:
        index = self._edge_index.get(int(triple_id))
        return index if index is not None and self.edge_alive[index] else None

    def incident_edges(self, nodes: np.ndarray | list[int]) -> np.ndarray:
        """Indices of the live edges that touch any of ``nodes``."""
        mark = np.zeros(len(self.node_ids), bool)
        mark[np.asarray(list(nodes), np.int64)] = True
        return np.flatnonzero(self.edge_alive & (mark[self.src] | mark[self.dst]))

    def class_names(self) -> list[str]:
        """Classes of live nodes, sorted ("" for none)."""
        return sorted({c or "" for c, alive in zip(self.node_class, self.node_alive) if alive})

    def predicates(self) -> list[str]:
        return sorted({p for p, alive in zip(self.predicate, self.edge_alive) if alive})

    # --- incremental updates -----------------------------------------------------

    def apply(self, changes: ChangeSet) -> GraphDelta:
        """Bring the arrays in step with an applied change set; returns what changed."""
        delta = GraphDelta()
        for change in changes.changes:
            if change.table == "entity":
                self._apply_entity(change.key, change.after, delta)
        for change in changes.changes:
            if change.table == "triple":
                self._apply_triple(change.key, change.after, delta)
        if delta:
            self.version += 1
        return delta

    def _apply_entity(self, entity_id: int, after: dict | None, delta: GraphDelta) -> None:
        index = self._node_index.get(entity_id)
        active = after is not None and after.get("status") == str(EntityStatus.ACTIVE)
        if index is None:
            if not active:
                return
            index = len(self.node_ids)
            position = self._new_position()
            self.node_ids = np.append(self.node_ids, entity_id)
            self.names.append(after["name"])  # type: ignore[index]
            self.node_class.append(after.get("class_name"))  # type: ignore[union-attr]
            self.node_alive = np.append(self.node_alive, True)
            self.pos = np.vstack([self.pos, position])
            self._node_index[entity_id] = index
            delta.added_nodes.add(index)
        elif active:
            self.names[index] = after["name"]  # type: ignore[index]
            self.node_class[index] = after.get("class_name")  # type: ignore[union-attr]
            if not self.node_alive[index]:
                delta.added_nodes.add(index)
            self.node_alive[index] = True
        else:
            self.node_alive[index] = False
        delta.nodes.add(index)

    def _apply_triple(self, triple_id: int, after: dict | None, delta: GraphDelta) -> None:
        index = self._edge_index.get(triple_id)
        is_edge = after is not None and after.get("object_id") is not None
        if is_edge:
            s, o = self._node_index.get(after["subject_id"]), self._node_index.get(after["object_id"])  # type: ignore[index]
            is_edge = s is not None and o is not None
        if not is_edge:
            if index is not None and self.edge_alive[index]:
                self.edge_alive[index] = False
                delta.edges.add(index)
            return
        confidence = np.nan if after.get("confidence") is None else after["confidence"]  # type: ignore[union-attr,index]
        if index is None:
            index = len(self.edge_ids)
            self.edge_ids = np.append(self.edge_ids, triple_id)
            self.src = np.append(self.src, np.int32(s))
            self.dst = np.append(self.dst, np.int32(o))
            self.predicate.append(after["predicate"])  # type: ignore[index]
            self.status.append(after["status"])  # type: ignore[index]
            self.confidence = np.append(self.confidence, confidence)
            self.edge_alive = np.append(self.edge_alive, True)
            self._edge_index[triple_id] = index
        else:
            delta.nodes.update((int(self.src[index]), int(self.dst[index])))  # where it was drawn
            self.src[index], self.dst[index] = s, o
            self.predicate[index], self.status[index] = after["predicate"], after["status"]  # type: ignore[index]
            self.confidence[index] = confidence
            self.edge_alive[index] = True
        delta.edges.add(index)
        delta.nodes.update((int(s), int(o)))  # type: ignore[arg-type]

    def _new_position(self) -> np.ndarray:
        """Where a new node appears: near the middle of the layout, a little apart from the rest."""
        alive = self.pos[self.node_alive] if len(self.pos) else self.pos
        if len(alive) == 0:
            return np.zeros(2)
        centre = alive.mean(axis=0)
        spread = float(np.ptp(alive, axis=0).max()) or 1.0
        angle = (len(self.node_ids) * 2.399963) % (2 * np.pi)
        return centre + 0.08 * spread * np.array([np.cos(angle), np.sin(angle)])


# --- the saved layout ------------------------------------------------------------
#
# Node positions are view state, not graph facts: they live in the project's key/value table
# (kgstudio_meta, no schema change), need no edit command and leave no audit entry.


def save_positions(project: Project, node_ids: np.ndarray, pos: np.ndarray) -> None:
    """Store where the nodes are (``node_ids`` entity ids, ``pos`` an (n, 2) array) in ``project``.

    One row, replaced each time: about 3 MB for 100,000 nodes, so callers in the window run it on
    a worker thread.
    """
    ids = np.ascontiguousarray(node_ids, np.int64)
    xy = np.ascontiguousarray(pos, np.float64).reshape(len(ids), 2)
    packed = zlib.compress(np.int64(len(ids)).tobytes() + ids.tobytes() + xy.tobytes(), 1)
    value = _POSITIONS_FORMAT + base64.b64encode(packed).decode("ascii")
    with project.transaction() as repos:
        repos.session.merge(Meta(key=POSITIONS_KEY, value=value))


def load_positions(project: Project) -> tuple[np.ndarray, np.ndarray] | None:
    """The saved layout of ``project`` as (entity ids, (n, 2) positions); None when none is saved.

    A damaged value is logged and treated as none saved: losing a layout must not stop a project
    from opening.
    """
    with project.read() as session:
        value = session.scalar(select(Meta.value).where(Meta.key == POSITIONS_KEY))
    if not value:
        return None
    try:
        if not value.startswith(_POSITIONS_FORMAT):
            raise ValueError("unknown format")
        raw = zlib.decompress(base64.b64decode(value[len(_POSITIONS_FORMAT):], validate=True))
        n = int(np.frombuffer(raw[:8], np.int64)[0])
        if n < 0 or len(raw) != 8 + n * 8 + n * 16:
            raise ValueError(f"{len(raw)} bytes for {n} nodes")
        ids = np.frombuffer(raw[8:8 + n * 8], np.int64).copy()
        pos = np.frombuffer(raw[8 + n * 8:], np.float64).reshape(n, 2).copy()
    except (ValueError, binascii.Error, zlib.error) as exc:
        log.warning("%s: the saved node positions are damaged (%s); the graph is laid out afresh",
                    project.location, exc)
        return None
    if not np.isfinite(pos).all():
        log.warning("%s: the saved node positions are damaged (not finite); the graph is laid out afresh",
                    project.location)
        return None
    return ids, pos
