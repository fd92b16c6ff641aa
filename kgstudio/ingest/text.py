"""Plain-text files (*.txt): one passage per paragraph, with line locators.

The encoding is found from a byte-order mark, else UTF-8, else Windows-1252
(which decodes any byte, so nothing is lost); which one was used is kept in
the metadata.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

from kgstudio.domain import TextLocator
from kgstudio.ingest.reader import ReadError, ReadOptions, ReadResult, SegmentDraft, Source

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class PlainTextReader:
    name = "text"
    patterns = ("*.txt", "*.text")

    def sniff(self, head: bytes) -> bool:
        return False  # any bytes could be text: trust the file name

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        raw = source.read_bytes()
        text, encoding = _decode(raw)
        if "\x00" in text:
            raise ReadError("not a text file (it contains binary data)")
        result = ReadResult("text", metadata={"encoding": encoding})
        block: list[str] = []
        start = 1
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for number, line in enumerate(lines + [""], start=1):
            if line.strip():
                if not block:
                    start = number
                block.append(line.strip())
            elif block:
                result.segments.append(SegmentDraft(" ".join(block), TextLocator(start, number - 1)))
                block = []
        if not result.segments:
            raise ReadError("the file is empty")
        result.title = result.segments[0].text[:120]
        yield result


def _decode(raw: bytes) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace"), encoding
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"
