"""An out-of-tree kgstudio reader for Markdown notes: one segment per heading or paragraph.

It imports nothing of kgstudio but ``kgstudio.api``, the stable plugin
API; see pyproject.toml for the one line that registers it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kgstudio.api import ReadError, ReadOptions, ReadResult, SegmentDraft, Source, TextLocator

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


class MarkdownReader:
    name = "markdown"
    patterns = ("*.md", "*.markdown")

    def sniff(self, head: bytes) -> bool:
        return False  # Markdown is plain text: trust the file name

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        raw = source.read_bytes()
        if b"\x00" in raw[:8192]:
            raise ReadError("not a text file (it contains binary data)")
        text = raw.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
        skipped = 0
        front = _FRONT_MATTER.match(text)
        if front:
            skipped = front.group(0).count("\n")
            text = text[front.end():]
        result = ReadResult("markdown")
        block: list[str] = []
        start = 0
        in_code = False

        def flush(end_line: int) -> None:
            if block:
                result.segments.append(SegmentDraft(" ".join(s.strip() for s in block).strip(),
                                                    TextLocator(start, end_line)))
                block.clear()

        for number, line in enumerate(text.split("\n"), start=1 + skipped):
            if line.strip().startswith("```"):
                flush(number - 1)  # a code block is a passage of its own
                in_code = not in_code
                continue
            heading = None if in_code else _HEADING.match(line)
            if heading:
                flush(number - 1)
                title = heading.group(2)
                result.segments.append(SegmentDraft(title, TextLocator(number, number), kind="heading"))
                if result.title is None and len(heading.group(1)) == 1:
                    result.title = title
            elif line.strip():
                if not block:
                    start = number
                block.append(line)
            else:
                flush(number - 1)
        flush(number)
        if not result.segments:
            raise ReadError("the file is empty")
        yield result
