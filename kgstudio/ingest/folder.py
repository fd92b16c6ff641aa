"""Finding the files to import: single files and folders, include/exclude globs, nothing unsafe.

Hidden files, editor/Office temporary files and OS litter are skipped;
symbolic-link loops are broken by remembering each folder's device and
inode; a folder that cannot be listed is reported, not fatal.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# Lock/temporary files of Office and LibreOffice, editor backups, OS metadata.
SKIPPED_NAMES = ("~$*", ".~lock.*", "*~", "*.tmp", "*.swp", ".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class FoundFile:
    path: Path


@dataclass(frozen=True)
class WalkProblem:
    path: Path
    message: str


def find_files(
    paths: Iterable[str | Path],
    *,
    recursive: bool = True,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> Iterator[FoundFile | WalkProblem]:
    """Yield the files to import under ``paths`` in a stable (sorted) order, and the problems met.

    ``include``/``exclude`` are globs matched against the file name and the
    path relative to the folder given (``*.pdf``, ``archive/**``). A file named
    explicitly is always taken unless excluded.
    """
    include, exclude = tuple(include), tuple(exclude)
    for given in paths:
        root = Path(given).expanduser()
        if root.is_dir():
            yield from _walk(root, recursive, include, exclude)
        elif root.exists():
            if not _matches(root.name, root.name, exclude):
                yield FoundFile(root)
        else:
            yield WalkProblem(root, "no such file or folder")


def _walk(root: Path, recursive: bool, include: tuple[str, ...], exclude: tuple[str, ...]) -> Iterator[FoundFile | WalkProblem]:
    seen: set[tuple[int, int]] = set()
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            stat = folder.stat()
        except OSError as exc:
            yield WalkProblem(folder, f"cannot be read ({exc.strerror or exc})")
            continue
        if (stat.st_dev, stat.st_ino) in seen:
            continue  # a symbolic link back into a folder already walked
        seen.add((stat.st_dev, stat.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield WalkProblem(folder, f"cannot be listed ({exc.strerror or exc})")
            continue
        subfolders = []
        for entry in entries:
            name = entry.name
            if name.startswith(".") or _matches(name, name, SKIPPED_NAMES):
                continue
            path = Path(entry.path)
            relative = path.relative_to(root).as_posix()
            try:
                is_dir = entry.is_dir()  # follows links; loops are caught by `seen`
                is_file = entry.is_file()
            except OSError as exc:
                yield WalkProblem(path, f"cannot be read ({exc.strerror or exc})")
                continue
            if _matches(name, relative, exclude):
                continue
            if is_dir:
                if recursive:
                    subfolders.append(path)
            elif is_file:
                if not include or _matches(name, relative, include):
                    yield FoundFile(path)
            elif entry.is_symlink():
                yield WalkProblem(path, "is a broken symbolic link")
        pending.extend(reversed(subfolders))  # depth-first, in name order


def _matches(name: str, relative: str, globs: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(relative, g) for g in globs)
