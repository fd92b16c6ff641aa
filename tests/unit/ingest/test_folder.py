"""Walking folders: loops, broken links, special files and litter never hang or stop an import."""

from __future__ import annotations

import os
from pathlib import Path

from kgstudio.ingest.folder import FoundFile, WalkProblem, find_files


def test_loops_broken_links_pipes_and_litter(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "report.pdf").write_bytes(b"%PDF-1.4")
    (root / "a" / "b" / "loop").symlink_to(root, target_is_directory=True)  # back to the top
    (root / "a" / "dangling.pdf").symlink_to(tmp_path / "gone.pdf")
    os.mkfifo(root / "a" / "pipe.csv")  # opening it would block forever
    for litter in ("~$report.xlsx", ".DS_Store", "Thumbs.db", ".~lock.x.ods#", "draft.txt~", ".hidden.pdf"):
        (root / litter).write_text("x")
    (root / "notes.txt").write_text("hello")

    found = list(find_files([root]))
    files = sorted(str(f.path.relative_to(root)) for f in found if isinstance(f, FoundFile))
    problems = {str(p.path.relative_to(root)): p.message for p in found if isinstance(p, WalkProblem)}
    assert files == ["a/b/report.pdf", "notes.txt"]  # the loop was not followed twice, the pipe was not opened
    assert problems == {"a/dangling.pdf": "is a broken symbolic link"}


def test_include_exclude_and_not_recursive(tmp_path: Path) -> None:
    for name in ("top.pdf", "top.csv", "archive/old.pdf", "mail/x.eml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    names = lambda **kw: sorted(f.path.name for f in find_files([tmp_path], **kw))  # noqa: E731
    assert names(include=["*.pdf"]) == ["old.pdf", "top.pdf"]
    assert names(exclude=["archive/*"]) == ["top.csv", "top.pdf", "x.eml"]
    assert names(recursive=False) == ["top.csv", "top.pdf"]
    missing = list(find_files([tmp_path / "nope"]))
    assert missing == [WalkProblem(tmp_path / "nope", "no such file or folder")]
