"""The stable API for kgstudio plugins: everything a plugin may import, and nothing else.

A plugin is an installable package that names a class in one of kgstudio's
entry-point groups (``pyproject.toml`` of the plugin)::

    [project.entry-points."kgstudio.readers"]      # a file format kgstudio can import
    html = "kgstudio_html:HtmlReader"
    [project.entry-points."kgstudio.exporters"]    # a format kgstudio can export to
    gexf = "kgstudio_gexf:GexfExporter"
    [project.entry-points."kgstudio.backends"]     # a source of LLM completions
    mylab = "kgstudio_mylab:MyLabBackend"

kgstudio's own readers, exporters and backends are registered exactly this
way. Plugins are loaded lazily by name; one that fails to import is reported
(``kgstudio plugins`` lists every plugin and why a broken one did not load)
and never stops kgstudio.

The contracts:

- **Reader** (:class:`Reader`): ``name``, ``patterns`` (lower-case globs such
  as ``("*.html",)``), ``sniff(head: bytes) -> bool`` and
  ``read(source: Source, options: ReadOptions) -> Iterator[ReadResult]``. A
  :class:`ReadResult` holds passages (:class:`SegmentDraft`, each with a
  :class:`Locator` saying where it is), facts read from structure
  (:class:`FactDraft`), attachments and defects. Raise :class:`ReadError`
  when the file cannot be read at all. Readers never touch the project.
- **Exporter** (:class:`Exporter`): a class attribute ``format``
  (:class:`ExportFormat`) whose ``name`` equals the entry point's name, and
  ``write(context: ExportContext, out: Path | BinaryIO)``. The context gives
  the graph (:class:`GraphSource`: ``entity_batches()``, ``evidence()``,
  ``ontology()``, ``document()``, counts), the :class:`ExportReport` to fill,
  and progress/cancel. :func:`open_file` / :func:`open_folder` write a path
  atomically or a stream, as the built-in exporters do.
- **Backend** (:class:`Backend`): ``name``, ``chat(messages, *, max_tokens,
  temperature, json_schema, grammar, cancel) -> Completion`` and ``close()``.
  One instance is used by one thread.
- **Long work** takes ``progress(done, total, message)`` (:class:`Progress`)
  and polls a :class:`CancelToken` often enough to stop within a second,
  raising :class:`Cancelled`.

:func:`check_plugin` says whether an object fits its kind's contract; a
plugin's own tests should assert it returns no problems. Anything imported
from elsewhere in kgstudio is internal and may change without notice.
"""

from __future__ import annotations

import inspect
from typing import Any

from kgstudio.domain import (
    EmailLocator,
    EntityStatus,
    Locator,
    OntologyClass,
    OntologyProperty,
    PdfLocator,
    SheetLocator,
    TextLocator,
    TripleStatus,
    locator_from_dict,
)
from kgstudio.errors import KgstudioError
from kgstudio.export.formats import ExportContext, Exporter, ExportFormat, ExportReport
from kgstudio.export.output import open_file, open_folder
from kgstudio.export.source import DocumentRecord, EntityRecord, EvidenceRecord, GraphSource, TripleRecord
from kgstudio.ingest.reader import (
    AttachmentDraft,
    EntityRef,
    FactDraft,
    Literal,
    PasswordRequired,
    ReadError,
    Reader,
    ReadOptions,
    ReadResult,
    SegmentDraft,
    Source,
    safe_attachment_name,
)
from kgstudio.llm.backend import Backend, ChatMessage, Completion
from kgstudio.plugins import GROUPS, Plugin
from kgstudio.progress import CancelToken, Cancelled, Progress, no_progress

API_VERSION = 1
"""Raised only when a name here is removed or changes meaning; additions keep the number."""

__all__ = [
    "API_VERSION", "GROUPS", "Plugin", "check_plugin",
    # progress and cancellation
    "CancelToken", "Cancelled", "KgstudioError", "Progress", "no_progress",
    # domain values plugins see
    "EmailLocator", "EntityStatus", "Locator", "OntologyClass", "OntologyProperty", "PdfLocator",
    "SheetLocator", "TextLocator", "TripleStatus", "locator_from_dict",
    # readers
    "AttachmentDraft", "EntityRef", "FactDraft", "Literal", "PasswordRequired", "ReadError", "ReadOptions",
    "ReadResult", "Reader", "SegmentDraft", "Source", "safe_attachment_name",
    # exporters
    "DocumentRecord", "EntityRecord", "EvidenceRecord", "ExportContext", "ExportFormat", "ExportReport",
    "Exporter", "GraphSource", "TripleRecord", "open_file", "open_folder",
    # LLM backends
    "Backend", "ChatMessage", "Completion",
]


def check_plugin(kind: str, loaded: Any, name: str | None = None) -> list[str]:
    """What keeps ``loaded`` (the object an entry point names) from fitting the contract of ``kind``.

    ``kind`` is "readers", "exporters" or "backends"; ``name`` is the entry
    point's name, when known. An empty list means it fits. Readers and
    exporters are checked on an instance (their constructor takes no
    arguments, as kgstudio calls it); backends, which take settings, on the class.
    """
    if kind not in GROUPS:
        raise KgstudioError(f"unknown plugin kind {kind!r} (one of {', '.join(GROUPS)})")
    if not callable(loaded):
        return [f"{_label(loaded)} is not a class"]
    if kind == "backends":
        return _missing(loaded, ("name", "chat", "close"), callables=("chat", "close"))
    try:
        instance = loaded()
    except Exception as exc:  # a third-party constructor may raise anything
        return [f"{_label(loaded)}() failed: {type(exc).__name__}: {exc}"]
    if kind == "readers":
        problems = _missing(instance, ("name", "patterns", "sniff", "read"), callables=("sniff", "read"))
        patterns = getattr(instance, "patterns", ())
        if not isinstance(patterns, (tuple, list)) or not all(isinstance(p, str) for p in patterns):
            problems.append("patterns must be a tuple of file name globs such as ('*.html',)")
        elif any(p != p.lower() for p in patterns):
            problems.append("patterns must be lower case (file names are matched lower-cased)")
        return problems
    problems = _missing(instance, ("format", "write"), callables=("write",))
    fmt = getattr(instance, "format", None)
    if fmt is not None and not isinstance(fmt, ExportFormat):
        problems.append("format must be a kgstudio.api.ExportFormat")
    elif fmt is not None and name is not None and fmt.name != name:
        problems.append(f"format.name is {fmt.name!r} but the entry point is called {name!r}")
    return problems


def _missing(obj: Any, attributes: tuple[str, ...], callables: tuple[str, ...]) -> list[str]:
    problems = [f"{_label(obj)} has no {attr!r}" for attr in attributes if not hasattr(obj, attr)]
    problems += [f"{_label(obj)}.{attr} is not callable" for attr in callables
                 if hasattr(obj, attr) and not callable(getattr(obj, attr))]
    return problems


def _label(obj: Any) -> str:
    target = obj if inspect.isclass(obj) or inspect.isfunction(obj) else type(obj)
    return getattr(target, "__name__", repr(target))
