"""Extraction with a scripted backend on real imported files: parsing, grounding, cache, resume, undo.

The scripted backend answers like a model would (it reads the chunk from the
prompt) so these tests check kgstudio's side exactly; the same pipeline with
the real embedded model is tested in tests/integration/test_extract_model.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from kgstudio.domain import PdfLocator, RunStatus, TripleStatus
from kgstudio.edit import EditHistory
from kgstudio.llm.backend import ChatMessage, Completion
from kgstudio.ontology.owl import default_ontology
from kgstudio.pipeline.extract import (
    AnswerError,
    ExtractionSettings,
    estimate_extraction,
    find_span,
    load_prompt,
    parse_answer,
    run_extraction,
)
from kgstudio.pipeline.importing import import_paths
from kgstudio.progress import CancelToken
from kgstudio.store import Project

NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+\b")


class ScriptedBackend:
    """Answers each chunk with a triple linking the first two multi-word names in it."""

    name = "scripted"
    identity = "scripted:v1"

    def __init__(self, answers: list[str] | None = None, cancel_after: tuple[int, CancelToken] | None = None) -> None:
        self.calls: list[list[ChatMessage]] = []
        self.answers = list(answers or [])
        self.cancel_after = cancel_after

    def chat(self, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0,
             json_schema: dict[str, Any] | None = None, cancel: CancelToken | None = None) -> Completion:
        self.calls.append(messages)
        if self.cancel_after and len(self.calls) > self.cancel_after[0]:
            self.cancel_after[1].cancel()
            return Completion("", 10, 0, "cancelled")
        if self.answers:
            return Completion(self.answers.pop(0), 100, 20, "stop")
        asked = next(m.content for m in reversed(messages) if m.role == "user" and "Text:" in m.content)
        text = asked.split("Text:", 1)[1]
        names = list(dict.fromkeys(NAME.findall(text)))
        triples = []
        if len(names) >= 2:
            sentence = next((s for s in re.split(r"(?<=[.!?])\s+", text) if names[0] in s), names[0])
            triples.append({"subject": names[0], "predicate": "related to", "object": names[1],
                            "evidence": sentence.strip()[:300]})
        return Completion(json.dumps({"triples": triples}), 100, 20, "stop")

    def close(self) -> None:
        pass


@pytest.fixture
def cv_project(tmp_path: Path, shared_data: Path) -> Project:
    project = Project.create(tmp_path / "cv.kgs")
    report = import_paths(project, [shared_data / "pdf" / "cv" / "CV_John_Doe.pdf"])
    assert report.count("imported") == 1
    return project


@pytest.fixture
def paper_project(tmp_path: Path, shared_data: Path) -> Project:
    project = Project.create(tmp_path / "paper.kgs")
    assert import_paths(project, [shared_data / "pdf" / "text" / "seasonal.pdf"]).count("imported") == 1
    return project


def chunk_count(project: Project) -> int:
    with project.repositories() as repos:
        return repos.documents.count_current_chunks()


def test_extraction_adds_candidate_triples_with_provenance_to_the_pdf_page(cv_project: Project) -> None:
    backend = ScriptedBackend()
    report = run_extraction(cv_project, backend=backend)
    assert report.model_calls == chunk_count(cv_project) == report.chunks
    assert report.candidates > 0 and report.failed == 0
    with cv_project.repositories() as repos:
        triples = repos.graph.triples()
        assert triples and all(t.status == TripleStatus.CANDIDATE and t.origin == "extracted" for t in triples)
        assert {t.predicate for t in triples} == {"relatedTo"}  # "related to" mapped onto the ontology's name
        provenance = repos.graph.provenance(triples[0].id)[0]
        chunk = repos.documents.chunks_by_id([provenance.chunk_id])[provenance.chunk_id]
        segment = next(s for s in repos.documents.segments(chunk.document_id) if s.id == provenance.segment_id)
        assert isinstance(segment.locator, PdfLocator) and segment.locator.page >= 1
        evidence = chunk.text[provenance.span_start:provenance.span_end]
        subject = repos.graph.entity(triples[0].subject_id)
        assert subject.name.casefold() in evidence.casefold()
        run = repos.runs.get(report.run_id)
        assert run.status == RunStatus.DONE and run.prompt_version == "extract@2"
        # the project now has the ontology it was extracted with
        assert {p.name for p in repos.ontology.properties()} >= {"worksFor", "relatedTo"}


def test_a_second_run_on_unchanged_input_asks_the_model_nothing(cv_project: Project) -> None:
    run_extraction(cv_project, backend=ScriptedBackend())
    counts = cv_project.counts()
    again = ScriptedBackend()
    report = run_extraction(cv_project, backend=again)
    assert again.calls == [] and report.model_calls == 0 and report.skipped == report.chunks
    assert cv_project.counts()["triples"] == counts["triples"]


def test_undo_makes_chunks_pending_and_the_rerun_comes_from_the_cache(cv_project: Project) -> None:
    run_extraction(cv_project, backend=ScriptedBackend())
    triples = cv_project.counts()["triples"]["total"]
    history = EditHistory(cv_project)
    while history.undo_entry() is not None and history.undo_entry().actor == "extraction":
        history.undo()
    assert cv_project.counts()["triples"]["total"] == 0
    again = ScriptedBackend()
    report = run_extraction(cv_project, backend=again)
    assert again.calls == [] and report.cached == report.chunks
    assert cv_project.counts()["triples"]["total"] == triples


def test_changed_seeds_change_the_cache_key(cv_project: Project) -> None:
    from kgstudio.pipeline.seeds import add_user_seed

    run_extraction(cv_project, backend=ScriptedBackend())
    add_user_seed(cv_project, "software developer")
    again = ScriptedBackend()
    report = run_extraction(cv_project, backend=again)
    assert report.model_calls == report.chunks > 0
    assert "software developer" in again.calls[0][0].content  # the seeds are hints in the system prompt


def test_cancel_stops_and_a_rerun_resumes_without_asking_twice(paper_project: Project) -> None:
    total = chunk_count(paper_project)
    assert total >= 5
    token = CancelToken()
    first = ScriptedBackend(cancel_after=(3, token))
    one_request_per_chunk = ExtractionSettings(contract_retries=0)  # so calls count chunks (retries: test_contracts)
    report = run_extraction(paper_project, one_request_per_chunk, backend=first, cancel=token)
    assert report.cancelled and report.model_calls == 4  # the fourth call saw the cancel and stopped
    with paper_project.repositories() as repos:
        assert repos.runs.get(report.run_id).status == RunStatus.CANCELLED
    second = ScriptedBackend()
    resumed = run_extraction(paper_project, one_request_per_chunk, backend=second)
    assert len(second.calls) == total - 3  # the three finished chunks are not sent again
    assert resumed.skipped == 3 and not resumed.cancelled


def test_an_unusable_answer_gets_one_repair_request(cv_project: Project) -> None:
    backend = ScriptedBackend(answers=["Sure! Here are the triples: none"])
    report = run_extraction(cv_project, backend=backend, settings=ExtractionSettings(limit=1))
    assert report.model_calls == 2 and report.failed == 0
    assert "cannot be used" in backend.calls[1][-1].content


def test_an_answer_that_stays_unusable_is_recorded_as_a_failed_candidate(cv_project: Project) -> None:
    backend = ScriptedBackend(answers=["not json", "still not json"])
    report = run_extraction(cv_project, backend=backend, settings=ExtractionSettings(limit=1))
    assert report.failed == 1 and report.model_calls == 2
    counts = cv_project.counts()
    assert counts["candidates"]["failed"] == 1
    with cv_project.repositories() as repos:
        failed = [c for c in repos.extraction.candidates() if c.error]
    assert failed[0].raw == "still not json" and "could not be used" in failed[0].error


def test_estimate_counts_chunks_tokens_and_uses_the_measured_speed(cv_project: Project) -> None:
    settings = ExtractionSettings(model_path=None)
    before = estimate_extraction(cv_project, settings)
    assert before.chunks == before.model_calls == chunk_count(cv_project)
    assert before.prompt_tokens > before.chunks * 100 and before.seconds is None
    timed = estimate_extraction(cv_project, settings,
                                calibrate=lambda: {"prompt_tokens_per_s": 1000.0, "output_tokens_per_s": 50.0})
    assert timed.seconds == pytest.approx(timed.prompt_tokens / 1000 + timed.output_tokens / 50)


def test_parse_answer_keeps_grounded_triples_and_says_why_others_are_not() -> None:
    text = "Ada Lovelace worked with Charles Babbage in London. She was born on 1815-12-10."
    ontology = default_ontology()
    answer = json.dumps({"triples": [
        {"subject": "Ada Lovelace", "predicate": "knows", "object": "Charles  Babbage", "evidence": "worked with"},
        {"subject": "Ada Lovelace", "predicate": "livesIn", "object": "Paris", "evidence": "x"},
        {"subject": "Ada Lovelace", "predicate": "inventedComputing", "object": "London", "evidence": "x"},
        {"subject": "Ada Lovelace", "predicate": "birthDate", "object": "1815-12-10", "evidence": "born on"},
        {"subject": "London", "predicate": "partOf", "object": "london"},
    ]})
    first, paris, invented, born, same = parse_answer(answer, text, ontology)
    assert "error" not in first and first["object"] == "Charles Babbage"
    assert text[first["span_start"]:first["span_end"]] == "worked with"
    assert paris["error"] == "object 'Paris' does not occur in the text"
    assert "not in the ontology" in invented["error"]
    assert born["literal"] and born["datatype"].endswith("#date")
    assert same["error"] == "subject and object are the same"
    # a seed counts as grounded even where the chunk does not name it
    ok = parse_answer(json.dumps([{"subject": "Ada Lovelace", "predicate": "livesIn", "object": "Paris"}]),
                      text, ontology, names=["Paris"])
    assert "error" not in ok[0]


@pytest.mark.parametrize("raw", ["", "no", '{"facts": []}', "[1, 2"])
def test_parse_answer_refuses_what_is_not_the_asked_json(raw: str) -> None:
    with pytest.raises(AnswerError):
        parse_answer(raw, "text", default_ontology())


def test_find_span_ignores_case_and_line_breaks() -> None:
    text = "The University of\nCalifornia, Berkeley"
    assert find_span(text, "university of california") == (4, 28)
    assert find_span(text, "Stanford") is None


def test_the_prompt_file_has_a_version_and_worked_examples() -> None:
    prompt = load_prompt()
    messages = prompt.messages(ontology="Classes: X", seeds="a, b", text="Hello {world}")
    assert prompt.version == "2" and messages[0].role == "system" and "Classes: X" in messages[0].content
    assert messages[-1].content.endswith("Hello {world}")  # braces in a document are left alone
    assert any(m.role == "assistant" and json.loads(m.content)["triples"] for m in messages)


def test_parse_answer_takes_classes_from_the_predicate_and_records_repeats() -> None:
    # What the embedded model really does: no classes asked, and the same triple again and again.
    text = "Jane Smith is a Digital Marketing Manager at XYZ Marketing in New York."
    triple = {"subject": "Jane Smith", "predicate": "worksFor", "object": "XYZ Marketing"}
    answer = json.dumps({"triples": [triple, triple, {**triple, "object": "xyz  marketing"},
                                     {"subject": "XYZ Marketing", "predicate": "locatedIn", "object": "New York",
                                      "subject_class": "Person"}]})
    first, again, same_again, located = parse_answer(answer, text, default_ontology())
    assert "error" not in first
    assert (first["subject_class"], first["object_class"]) == ("Person", "Organization")  # worksFor's domain, range
    assert again["error"] == same_again["error"] == "repeats an earlier triple of the same answer"
    assert "span_start" not in again  # a repeat is a record of what the model said, not a second triple
    # a class the model did give is kept (contracts then judge it); only the missing one is implied
    assert (located["subject_class"], located["object_class"]) == ("Person", "Place")


def test_classes_are_asked_only_when_the_settings_say_so(cv_project: Project) -> None:
    asked: list[dict[str, Any]] = []

    class SchemaRecorder(ScriptedBackend):
        def chat(self, messages: list[ChatMessage], **kwargs: Any) -> Completion:
            asked.append(kwargs.get("json_schema") or {})
            return super().chat(messages, **{k: v for k, v in kwargs.items() if k != "grammar"})

    for ask in (False, True):
        run_extraction(cv_project, ExtractionSettings(limit=1, ask_classes=ask, grounded=False),
                       backend=SchemaRecorder(), model="scripted:v1")
    fields = [set(schema["properties"]["triples"]["items"]["properties"]) for schema in asked]
    assert "subject_class" not in fields[0] and {"subject_class", "object_class"} <= fields[-1]


def test_an_answer_ends_at_its_first_repeated_triple() -> None:
    from kgstudio.pipeline.extract import end_of_new_triples

    first = '{"subject":"Jane Smith","predicate":"worksFor","object":"XYZ Marketing"}'
    second = '{"subject":"XYZ Marketing","predicate":"locatedIn","object":"New York"}'
    assert end_of_new_triples('{"triples":[' + first) is None
    assert end_of_new_triples('{"triples":[' + first + "," + second) is None
    assert end_of_new_triples('{"triples":[' + first + ',{"subject":"Jane }') is None  # inside a string
    repeat = first.replace("Jane Smith", "jane  smith")
    cut = end_of_new_triples('{"triples":[' + first + "," + second + "," + repeat + ',{"')  # one token: "},{"
    assert json.loads(cut)["triples"] == [json.loads(first), json.loads(second)]
