"""Scope with an LLM (HyDRA): propose competency questions, draft their SPARQL, derive an ontology.

Each step asks the model once for JSON (constrained by a schema where the
backend can), checks the answer, and where the check fails asks once more with
the problems as text. Nothing the model says is stored unchecked: proposed CQs
are deduplicated and stored as *proposed* for the user to accept or reject; a
drafted query must parse and use only ontology terms; a derived ontology goes
through :func:`kgstudio.ontology.validate.validate_ontology`.

Prompts are versioned files in ``resources/prompts`` (``cq-propose``,
``cq-sparql``, ``ontology-derive``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kgstudio.domain import Ontology, OntologyClass, OntologyProperty
from kgstudio.errors import KgstudioError
from kgstudio.llm.backend import Backend, ChatMessage
from kgstudio.ontology.owl import label_name
from kgstudio.ontology.sparql import SparqlCheck, check_sparql, curie
from kgstudio.ontology.validate import Problem, errors, validate_ontology
from kgstudio.pipeline.extract import load_prompt

MAX_TOKENS = 768
SAMPLE_CHARS = 600  # of each sample passage shown to the model
_STRING = {"type": "string", "minLength": 1, "maxLength": 200}


# --- competency questions --------------------------------------------------------------------


@dataclass
class Proposal:
    personas: list[str] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)  # deduplicated, new to the project


def propose_questions(backend: Backend, description: str, samples: Sequence[str], *, count: int = 8,
                      existing: Sequence[str] = ()) -> Proposal:
    """Competency questions for ``description`` and sample passages: personas -> scope -> CQs -> dedup."""
    prompt = load_prompt("cq-propose-v1.txt")
    passages = "\n".join(" ".join(s.split())[:SAMPLE_CHARS] for s in samples if s.strip()) or "(none)"
    schema = {"type": "object", "required": ["personas", "scope", "questions"], "properties": {
        "personas": {"type": "array", "items": _STRING, "maxItems": 5},
        "scope": {"type": "array", "items": _STRING, "maxItems": 8},
        "questions": {"type": "array", "items": _STRING, "minItems": 1, "maxItems": max(count, 1) * 2}}}
    data = _ask_json(backend, prompt.messages(description=description.strip() or "(not given)", samples=passages,
                                              count=str(count)), schema)
    proposal = Proposal(_strings(data.get("personas")), _strings(data.get("scope")))
    proposal.questions = dedupe_questions(_strings(data.get("questions")), existing)[:count]
    return proposal


def dedupe_questions(questions: Sequence[str], existing: Sequence[str] = ()) -> list[str]:
    """``questions`` without near-duplicates of each other or of ``existing`` (same words, mostly)."""
    kept: list[str] = []
    seen = [_words(q) for q in existing]
    for question in questions:
        text = " ".join(question.split())
        if not text:
            continue
        if not text.endswith("?"):
            text += "?"
        words = _words(text)
        if not words or any(_similar(words, other) for other in seen):
            continue
        seen.append(words)
        kept.append(text)
    return kept


def read_questions(text: str) -> list[str]:
    """Questions from a text file: one a line; blank lines and ``#`` comments skipped; list markers stripped."""
    questions = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip()
        if line and not line.startswith("#"):
            questions.append(line)
    return questions


# --- SPARQL ------------------------------------------------------------------------------------


def describe_terms(ontology: Ontology) -> str:
    """The ontology as the SPARQL prompt shows it: prefixed names, labels, domain -> range."""
    by_name = {c.name: c.iri for c in ontology.classes}
    lines = ["Classes:"]
    lines += [f"- {curie(c.iri, ontology)}" + (f" ({c.label})" if c.label and c.label != c.name else "")
              for c in ontology.classes]
    lines.append("Properties:")
    for p in ontology.properties:
        domain = curie(by_name[p.domain], ontology) if p.domain in by_name else "anything"
        target = p.range if p.range and p.range.startswith("xsd:") else (
            curie(by_name[p.range], ontology) if p.range in by_name else "anything")
        lines.append(f"- {curie(p.iri, ontology)}: {domain} -> {target}"
                     + (f" ({p.label})" if p.label and p.label != p.name else ""))
    return "\n".join(lines)


def draft_sparql(backend: Backend, question: str, ontology: Ontology) -> tuple[str, SparqlCheck]:
    """A SPARQL query for ``question`` from the model, checked; one more try when the check fails."""
    prompt = load_prompt("cq-sparql-v1.txt")
    messages = prompt.messages(ontology=describe_terms(ontology), question=question)
    schema = {"type": "object", "required": ["sparql"],
              "properties": {"sparql": {"type": "string", "minLength": 10, "maxLength": 1200}}}
    query, checked = "", SparqlCheck(False, ["the model gave no query"])
    for _ in range(2):
        try:
            data = _ask_json(backend, messages, schema)
        except KgstudioError as exc:
            checked = SparqlCheck(False, [str(exc)])
            break
        query = str(data.get("sparql") or "").strip()
        checked = check_sparql(query, ontology) if query else SparqlCheck(False, ["the model gave no query"])
        if checked.ok:
            break
        messages = messages + [ChatMessage("assistant", json.dumps(data)), ChatMessage(
            "user", "That query cannot be used: " + "; ".join(checked.problems)
            + '. Answer again with JSON only: {"sparql": "..."}, using only the prefixed names listed.')]
    return query, checked


