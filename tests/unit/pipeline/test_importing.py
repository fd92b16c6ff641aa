"""The import stage's bookkeeping, with small scripted readers (the real readers have their own tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kgstudio.domain import DocumentStatus, EmailLocator, PdfLocator
from kgstudio.edit import EditHistory
from kgstudio.ingest.reader import (
    AttachmentDraft,
    EntityRef,
    FactDraft,
    Literal,
    ReadError,
    ReadOptions,
    ReadResult,
    SegmentDraft,
    Source,
)
from kgstudio.ingest.registry import ReaderRegistry
from kgstudio.pipeline.importing import ImportOptions, import_paths
from kgstudio.progress import CancelToken
from kgstudio.store import Project


class NoteReader:
    """*.note: one paragraph per line; 'fact: Name' lines become a structural fact; 'attach: x.note' attaches."""

    name, patterns = "note", ("*.note",)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(b"NOTE")

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        lines = source.read_bytes().decode().splitlines()
        if not lines or lines[0] != "NOTE":
            raise ReadError("not a note file")
        if "boom" in lines:
            raise RuntimeError("the parser fell over")
        result = ReadResult("note", title=source.name)
        for number, line in enumerate(lines[1:], start=2):
            if line.startswith("attach: "):
                name = line.removeprefix("attach: ")
                data = b"NOTE\ninner text\nfact: Inner Person" if name.endswith(".note") else b"\x89PNG\r\n\x1a\n"
                result.attachments.append(AttachmentDraft(name, data, EmailLocator("<m@x>", name)))
                continue
            result.segments.append(SegmentDraft(line, PdfLocator(number)))
            if line.startswith("fact: "):
                person = line.removeprefix("fact: ")
                result.facts.append(FactDraft(EntityRef(f"person:{person}", person, "Person"), "name",
                                              Literal(person), len(result.segments) - 1, "header"))
        yield result


class BoxReader:
    """*.box: a container; each line is its own document (like messages in an mbox)."""

    name, patterns = "box", ("*.box",)

    def sniff(self, head: bytes) -> bool:
        return False

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        for number, line in enumerate(source.read_bytes().decode().splitlines(), start=1):
            yield ReadResult("box-item", title=line, part=f"item {number}",
                             segments=[SegmentDraft(line, PdfLocator(number))])


@pytest.fixture
def project(tmp_path: Path):
    with Project.create(tmp_path / "p.kgs") as p:
        yield p


def run(project: Project, *paths: Path, **options):
    return import_paths(project, paths, ImportOptions(**options), registry=ReaderRegistry([NoteReader(), BoxReader()]))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folder_import_stores_documents_segments_chunks_and_facts(project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    write(folder / "a.note", "NOTE\nAda wrote the first program.\nfact: Ada Lovelace")
    write(folder / "sub" / "b.note", "NOTE\nBabbage built engines.")
    write(folder / "~$temp.note", "NOTE\nOffice lock file")
    write(folder / ".hidden.note", "NOTE\nhidden")
    report = run(project, folder)
    assert [Path(f.path).name for f in report.files] == ["a.note", "b.note"]
    assert report.count("imported") == 2
    counts = project.counts()
    assert counts["documents"]["by_status"]["imported"] == 2
    assert counts["segments"] == 3 and counts["chunks"] == 2
    assert counts["triples"]["by_origin"]["header"] == 1
    with project.repositories() as repos:
        (ada,) = repos.graph.find_entities("Ada Lovelace")
        (triple,) = repos.graph.triples(entity_id=ada.id)
        (evidence,) = repos.graph.provenance(triple.id)
    assert evidence.segment_id is not None and ada.class_name == "Person"


def test_reimporting_adds_nothing_and_a_changed_file_replaces_its_facts(project: Project, tmp_path: Path) -> None:
    note = write(tmp_path / "a.note", "NOTE\nfact: Ada Lovelace")
    write(tmp_path / "copy" / "same.note", "NOTE\nfact: Ada Lovelace")
    run(project, note)
    before = project.counts()
    again = run(project, tmp_path)
    assert sorted(f.outcome for f in again.files) == ["duplicate", "unchanged"]
    assert project.counts()["segments"] == before["segments"]

    write(note, "NOTE\nfact: Charles Babbage")
    changed = run(project, note)
    assert changed.files[0].outcome == "imported" and "changed" in changed.files[0].message
    with project.repositories() as repos:
        names = {e.name for e in repos.graph.entities()}
    assert names == {"Charles Babbage"}  # Ada's fact was retracted with the old version
    assert project.counts()["documents"]["by_status"]["replaced"] == 1
    EditHistory(project).undo()  # undo the re-import's facts, then the retraction
    EditHistory(project).undo()
    with project.repositories() as repos:
        assert {e.name for e in repos.graph.entities()} == {"Ada Lovelace"}


def test_one_bad_file_never_stops_the_rest(project: Project, tmp_path: Path) -> None:
    write(tmp_path / "1-good.note", "NOTE\nfine")
    write(tmp_path / "2-bad.note", "this is not a note")
    write(tmp_path / "3-crash.note", "NOTE\nboom")
    write(tmp_path / "4-unknown.xyz", "???")
    write(tmp_path / "5-good.note", "NOTE\nalso fine")
    report = run(project, tmp_path)
    outcomes = {Path(f.path).name: (f.outcome, f.message) for f in report.files}
    assert outcomes["1-good.note"][0] == outcomes["5-good.note"][0] == "imported"
    assert outcomes["2-bad.note"] == ("failed", "not a note file")
    assert outcomes["3-crash.note"] == ("failed", "could not be read (RuntimeError: the parser fell over)")
    assert outcomes["4-unknown.xyz"][0] == "failed" and "unsupported file type (.xyz)" in outcomes["4-unknown.xyz"][1]
    problems = {Path(p["path"]).name: p["error"] for p in project.counts()["problems"]}
    assert set(problems) == {"2-bad.note", "3-crash.note", "4-unknown.xyz"}


def test_content_beats_a_lying_extension(project: Project, tmp_path: Path) -> None:
    report = run(project, write(tmp_path / "really-a-note.box", "NOTE\ntext"))
    assert report.files[0].outcome == "imported"  # nothing was lost
    assert report.files[0].message == "the name says .box but the content is note; read as note"
    with project.repositories() as repos:
        (document,) = repos.documents.list()
    assert document.kind == "note" and document.metadata["read_as"] == report.files[0].message


def test_attachments_are_read_again_with_nested_locators(project: Project, tmp_path: Path) -> None:
    run(project, write(tmp_path / "mail.note", "NOTE\nsee attached\nattach: inner.note\nattach: photo.png"))
    with project.repositories() as repos:
        documents = repos.documents.list()
        (inner,) = [d for d in documents if d.parent_id is not None]
        segments = repos.documents.segments(inner.id)
        (person,) = repos.graph.find_entities("Inner Person")
    parent = next(d for d in documents if d.parent_id is None)
    assert inner.path.endswith("mail.note#inner.note")
    assert segments[0].locator == EmailLocator("<m@x>", "inner.note", inner=PdfLocator(2))
    assert parent.status is DocumentStatus.PARTIAL and "photo.png: no reader" in parent.error


def test_containers_store_one_document_per_part(project: Project, tmp_path: Path) -> None:
    run(project, write(tmp_path / "three.box", "first\nsecond\nthird"))
    with project.repositories() as repos:
        documents = repos.documents.list()
    (container,) = [d for d in documents if d.parent_id is None]
    parts = [d for d in documents if d.parent_id == container.id]
    assert [d.title for d in parts] == ["first", "second", "third"]
    assert container.status is DocumentStatus.IMPORTED and container.metadata["parts"] == 3


def test_cancel_stops_between_files_and_a_rerun_resumes(project: Project, tmp_path: Path) -> None:
    for n in range(5):
        write(tmp_path / f"{n}.note", f"NOTE\nnote {n}")
    token = CancelToken()

    def cancel_after_two(done: int, total: int | None, message: str = "") -> None:
        if done == 2:
            token.cancel()

    registry = ReaderRegistry([NoteReader()])
    first = import_paths(project, [tmp_path], progress=cancel_after_two, cancel=token, registry=registry)
    assert first.cancelled and first.count("imported") == 3  # the file in hand is finished
    second = import_paths(project, [tmp_path], registry=registry)
    assert second.count("unchanged") == 3 and second.count("imported") == 2


def test_an_import_killed_midway_is_redone(project: Project, tmp_path: Path) -> None:
    """A document left 'pending' (the process died while storing it) is read again on the next run."""
    note = write(tmp_path / "a.note", "NOTE\nfact: Ada Lovelace")
    run(project, note)
    with project.transaction() as repos:
        (document,) = repos.documents.list()
        repos.documents.set_status(document.id, DocumentStatus.PENDING)
    report = run(project, note)
    assert report.files[0].outcome == "imported"
    with project.repositories() as repos:
        assert len(repos.graph.find_entities("Ada Lovelace")) == 1  # no duplicate entity


class NulReader:
    """A reader whose text carries NUL characters, as some PDFs' text layers do."""

    name, patterns = "nul", ("*.nul",)

    def sniff(self, head: bytes) -> bool:
        return False

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        yield ReadResult("nul", title="Ti\x00tle", metadata={"author": "A\x00da"},
                         segments=[SegmentDraft("Ada\x00 Lovelace", PdfLocator(1), table=[["a\x00", "b"]])],
                         facts=[FactDraft(EntityRef("person:ada\x00", "Ada\x00", "Person"), "name",
                                          Literal("Ada\x00"), 0, "header")])


