"""Reflection (FinReflectKG): rule checks, then critic and corrector requests, on extracted triples.

A pass takes triples of the graph (all extracted ones not rejected, or a
selection), groups them by the chunk they came from and, per chunk and step:

1. checks every triple against :data:`RULES` (vague subject, a name longer
   than a name, self-loop, predicate or class outside the ontology, subject
   or object class outside the predicate's domain or range, subject or
   object not in the passage);
2. asks the model as a *critic* which triples are wrong, showing it the
   rule findings; every rule finding is an issue even if the critic misses it;
3. asks it as a *corrector* to fix or drop each issue. A fix is kept only
   when it passes the rules itself; what breaks a rule and cannot be fixed
   is dropped. A triple that only the critic faults is never dropped on
   its word alone: it is fixed (by a fix that passes the rules) or kept.

Every correction is a :class:`ProposedChange` (old triple, the fix or a
drop, the critic's reason). :func:`run_reflection` applies each at once as
one :class:`~kgstudio.edit.ApplyReflection` edit (actor ``reflection``, with
the reason): reviewable, undoable one by one. :func:`propose_reflection`
applies nothing and returns the proposals, so a user can accept some
(:func:`apply_proposal`, again one edit each). Steps repeat until the critic
and the rules find nothing or ``steps`` is reached. The run records the
compliance (share of triples passing every rule) before and after (for a
proposal: after, if every proposal were accepted). Model answers are cached
like extraction's.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kgstudio.domain import Actor, EditRecord, LlmCall, Ontology, Run, RunStatus, TripleStatus
from kgstudio.edit import ApplyReflection, EditHistory
from kgstudio.errors import EditError
from kgstudio.llm.backend import Backend, ChatMessage
from kgstudio.pipeline.contracts import RULES as CONTRACT_RULES
from kgstudio.pipeline.contracts import Candidate, OntologyIndex
from kgstudio.pipeline.extract import (
    ExtractionSettings,
    describe_ontology,
    find_span,
    load_prompt,
    make_backend,
    model_identity,
    project_ontology,
)
from kgstudio.progress import CancelToken, Progress, no_progress
from kgstudio.store import Project

MAX_NAME_WORDS = 6
MAX_NAME_CHARS = 60
# Subjects that name nothing on their own (FinReflectKG's "no vague subject" rule).
VAGUE = frozenset({
    "i", "me", "we", "us", "you", "he", "him", "she", "her", "it", "they", "them", "this", "that", "these",
    "those", "one", "someone", "something", "the company", "the firm", "the author", "the authors",
    "this paper", "this study", "this article", "the paper", "the study", "the organisation",
    "the organization", "the document", "the report", "the group", "the team", "the project",
})


@dataclass
class TripleView:
    """A triple as the rules and the model see it: names, and the passage it came from."""

    id: int
    subject: str
    predicate: str
    object: str
    subject_class: str | None
    object_class: str | None
    literal: bool
    same_entity: bool
    chunk_id: int | None
    passage: str


Rule = Callable[[TripleView, OntologyIndex], str | None]
# The extraction contract's domain/range check (with the subclass closure), reused as is.
_DOMAIN_RANGE = next(rule.check for rule in CONTRACT_RULES if rule.name == "domain_range")


def vague_subject(t: TripleView, ontology: OntologyIndex) -> str | None:
    return f'the subject "{t.subject}" is vague' if t.subject.casefold().strip(" .") in VAGUE else None


def name_length(t: TripleView, ontology: OntologyIndex) -> str | None:
    for role, name in (("subject", t.subject), ("object", None if t.literal else t.object)):
        if name and (len(name.split()) > MAX_NAME_WORDS or len(name) > MAX_NAME_CHARS):
            return f'the {role} "{name[:80]}" is longer than a name'
    return None


def self_loop(t: TripleView, ontology: OntologyIndex) -> str | None:
    return "subject and object are the same entity" if t.same_entity else None


def in_ontology(t: TripleView, index: OntologyIndex) -> str | None:
    properties = {p.name for p in index.ontology.properties}
    if properties and t.predicate not in properties:
        return f'the predicate "{t.predicate}" is not in the ontology'
    classes = {c.name for c in index.ontology.classes}
    for cls in (t.subject_class, t.object_class):
        if classes and cls and cls not in classes:
            return f'the class "{cls}" is not in the ontology'
    return None


def domain_range(t: TripleView, index: OntologyIndex) -> str | None:
    """The subject's class fits the predicate's domain, the object's its range (a Person is an Agent)."""
    if index.ontology.properties and t.predicate not in {p.name for p in index.ontology.properties}:
        return None  # in_ontology says so
    return _DOMAIN_RANGE(Candidate(t.subject, t.predicate, t.object, t.subject_class,
                                   None if t.literal else t.object_class), index)