# --- deriving an ontology -----------------------------------------------------------------------


def derive_ontology(backend: Backend, questions: Sequence[str], namespace: str) -> tuple[Ontology, list[Problem]]:
    """An ontology for ``questions`` from the model, validated; one more try with the errors as feedback.

    New terms get IRIs in ``namespace``. Returns the ontology and its remaining problems (callers
    refuse to store one with errors).
    """
    if not questions:
        raise KgstudioError("no competency questions to derive an ontology from (add some first)")
    prompt = load_prompt("ontology-derive-v1.txt")
    messages = prompt.messages(questions="\n".join(questions))
    term = {"type": "string", "minLength": 1, "maxLength": 60}
    schema = {"type": "object", "required": ["classes", "properties"], "properties": {
        "classes": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
            "type": "object", "required": ["name"],
            "properties": {"name": term, "parent": {"type": ["string", "null"]}, "description": {"type": "string"}}}},
        "properties": {"type": "array", "minItems": 1, "maxItems": 30, "items": {
            "type": "object", "required": ["name", "kind", "domain", "range"],
            "properties": {"name": term, "kind": {"enum": ["object", "data"]}, "domain": term, "range": term,
                           "functional": {"type": "boolean"}}}}}}
    ontology, problems = Ontology(), [Problem("error", "-", "the model gave no ontology")]
    for _ in range(2):
        data = _ask_json(backend, messages, schema)
        ontology = ontology_from_json(data, namespace)
        problems = validate_ontology(ontology)
        if not errors(problems):
            break
        messages = messages + [ChatMessage("assistant", json.dumps(data)), ChatMessage(
            "user", "That ontology has problems:\n" + "\n".join(f"- {p}" for p in errors(problems))
            + "\nAnswer again with the whole corrected ontology, JSON only.")]
    return ontology, problems


def ontology_from_json(data: dict[str, Any], namespace: str) -> Ontology:
    """Classes and properties from the model's JSON, names made into valid terms, IRIs in ``namespace``."""
    classes: list[OntologyClass] = []
    for item in data.get("classes") or []:
        if isinstance(item, dict) and str(item.get("name") or "").strip():
            name = _term_name(str(item["name"]), upper=True)
            parent = _term_name(str(item["parent"]), upper=True) if item.get("parent") else None
            classes.append(OntologyClass(name, namespace + name, label=str(item["name"]).strip(), parent=parent,
                                         description=str(item.get("description") or "").strip() or None))
    properties: list[OntologyProperty] = []
    for item in data.get("properties") or []:
        if not isinstance(item, dict) or not str(item.get("name") or "").strip():
            continue
        name = _term_name(str(item["name"]))
        kind = "data" if item.get("kind") == "data" else "object"
        domain = _term_name(str(item["domain"]), upper=True) if item.get("domain") else None
        rng = str(item.get("range") or "").strip() or None
        if rng is not None:
            rng = "xsd:" + rng.split(":", 1)[1] if rng.lower().startswith("xsd:") else _term_name(rng, upper=True)
        properties.append(OntologyProperty(name, namespace + name, kind, domain, rng,
                                           bool(item.get("functional")), label=str(item["name"]).strip()))
    return Ontology(classes, properties)


# --- helpers -------------------------------------------------------------------------------------


def _ask_json(backend: Backend, messages: list[ChatMessage], schema: dict[str, Any]) -> dict[str, Any]:
    completion = backend.chat(messages, max_tokens=MAX_TOKENS, temperature=0.0, json_schema=schema)
    raw = completion.text
    start = min((i for i in (raw.find("{"), raw.find("[")) if i >= 0), default=-1)
    end = max(raw.rfind("}"), raw.rfind("]"))
    try:
        data = json.loads(raw[start:end + 1] if start >= 0 and end > start else raw)
    except ValueError:
        raise KgstudioError(f"the model's answer is not JSON: {raw[:200]!r}") from None
    if not isinstance(data, dict):
        raise KgstudioError(f"the model's answer is not a JSON object: {raw[:200]!r}")
    return data


def _strings(value: Any) -> list[str]:
    return [" ".join(str(v).split()) for v in value if str(v).strip()] if isinstance(value, list) else []


def _term_name(text: str, upper: bool = False) -> str:
    text = text.strip()
    if re.fullmatch(r"[A-Za-z_][\w]*", text):
        return text[:1].upper() + text[1:] if upper else text[:1].lower() + text[1:]
    return label_name(text, upper=upper)


_STOP = frozenset("a an the of in on at for to is are was were do does did which what who whom whose where when "
                  "how each every all any by with and or".split())


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"\w+", text.casefold()) if w not in _STOP)


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= 0.8