def import_nul_file(project: Project, folder: Path) -> None:
    """Shared with the PostgreSQL test, where NUL would be refused by the server."""
    report = import_paths(project, [write(folder / "x.nul", "whatever")], registry=ReaderRegistry([NulReader()]))
    assert report.files[0].outcome == "imported", report.files[0].message
    with project.repositories() as repos:
        (document,) = repos.documents.list()
        (segment,) = repos.documents.segments(document.id)
        (entity,) = repos.graph.entities()
        (triple,) = repos.graph.triples()
    assert (document.title, document.metadata["author"]) == ("Title", "Ada")
    assert (segment.text, segment.table) == ("Ada Lovelace", [["a", "b"]])
    assert (entity.name, triple.object_literal) == ("Ada", "Ada")


def test_nul_characters_are_removed_before_storing(project: Project, tmp_path: Path) -> None:
    import_nul_file(project, tmp_path)


def test_a_mistyped_path_is_reported_but_not_recorded(project: Project, tmp_path: Path) -> None:
    report = run(project, tmp_path / "Documnets")
    assert [(f.outcome, f.message) for f in report.files] == [("failed", "no such file or folder")]
    assert project.counts()["documents"]["total"] == 0 and project.counts()["problems"] == []


class HalfReader:
    """*.half: yields one document, then finds the rest unreadable (a truncated archive inside an e-mail)."""

    name, patterns = "half", ("*.half",)

    def sniff(self, head: bytes) -> bool:
        return False

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        yield ReadResult("half", title="first part", part="part 1", segments=[SegmentDraft("first", PdfLocator(1))])
        raise ReadError("truncated after the first part")