def grounded(t: TripleView, ontology: OntologyIndex) -> str | None:
    if not t.passage:
        return None  # typed in or imported: nothing to ground in
    for role, name in (("subject", t.subject), ("object", t.object)):
        if find_span(t.passage, name) is None:
            return f'the {role} "{name[:80]}" does not occur in the passage'
    return None


RULES: dict[str, Rule] = {
    "vague_subject": vague_subject,
    "name_length": name_length,
    "self_loop": self_loop,
    "in_ontology": in_ontology,
    "domain_range": domain_range,
    "grounded": grounded,
}


def check(triple: TripleView, ontology: Ontology | OntologyIndex) -> list[str]:
    """The rule findings for one triple (empty: it complies).

    Pass an :class:`OntologyIndex` when checking many triples: it is built once.
    """
    index = ontology if isinstance(ontology, OntologyIndex) else OntologyIndex(ontology)
    return [message for rule in RULES.values() if (message := rule(triple, index))]


def compliance(triples: Sequence[TripleView], ontology: Ontology | OntologyIndex) -> float:
    """Share of ``triples`` that pass every rule (1.0 for none)."""
    index = ontology if isinstance(ontology, OntologyIndex) else OntologyIndex(ontology)
    return sum(1 for t in triples if not check(t, index)) / len(triples) if triples else 1.0


@dataclass
class ProposedChange:
    """One correction reflection proposes: drop ``triple_id``, or replace it by ``new``; and why."""

    triple_id: int
    action: str  # "drop" or "fix"
    reason: str  # the rule findings or the critic's words
    old: tuple[str, str, str]  # subject, predicate, object as shown
    new: tuple[str, str, str] | None = None  # the corrected triple of a fix
    fix: dict[str, Any] = field(default_factory=dict)  # ApplyReflection's fix (names)

    def command(self, run_id: int | None) -> ApplyReflection:
        """The edit that carries this change out (one per change, so each undoes on its own)."""
        return ApplyReflection(self.triple_id, self.action, self.reason, run_id, dict(self.fix))


def apply_proposal(history: EditHistory, change: ProposedChange, run_id: int | None = None) -> EditRecord:
    """Carry out one accepted proposal as an edit by actor ``reflection`` with its reason.

    Raises :class:`~kgstudio.errors.EditError` when the triple was rejected meanwhile.
    """
    return history.execute(change.command(run_id), actor=Actor.REFLECTION, reason=change.reason)


