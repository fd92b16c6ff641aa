"""The import stage: files and folders in, documents, segments, chunks and structural facts stored.

For each file: hash it; skip it when the same content is already imported
(same path unchanged, or the same bytes elsewhere); when a file changed,
retract what its old version stated (an undoable edit) and keep the old
version as ``replaced``; read it with the reader the registry picks; store
the documents, their segments and chunks; send attachments back through
the registry (their locators nested under the parent); turn structural facts
into graph edits (actor ``import``). One bad file is recorded with its error
and never stops the rest. Each file is committed when it ends (a long one
also every tenth of a second, see :class:`_Batch`), so a killed import resumes
where it stopped: finished files are unchanged and skipped, an unfinished
one is still ``pending`` and is read again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgstudio.domain import Actor, Document, DocumentStatus, EmailLocator, Segment
from kgstudio.edit import EditHistory, ImportStructuralFacts, RetractDocumentFacts
from kgstudio.errors import EditError, ProjectError
from kgstudio.ingest.folder import FoundFile, WalkProblem, find_files
from kgstudio.ingest.reader import EntityRef, ReadError, ReadOptions, ReadResult, Source
from kgstudio.ingest.registry import ReaderRegistry
from kgstudio.pipeline.chunk import ChunkSettings, chunk_segments
from kgstudio.progress import CancelToken, Progress, no_progress
from kgstudio.store import Project, Repositories
from kgstudio.store.repositories import utcnow

MAX_ATTACHMENT_DEPTH = 3
FACTS_PER_EDIT = 50_000
# A file's documents share one write transaction, committed at the file's end and, for a long file, once
# this many seconds have passed (an edit in the window waits for the project's lock no longer than this and
# one document); an attachment larger than BIG_ATTACHMENT bytes is read with nothing uncommitted.
COMMIT_EVERY = 0.1
BIG_ATTACHMENT = 256 * 1024


@dataclass(frozen=True)
class ImportOptions:
    recursive: bool = True
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    read: ReadOptions = ReadOptions()
    chunks: ChunkSettings = ChunkSettings()


@dataclass
class FileOutcome:
    """What happened to one file: imported, partial, failed, unchanged, duplicate or cancelled."""

    path: str
    outcome: str
    documents: int = 0
    facts: int = 0
    message: str | None = None


@dataclass
class ImportReport:
    files: list[FileOutcome] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.files if f.outcome == outcome)

    def to_dict(self) -> dict[str, Any]:
        outcomes = ("imported", "partial", "failed", "unchanged", "duplicate", "replaced")
        return {
            "files": len(self.files), **{o: self.count(o) for o in outcomes}, "cancelled": self.cancelled,
            "seconds": round(self.seconds, 2),
            "problems": [dataclasses.asdict(f) for f in self.files if f.outcome in ("failed", "partial")],
        }


def import_paths(
    project: Project,
    paths: Iterable[str | Path],
    options: ImportOptions = ImportOptions(),
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    registry: ReaderRegistry | None = None,
) -> ImportReport:
    """Import files and folders into ``project``; returns what happened to each file."""
    started = time.perf_counter()
    importer = _Importer(project, registry or ReaderRegistry.from_plugins(), options)
    found = [item for item in find_files(paths, recursive=options.recursive, include=options.include,
                                         exclude=options.exclude)
             if not _is_project_file(project, item.path)]
    report = ImportReport()
    for done, item in enumerate(found):
        if cancel is not None and cancel.cancelled:
            report.cancelled = True
            break
        progress(done, len(found), str(item.path))
        if isinstance(item, WalkProblem) and not item.path.exists() and not item.path.is_symlink():
            # A path the user mistyped: say so, but it is not a document of the project.
            report.files.append(FileOutcome(str(item.path), "failed", message=item.message))
        elif isinstance(item, WalkProblem):
            report.files.append(importer.record_failure(item.path, item.message))
        else:
            report.files.append(importer.import_file(item))
    progress(len(report.files), len(found), "cancelled" if report.cancelled else "done")
    report.seconds = time.perf_counter() - started
    return report


class _Batch:
    """One write transaction shared by the documents of a file, committed every :data:`COMMIT_EVERY` seconds.

    Each stored document used to take two or three transactions of its own, so a
    10,000-part e-mail or a large mbox spent most of its time committing. The
    batch is committed at the end of each file, which keeps a killed import
    resumable as before (an unfinished file is still ``pending`` and is read
    again); the time bound keeps another writer (an edit in the window) from
    waiting long for the file's lock.
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self._stack: ExitStack | None = None
        self._repos: Repositories | None = None
        self._opened = 0.0

    def repos(self) -> Repositories:
        """The open transaction's repositories (a transaction is begun when none is open)."""
        if self._repos is None:
            stack = ExitStack()
            self._repos = stack.enter_context(self.project.transaction())
            self._stack, self._opened = stack, time.monotonic()
        return self._repos

    def commit(self) -> None:
        """Commit what is open (a full disk raises ProjectError, as a transaction's end does)."""
        stack, self._stack, self._repos = self._stack, None, None
        if stack is not None:
            stack.close()

    def commit_if_due(self) -> None:
        if self._stack is not None and time.monotonic() - self._opened >= COMMIT_EVERY:
            self.commit()

    def discard(self) -> None:
        """Roll back what is open (after an error: the session may be unusable)."""
        stack, self._stack, self._repos = self._stack, None, None
        if stack is not None:
            try:
                stack.__exit__(_Discarded, _Discarded(), None)
            except Exception:  # the rollback failing too (a vanished file): nothing more to undo
                pass


