"""Global fusion (Graphusion step 3): entity resolution, conflict resolution, novel-triple discovery.

Per-chunk extraction and per-file import give a local view: "IBM", "I.B.M."
and "International Business Machines" are three nodes, two documents
disagree about a date, and relations that only show across documents are
missed. :func:`run_fusion` looks at the whole graph:

1. **Entity resolution** (:mod:`kgstudio.pipeline.resolve`): active entities
   that are not identified by an import key (a message, a spreadsheet row)
   are normalised, blocked and compared; clear pairs are merged, unclear ones
   are put to the model (when allowed) or reported as suggestions. Each
   cluster becomes one :class:`~kgstudio.edit.FuseCluster` edit (actor
   ``fusion``, with reason and score): the oldest entity survives with its
   IRI, the others are kept as merged (their IRIs still resolve), every name
   stays as an alias, and the canonical name is the most used, most specific
   one. "Do not merge" decisions and manual splits are never overridden.
2. **Conflict resolution** (:mod:`kgstudio.pipeline.conflicts`) for the
   ontology's functional properties; losers rejected with the reason.
3. **Novel-triple discovery** (:mod:`kgstudio.pipeline.discover`) with the
   model; proposals are candidates with origin ``fused``.

Incremental: a finished run records the highest entity id it saw; the next
run compares only pairs with a newer entity (``full=True`` compares all).
``dry_run=True`` plans everything (model answers are cached, so the real run
costs nothing more) and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from kgstudio.domain import Actor, Run, RunStatus, Triple
from kgstudio.edit import EditHistory
from kgstudio.edit.fusion_commands import AddFusedTriples, FuseCluster, RejectConflicting
from kgstudio.edit.import_commands import KEY_ALIAS_ORIGIN
from kgstudio.llm.backend import Backend, ChatMessage
from kgstudio.pipeline.conflicts import Conflict, find_conflicts
from kgstudio.pipeline.discover import Proposal, find_meetings, propose
from kgstudio.pipeline.extract import project_ontology
from kgstudio.pipeline.fusion_graph import GraphSnapshot, read_snapshot
from kgstudio.pipeline.fusion_llm import SAME_SCHEMA, FusionQuestions
from kgstudio.pipeline.names import PERSON, is_address
from kgstudio.pipeline.resolve import Link, Mention, ResolutionSettings, resolve
from kgstudio.progress import CancelToken, Progress, no_progress
from kgstudio.store import Project

STAGE = "fuse"


@dataclass(frozen=True)
class FusionSettings:
    resolution: ResolutionSettings = ResolutionSettings()
    use_llm: bool = True  # adjudicate unclear pairs, break ties, discover relations
    max_questions: int = 40  # new questions to the model per run (cached answers are free)
    discover: bool = True
    max_meetings: int = 20  # pairs meeting across documents asked about per run
    full: bool = False  # compare every pair, not only those with an entity newer than the last run


@dataclass
class MergePlan:
    into_id: int
    name: str  # the canonical name
    members: list[dict[str, Any]]  # {"id", "name", "score", "reason"}
    names: list[str]  # every member's name, the surviving entity's first


@dataclass
class FusionReport:
    dry_run: bool
    entities: int = 0  # entities resolution looked at
    compared: int = 0  # pairs scored
    merges: list[MergePlan] = field(default_factory=list)
    suggestions: list[dict[str, Any]] = field(default_factory=list)  # unclear pairs left for the user
    conflicts: list[Conflict] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)
    questions: int = 0  # questions that reached the model (not cached)
    seconds: float = 0.0
    run_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run, "entities": self.entities, "compared": self.compared,
            "merges": [asdict(m) for m in self.merges], "suggestions": self.suggestions,
            "conflicts": [asdict(c) for c in self.conflicts], "proposals": [asdict(p) for p in self.proposals],
            "questions": self.questions, "seconds": round(self.seconds, 3), "run_id": self.run_id,
        }


def run_fusion(
    project: Project,
    settings: FusionSettings = FusionSettings(),
    *,
    dry_run: bool = False,
    backend: Backend | None = None,
    backend_factory: Callable[[], Backend] | None = None,
    model: str = "",
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
) -> FusionReport:
    """Fuse the project's graph (see the module docstring); returns what was (or would be) done.

    The model is ``backend`` or, made on first need, ``backend_factory()``;
    ``model`` is its identity for the answer cache. Without either, or with
    ``settings.use_llm`` off, unclear pairs are left as suggestions, ties
    unresolved, and no relations are proposed.
    """
    started = time.perf_counter()
    report = FusionReport(dry_run)
    llm = None
    if settings.use_llm and (backend is not None or backend_factory is not None):
        llm = FusionQuestions(project, model or getattr(backend, "name", "model"), backend=backend,
                              factory=backend_factory, limit=settings.max_questions, cancel=cancel)
    try:
        progress(0, 4, "reading the graph")
        snapshot = read_snapshot(project, project_ontology(project))
        watermark = None
        if not settings.full:
            with project.repositories() as repos:
                last = repos.runs.latest(STAGE, RunStatus.DONE)
            watermark = last.params.get("entity_watermark") if last else None
        run_id = None
        if not dry_run:
            with project.transaction() as repos:
                run_id = repos.runs.start(Run(STAGE, model or None, None, {
                    "entity_watermark": snapshot.max_entity_id, "full": settings.full})).id
            report.run_id = run_id
        history = EditHistory(project)

        progress(1, 4, "resolving entities")
        representative = _resolve(snapshot, settings, watermark, llm, report)
        names = _names(snapshot, representative, report.merges)
        if not dry_run:
            for plan in report.merges:
                history.execute(FuseCluster(plan.into_id, [{k: m[k] for k in ("id", "score", "reason")}
                                                           for m in plan.members], plan.name),
                                actor=Actor.FUSION, reason=f"fusion run {run_id}: " + "; ".join(
                                    m["reason"] for m in plan.members))

        progress(2, 4, "resolving conflicts")
        passages = _Passages(project, snapshot)
        report.conflicts = find_conflicts(snapshot, representative, names, passages,
                                          _tie_breaker(llm) if llm else None)
        rejections = [r for c in report.conflicts for r in c.rejected]
        if rejections and not dry_run:
            history.execute(RejectConflicting([{"triple_id": r["triple_id"], "reason": r["reason"]}
                                               for r in rejections]),
                            actor=Actor.FUSION, reason=f"fusion run {run_id}: functional properties keep one value")

        progress(3, 4, "discovering relations across documents")
        if llm is not None and settings.discover:
            meetings = find_meetings(snapshot, representative, settings.max_meetings)
            report.proposals = propose(meetings, names, representative, snapshot, _relation_asker(llm), passages)
            if report.proposals and not dry_run:
                history.execute(AddFusedTriples([
                    {"subject_id": p.subject_id, "predicate": p.predicate, "object_id": p.object_id,
                     "confidence": p.confidence, "evidence": p.evidence, "run_id": run_id} for p in report.proposals
                ]), actor=Actor.FUSION, reason=f"fusion run {run_id}: relations between entities that meet "
                                               "across documents")
        if run_id is not None:
            with project.transaction() as repos:
                repos.runs.finish(run_id, RunStatus.CANCELLED if cancel and cancel.cancelled else RunStatus.DONE,
                                  _summary(report))
        progress(4, 4, "done")
    finally:
        if llm is not None:
            report.questions = llm.asked
            llm.close()
    report.seconds = time.perf_counter() - started
    return report


def mentions_of(snapshot: GraphSnapshot) -> list[Mention]:
    """The entities resolution considers, with their names and aliases (import keys as addresses)."""
    weights = snapshot.weights()
    mentions = []
    for entity_id, entity in sorted(snapshot.entities.items()):
        if snapshot.keyed(entity_id):
            continue
        aliases = [a.text for a in snapshot.aliases.get(entity_id, ())
                   if a.origin != KEY_ALIAS_ORIGIN or a.text.startswith("mailto:")]
        mentions.append(Mention(entity_id, entity.name, entity.class_name, aliases,
                                snapshot.classes.kind(entity.class_name), weights.get(entity_id, 0)))
    return mentions


def _resolve(snapshot: GraphSnapshot, settings: FusionSettings, watermark: int | None,
             llm: FusionQuestions | None, report: FusionReport) -> dict[int, int]:
    mentions = mentions_of(snapshot)
    by_id = {m.id: m for m in mentions}
    adjudicate = _adjudicator(llm, by_id, snapshot) if llm is not None else None
    resolution = resolve(mentions, settings.resolution, distinct=snapshot.distinct,
                         compatible=snapshot.classes.compatible, adjudicate=adjudicate, only_new_after=watermark)
    report.entities, report.compared = len(mentions), resolution.compared
    representative: dict[int, int] = {}
    for cluster in resolution.clusters:
        into = min(cluster)  # the oldest entity: its IRI is the one already out there
        canonical = max(cluster, key=lambda i: _name_rank(by_id[i]))
        members = []
        for member in cluster:
            representative[member] = into
            if member == into:
                continue
            link = _best_link(resolution.links, member, cluster)
            other = by_id[link.b if link.a == member else link.a]
            members.append({"id": member, "name": by_id[member].name, "score": link.score,
                            "reason": f"{by_id[member].name!r} ~ {other.name!r}: {link.reason}"})
        report.merges.append(MergePlan(into, by_id[canonical].name, members,
                                       [by_id[into].name] + [m["name"] for m in members]))
    report.suggestions = [
        {"entity_id": link.a, "name": by_id[link.a].name, "other_id": link.b, "other": by_id[link.b].name,
         "score": link.score, "reason": link.reason} for link in resolution.unclear]
    return representative


def _name_rank(mention: Mention) -> tuple:
    """Most used first, then most specific: a real name over an address or a handle, more words, longer."""
    name = mention.name
    handle = mention.kind == PERSON and " " not in name.strip() and name.islower()
    return (not is_address(name), not handle, mention.weight, len(name.split()), name != name.lower(), len(name),
            -mention.id)


def _best_link(links: dict[frozenset[int], Link], member: int, cluster: list[int]) -> Link:
    touching = [link for pair, link in links.items() if member in pair and pair <= set(cluster)]
    return max(touching, key=lambda link: link.score)


def _names(snapshot: GraphSnapshot, representative: dict[int, int], merges: list[MergePlan]) -> dict[int, str]:
    names = {entity_id: entity.name for entity_id, entity in snapshot.entities.items()}
    for plan in merges:
        names[plan.into_id] = plan.name
    return names


def _summary(report: FusionReport) -> str:
    rejected = sum(len(c.rejected) for c in report.conflicts)
    return (f"{len(report.merges)} clusters merged, {len(report.suggestions)} suggestions, "
            f"{rejected} conflicting values rejected, {len(report.proposals)} relations proposed")


# --- the model's part ---------------------------------------------------------------


def _adjudicator(llm: FusionQuestions, by_id: dict[int, Mention], snapshot: GraphSnapshot
                 ) -> Callable[[list[Link]], list[bool]]:
    def describe(mention: Mention) -> str:
        others = [a for a in mention.aliases if a != mention.name][:4]
        facts = [f"{t.predicate} {snapshot.entities[t.object_id].name if t.object_id in snapshot.entities else t.object_literal}"
                 for t in snapshot.triples if t.subject_id == mention.id][:3] if len(snapshot.triples) < 50_000 else []
        parts = [f'"{mention.name}"', f"({mention.class_name})" if mention.class_name else ""]
        if others:
            parts.append("also written " + ", ".join(f'"{a}"' for a in others))
        if facts:
            parts.append("facts: " + "; ".join(facts))
        return " ".join(p for p in parts if p)

    def adjudicate(links: list[Link]) -> list[bool]:
        answers = []
        for link in links:
            messages = [
                ChatMessage("system", "You decide whether two entries of a knowledge graph name the same real-world "
                                      "thing. Answer with JSON only."),
                ChatMessage("user", f"A: {describe(by_id[link.a])}\nB: {describe(by_id[link.b])}\n"
                                    'Are A and B the same? Answer {"same": true} or {"same": false}.'),
            ]
            answer = llm.ask(messages, SAME_SCHEMA)
            answers.append(bool(answer and answer.get("same") is True))
        return answers

    return adjudicate


def _tie_breaker(llm: FusionQuestions) -> Callable[[str, str, list[str], list[list[str]]], int | None]:
    def break_tie(subject: str, predicate: str, values: list[str], passages: list[list[str]]) -> int | None:
        lines = [f"{i + 1}. {value}" + (f' — source: "{passages[i][0]}"' if passages[i] else "")
                 for i, value in enumerate(values)]
        schema = {"type": "object", "properties": {"choice": {"enum": list(range(1, len(values) + 1)) + [0]}},
                  "required": ["choice"]}
        answer = llm.ask([
            ChatMessage("system", "You resolve contradictions in a knowledge graph from the source passages. "
                                  "Answer with JSON only."),
            ChatMessage("user", f"{subject} can have only one {predicate}. The documents say:\n" + "\n".join(lines)
                        + '\nWhich one is right? Answer {"choice": N}, or {"choice": 0} if the passages do not tell.'),
        ], schema)
        choice = answer.get("choice") if answer else 0
        return choice - 1 if isinstance(choice, int) and 1 <= choice <= len(values) else None

    return break_tie


def _relation_asker(llm: FusionQuestions) -> Callable[[list[str], str, str, list[str]], str | None]:
    def ask(facts: list[str], subject: str, obj: str, predicates: list[str]) -> str | None:
        schema = {"type": "object", "properties": {"predicate": {"enum": predicates + ["none"]}},
                  "required": ["predicate"]}
        answer = llm.ask([
            ChatMessage("system", "You find relations in a knowledge graph that follow from facts stated in "
                                  "different documents. Answer with JSON only."),
            ChatMessage("user", "Facts:\n" + "\n".join(f"- {f}" for f in facts)
                        + f"\nWhich relation holds from {subject} to {obj}? Choose one of: "
                        + ", ".join(predicates) + ', or "none" if the facts do not say. '
                        'Answer {"predicate": "..."}.'),
        ], schema)
        predicate = answer.get("predicate") if answer else None
        return predicate if predicate in predicates else None

    return ask


class _Passages:
    """The text a triple was read from (the chunk around it), fetched once per chunk."""

    def __init__(self, project: Project, snapshot: GraphSnapshot) -> None:
        self.project, self.snapshot = project, snapshot
        self._chunks: dict[int, str] = {}

    def __call__(self, triple: Triple) -> list[str]:
        chunk_ids = [p.chunk_id for p in self.snapshot.places.get(triple.id or 0, ()) if p.chunk_id]
        missing = [c for c in chunk_ids if c not in self._chunks]
        if missing:
            with self.project.repositories() as repos:
                self._chunks.update((cid, chunk.text) for cid, chunk in repos.documents.chunks_by_id(missing).items())
        return [_excerpt(self._chunks[c]) for c in chunk_ids if c in self._chunks]


def _excerpt(text: str, limit: int = 400) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"