@dataclass
class ReflectionReport:
    run_id: int | None = None
    triples: int = 0
    steps: int = 0
    model_calls: int = 0
    cached: int = 0
    dropped: int = 0
    fixed: int = 0
    compliance_before: float = 1.0
    compliance_after: float = 1.0
    seconds: float = 0.0
    cancelled: bool = False
    changes: list[int] = field(default_factory=list)  # the edit log ids, for review and undo
    proposals: list[ProposedChange] = field(default_factory=list)  # every change found, applied or not
    applied: bool = True  # False: a proposal (propose_reflection); nothing was changed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_triples(project: Project, triple_ids: Sequence[int] | None = None) -> list[TripleView]:
    """Extracted triples that are not rejected (or exactly ``triple_ids``), with their first passage."""
    with project.repositories() as repos:
        if triple_ids is None:
            triples = [t for t in repos.graph.triples() if t.status != TripleStatus.REJECTED
                       and t.origin in ("extracted", "reflected", "fused") and t.object_id is not None]
        else:
            triples = [t for t in (repos.graph.triple(i) for i in triple_ids)
                       if t is not None and t.status != TripleStatus.REJECTED]
        views = []
        chunk_texts: dict[int, str] = {}
        for t in triples:
            subject = repos.graph.entity(t.subject_id)
            obj = repos.graph.entity(t.object_id) if t.object_id is not None else None
            chunk_id = next((p.chunk_id for p in repos.graph.provenance(t.id) if p.chunk_id is not None), None)
            if chunk_id is not None and chunk_id not in chunk_texts:
                chunk_texts[chunk_id] = repos.documents.chunks_by_id([chunk_id])[chunk_id].text
            views.append(TripleView(
                t.id, subject.name, t.predicate, obj.name if obj else (t.object_literal or ""),
                subject.class_name, obj.class_name if obj else None, obj is None,
                obj is not None and obj.id == subject.id, chunk_id, chunk_texts.get(chunk_id, "")))
    return views


def run_reflection(project: Project, settings: ExtractionSettings = ExtractionSettings(), *,
                   mode: str = "reflect", steps: int = 2, triple_ids: Sequence[int] | None = None, progress: Progress | None = None,
                   cancel: CancelToken | None = None, backend: Backend | None = None,
                   model: str | None = None, apply: bool = True) -> ReflectionReport:
    """Run reflection on the graph (or on ``triple_ids``); call it on a worker thread (see the module docstring).

    ``mode="multi"`` is the cheaper normalising pass: one step, issues from the
    rules only (no critic request), each sent to the corrector. With
    ``apply=False`` nothing changes: the report's ``proposals`` are what it
    would do (see :func:`propose_reflection`).
    """
    if mode not in ("reflect", "multi"):
        raise ValueError(f"unknown reflection mode {mode!r}")
    steps = 1 if mode == "multi" else max(1, steps)
    report_progress = progress or no_progress
    cancel = cancel or CancelToken()
    started = time.perf_counter()
    own_backend = backend is None
    model = model or (model_identity(settings) if own_backend else getattr(backend, "identity", backend.name))
    ontology = OntologyIndex(project_ontology(project))
    report = ReflectionReport(applied=apply)
    triples = load_triples(project, triple_ids)
    report.triples = len(triples)
    report.compliance_before = compliance(triples, ontology)
    with project.transaction() as repos:
        run = repos.runs.start(Run("reflect", model, "critic@1+correct@1",
                                   {"mode": mode, "steps": steps, "triples": len(triples), "apply": apply}))
    report.run_id = run.id
    status = RunStatus.DONE
    try:
        if triples:
            report_progress(0, None, "loading the model")
            backend = backend or make_backend(settings)
            _Reflector(project, backend, model, ontology, report, report_progress, cancel,
                       critic=mode == "reflect", apply=apply).run(triples, steps)
    except BaseException:
        status = RunStatus.FAILED
        raise
    finally:
        if own_backend and backend is not None:
            backend.close()
        if apply:
            ids = [t.id for t in triples]
            after = load_triples(project, ids) if ids else []
        else:  # as if every proposal were accepted: the changed triples leave, the fixes comply by construction
            changed = {change.triple_id for change in report.proposals}
            after = [t for t in triples if t.id not in changed]
        report.compliance_after = compliance(after, ontology) if after else 1.0
        report.seconds = time.perf_counter() - started
        if report.cancelled and status == RunStatus.DONE:
            status = RunStatus.CANCELLED
        with project.transaction() as repos:
            repos.runs.finish(run.id, status, json.dumps({  # type: ignore[arg-type]
                "compliance_before": round(report.compliance_before, 4),
                "compliance_after": round(report.compliance_after, 4),
                "dropped": report.dropped, "fixed": report.fixed, "model_calls": report.model_calls,
                "proposed": len(report.proposals), "applied": apply}))
    return report