class _Discarded(Exception):
    """Thrown into a batch's transaction to roll it back."""


class _Importer:
    def __init__(self, project: Project, registry: ReaderRegistry, options: ImportOptions) -> None:
        self.project, self.registry, self.options = project, registry, options
        self.history = EditHistory(project)
        self.batch = _Batch(project)

    # --- one file ----------------------------------------------------------------

    def import_file(self, found: FoundFile) -> FileOutcome:
        path = found.path.resolve()
        try:
            sha256 = _sha256(path)
        except OSError as exc:
            return self.record_failure(path, f"cannot be read ({exc.strerror or exc})")
        with self.project.repositories() as repos:
            current = repos.documents.current_by_path(str(path))
            same_content = repos.documents.imported_with_content(sha256)
            # A file that could not be read at all left one row and nothing else: it is tried again in that
            # row (a password may be given now), so importing a folder again adds no row for it.
            retry = None
            if current is not None and current.status == DocumentStatus.FAILED:
                segments, chunks = repos.documents.evidence_ids([current.id])  # type: ignore[list-item]
                if len(repos.documents.family(current.id)) == 1 and not segments and not chunks:  # type: ignore[arg-type]
                    retry = current
        if current and current.sha256 == sha256 and current.status in (DocumentStatus.IMPORTED, DocumentStatus.PARTIAL):
            return FileOutcome(str(path), "unchanged")
        if same_content and not current:
            return FileOutcome(str(path), "duplicate", message=f"same content as {same_content.path}")
        replaced = current is not None and current.status != DocumentStatus.PENDING and retry is None
        if current is not None and retry is None:
            self._retire(current)
        outcome = self._read_and_store(Source.from_path(path), str(path), sha256, retry)
        if replaced and outcome.outcome in ("imported", "partial"):
            outcome.message = "changed since the last import; " + (outcome.message or "re-imported")
        return outcome

    def record_failure(self, path: Path, message: str, retry: Document | None = None) -> FileOutcome:
        """Record a file that cannot be read (in ``retry``, its earlier failed row, when there is one)."""
        with self.project.transaction() as repos:
            if retry is None:
                repos.documents.add(Document(str(path), _kind_from_name(path.name), "", DocumentStatus.FAILED,
                                             message, imported_at=utcnow()))
            else:
                repos.documents.update(dataclasses.replace(retry, status=DocumentStatus.FAILED, error=message,
                                                           imported_at=utcnow()))
        return FileOutcome(str(path), "failed", message=message)

    def _read_and_store(self, source: Source, path: str, sha256: str, retry: Document | None = None) -> FileOutcome:
        """Read a file and store what it holds; ``retry`` is its earlier failed row, used again."""
        choice = self.registry.choose(source)
        if choice is None:
            suffix = Path(source.name).suffix or "without an extension"
            return self.record_failure(Path(path), f"unsupported file type ({suffix}); kgstudio reads "
                                                   + ", ".join(self.registry.patterns()), retry)
        with self.project.transaction() as repos:
            if retry is None:
                root = repos.documents.add(Document(path, choice.reader.name, sha256, DocumentStatus.PENDING))
            else:
                root = dataclasses.replace(retry, kind=choice.reader.name, sha256=sha256,
                                           status=DocumentStatus.PENDING, error=None, metadata={})
                repos.documents.update(root, sha256=True)
        stored = _Stored(root)
        try:
            try:
                for result in choice.reader.read(source, self.options.read):
                    if choice.note:  # nothing was lost: a fact about the file, not a defect
                        result.metadata["read_as"] = choice.note
                    self._store_result(stored, result, path, depth=0)
                if not stored.filled_root:  # a container (mbox): the root holds the messages
                    root.status = DocumentStatus.PARTIAL if stored.defects else DocumentStatus.IMPORTED
                    root.error = _summary(stored.defects)
                    root.metadata = {"parts": stored.documents, "defects": stored.defects}
                    root.title, root.imported_at = Path(path).name, utcnow()
                    self.batch.repos().documents.update(root)
                self.batch.commit()
            except BaseException:
                self.batch.discard()  # nothing half-written is left open, whatever went wrong
                raise
        except ProjectError:
            raise  # the project cannot be written (a full disk): not this file's fault, and it stops the import
        except ReadError as exc:
            return self._finish_failed(stored, str(exc))
        except MemoryError:
            return self._finish_failed(stored, "too large to read in the memory available")
        except Exception as exc:  # a reader bug or a library choking on hostile input: this file only
            return self._finish_failed(stored, f"could not be read ({type(exc).__name__}: {exc})")
        outcome = "partial" if stored.defects else "imported"
        return FileOutcome(path, outcome, stored.documents, stored.facts, _summary(stored.defects) or choice.note)

    def _store_result(self, stored: "_Stored", result: ReadResult, path: str, depth: int,
                      parent: Document | None = None, nest: EmailLocator | None = None) -> Document:
        """Store one read document (and, recursively, its attachments)."""
        _strip_nul(result)
        defects = list(result.defects)
        repos = self.batch.repos()
        if parent is None and result.part is None and not stored.filled_root:
            document, stored.filled_root = stored.root, True
        else:
            owner = parent or stored.root
            name = result.part or "part"
            document = repos.documents.add(Document(
                f"{owner.path}#{name}", result.kind, hashlib.sha256(f"{owner.sha256}/{name}".encode()).hexdigest(),
                DocumentStatus.PENDING, parent_id=owner.id))
        segments = [
            Segment(document.id, ordinal, draft.text,
                    dataclasses.replace(nest, inner=draft.locator) if nest else draft.locator,
                    draft.kind, draft.table)
            for ordinal, draft in enumerate(result.segments)
        ]
        repos.documents.add_segments(segments)
        repos.documents.add_chunks(chunk_segments(segments, self.options.chunks))
        document.kind, document.title = result.kind, result.title
        document.metadata = {**result.metadata, **({"defects": defects} if defects else {})}
        stored.documents += 1
        if result.facts:
            stored.facts += self._add_facts(document, result, segments, path, depth)
        for attachment in result.attachments:
            label = f"attachment {attachment.name}"
            if depth >= MAX_ATTACHMENT_DEPTH:
                defects.append(f"{label}: attachments nested deeper than {MAX_ATTACHMENT_DEPTH}; not imported")
                continue
            source = Source(attachment.name, data=attachment.data)
            choice = self.registry.choose(source)
            if choice is None:
                defects.append(f"{label}: no reader for this type; kept out of the graph")
                continue
            nested = attachment.locator if isinstance(attachment.locator, EmailLocator) else None
            if depth == 0 and len(attachment.data) > BIG_ATTACHMENT:
                # Reading it may take a while (and may fork a helper): not while holding the project's lock.
                self.batch.commit()
            counts = (stored.documents, stored.facts, len(stored.defects))
            try:
                # A savepoint: an attachment that fails leaves nothing of itself, and its message goes on.
                with self.batch.repos().session.begin_nested():
                    for inner in choice.reader.read(source, self.options.read):
                        inner.part = attachment.name if inner.part is None else f"{attachment.name}#{inner.part}"
                        self._store_result(stored, inner, path, depth + 1, parent=document, nest=nested)
            except ProjectError:
                raise
            except Exception as exc:  # an attachment failing is a defect of its message, not a failure
                stored.documents, stored.facts = counts[:2]
                del stored.defects[counts[2]:]
                message = str(exc) if isinstance(exc, ReadError) else f"{type(exc).__name__}: {exc}"
                defects.append(f"{label}: {message}")
            if depth == 0:
                self.batch.commit_if_due()
        document.status = DocumentStatus.PARTIAL if defects else DocumentStatus.IMPORTED
        document.error = _summary(defects)
        document.metadata = {**document.metadata, **({"defects": defects} if defects else {})}
        document.imported_at = utcnow()
        self.batch.repos().documents.update(document)
        stored.defects.extend(f"{result.part}: {d}" if result.part else d for d in defects)
        if depth == 0:  # (deeper, a savepoint is open: the batch is committed by the levels above)
            self.batch.commit_if_due()
        return document

    def _add_facts(self, document: Document, result: ReadResult, segments: list[Segment], path: str,
                   depth: int) -> int:
        facts = [{
            "subject": _ref(fact.subject),
            "predicate": fact.predicate,
            "object": _ref(fact.object) if isinstance(fact.object, EntityRef)
            else {"literal": fact.object.value, "datatype": fact.object.datatype, "lang": fact.object.lang},
            "origin": fact.origin,
            "segment_id": segments[fact.segment].id,
        } for fact in result.facts]
        # In batches: one edit (and its exact row images) per batch keeps memory bounded for big sheets.
        for start in range(0, len(facts), FACTS_PER_EDIT):
            batch = facts[start:start + FACTS_PER_EDIT]
            part = f" (facts {start + 1}-{start + len(batch)} of {len(facts)})" if len(facts) > FACTS_PER_EDIT else ""
            self.history.execute_in(self.batch.repos(), ImportStructuralFacts(document.id, batch),  # type: ignore[arg-type]
                                    actor=Actor.IMPORT, reason=f"read from {path}{part}")
            if depth == 0:
                self.batch.commit_if_due()
        return len(facts)

    def _retire(self, document: Document) -> None:
        """A file changed (or its last import did not finish): take back its facts, keep it as replaced."""
        with self.project.repositories() as repos:
            family = repos.documents.family(document.id)  # type: ignore[arg-type]
            segment_ids, chunk_ids = repos.documents.evidence_ids(family)
        if segment_ids or chunk_ids:
            try:
                self.history.execute(RetractDocumentFacts(document.id, segment_ids, chunk_ids),  # type: ignore[arg-type]
                                     actor=Actor.IMPORT, reason=f"{document.path} changed")
            except EditError:
                pass  # it had stated nothing
        with self.project.transaction() as repos:
            for document_id in family:
                repos.documents.set_status(document_id, DocumentStatus.REPLACED)

    def _finish_failed(self, stored: "_Stored", message: str) -> FileOutcome:
        self._retire(stored.root)  # whatever part of it was stored goes
        with self.project.transaction() as repos:
            root = stored.root
            root.status, root.error, root.imported_at = DocumentStatus.FAILED, message, utcnow()
            repos.documents.update(root)
        return FileOutcome(stored.root.path, "failed", message=message)


