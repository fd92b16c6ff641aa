"""Choosing the reader for a source: by file name first, by content when the name lies.

Readers come from the entry-point group ``kgstudio.readers`` (built-ins
included), so a third-party reader is chosen exactly like a built-in one.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from kgstudio import plugins
from kgstudio.ingest.reader import Reader, Source


@dataclass(frozen=True)
class ReaderChoice:
    reader: Reader
    note: str | None = None  # set when the content overrode the file name


class ReaderRegistry:
    """The readers kgstudio can use, and which one reads a given source."""

    def __init__(self, readers: list[Reader], problems: list[str] | None = None) -> None:
        self.readers = readers
        self.problems = problems or []  # plugins that failed to load: "name (target): error"

    @classmethod
    def from_plugins(cls) -> "ReaderRegistry":
        readers, problems = [], []
        for plugin in plugins.load_all("readers"):
            if plugin.error is not None:
                problems.append(f"reader plugin {plugin.name!r} ({plugin.target}): {plugin.error}")
                continue
            try:
                readers.append(plugin.loaded())  # type: ignore[operator]
            except Exception as exc:  # a third-party constructor may raise anything
                problems.append(f"reader plugin {plugin.name!r} ({plugin.target}): {type(exc).__name__}: {exc}")
        return cls(readers, problems)

    def by_name(self, name: str) -> list[Reader]:
        lowered = name.lower()
        return [r for r in self.readers if any(fnmatch.fnmatchcase(lowered, p) for p in r.patterns)]

    def choose(self, source: Source) -> ReaderChoice | None:
        """The reader for ``source``, or None when no reader handles it.

        A reader whose pattern matches and whose ``sniff`` accepts the first
        bytes wins. If none accepts them but another reader recognises the
        content (a PDF named ``.xlsx``), that one reads it, with a note. A
        format that cannot be sniffed (CSV) is left to its name's reader.
        """
        named = self.by_name(source.name)
        head = source.head()
        for reader in named:
            if _sniffs(reader, head):
                return ReaderChoice(reader)
        for reader in self.readers:
            if reader not in named and _sniffs(reader, head):
                note = None
                if named:
                    suffix = source.name.rsplit(".", 1)[-1] if "." in source.name else source.name
                    note = f"the name says .{suffix} but the content is {reader.name}; read as {reader.name}"
                return ReaderChoice(reader, note)
        return ReaderChoice(named[0]) if named else None

    def patterns(self) -> list[str]:
        return sorted({p for r in self.readers for p in r.patterns})


def _sniffs(reader: Reader, head: bytes) -> bool:
    try:
        return bool(reader.sniff(head))
    except Exception:  # a reader's sniff must never stop an import
        return False