def propose_reflection(project: Project, settings: ExtractionSettings = ExtractionSettings(), **options: Any,
                       ) -> ReflectionReport:
    """Reflection as a dry run: the report's ``proposals`` and nothing changed in the graph.

    Takes :func:`run_reflection`'s options. ``fixed``/``dropped`` and
    ``compliance_after`` count what accepting every proposal would do; accept
    them one by one with :func:`apply_proposal` (with ``report.run_id``).
    """
    return run_reflection(project, settings, **options, apply=False)


class _Reflector:
    def __init__(self, project: Project, backend: Backend, model: str, ontology: OntologyIndex,
                 report: ReflectionReport, progress: Progress, cancel: CancelToken, critic: bool = True,
                 apply: bool = True) -> None:
        self.use_critic, self.apply = critic, apply
        self.project, self.backend, self.model, self.ontology = project, backend, model, ontology
        self.report, self.progress, self.cancel = report, progress, cancel
        self.history = EditHistory(project)
        self.critic, self.corrector = load_prompt("critic-v1.txt"), load_prompt("correct-v1.txt")
        self.ontology_text = describe_ontology(ontology.ontology)

    def run(self, triples: list[TripleView], steps: int) -> None:
        live = {t.id: t for t in triples}
        for step in range(steps):
            self.report.steps = step + 1
            groups: dict[int | None, list[TripleView]] = {}
            for t in live.values():
                groups.setdefault(t.chunk_id, []).append(t)
            found_any = False
            for n, (chunk_id, group) in enumerate(sorted(groups.items(), key=lambda g: g[0] or 0)):
                if self.cancel.cancelled:
                    self.report.cancelled = True
                    return
                found_any |= self._reflect_on(group, live)
                self.progress(n + 1, len(groups), f"step {step + 1}/{steps}: passage {n + 1}/{len(groups)}")
            if not found_any:
                break
            if self.apply:  # a dry run changed nothing: the remaining triples are as they were
                ids = list(live)
                live = {t.id: t for t in load_triples(self.project, ids)}

    def _reflect_on(self, group: list[TripleView], live: dict[int, TripleView]) -> bool:
        passage = group[0].passage
        numbered = "\n".join(f"{n}. {t.subject} | {t.predicate} | {t.object}" for n, t in enumerate(group, 1))
        findings = {n: check(t, self.ontology) for n, t in enumerate(group, 1)}
        checks = "; ".join(f"{n}: {', '.join(msgs)}" for n, msgs in findings.items() if msgs) or "none"
        critic = None
        if self.use_critic:
            critic = self._ask(self.critic.messages(ontology=self.ontology_text, text=passage or "(no passage)",
                                                    triples=numbered, checks=checks), _issues_schema(len(group)))
            if self.report.cancelled:
                return False  # stopped mid-answer: no corrector, no change
        issues: dict[int, str] = {n: "; ".join(msgs) for n, msgs in findings.items() if msgs}
        for item in (critic or {}).get("issues", []):
            n = item.get("triple") if isinstance(item, dict) else None
            if isinstance(n, int) and 1 <= n <= len(group) and isinstance(item.get("problem"), str):
                issues.setdefault(n, item["problem"].strip()[:300] or "found wrong by the critic")
        if not issues:
            return False
        listed = "\n".join(f"{n}: {problem}" for n, problem in sorted(issues.items()))
        answer = self._ask(self.corrector.messages(ontology=self.ontology_text, text=passage or "(no passage)",
                                                  triples=numbered, issues=listed),
                           _corrections_schema(len(group), self.ontology.ontology))
        if self.report.cancelled:
            return False  # an unanswered corrector must not turn every issue into a drop
        corrections = {c["triple"]: c for c in (answer or {}).get("corrections", [])
                       if isinstance(c, dict) and isinstance(c.get("triple"), int)}
        for n, problem in sorted(issues.items()):
            triple = group[n - 1]
            fix = self._usable_fix(corrections.get(n), triple)
            if not fix and not findings[n]:
                # The critic alone found fault with a triple that passes every rule, and no usable fix came:
                # keep it. A small model's critic flags right triples too (measured: it cost Text2KGBench
                # precision), so a drop needs a rule finding; a fix still needs to pass every rule.
                continue
            change = ProposedChange(triple.id, "fix" if fix else "drop", problem,
                                    (triple.subject, triple.predicate, triple.object),
                                    (fix["subject"], fix["predicate"], fix["object"]) if fix else None, fix or {})
            if self.apply:
                try:
                    record = apply_proposal(self.history, change, self.report.run_id)
                except EditError:
                    continue  # already rejected meanwhile (by the user, or an earlier step)
                self.report.changes.append(record.id)  # type: ignore[arg-type]
            self.report.proposals.append(change)
            if fix:
                self.report.fixed += 1
            else:
                self.report.dropped += 1
            live.pop(triple.id, None)
        return True

    def _usable_fix(self, correction: dict[str, Any] | None, old: TripleView) -> dict[str, Any] | None:
        if not correction or correction.get("action") != "fix":
            return None
        fix = {key: " ".join(str(correction.get(key) or "").split()) for key in ("subject", "predicate", "object")}
        if not all(fix.values()) or (fix["subject"], fix["predicate"], fix["object"]) == (
                old.subject, old.predicate, old.object):
            return None
        # A fix that names the old subject or object keeps its class, so domain/range can judge it
        # (the corrector often only turns a triple round).
        classes = {old.subject.casefold(): old.subject_class, old.object.casefold(): old.object_class}
        candidate = TripleView(old.id, fix["subject"], fix["predicate"], fix["object"],
                               classes.get(fix["subject"].casefold()), classes.get(fix["object"].casefold()), False,
                               fix["subject"].casefold() == fix["object"].casefold(), old.chunk_id, old.passage)
        return fix if not check(candidate, self.ontology) else None

    def _ask(self, messages: list[ChatMessage], schema: dict[str, Any]) -> dict[str, Any] | None:
        """One request, answered from the cache when the same question was asked of this model before."""
        material = json.dumps([self.model, [(m.role, m.content) for m in messages], schema], sort_keys=True)
        key = hashlib.sha256(material.encode("utf-8")).hexdigest()
        with self.project.repositories() as repos:
            call = repos.extraction.calls_by_key([key]).get(key)
        if call is None:
            began = time.perf_counter()
            completion = self.backend.chat(messages, max_tokens=384, temperature=0.0, json_schema=schema,
                                           cancel=self.cancel)
            self.report.model_calls += 1
            if completion.finish_reason == "cancelled":
                self.report.cancelled = True
                return None
            call = LlmCall(key, self.model, "reflect@1", completion.text, 1, completion.prompt_tokens,
                           completion.completion_tokens, time.perf_counter() - began)
            with self.project.transaction() as repos:
                if not repos.extraction.calls_by_key([key]):
                    repos.extraction.add_call(call)
        else:
            self.report.cached += 1
        try:
            data = json.loads(_json_object(call.raw))
        except ValueError:
            return None  # an unusable critique: the rule findings still stand
        return data if isinstance(data, dict) else None


def _issues_schema(count: int) -> dict[str, Any]:
    return {"type": "object", "required": ["issues"], "properties": {"issues": {
        "type": "array", "maxItems": count, "items": {
            "type": "object", "required": ["triple", "problem"],
            "properties": {"triple": {"enum": list(range(1, count + 1))},
                           "problem": {"type": "string", "maxLength": 200}}}}}}


def _corrections_schema(count: int, ontology: Ontology) -> dict[str, Any]:
    predicates = [p.name for p in ontology.properties]
    name = {"type": "string", "maxLength": MAX_NAME_CHARS}
    return {"type": "object", "required": ["corrections"], "properties": {"corrections": {
        "type": "array", "maxItems": count, "items": {
            "type": "object", "required": ["triple", "action"],
            "properties": {"triple": {"enum": list(range(1, count + 1))}, "action": {"enum": ["fix", "drop"]},
                           "subject": name,
                           "predicate": {"enum": predicates} if predicates else name,
                           "object": name}}}}}


def _json_object(raw: str) -> str:
    match = re.search(r"\{.*\}", raw, re.S)
    return match.group(0) if match else raw