def test_an_attachment_that_fails_midway_leaves_nothing_of_itself_and_its_message_is_kept(
        project: Project, tmp_path: Path) -> None:
    note = write(tmp_path / "m.note", "NOTE\nHello\nattach: broken.half\nattach: good.note")
    report = import_paths(project, [note], registry=ReaderRegistry([NoteReader(), HalfReader()]))
    (outcome,) = report.files
    assert outcome.outcome == "partial" and outcome.documents == 2  # the message and good.note
    assert "attachment broken.half: truncated after the first part" in (outcome.message or "")
    with project.repositories() as repos:
        documents = repos.documents.list()
        paths = sorted(d.path.rsplit("#", 1)[-1] for d in documents if d.parent_id is not None)
        assert paths == ["good.note"]  # nothing of broken.half's first part
        assert len(repos.graph.find_entities("Inner Person")) == 1  # good.note's fact is in the graph
        root = next(d for d in documents if d.parent_id is None)
        assert root.status == DocumentStatus.PARTIAL


def test_an_edit_made_while_a_long_file_imports_goes_through_before_the_file_ends(
        project: Project, tmp_path: Path) -> None:
    """A file's documents share transactions, but the project's lock is let go while the file goes on."""
    import threading

    from kgstudio.edit import AddEntity

    started, edited = threading.Event(), threading.Event()
    seen_before_edit = []

    class SlowBoxReader(BoxReader):
        """Ten items, each waiting (at most a second) for the edit made meanwhile."""

        def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
            for number in range(1, 11):
                if number > 1:
                    started.set()
                    if not edited.wait(timeout=1.0):
                        seen_before_edit.append(number)
                yield ReadResult("box-item", title=f"item {number}", part=f"item {number}",
                                 segments=[SegmentDraft(f"item {number}", PdfLocator(number))])

    def edit() -> None:
        started.wait(timeout=60)
        EditHistory(project).execute(AddEntity("Ada Lovelace"))  # waits for the project's lock
        edited.set()

    editor = threading.Thread(target=edit)
    editor.start()
    report = import_paths(project, [write(tmp_path / "long.box", "x")], registry=ReaderRegistry([SlowBoxReader()]))
    editor.join(timeout=60)
    assert report.files[0].outcome == "imported" and report.files[0].documents == 10
    assert edited.is_set()
    assert len(seen_before_edit) < 9, "the edit had to wait for the whole file"
    with project.repositories() as repos:
        assert len(repos.graph.find_entities("Ada Lovelace")) == 1


def test_a_file_that_cannot_be_read_is_tried_again_in_its_own_row(project: Project, tmp_path: Path) -> None:
    """Importing a folder again adds no row for a file that still fails; once it reads, that row holds it."""
    broken = write(tmp_path / "notes" / "b.note", "NOT A NOTE")
    write(tmp_path / "notes" / "a.note", "NOTE\nHello")
    for _ in range(3):
        report = run(project, tmp_path / "notes")
        assert sorted(f.outcome for f in report.files) in (["failed", "imported"], ["failed", "unchanged"])
    with project.repositories() as repos:
        documents = repos.documents.list()
        assert len(documents) == 2 and [d.status for d in documents if d.path.endswith("b.note")] == [
            DocumentStatus.FAILED]
        (failed,) = [d for d in documents if d.path.endswith("b.note")]
        assert failed.error == "not a note file"
    broken.write_text("NOTE\nfact: Ada Lovelace")  # fixed
    report = run(project, tmp_path / "notes")
    assert [f.outcome for f in report.files if f.path.endswith("b.note")] == ["imported"]
    with project.repositories() as repos:
        documents = repos.documents.list()
        assert len(documents) == 2 and all(d.status == DocumentStatus.IMPORTED for d in documents)
        assert [d.id for d in documents if d.path.endswith("b.note")] == [failed.id]
        assert len(repos.documents.segments(failed.id)) == 1  # type: ignore[arg-type]
        assert len(repos.graph.find_entities("Ada Lovelace")) == 1
