"""Damaged files the reader fuzzer (tests/bench/fuzz_readers.py) found, minimised and rebuilt here.

Each input is made in the test from a real file in ../shared/data (or from
extract-msg's own writer) by the one change that mattered. Before the fix each
raised a library's own exception (RecursionError, XLRDError, BadZipFile,
ValueError, OleFileError) out of the reader, which the importer could only
report as "could not be read (SomeLibraryError: ...)"; now each is a
:class:`ReadError` with a one-line reason, or a read with a recorded defect.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from kgstudio.ingest.email import MsgReader
from kgstudio.ingest.excel import SpreadsheetReader
from kgstudio.ingest.reader import ReadError, ReadOptions, ReadResult, Source

OLE_SECTOR = 512
DIR_ENTRY = 128


def read_sheet(name: str, data: bytes) -> list[ReadResult]:
    return list(SpreadsheetReader().read(Source(name, data=data), ReadOptions()))


def ole_directory_offset(data: bytes) -> int:
    """Byte offset of the first directory sector of a (512-byte sector) OLE2 file."""
    assert struct.unpack_from("<H", data, 0x1E)[0] == 9, "512-byte sectors expected"
    first = struct.unpack_from("<I", data, 0x30)[0]
    return (first + 1) * OLE_SECTOR


def test_xls_whose_ole_directory_loops_is_refused_in_one_line(shared_data: Path) -> None:
    data = bytearray((shared_data / "excel/xls/testEXCEL.xls").read_bytes())
    directory = ole_directory_offset(data)
    # Entry 0 is the root; its child's left sibling pointing back at itself makes the tree a loop.
    child = struct.unpack_from("<I", data, directory + 0x4C)[0]
    struct.pack_into("<I", data, directory + child * DIR_ENTRY + 0x44, child)

    with pytest.raises(ReadError, match="damaged: its internal directory loops back on itself"):
        read_sheet("loop.xls", bytes(data))


def test_xls_whose_sheet_has_no_bof_is_read_with_a_defect(shared_data: Path) -> None:
    data = (shared_data / "excel/xls/testEXCEL.xls").read_bytes()
    worksheet_bof = b"\x09\x08\x10\x00\x00\x06\x10\x00"  # BOF record, BIFF8, substream type "worksheet"
    assert worksheet_bof in data
    damaged = data.replace(worksheet_bof, bytes(len(worksheet_bof)), 1)

    [result] = read_sheet("nobof.xls", damaged)

    assert any("damaged sheet" in d and "Expected BOF record" in d for d in result.defects), result.defects
    assert result.metadata["sheet_names"] == [], "nothing is read past the damaged first sheet"


def test_xlsx_with_a_broken_member_header_is_a_read_error(shared_data: Path) -> None:
    data = bytearray((shared_data / "excel/dates/date.xlsx").read_bytes())
    # The central directory still lists the part, but its local header no longer starts with PK\3\4.
    local = data.find(b"PK\x03\x04", 1)
    data[local:local + 4] = b"PK\x00\x00"

    with pytest.raises(ReadError, match="the workbook is damaged: the zip archive is broken"):
        read_sheet("broken.xlsx", bytes(data))


def test_xlsx_whose_member_offset_points_before_the_file_is_a_read_error(shared_data: Path) -> None:
    data = bytearray((shared_data / "excel/dates/date.xlsx").read_bytes())
    # The central directory's first entry says its local header lies before the start of the file.
    entry = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, entry + 42, 0xFFFFFF00)

    with pytest.raises(ReadError, match="the workbook is damaged"):
        read_sheet("offset.xlsx", bytes(data))


def test_msg_whose_body_stream_claims_to_be_huge_is_a_read_error() -> None:
    pytest.importorskip("extract_msg")
    from tests.unit.ingest.test_email import build_msg

    data = bytearray(build_msg())
    directory = ole_directory_offset(data)
    name = "__substg1.0_1000001F".encode("utf-16-le")  # the plain-text body
    for offset in range(directory, len(data) - DIR_ENTRY, DIR_ENTRY):
        if data[offset:offset + len(name)] == name:
            struct.pack_into("<I", data, offset + 0x78, 0x7FFF0000)  # stream size
            break
    else:
        pytest.fail("the body stream's directory entry was not found")

    with pytest.raises(ReadError, match="the Outlook item could not be read: malformed OLE document"):
        list(MsgReader().read(Source("huge.msg", data=bytes(data)), ReadOptions()))


def test_address_header_of_thousands_of_nested_groups_keeps_its_addresses() -> None:
    from kgstudio.ingest.email import EmailReader

    # The fuzzer repeated a chunk of an mbox's To: header; "name:" opens a group, and the standard
    # parser recurses once per group, so this raised RecursionError out of the reader.
    raw = ("From: a@example.com\nTo: " + "team:" * 5000 + "b@example.com, Carol <c@example.org>\n"
           "Subject: groups\n\nbody\n").encode()

    [result] = EmailReader().read(Source("groups.eml", data=raw), ReadOptions())

    assert result.title == "groups"
    recipients = {f.object.key for f in result.facts if f.predicate == "toRecipient"}
    assert recipients == {"mailto:b@example.com", "mailto:c@example.org"}
    assert any("To header too deeply nested" in d for d in result.defects), result.defects


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml", "docProps/core.xml"])
def test_xlsx_part_declaring_an_unknown_encoding_is_damage_not_a_crash(shared_data: Path, part: str) -> None:
    import io
    import re
    import zipfile

    with zipfile.ZipFile(shared_data / "excel/dates/date.xlsx") as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            if name == part:  # the fuzzer's mutation: encoding="yes" in the XML declaration
                data = re.sub(rb'encoding="[^"]*"', b'encoding="yes"', data, count=1)
            archive.writestr(name, data)

    try:
        [result] = read_sheet("encoding.xlsx", buffer.getvalue())
    except ReadError as error:
        assert "damaged" in str(error) and "unknown encoding: yes" in str(error)
    else:  # a sheet part: the workbook is read, the sheet's damage recorded
        assert any("unknown encoding: yes" in d for d in result.defects + [
            d for sheet in result.metadata["sheets"] for d in sheet.get("defects", [])]), result


def test_xls_blank_cell_with_an_impossible_format_index_is_a_sheet_defect(shared_data: Path) -> None:
    data = bytearray((shared_data / "excel/xls/testEXCEL.xls").read_bytes())
    blank = data.find(b"\x01\x02\x06\x00")  # a BLANK record: row, column, format (XF) index
    struct.pack_into("<H", data, blank + 8, 0xFFFF)  # xlrd keeps XF indexes in signed shorts

    [result] = read_sheet("blank.xls", bytes(data))

    assert any("damaged sheet" in d and "OverflowError" in d for d in result.defects), result.defects


def test_xls_whose_workbook_stream_is_empty_is_refused_before_xlrd_reads_it(shared_data: Path) -> None:
    # Found with a looping short-sector chain: xlrd followed it collecting empty pieces until the
    # memory limit (13 KB file, 1.5 GB, 20 s). Size 0 sends xlrd down that same chain walk.
    data = bytearray((shared_data / "excel/xls/testEXCEL.xls").read_bytes())
    directory = ole_directory_offset(data)
    name = "Workbook".encode("utf-16-le")
    entry = next(o for o in range(directory, len(data), DIR_ENTRY) if data[o:o + len(name)] == name)
    struct.pack_into("<I", data, entry + 0x78, 0)

    with pytest.raises(ReadError, match="damaged: its Workbook stream is empty"):
        read_sheet("empty-stream.xls", bytes(data))


def test_xls_whose_short_sector_chain_loops_is_refused_before_xlrd_follows_it(shared_data: Path) -> None:
    data = bytearray((shared_data / "excel/xls/testEXCEL.xls").read_bytes())
    directory = ole_directory_offset(data)
    name = "Workbook".encode("utf-16-le")
    entry = next(o for o in range(directory, len(data), DIR_ENTRY) if data[o:o + len(name)] == name)
    struct.pack_into("<I", data, entry + 0x78, 100)  # small: kept in the short-sector area
    first = struct.unpack_from("<I", data, entry + 0x74)[0] % 128
    struct.pack_into("<I", data, entry + 0x74, first)
    ssat = (struct.unpack_from("<I", data, 0x3C)[0] + 1) * OLE_SECTOR  # first short-sector table sector
    struct.pack_into("<I", data, ssat + 4 * first, first)  # the chain's first sector is followed by itself

    with pytest.raises(ReadError, match="sector chain loops"):
        read_sheet("loop-chain.xls", bytes(data))


def test_eml_with_a_date_past_any_calendar_and_a_nul_in_its_charset_is_read_with_defects() -> None:
    from kgstudio.ingest.email import EmailReader

    raw = (b"From: a@example.com\nTo: b@example.com\nSubject: odd\nDate: Mon, 1 Jan 99999999999 10:00:00 +0000\n"
           b"Content-Type: text/plain; charset=\"utf\x00-8\"\n\nhello\n")

    [result] = EmailReader().read(Source("odd.eml", data=raw), ReadOptions())  # OverflowError, ValueError before

    assert result.title == "odd"
    assert any("unreadable Date header" in d for d in result.defects), result.defects


def test_xlsx_needing_a_zip_version_python_lacks_is_a_read_error(shared_data: Path) -> None:
    data = bytearray((shared_data / "excel/dates/date.xlsx").read_bytes())
    entry = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, entry + 6, 186)  # "version needed to extract": 18.6

    with pytest.raises(ReadError, match="not a readable zip archive"):
        read_sheet("version.xlsx", bytes(data))


def test_rdf_star_quoted_triple_is_one_clear_error_naming_the_file(tmp_path: Path) -> None:
    from kgstudio.edit.rdf_import import import_rdf
    from kgstudio.errors import KgstudioError
    from kgstudio.store import Project

    source = tmp_path / "star.ttl"
    source.write_text("<http://ex.org/a> <http://ex.org/says> << <http://ex.org/b> <http://ex.org/p> "
                      "<http://ex.org/c> >> .\n", encoding="utf-8")
    with Project.create(tmp_path / "p.kgs") as project:
        with pytest.raises(KgstudioError, match=r"star\.ttl: quoted triples \(RDF-star\) are not supported"):
            import_rdf(project, source)  # AttributeError ('Triple' has no 'value') before
