"""Checks on an OOXML workbook's zip container, made before any part is parsed.

* Zip bombs: a part that declares more than ``member_size`` bytes at a
  compression ratio above ``ratio`` is refused from the central directory
  alone, before anything is inflated. Declared sizes can be trusted for this
  because Python's zipfile never inflates a member past its declared size
  (and fails its CRC check if the data was longer).
* Entity expansion ("billion laughs"): OOXML parts never carry a DTD, so any
  ``<!DOCTYPE`` (or other ``<!`` declaration) before an XML part's root element
  refuses the whole file. This does not depend on defusedxml being installed;
  when it is, openpyxl parses with it as a second line of defence.
"""

from __future__ import annotations

import codecs
import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from kgstudio.ingest.reader import ReadError


@dataclass(frozen=True)
class ZipLimits:
    """How much a workbook may expand. A part over ``member_size`` must not be compressed over ``ratio``:1."""

    member_size: int = 100 * 2**20
    ratio: float = 100.0
    total_size: int = 4 * 2**30
    members: int = 20_000
    xml_prolog: int = 64 * 2**10  # bytes of an XML part read to find its root element


def check_zip_limits(infos: Sequence[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Raise ReadError for a zip bomb, judging by the sizes the archive declares."""
    if len(infos) > limits.members:
        raise ReadError(f"refused: the workbook has {len(infos)} parts (at most {limits.members} are read)")
    total = 0
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.member_size and ratio > limits.ratio:
            raise ReadError(
                f"refused: part {info.filename!r} would expand {ratio:.0f}-fold to "
                f"{info.file_size / 2**20:.0f} MiB (a zip bomb?)"
            )
        total += info.file_size
    if total > limits.total_size:
        raise ReadError(f"refused: the workbook would expand to {total / 2**30:.1f} GiB")


def check_xml_prologs(archive: zipfile.ZipFile, limits: ZipLimits) -> None:
    """Raise ReadError when an XML part declares a DTD (the only place entities can be declared)."""
    for info in archive.infolist():
        if info.is_dir() or not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        with archive.open(info) as stream:
            head = stream.read(limits.xml_prolog)
        problem = prolog_problem(head)
        if problem:
            raise ReadError(f"refused: XML part {info.filename!r} {problem} (possible entity expansion attack)")


def prolog_problem(head: bytes) -> str | None:
    """Why the prolog of an XML document (its first bytes) is unsafe, or None when it is fine."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", errors="ignore")
    elif head.startswith(b"<\x00"):
        text = head.decode("utf-16-le", errors="ignore")
    elif head.startswith(b"\x00<"):
        text = head.decode("utf-16-be", errors="ignore")
    else:
        text = head.decode("utf-8", errors="ignore")
    text = text.lstrip("\ufeff")
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if text.startswith("<?", position):
            end = text.find("?>", position)
        elif text.startswith("<!--", position):
            end = text.find("-->", position)
        elif text.startswith("<!", position):
            return "has a DOCTYPE"
        else:
            return None  # the root element (or text the parser will refuse)
        if end < 0:
            return "has a prolog too long to check"
        position = end + 2


def describe_zip(names: Sequence[str]) -> str | None:
    """None for an OOXML workbook; else a ReadError message saying what the zip is."""
    if "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
        if "xl/workbook.bin" in names:
            return "binary .xlsb workbooks are not supported: save it as .xlsx"
        return None
    if "mimetype" in names:
        return "not a spreadsheet that can be read: an OpenDocument file (save it as .xlsx)"
    if any(name.startswith("word/") for name in names):
        return "not a spreadsheet: the file is a Word document"
    if any(name.startswith("ppt/") for name in names):
        return "not a spreadsheet: the file is a PowerPoint presentation"
    return "not a spreadsheet: a zip archive without an Excel workbook in it"


_GENERIC_PARTS = ("[Content_Types].xml", "_rels/", "docProps/", "customXml/")


def zip_is_workbook(head: bytes) -> bool:
    """Whether the local file names in the first bytes of a zip are an Excel workbook's.

    True at the first ``xl/`` name; False at a name no workbook starts with.
    When the names run out before that (the head ends, or sizes are in a data
    descriptor so the next header cannot be found) only OOXML-generic names
    were seen, so it may well be a workbook: True.
    """
    position = 0
    while position + 30 <= len(head) and head.startswith(b"PK\x03\x04", position):
        flags = struct.unpack_from("<H", head, position + 6)[0]
        compressed, _, name_length, extra_length = struct.unpack_from("<IIHH", head, position + 18)
        name_end = position + 30 + name_length
        if name_end > len(head):
            break
        name = head[position + 30:name_end].decode("utf-8", errors="replace")
        if name.startswith("xl/"):
            return True
        if not name.startswith(_GENERIC_PARTS):
            return False
        if flags & 0x08 or compressed == 0xFFFFFFFF:
            break
        position = name_end + extra_length + compressed
    return True
