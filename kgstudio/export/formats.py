"""What an exporter is, what it reports, and the registry of exporters by format name.

Exporters are entry points of the group ``kgstudio.exporters`` (the built-in
ones are registered in kgstudio's own ``pyproject.toml``, exactly as a plugin
would be): the entry point's name is the format name, its target a class with a
``format`` attribute (an :class:`ExportFormat`) and a ``write`` method.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Protocol

from kgstudio.export.source import GraphSource
from kgstudio.progress import CancelToken, Progress


@dataclass(frozen=True)
class ExportFormat:
    """One export format as the CLI and the GUI's export dialog list it."""

    name: str  # what ``--format`` takes: "ttl", "cypher", ...
    label: str  # for people: "Turtle (RDF)"
    suffix: str  # ".ttl"; for a folder format, the suggested folder suffix ("" for none)
    folder: bool = False  # writes a folder of files (a zip archive when given a stream)
    description: str = ""


@dataclass
class ExportReport:
    """What an export wrote."""

    format: str
    target: str | None  # the path written, None for a stream
    entities: int = 0
    triples: int = 0  # triples of the graph exported (not counting labels, types, provenance)
    statements: int = 0  # RDF statements / rows / Cypher rows written in all
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def warn(self, message: str, limit: int = 50) -> None:
        """Keep a warning (at most ``limit`` distinct ones; the rest are counted in the last)."""
        if message in self.warnings:
            return
        if len(self.warnings) < limit:
            self.warnings.append(message)
        elif len(self.warnings) == limit:
            self.warnings.append("more warnings were left out")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass
class ExportContext:
    """Everything one exporter run gets."""

    source: GraphSource
    report: ExportReport
    progress: Progress
    cancel: CancelToken


class Exporter(Protocol):
    format: ClassVar[ExportFormat]

    def write(self, context: ExportContext, out: Path | BinaryIO) -> None: ...
