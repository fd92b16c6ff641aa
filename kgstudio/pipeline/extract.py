"""Extraction (Graphusion step 2): each chunk to candidate triples with a local LLM.

One request per chunk, built from a versioned prompt file
(``resources/prompts/extract-v2.txt``), the project's ontology (its
properties are the only predicates allowed) and the seed concepts as hints.
The answer is constrained while it is generated where the backend can
(a JSON schema, or a grammar that also grounds subject and object in the
chunk's own words), and never trusted after: :func:`parse_answer` checks
the shape, the predicate, the classes and that subject and object occur in
the text. An answer that is not usable JSON gets one repair request; a
second failure is recorded as a failed candidate, never dropped.

Under contracts (``ExtractionSettings.contracts``, on by default) every
candidate is also judged by the rules of :mod:`kgstudio.pipeline.contracts`.
The violations go back to the model as plain text for a bounded retry
(``contract_retries``); the retry's answer is cached like the first one, under
a key derived from the first answer's key and the feedback text, so a re-run
asks nothing. Every verdict is recorded per candidate and rule (table
``contract_result``), and a candidate that still breaks a rule becomes no
triple.

The runner (:func:`run_extraction`) is resumable and cached by content.
Every answer is stored as soon as it arrives (table ``llm_call``) under a
key hashing the chunk text, the prompt version, the model's identity and the
parameters, so a killed or repeated run never asks the model the same thing
twice. Answers become graph changes in batches through
:class:`~kgstudio.edit.AddExtractedTriples` (undoable; undo makes the chunks
pending again).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from kgstudio.domain import Actor, Chunk, LlmCall, Ontology, OntologyProperty, Run, RunStatus, Segment
from kgstudio.edit import AddExtractedTriples, EditHistory
from kgstudio.errors import KgstudioError, ModelUnavailableError, PromptTooLongError, RunPausedError
from kgstudio.llm.backend import Backend, ChatMessage, Completion
from kgstudio.ontology.owl import default_ontology
from kgstudio.pipeline import contracts
from kgstudio.pipeline.chunk import CHUNKED_KINDS, estimate_tokens
from kgstudio.pipeline.seeds import seed_hints
from kgstudio.progress import CancelToken, Progress, no_progress
from kgstudio.store import Project

PROMPT_FILE = "extract-v2.txt"
MAX_TRIPLES = 8  # per chunk: a small model asked for more starts repeating itself
MAX_NAME_CHARS = 120
CHUNKS_PER_EDIT = 25  # answers committed together; a killed run redoes at most these, from the cache
DEFAULT_OUTPUT_TOKENS = 150  # the estimate's guess before this model has answered anything here
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")


# --- settings and results ------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractionSettings:
    """Which model, how much, and how. ``model_path=None`` and no server: the embedded model."""

    model_path: Path | None = None
    server_url: str | None = None
    server_model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    concurrency: int = 1  # requests in flight (servers only; the embedded model runs one at a time)
    server_timeout: float = 120.0  # seconds a server may stay silent before a request counts as failed (retried)
    limit: int | None = None  # at most this many chunks (the first ones, in document order)
    max_tokens: int = 512  # per answer
    n_ctx: int = 4096
    n_threads: int | None = None
    grounded: bool = True  # constrain subject/object to the chunk's words where the backend can
    # Ask the model for each entity's class. Off by default: the embedded 135M model got 3/8 Text2KGBench
    # sentences right without classes and 1/8 with them; the predicate's domain and range give the classes.
    ask_classes: bool = False
    seeds: int = 20  # seed concepts passed as hints
    contracts: bool = True  # judge every candidate by kgstudio.pipeline.contracts.RULES
    contract_retries: int = 1  # requests that feed the violations back to the model (0: record them only)


@dataclass
class Estimate:
    """What a run would do: chunks, tokens and (when this model's speed is known) time."""

    chunks: int  # chunks the run would cover
    cached: int  # of those, answered before: no model call
    model_calls: int
    prompt_tokens: int  # to evaluate, over the model calls
    output_tokens: int  # expected to be generated
    seconds: float | None  # None: this model has not run here yet and was not measured
    speed: dict[str, float] | None = None  # {"prompt_tokens_per_s", "output_tokens_per_s"}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExtractionReport:
    run_id: int | None = None
    chunks: int = 0  # chunks covered by this run
    cached: int = 0  # answered from the cache (no model call)
    skipped: int = 0  # already extracted before (nothing to do)
    model_calls: int = 0  # requests sent to the model, retries included
    failed: int = 0  # chunks whose answer stayed unusable after the retry, or too long for the model's context
    problems: list[str] = field(default_factory=list)  # one line per chunk left undone, naming its document
    candidates: int = 0
    rejected_candidates: int = 0  # proposed by the model, not usable (ungrounded, unknown predicate, ...)
    contract_retries: int = 0  # answers asked (or taken from the cache) with violations fed back
    contract_rejected: int = 0  # of the rejected candidates, those that broke a contract
    contract_checks: dict[str, list[int]] = field(default_factory=dict)  # rule -> [passed, checked]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    generation_seconds: float = 0.0
    cancelled: bool = False

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.generation_seconds if self.generation_seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tokens_per_second": round(self.tokens_per_second, 1)}


# --- the prompt ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prompt:
    """A versioned prompt file: a system part, example exchanges and the user part, with ``{fields}``."""

    name: str
    version: str
    system: str
    examples: tuple[tuple[str, str], ...]
    user: str

    def messages(self, **fields: str) -> list[ChatMessage]:
        messages = [ChatMessage("system", _fill(self.system, fields))]
        for question, answer in self.examples:
            messages += [ChatMessage("user", question), ChatMessage("assistant", answer)]
        return messages + [ChatMessage("user", _fill(self.user, fields))]

    @property
    def identity(self) -> str:
        return f"{self.name}@{self.version}"


def load_prompt(name: str = PROMPT_FILE) -> Prompt:
    """Read ``resources/prompts/NAME``: ``# version: N`` and sections ``## system``, ``## example user``,
    ``## example assistant``, ``## user``."""
    text = files("kgstudio.resources.prompts").joinpath(name).read_text(encoding="utf-8")
    version = re.search(r"^# version:\s*(\S+)", text, re.M)
    header = re.search(r"^# prompt:\s*(\S+)", text, re.M)
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
    parts = [(title, "\n".join(lines).strip()) for title, lines in sections]
    examples, pending = [], None
    for title, body in parts:
        if title == "example user":
            pending = body
        elif title == "example assistant" and pending is not None:
            examples.append((pending, body))
            pending = None
    by_title = dict(parts)
    if version is None or "system" not in by_title or "user" not in by_title:
        raise KgstudioError(f"prompt {name}: needs '# version:', '## system' and '## user'")
    return Prompt(header.group(1) if header else name.removesuffix(".txt"), version.group(1), by_title["system"],
                  tuple(examples), by_title["user"])


def _fill(template: str, fields: dict[str, str]) -> str:
    # str.format would trip over the JSON braces of the examples; replace named fields only.
    return re.sub(r"\{(\w+)\}", lambda m: fields.get(m.group(1), m.group(0)), template)


def describe_ontology(ontology: Ontology, *, labels: bool = False) -> str:
    """The ontology as the prompt shows it: classes, then predicates with domain → range.

    ``labels``: predicates by their labels ("works for"), as extraction asks for them (see :func:`spoken`).
    """
    classes = ", ".join(c.name for c in ontology.classes)
    lines = [f"Classes: {classes}", "Predicates:"]
    for prop in ontology.properties:
        signature = f" ({prop.domain or 'any'} -> {prop.range or 'any'})" if prop.domain or prop.range else ""
        lines.append(f"- {spoken(prop) if labels else prop.name}{signature}")
    return "\n".join(lines)


def spoken(prop: OntologyProperty) -> str:
    """How extraction asks the model for a property: its label, else its name.

    Words the model knows ("languages spoken, written or signed") instead of an
    identifier ("languagesSpokenWrittenOrSigned"); :func:`parse_answer` maps
    either back to the property.
    """
    return " ".join((prop.label or "").split()) or prop.name


def _spoken_predicates(ontology: Ontology) -> list[str]:
    return list(dict.fromkeys(spoken(p) for p in ontology.properties))


# --- what the model must answer, and checking what it did -------------------------------------


def answer_schema(ontology: Ontology, *, ask_classes: bool = True) -> dict[str, Any]:
    """The JSON schema of an answer: a list of triples, predicate (and classes) from the ontology.

    ``ask_classes=False`` leaves the two class fields out: the classes then come
    from the predicate's domain and range (see :func:`parse_answer`).
    """
    name = {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS}
    triple: dict[str, Any] = {"subject": name}
    classes = [c.name for c in ontology.classes] if ask_classes else []
    if classes:
        triple["subject_class"] = {"enum": classes}
    triple["predicate"] = {"enum": _spoken_predicates(ontology)} if ontology.properties else name
    triple["object"] = name
    if classes:
        triple["object_class"] = {"enum": classes}
    triple["evidence"] = {"type": "string", "maxLength": 400}
    return {
        "type": "object",
        "properties": {"triples": {"type": "array", "maxItems": MAX_TRIPLES, "items": {
            "type": "object", "properties": triple, "required": ["subject", "predicate", "object"],
        }}},
        "required": ["triples"],
    }


class AnswerError(ValueError):
    """The answer is not the JSON the prompt asks for (worth one repair request)."""


def parse_answer(raw: str, text: str, ontology: Ontology, names: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The candidates in a model answer for chunk ``text``; raises :class:`AnswerError` when it is not usable.

    Each candidate is a dict for :class:`~kgstudio.edit.AddExtractedTriples`;
    one that breaks a rule carries an ``error`` (the predicate is not in the
    ontology, the subject or object does not occur in the text nor among
    ``names``, subject equals object, it repeats an earlier triple of the
    answer, ...) and becomes no triple. A class the answer does not give is
    the predicate's domain (subject) or range (object) when that is a class of
    the ontology: small models name classes badly, and the predicate implies them.
    """
    try:
        data = json.loads(_json_part(raw))
    except ValueError as exc:
        raise AnswerError(f"not valid JSON ({exc})") from None
    if isinstance(data, list):
        data = {"triples": data}
    if not isinstance(data, dict) or not isinstance(data.get("triples"), list):
        raise AnswerError('expected an object {"triples": [...]}')
    properties = {_key(spoken(p)): p for p in reversed(ontology.properties)}
    properties.update({_key(p.name): p for p in reversed(ontology.properties)})  # names win; first one wins
    classes = {_key(c.name): c.name for c in ontology.classes}
    known_names = {_normalise(n) for n in names}
    candidates = []
    seen: set[tuple[str, str, str]] = set()
    for item in data["triples"][:MAX_TRIPLES * 2]:
        if not isinstance(item, dict):
            continue
        candidate = _candidate(item, text, properties, classes, known_names)
        if "error" not in candidate:
            # Small models loop: the same triple over and over. Keep the first; record the rest.
            triple = (_normalise(candidate["subject"]), candidate["predicate"], _normalise(candidate["object"]))
            if triple in seen:
                candidate = {key: value for key, value in candidate.items() if key in ("subject", "predicate",
                                                                                        "object", "raw")}
                candidate["error"] = "repeats an earlier triple of the same answer"
            seen.add(triple)
        candidates.append(candidate)
    return candidates


def _candidate(item: dict[str, Any], text: str, properties: dict, classes: dict, names: set[str]) -> dict[str, Any]:
    def field_text(key: str) -> str:
        value = item.get(key)
        return " ".join(str(value).split()) if isinstance(value, str | int | float) else ""

    subject, predicate, obj = field_text("subject"), field_text("predicate"), field_text("object")
    raw = json.dumps(item, ensure_ascii=False)
    candidate: dict[str, Any] = {"subject": subject or None, "predicate": predicate or None, "object": obj or None,
                                 "raw": raw}
    prop = properties.get(_key(predicate)) if properties else None
    if prop is not None:
        candidate["predicate"] = prop.name
    for key in ("subject_class", "object_class"):
        value = classes.get(_key(field_text(key)))
        if value is not None:
            candidate[key] = value
    if prop is not None:
        implied = {"subject_class": prop.domain, "object_class": prop.range if prop.kind != "data" else None}
        for key, name in implied.items():
            if key not in candidate and name and _key(name) in classes:
                candidate[key] = classes[_key(name)]
    error = None
    if not subject or not predicate or not obj:
        error = "subject, predicate and object are all needed"
    elif properties and prop is None:
        error = f"predicate {predicate!r} is not in the ontology"
    elif _normalise(subject) == _normalise(obj):
        error = "subject and object are the same"
    elif len(subject) > MAX_NAME_CHARS or len(obj) > MAX_NAME_CHARS:
        error = "a name longer than a name can be"
    else:
        for role, value in (("subject", subject), ("object", obj)):
            if find_span(text, value) is None and _normalise(value) not in names:
                error = f"{role} {value!r} does not occur in the text"
                break
    if error:
        candidate["error"] = error
        return candidate
    if prop is not None and prop.kind == "data":
        candidate["literal"] = True
        candidate["datatype"] = _datatype(prop.range, obj)
    span = find_span(text, field_text("evidence")) if field_text("evidence") else None
    if span is None:
        span = _sentence_span(text, subject, obj)
    candidate["span_start"], candidate["span_end"] = span
    return candidate


def find_span(text: str, phrase: str) -> tuple[int, int] | None:
    """Where ``phrase`` occurs in ``text``, ignoring case and differences in white space; None if nowhere."""
    words = phrase.split()
    if not words:
        return None
    match = re.search(r"\s+".join(map(re.escape, words)), text, re.IGNORECASE)
    return (match.start(), match.end()) if match else None


def _sentence_span(text: str, subject: str, obj: str) -> tuple[int, int]:
    """The evidence when the model gave none usable: the sentence(s) from the subject to the object."""
    places = [s for s in (find_span(text, subject), find_span(text, obj)) if s is not None]
    if not places:
        return 0, len(text)
    start, end = min(p[0] for p in places), max(p[1] for p in places)
    for sentence in _SENTENCE.finditer(text):
        if sentence.start() <= start < sentence.end():
            start = sentence.start()
        if sentence.start() < end <= sentence.end():
            end = sentence.end()
    while start < end and text[start].isspace():
        start += 1
    return start, end


def _datatype(range_name: str | None, value: str) -> str | None:
    if range_name == "xsd:date" and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return "http://www.w3.org/2001/XMLSchema#date"
    return None


def _json_part(raw: str) -> str:
    """The JSON in an answer, without a Markdown fence or chatter around it (free-form servers add them)."""
    start = min((i for i in (raw.find("{"), raw.find("[")) if i >= 0), default=-1)
    end = max(raw.rfind("}"), raw.rfind("]"))
    return raw[start:end + 1] if start >= 0 and end > start else raw


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def _normalise(name: str) -> str:
    return " ".join(name.split()).casefold()


# --- the runner --------------------------------------------------------------------------------


BackendFactory = Callable[[], Backend]


@dataclass
class _Job:
    """Everything one run needs, fixed at its start."""

    backend: Backend
    model: str  # the model's identity, part of the cache key
    prompt: Prompt
    ontology: Ontology
    seeds: list[str]
    settings: ExtractionSettings

    @property
    def backend_class(self) -> type:
        return self.backend if isinstance(self.backend, type) else type(self.backend)

    @property
    def params(self) -> dict[str, Any]:
        """What, besides the chunk and the model, the answer depends on (hashed into the cache key)."""
        return {
            "ontology": describe_ontology(self.ontology, labels=True),
            "seeds": self.seeds,
            "max_tokens": self.settings.max_tokens,
            "grounded": self.settings.grounded and _supports_grammar(self.backend_class)
            and _grounding_available(),
            "temperature": 0.0,
            "classes": "ask" if self.settings.ask_classes else "implied",
            # Contracts change what is asked (the retry) and what an answer becomes; a run with other
            # contracts must not take this run's chunks for done.
            "contracts": contracts.RULESET_VERSION if self.settings.contracts else None,
            "contract_retries": max(0, self.settings.contract_retries) if self.settings.contracts else 0,
        }

    def key(self, chunk_sha256: str, params_json: str) -> str:
        material = "\x1f".join([chunk_sha256, self.prompt.identity, self.model, params_json])
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    @staticmethod
    def retry_key(previous_key: str, feedback: str) -> str:
        """The cache key of a contract retry: the answer it corrects and the feedback it was given."""
        material = "\x1f".join([previous_key, "contract-retry", feedback])
        return hashlib.sha256(material.encode("utf-8")).hexdigest()


def project_ontology(project: Project) -> Ontology:
    """The project's ontology; a project without one gets kgstudio's default, stored in it."""
    with project.repositories() as repos:
        ontology = Ontology(repos.ontology.classes(), repos.ontology.properties())
    if ontology.properties:
        return ontology
    default = default_ontology()
    with project.transaction() as repos:
        if not repos.ontology.properties():
            for cls in default.classes:
                repos.ontology.add_class(cls)
            for prop in default.properties:
                repos.ontology.add_property(prop)
        # read back, so the order (part of the cache key) is the store's whichever way it got there
        return Ontology(repos.ontology.classes(), repos.ontology.properties())


def model_identity(settings: ExtractionSettings) -> str:
    """What makes answers from this model reusable: a server's URL and model name, or a GGUF file's content."""
    if settings.server_url:
        return f"server:{settings.server_url.rstrip('/')}#{settings.server_model or ''}"
    from kgstudio.llm.models import default_model_path

    path = Path(settings.model_path or default_model_path())
    try:
        size = path.stat().st_size
        digest = hashlib.sha256()
        with path.open("rb") as handle:  # head and tail: fast for multi-GB files, and distinct for GGUFs
            digest.update(handle.read(1 << 20))
            handle.seek(max(0, size - (1 << 20)))
            digest.update(handle.read(1 << 20))
    except OSError as exc:
        raise KgstudioError(f"{path}: cannot read the model file ({exc.strerror or exc})") from None
    return f"gguf:{path.name}:{size}:{digest.hexdigest()[:16]}"


def make_backend(settings: ExtractionSettings) -> Backend:
    """The backend the settings ask for, created on the calling thread (which then owns it)."""
    if settings.server_url:
        from kgstudio.llm.openai_compat import OpenAICompatBackend, OpenAICompatSettings

        return OpenAICompatBackend(OpenAICompatSettings(
            base_url=settings.server_url, model=settings.server_model or "", api_key=settings.api_key,
            concurrency=max(1, settings.concurrency), timeout=settings.server_timeout))
    from kgstudio.llm.llamacpp import LlamaCppBackend, LlamaCppSettings

    return LlamaCppBackend(LlamaCppSettings(model_path=settings.model_path, n_ctx=settings.n_ctx,
                                            n_threads=settings.n_threads))


def estimate_extraction(project: Project, settings: ExtractionSettings = ExtractionSettings(), *,
                        calibrate: Callable[[], dict[str, float]] | None = None) -> Estimate:
    """What :func:`run_extraction` with these settings would do, without loading the model.

    Time comes from this model's earlier answers in this project; when there
    are none, ``calibrate`` (e.g. :func:`measure_speed` bound to a backend)
    is asked for the speed, else ``seconds`` is None.
    """
    model = model_identity(settings)
    prompt = load_prompt()
    ontology = project_ontology(project)
    seeds = seed_hints(project, settings.seeds)
    job = _Job(backend=_backend_class(settings), model=model, prompt=prompt, ontology=ontology,  # type: ignore[arg-type]
               seeds=seeds, settings=settings)
    params_json = json.dumps(job.params, sort_keys=True)
    with project.repositories() as repos:
        index = _work(repos.documents.current_chunk_index(), settings.limit)
        keys = {chunk_id: job.key(sha, params_json) for chunk_id, _, sha, _ in index}
        calls = repos.extraction.calls_by_key(keys.values())
        done = repos.extraction.extracted(keys)
        speed = repos.extraction.speed(model)
        history = [c.completion_tokens for c in calls.values()]
    todo = [(cid, tokens) for cid, _, _, tokens in index if not (calls.get(keys[cid]) and
                                                                 (cid, calls[keys[cid]].id) in done)]
    to_call = [(cid, tokens) for cid, tokens in todo if keys[cid] not in calls]
    prefix = estimate_tokens("\n".join(m.content for m in prompt.messages(
        ontology=describe_ontology(ontology, labels=True), seeds=", ".join(seeds), text="")))
    prompt_tokens = sum(prefix + tokens for _, tokens in to_call)
    per_answer = (sum(history) / len(history)) if history else DEFAULT_OUTPUT_TOKENS
    output_tokens = round(per_answer * len(to_call))
    rates = None
    if speed is not None:
        rates = {"prompt_tokens_per_s": speed[0], "output_tokens_per_s": speed[1]}
    elif calibrate is not None and to_call:
        rates = calibrate()
    seconds = None
    if rates is not None:
        seconds = prompt_tokens / max(rates["prompt_tokens_per_s"], 1e-9) + output_tokens / max(
            rates["output_tokens_per_s"], 1e-9)
    return Estimate(len(index), len(todo) - len(to_call), len(to_call), prompt_tokens, output_tokens,
                    seconds if not to_call or seconds is not None else None, rates)


def measure_speed(backend: Backend) -> dict[str, float]:
    """Prompt and generation speed of ``backend`` here, from one short chat (a few seconds at most)."""
    started = time.perf_counter()
    completion = backend.chat([ChatMessage("user", "Count from one to twenty in words, separated by commas.")],
                              max_tokens=48)
    elapsed = max(time.perf_counter() - started, 1e-6)
    # Split the time as llama.cpp does on a CPU: prompt tokens are evaluated ~10x faster than generated.
    generate = elapsed * completion.completion_tokens / (completion.completion_tokens + completion.prompt_tokens / 10)
    return {"prompt_tokens_per_s": completion.prompt_tokens / max(elapsed - generate, 1e-6),
            "output_tokens_per_s": completion.completion_tokens / max(generate, 1e-6)}


def run_extraction(project: Project, settings: ExtractionSettings = ExtractionSettings(), *,
                   progress: Progress | None = None, cancel: CancelToken | None = None,
                   backend: Backend | None = None, model: str | None = None) -> ExtractionReport:
    """Extract candidate triples from every current chunk not extracted yet (see the module docstring).

    Call it on a worker thread: the backend is created there (``backend`` and
    ``model``, its identity, can be given instead, e.g. a scripted backend in
    tests). Returns when done or cancelled; what was answered stays cached.
    """
    report_progress = progress or no_progress
    cancel = cancel or CancelToken()
    started = time.perf_counter()
    own_backend = backend is None
    model = model or (model_identity(settings) if own_backend else getattr(backend, "identity", backend.name))
    report_progress(0, None, "loading the model")
    backend = backend or make_backend(settings)
    try:
        job = _Job(backend, model, load_prompt(), project_ontology(project), seed_hints(project, settings.seeds),
                   settings)
        return _Runner(project, job, report_progress, cancel, started).run()
    finally:
        if own_backend:
            backend.close()


class _Runner:
    def __init__(self, project: Project, job: _Job, progress: Progress, cancel: CancelToken, started: float) -> None:
        self.project, self.job, self.progress, self.cancel = project, job, progress, cancel
        self.report = ExtractionReport()
        self.started = started
        self.params = job.params
        self.params_json = json.dumps(self.params, sort_keys=True)
        self.history = EditHistory(project)
        self.ontology_text = describe_ontology(job.ontology, labels=True)
        self.grammar_builder = _grammar_builder(job) if self.params["grounded"] else None
        # Several requests in flight only where the backend is made for it (a server); the
        # embedded model is one llama.cpp context owned by this thread.
        self.parallel = job.settings.concurrency if getattr(job.backend, "name", "") == "openai" else 1
        self.lock = threading.Lock()
        self.fresh: set[str] = set()  # answers asked for in this run
        self.index = contracts.OntologyIndex(job.ontology) if job.settings.contracts else None
        self.stops_early = _takes_keyword(job.backend_class, "until")
        self.unavailable: ModelUnavailableError | None = None  # the server gave up on a prefetched request
        self.too_long: dict[str, PromptTooLongError] = {}  # prefetched requests past the model's context, by key

    def run(self) -> ExtractionReport:
        with self.project.repositories() as repos:
            index = _work(repos.documents.current_chunk_index(), self.job.settings.limit)
            keys = {chunk_id: self.job.key(sha, self.params_json) for chunk_id, _, sha, _ in index}
            calls = repos.extraction.calls_by_key(keys.values())
            done = repos.extraction.extracted(keys)
        self.report.chunks = len(index)
        todo = []
        for chunk_id, document_id, _, _ in index:
            call = calls.get(keys[chunk_id])
            if call is not None and (chunk_id, call.id) in done:
                self.report.skipped += 1
            else:
                todo.append((chunk_id, document_id))
        with self.project.transaction() as repos:
            run = repos.runs.start(Run("extract", self.job.model, self.job.prompt.identity, {
                **self.params, "limit": self.job.settings.limit, "chunks": len(todo)}))
        self.report.run_id = run.id
        status, message = RunStatus.DONE, None
        try:
            self._extract(todo, keys, calls)
        except ModelUnavailableError as exc:
            status, message = RunStatus.PAUSED, self._paused(exc, todo, keys)
            raise RunPausedError(message) from None
        except BaseException as exc:
            status, message = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
            raise
        finally:
            if self.report.cancelled and status == RunStatus.DONE:
                status = RunStatus.CANCELLED
            self.report.seconds = time.perf_counter() - self.started
            with self.project.transaction() as repos:
                repos.runs.finish(run.id, status, message or self._summary())  # type: ignore[arg-type]
        return self.report

    def _paused(self, problem: ModelUnavailableError, todo: list[tuple[int, int]], keys: dict[int, str]) -> str:
        """One line: what failed, what is kept, and how to go on."""
        with self.project.repositories() as repos:
            answered = len(repos.extraction.calls_by_key([keys[chunk_id] for chunk_id, _ in todo]))
        return (f"extraction paused: {problem}. {answered} of the {len(todo)} chunks to do are answered and saved; "
                f"when the model server is back, run the extraction again to resume "
                f"(only the {_chunks(len(todo) - answered)} without an answer are sent)")

    def _summary(self) -> str:
        r = self.report
        return (f"{r.chunks} chunks: {r.model_calls} model calls, {r.cached} cached, {r.skipped} done before, "
                f"{r.failed} failed; {r.candidates} candidates")

    def _extract(self, todo: list[tuple[int, int]], keys: dict[int, str], calls: dict[str, LlmCall]) -> None:
        batch: list[dict[str, Any]] = []
        batch_document: int | None = None
        total = len(todo)
        try:
            for position, (chunk_id, document_id) in enumerate(todo):
                if self.cancel.cancelled:
                    self.report.cancelled = True
                    break
                if batch and (document_id != batch_document or len(batch) >= CHUNKS_PER_EDIT):
                    self._commit(batch_document, batch)  # type: ignore[arg-type]
                    batch = []
                batch_document = document_id
                with self.project.repositories() as repos:
                    chunk = repos.documents.chunks_by_id([chunk_id])[chunk_id]
                    segments = repos.documents.segments_between(chunk.document_id, chunk.segment_start,
                                                                chunk.segment_end)
                if self.parallel > 1 and keys[chunk_id] not in calls and keys[chunk_id] not in self.too_long \
                        and self.unavailable is None:
                    self._prefetch(todo[position:position + self.parallel], keys, calls)
                call = calls.get(keys[chunk_id])
                if call is None:
                    if self.unavailable is not None:  # the server failed this chunk's request in a prefetch
                        raise self.unavailable
                    try:
                        too_long = self.too_long.pop(keys[chunk_id], None)
                        if too_long is not None:
                            raise too_long
                        call = self._ask(chunk, keys[chunk_id])
                    except PromptTooLongError as exc:
                        self._skip_too_long(chunk, exc)
                        self.progress(position + 1, total, self._status(position + 1, total))
                        continue
                    if call is None:  # cancelled while generating: nothing stored for this chunk
                        self.report.cancelled = True
                        break
                    calls[call.key] = call
                elif call.key in self.fresh:
                    pass  # asked in this run, a few chunks ahead (several requests in flight)
                else:
                    self.report.cached += 1
                result = self._chunk_result(chunk, segments, call)
                if result is None:  # cancelled during a contract retry: the chunk stays pending
                    self.report.cancelled = True
                    break
                batch.append(result)
                self.progress(position + 1, total, self._status(position + 1, total))
        except ModelUnavailableError:
            if batch:  # answered before the server went: kept, ready for review
                self._commit(batch_document, batch)  # type: ignore[arg-type]
            raise
        if batch:
            self._commit(batch_document, batch)  # type: ignore[arg-type]

    def _prefetch(self, window: list[tuple[int, int]], keys: dict[int, str], calls: dict[str, LlmCall]) -> None:
        """Ask about the chunks of ``window`` that have no answer yet, ``parallel`` requests at once."""
        wanted = [chunk_id for chunk_id, _ in window
                  if keys[chunk_id] not in calls and keys[chunk_id] not in self.too_long]
        with self.project.repositories() as repos:
            chunks = repos.documents.chunks_by_id(wanted)
        began = time.perf_counter()
        def ask(chunk_id: int) -> LlmCall | ModelUnavailableError | None:
            try:
                return self._ask(chunks[chunk_id], keys[chunk_id], timed=False)
            except ModelUnavailableError as exc:  # raised when the loop reaches that chunk, after the ones before
                return exc
            except PromptTooLongError as exc:  # reported when the loop reaches that chunk
                self.too_long[keys[chunk_id]] = exc
                return None

        with ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="kgs-extract") as pool:
            answers = list(pool.map(ask, wanted))
        self.report.generation_seconds += time.perf_counter() - began  # wall time: the requests overlap
        for call in answers:
            if isinstance(call, ModelUnavailableError):
                self.unavailable = self.unavailable or call
            elif call is not None:
                calls[call.key] = call
                self.fresh.add(call.key)

    def _skip_too_long(self, chunk: Chunk, problem: PromptTooLongError) -> None:
        """A chunk the model cannot take: counted as failed and named, and left pending for a later run.

        Nothing is stored for it (it is no answer of the model's), so running again with a model or
        server of a larger context, or after re-chunking smaller, asks about it then.
        """
        with self.project.repositories() as repos:
            document = repos.documents.get(chunk.document_id)
        where = Path(document.path).name if document is not None else f"document {chunk.document_id}"
        with self.lock:
            self.report.failed += 1
            self.report.problems.append(
                f"{where} (chunk {chunk.id}, about {chunk.tokens} tokens of text): {problem}; "
                "it is left for a later run with a larger context")

    def _status(self, done: int, total: int) -> str:
        r = self.report
        text = f"chunk {done}/{total}"
        if r.generation_seconds:
            rate = r.tokens_per_second
            per_chunk = r.generation_seconds / max(r.model_calls, 1)
            remaining = per_chunk * (total - done)
            text += f" · {rate:.0f} tokens/s · about {_duration(remaining)} left"
        return text

    def _ask(self, chunk: Chunk, key: str, timed: bool = True,
             history: Sequence[ChatMessage] = ()) -> LlmCall | None:
        """Ask the model about one chunk (with one repair request) and store the answer at once.

        ``history``: messages after the question (earlier answers and the contract feedback on them).
        """
        messages = self.job.prompt.messages(ontology=self.ontology_text, seeds=", ".join(self.job.seeds) or "none",
                                            text=chunk.text) + list(history)
        constraint = self._constraint(chunk)
        raw, error, attempts = "", None, 0
        prompt_tokens = completion_tokens = 0
        seconds = 0.0
        for attempt in (1, 2):
            attempts = attempt
            began = time.perf_counter()
            completion: Completion = self.job.backend.chat(
                messages, max_tokens=self.job.settings.max_tokens, temperature=0.0, cancel=self.cancel, **constraint)
            elapsed = time.perf_counter() - began
            with self.lock:
                self.report.model_calls += 1
                if completion.finish_reason == "cancelled":
                    return None
                self.report.prompt_tokens += completion.prompt_tokens
                self.report.completion_tokens += completion.completion_tokens
                if timed:
                    self.report.generation_seconds += elapsed
            seconds += elapsed
            prompt_tokens += completion.prompt_tokens
            completion_tokens += completion.completion_tokens
            raw = completion.text
            try:
                parse_answer(raw, chunk.text, self.job.ontology, self.job.seeds)
                error = None
                break
            except AnswerError as exc:
                error = str(exc) if completion.finish_reason != "length" else f"{exc}; the answer was cut off"
                messages = messages + [
                    ChatMessage("assistant", raw),
                    ChatMessage("user", f"That answer cannot be used: {error}. Answer again with JSON only, "
                                        'exactly in the form {"triples": [...]}.'),
                ]
        call = LlmCall(key, self.job.model, self.job.prompt.identity, raw, attempts, prompt_tokens, completion_tokens,
                       seconds, self.params, error)
        with self.project.transaction() as repos:
            existing = repos.extraction.calls_by_key([key]).get(key)
            return existing or repos.extraction.add_call(call)

    def _constraint(self, chunk: Chunk) -> dict[str, Any]:
        extra: dict[str, Any] = {"until": end_of_new_triples} if self.stops_early else {}
        if self.grammar_builder is not None:
            return {"grammar": self.grammar_builder(chunk.text), **extra}
        return {"json_schema": answer_schema(self.job.ontology, ask_classes=self.job.settings.ask_classes), **extra}

    def _chunk_result(self, chunk: Chunk, segments: list[Segment], call: LlmCall) -> dict[str, Any] | None:
        """The chunk's candidates for :class:`AddExtractedTriples`; None when cancelled during a retry."""
        if call.error is not None:
            self.report.failed += 1
            candidates = [{"raw": call.raw, "error": f"the model's answer could not be used: {call.error}"}]
        else:
            candidates = parse_answer(call.raw, chunk.text, self.job.ontology, self.job.seeds)
            if self.index is not None:
                judged = self._under_contracts(chunk, call, candidates)
                if judged is None:
                    return None
                candidates = judged
            for candidate in candidates:
                for rule, passed, _ in candidate.get("contracts", ()):
                    tally = self.report.contract_checks.setdefault(rule, [0, 0])
                    tally[0] += int(passed)
                    tally[1] += 1
                if candidate.get("error"):
                    self.report.rejected_candidates += 1
                    if candidate.get("contract"):
                        self.report.contract_rejected += 1
                else:
                    self.report.candidates += 1
                    candidate["segment_id"] = _evidence_segment(chunk, segments, candidate)
        return {"chunk_id": chunk.id, "llm_call_id": call.id, "candidates": candidates}

    def _under_contracts(self, chunk: Chunk, call: LlmCall,
                         candidates: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Judge the candidates; feed violations back for at most ``contract_retries`` more answers.

        Returns every candidate proposed on the way (first answer and retries, the same triple once),
        each with its verdicts; None when cancelled while the model was answering a retry.
        """
        self._judge(chunk, candidates)
        kept = list(candidates)
        seen = {_identity(c) for c in kept}
        current, current_call = candidates, call
        history: list[ChatMessage] = []
        for _ in range(max(0, self.job.settings.contract_retries)):
            rejected = [(c, c["error"]) for c in current if c.get("error")]
            if not rejected:
                break
            feedback = contracts.feedback(rejected)
            history = history + [ChatMessage("assistant", current_call.raw), ChatMessage("user", feedback)]
            retry_key = _Job.retry_key(current_call.key, feedback)
            with self.project.repositories() as repos:
                retry = repos.extraction.calls_by_key([retry_key]).get(retry_key)
            if retry is None:
                try:
                    retry = self._ask(chunk, retry_key, history=history)
                except PromptTooLongError:
                    break  # the question with the feedback is past the context: the first answer stands
                if retry is None:
                    return None
            self.report.contract_retries += 1
            if retry.error is not None:
                break  # the retry's answer is not usable: what the first answer gave stands
            current, current_call = parse_answer(retry.raw, chunk.text, self.job.ontology, self.job.seeds), retry
            self._judge(chunk, current)
            for candidate in current:
                candidate["llm_call_id"] = retry.id
                if _identity(candidate) not in seen:
                    seen.add(_identity(candidate))
                    kept.append(candidate)
        return kept

    def _judge(self, chunk: Chunk, candidates: list[dict[str, Any]]) -> None:
        """Attach every rule's verdict to each candidate; the first broken rule becomes its error."""
        assert self.index is not None
        for candidate in candidates:
            verdicts = contracts.check(contracts.Candidate.from_dict(candidate, chunk.text, self.job.seeds),
                                       self.index)
            candidate["contracts"] = [[v.rule, v.passed, v.message] for v in verdicts]
            broken = contracts.failures(verdicts)
            if broken and not candidate.get("error"):
                candidate["error"] = f"contract {broken[0].rule}: " + "; ".join(v.message or v.rule for v in broken)
                candidate["contract"] = broken[0].rule

    def _commit(self, document_id: int, batch: list[dict[str, Any]]) -> None:
        self.history.execute(AddExtractedTriples(document_id, self.report.run_id, batch),  # type: ignore[arg-type]
                             actor=Actor.EXTRACTION)


def _identity(candidate: dict[str, Any]) -> tuple:
    """A proposal, whichever answer it came in: the same triple with the same classes is the same proposal."""
    return tuple(_normalise(str(candidate.get(k) or "")) for k in
                 ("subject", "predicate", "object", "subject_class", "object_class"))


def _evidence_segment(chunk: Chunk, segments: list[Segment], candidate: dict[str, Any]) -> int | None:
    """The segment (page block, message part, ...) the evidence comes from: the first that holds it."""
    readable = [s for s in segments if s.kind in CHUNKED_KINDS]
    start, end = candidate.get("span_start"), candidate.get("span_end")
    evidence = chunk.text[start:end] if start is not None and end is not None else ""
    for phrase in (evidence, candidate.get("subject") or ""):
        for segment in readable:
            if phrase and find_span(segment.text, phrase) is not None:
                return segment.id
    return readable[0].id if readable else None


def _work(index: list[tuple[int, int, str, int]], limit: int | None) -> list[tuple[int, int, str, int]]:
    return index[:limit] if limit is not None else index


def _supports_grammar(backend_class: type) -> bool:
    """Whether a backend takes a ``grammar`` (a plugin backend says so by accepting the keyword)."""
    return _takes_keyword(backend_class, "grammar")


def _takes_keyword(backend_class: type, keyword: str) -> bool:
    try:
        return keyword in inspect.signature(backend_class.chat).parameters
    except (AttributeError, TypeError, ValueError):
        return False


def end_of_new_triples(answer: str) -> str | None:
    """For a backend's ``until``: the answer cut before its first repeated triple, once one is complete.

    A small model that repeats a triple goes on repeating it until the answer is
    full (measured with SmolLM2-135M: 8 copies of one triple, 5× the tokens).
    ``answer`` is the compact JSON generated so far; None means "go on".
    """
    # A token may hold the end of one triple and the start of the next ('"},{"'): look up to the last "}".
    try:
        triples = json.loads(answer[:answer.rfind("}") + 1] + "]}")["triples"]
    except (ValueError, KeyError, TypeError):
        return None  # not at the end of a triple
    if not isinstance(triples, list) or len(triples) < 2 or not all(isinstance(t, dict) for t in triples):
        return None

    def key(triple: dict[str, Any]) -> tuple[str, str, str]:
        return tuple(_normalise(str(triple.get(k, ""))) for k in ("subject", "predicate", "object"))  # type: ignore[return-value]

    if key(triples[-1]) not in {key(t) for t in triples[:-1]}:
        return None
    return json.dumps({"triples": triples[:-1]}, ensure_ascii=False, separators=(",", ":"))


def _grounding_available() -> bool:
    try:
        import kgstudio.llm.grounding  # noqa: F401
    except ImportError:
        return False
    return True


def _backend_class(settings: ExtractionSettings) -> type:
    """The class :func:`make_backend` would create (importing it does not load a model)."""
    if settings.server_url:
        from kgstudio.llm.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend
    from kgstudio.llm.llamacpp import LlamaCppBackend

    return LlamaCppBackend


def _grammar_builder(job: _Job) -> Callable[[str], str] | None:
    try:
        from kgstudio.llm.grounding import extraction_grammar
    except ImportError:
        return None
    predicates = _spoken_predicates(job.ontology) or None
    classes = ([c.name for c in job.ontology.classes] or None) if job.settings.ask_classes else None

    def build(text: str) -> str:
        return extraction_grammar(text, names=job.seeds, predicates=predicates, classes=classes,
                                  max_triples=MAX_TRIPLES, evidence=False)
    return build


def _chunks(count: int) -> str:
    return f"{count} chunk" if count == 1 else f"{count} chunks"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
