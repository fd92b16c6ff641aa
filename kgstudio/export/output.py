"""Where an export writes: a path (written atomically) or an open binary stream.

A file export goes to ``NAME.part`` next to the target and is renamed over it
only when complete, so a cancelled or failed export never leaves a truncated
file that looks finished. A folder export (CSV bundles) is built in a sibling
temporary folder and renamed the same way; written to a stream, it becomes a
zip archive of that folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from kgstudio.errors import KgstudioError

FLUSH_AT = 1 << 16


class TextSink:
    """Collects text and writes it to a binary stream as UTF-8 in large pieces."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self._parts: list[str] = []
        self._size = 0
        self.bytes_written = 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)
        if self._size >= FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            data = "".join(self._parts).encode("utf-8", "replace")
            self.stream.write(data)
            self.bytes_written += len(data)
            self._parts.clear()
            self._size = 0


def is_stream(out: object) -> bool:
    return hasattr(out, "write") and not isinstance(out, (str, os.PathLike))


@contextmanager
def open_file(out: Path | str | BinaryIO) -> Iterator[TextSink]:
    """A sink for one file export; on error or cancel the target is left as it was."""
    if is_stream(out):
        sink = TextSink(out)  # type: ignore[arg-type]
        yield sink
        sink.flush()
        return
    target = Path(out)  # type: ignore[arg-type]
    _check_parent(target)
    if target.is_dir():
        raise KgstudioError(f"{target}: is a folder; give a file name for this format")
    part = target.with_name(target.name + ".part")
    try:
        with part.open("wb") as handle:
            sink = TextSink(handle)
            yield sink
            sink.flush()
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


@contextmanager
def open_folder(out: Path | str | BinaryIO) -> Iterator[Path]:
    """A fresh folder to write a bundle into; it replaces ``out`` (a new or empty folder) when done.

    With a stream, the folder is zipped into it instead.
    """
    if is_stream(out):
        with tempfile.TemporaryDirectory(prefix="kgstudio-export-") as scratch:
            folder = Path(scratch) / "bundle"
            folder.mkdir()
            yield folder
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
                for path in sorted(folder.iterdir()):
                    archive.write(path, path.name)
        return
    target = Path(out)  # type: ignore[arg-type]
    _check_parent(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise KgstudioError(f"{target}: exists and is not an empty folder; choose a new folder name")
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        yield scratch
        if target.exists():
            target.rmdir()
        os.replace(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)


def _check_parent(target: Path) -> None:
    if not target.parent.is_dir():
        raise KgstudioError(f"{target}: the folder {target.parent} does not exist")