@dataclass
class _Stored:
    root: Document
    filled_root: bool = False
    documents: int = 0
    facts: int = 0
    defects: list[str] = field(default_factory=list)


def _strip_nul(result: ReadResult) -> None:
    """Remove NUL characters from everything a reader returned.

    They carry no meaning in text, SQLite keeps them, and PostgreSQL refuses
    them; removing them here makes both stores hold the same thing.
    """
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("\x00", "") if "\x00" in value else value
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        return value

    result.title = clean(result.title)
    result.metadata = clean(result.metadata)
    result.defects = clean(result.defects)
    for segment in result.segments:
        segment.text, segment.table = clean(segment.text), clean(segment.table)
    for fact in result.facts:
        fact.subject = dataclasses.replace(fact.subject, key=clean(fact.subject.key), name=clean(fact.subject.name))
        fact.predicate = clean(fact.predicate)
        fact.object = (dataclasses.replace(fact.object, key=clean(fact.object.key), name=clean(fact.object.name))
                       if isinstance(fact.object, EntityRef) else dataclasses.replace(fact.object, value=clean(fact.object.value)))


def _ref(ref: EntityRef) -> dict[str, Any]:
    return {"key": ref.key, "name": ref.name, "class": ref.class_name}


def _is_project_file(project: Project, path: Path) -> bool:
    """The project's own database, its WAL and backups, when the project sits in the folder being imported."""
    own = project.location.path
    if own is None:
        return False
    own = own.resolve()
    return path.resolve().parent == own.parent and path.name.startswith(own.name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _summary(defects: list[str]) -> str | None:
    if not defects:
        return None
    more = f" (+{len(defects) - 3} more)" if len(defects) > 3 else ""
    return "; ".join(defects[:3]) + more


def _kind_from_name(name: str) -> str:
    return Path(name).suffix.lower().lstrip(".") or "unknown"
