"""The spreadsheet reader on real workbooks from ../shared/data/excel and on files the tests make."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kgstudio.domain import SheetLocator
from kgstudio.ingest import excel
from kgstudio.ingest.excel import SpreadsheetReader
from kgstudio.ingest.reader import FactDraft, Literal, PasswordRequired, ReadError, ReadOptions, ReadResult, Source
from kgstudio.ingest.sheet_table import find_header, to_literal
from kgstudio.plugins import load

EXCEL = Path("excel")


def read(path: Path, **options: object) -> ReadResult:
    results = list(SpreadsheetReader().read(Source.from_path(path), ReadOptions(**options)))
    assert len(results) == 1
    assert results[0].kind == "spreadsheet"
    json.dumps(results[0].metadata)  # JSON-safe
    return results[0]


def read_error(path: Path, **options: object) -> ReadError:
    with pytest.raises(ReadError) as caught:
        read(path, **options)
    assert path.name not in str(caught.value), "the importer adds the file name, the reader must not"
    return caught.value


def row_facts(result: ReadResult, sheet: str, row: int) -> dict[str, Literal]:
    facts = [f for f in result.facts if f.subject.key.startswith(f"row:{sheet}!{row}@")]
    return {f.predicate: f.object for f in facts}


def row_segment(result: ReadResult, sheet: str, row: int):
    [segment] = [s for s in result.segments if s.kind == "row" and s.locator.sheet == sheet and s.locator.row == row]
    return segment


def sheet_meta(result: ReadResult, name: str) -> dict:
    [meta] = [s for s in result.metadata["sheets"] if s["name"] == name]
    return meta


def make_xlsx(path: Path, rows: list[list[object]], title: str = "Data") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def rewrite_part(source: Path, target: Path, part: str, data: bytes) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, data if info.filename == part else old.read(info))
    return target


# --- registration ------------------------------------------------------------------------------


def test_reader_is_registered_as_a_plugin() -> None:
    reader_class = load("readers", "spreadsheet")
    reader = reader_class()
    assert reader_class is SpreadsheetReader
    assert reader.name == "spreadsheet"
    assert reader.patterns == ("*.xlsx", "*.xlsm", "*.xls", "*.csv")


# --- rows, typed values, locators -------------------------------------------------------------


def test_xlsm_rows_become_row_entities_with_typed_facts(shared_data: Path) -> None:
    path = shared_data / EXCEL / "xlsm" / "xlsx_02_sample_sales_data.xlsm"
    result = read(path)
    content_id = result.metadata["content_id"]
    meta = sheet_meta(result, "SalesData")
    assert result.metadata["format"] == "xlsm"
    assert (meta["header_row"], meta["header_range"]) == (1, "A1:D1")
    assert meta["columns"] == ["Product", "Date", "Quantity", "Revenue"]

    assert row_facts(result, "SalesData", 2) == {
        "Product": Literal("Widget A"),
        "Date": Literal("2024-01-01", "xsd:date"),
        "Quantity": Literal("5", "xsd:integer"),
        "Revenue": Literal("5000", "xsd:integer"),
    }
    segment = row_segment(result, "SalesData", 2)
    assert segment.locator == SheetLocator("SalesData", "A2:D2", 2)
    assert segment.text == "Product: Widget A; Date: 2024-01-01; Quantity: 5; Revenue: 5000"
    assert segment.table == [["Product", "Date", "Quantity", "Revenue"], ["Widget A", "2024-01-01", "5", "5000"]]

    fact = next(f for f in result.facts if f.subject.key == f"row:SalesData!2@{content_id}")
    assert fact.subject.name == "Widget A"
    assert fact.subject.class_name == "SalesData"
    assert fact.origin == "table"
    assert result.segments[fact.segment] is segment

    # every non-empty cell below the header is one fact, as openpyxl itself sees the sheet
    sheet = openpyxl.load_workbook(path, read_only=True, data_only=True)["SalesData"]
    cells = [v for row in list(sheet.iter_rows(values_only=True))[1:] for v in row if v is not None]
    assert len(result.facts) == len(cells) == 80
    assert meta["data_rows"] == 20


def test_formula_cells_give_their_cached_values_and_the_title_row_is_no_entity(shared_data: Path) -> None:
    path = shared_data / EXCEL / "formulas" / "testEXCEL.xlsx"
    formulas = openpyxl.load_workbook(path)["Feuil1"]
    assert str(formulas["C7"].value).startswith("=")  # the squares really are formulas
    result = read(path)
    meta = sheet_meta(result, "Feuil1")

    assert (meta["header_row"], meta["columns"], meta["title_rows"]) == (4, ["Number", "Square"], [1])
    heading = result.segments[0]
    assert (heading.kind, heading.text) == ("heading", "Sample Excel Worksheet - Numbers and their Squares")
    assert heading.locator == SheetLocator("Feuil1", "A1", 1)
    for row in range(6, 21):
        n = row - 5
        assert row_facts(result, "Feuil1", row) == {
            "Number": Literal(str(n), "xsd:integer"),
            "Square": Literal(str(n * n), "xsd:integer"),
        }
    assert row_segment(result, "Feuil1", 20).locator == SheetLocator("Feuil1", "B20:C20", 20)
    # the footnote in column A (no header there) is text for the LLM, not a row entity
    note = [s for s in result.segments if s.locator.row == 22]
    assert [(s.kind, s.locator.cell_range) for s in note] == [("text", "A22")]
    assert note[0].text.startswith("Written and saved in Microsoft Excel X")
    assert meta["data_rows"] == 15 and meta["note_rows"] == 1
    assert result.title == "Simple Excel document"
    assert result.metadata["properties"] == {
        "title": "Simple Excel document",
        "creator": "Keith Bennett",
        "last_modified_by": "garribas",
        "created": "2007-10-01T16:13:56Z",
        "modified": "2008-12-11T16:02:17Z",
    }
    assert result.metadata["sheet_names"] == ["Feuil1", "Feuil2", "Feuil3"]


def test_xls_reads_the_same_table_as_the_xlsx(shared_data: Path) -> None:
    xls = read(shared_data / EXCEL / "xls" / "testEXCEL.xls")
    xlsx = read(shared_data / EXCEL / "formulas" / "testEXCEL.xlsx")

    def table(result: ReadResult) -> list[tuple[str, str, Literal]]:
        return [(f.subject.key.split("@")[0], f.predicate, f.object) for f in result.facts]

    assert xls.metadata["format"] == "xls"
    assert table(xls) == table(xlsx)
    assert row_facts(xls, "Feuil1", 20) == {"Number": Literal("15", "xsd:integer"), "Square": Literal("225", "xsd:integer")}
    assert [s.locator for s in xls.segments] == [s.locator for s in xlsx.segments]
    assert sheet_meta(xls, "Feuil1")["rows"] == 22
    assert xls.metadata["content_id"] != xlsx.metadata["content_id"]


def test_1904_date_system_gives_the_same_dates(shared_data: Path) -> None:
    serials = {}
    for name in ("date.xlsx", "date_1904.xlsx"):
        with zipfile.ZipFile(shared_data / EXCEL / "dates" / name) as archive:
            serials[name] = archive.read("xl/worksheets/sheet1.xml").split(b'<c r="A1"')[1].split(b"<v>")[1][:5]
    assert serials == {"date.xlsx": b"44197", "date_1904.xlsx": b"42735"}  # 1462 days apart on disk

    for name, system in (("date.xlsx", 1900), ("date_1904.xlsx", 1904)):
        result = read(shared_data / EXCEL / "dates" / name)
        assert result.metadata["date_system"] == system
        meta = sheet_meta(result, "Sheet1")
        assert meta["header_row"] is None  # dates and numbers: no header, every row is data
        assert row_facts(result, "Sheet1", 1) == {
            "Column A": Literal("2021-01-01", "xsd:date"),
            "Column B": Literal("15", "xsd:integer"),
        }
        assert row_facts(result, "Sheet1", 2)["Column A"] == Literal("2021-01-02", "xsd:date")
        # A3 is 10.632... formatted [hh]:mm:ss: a duration, not a date
        assert row_facts(result, "Sheet1", 3)["Column A"] == Literal("P10DT15H10M10S", "xsd:duration")
        assert row_segment(result, "Sheet1", 1).locator == SheetLocator("Sheet1", "A1:B1", 1)


def test_merged_ranges_apply_their_value_to_every_cell(shared_data: Path) -> None:
    result = read(shared_data / EXCEL / "merged" / "merged_range.xlsx")
    first = sheet_meta(result, "Sheet1")
    assert set(first["merged_ranges"]) == {"H1:H2", "A1:A2", "B1:B2", "C1:D2", "C3:D3", "C4:D4", "E1:E2", "F1:F2", "G1:G2"}
    # header C1:D2 names both columns; row 2 is the lower half of the merged header, not data
    assert first["columns"] == ["A1", "B1", "C1", "C1", "E1", "F1", "G1", "H1"]
    assert (first["header_row"], first["data_rows"], first["skipped_header_copies"]) == (1, 2, 1)
    row3 = row_segment(result, "Sheet1", 3)
    assert row3.table[1] == ["A3", "B3", "C3", "C3", "E3", "F3", "G3", "H3"]  # C3:D3 fills D3
    assert row_facts(result, "Sheet1", 3)["C1"] == Literal("C3")
    assert [f.predicate for f in result.facts if f.subject.key.startswith("row:Sheet1!3@")].count("C1") == 1

    assert set(sheet_meta(result, "Sheet2")["merged_ranges"]) == {"A1:A4", "C3:D4", "F1:H4", "B1:B2", "C1:D2", "E1:E2"}
    assert row_segment(result, "Sheet2", 3).table[1] == ["A1", "B3", "C3", "C3", "E3", "F1", "F1", "F1"]
    assert row_segment(result, "Sheet2", 4).table[1] == ["A1", "B4", "C3", "C3", "E4", "F1", "F1", "F1"]


def test_multisheet_workbook_counts_rows_like_openpyxl(shared_data: Path) -> None:
    path = shared_data / EXCEL / "multisheet" / "46535.xlsx"
    result = read(path)
    workbook = openpyxl.load_workbook(path, data_only=True)
    assert result.metadata["sheet_names"] == workbook.sheetnames
    for sheet in workbook.worksheets:
        meta = sheet_meta(result, sheet.title)
        assert meta["rows"] == sheet.max_row, sheet.title
        assert meta["hidden"] == (sheet.sheet_state != "visible")

    codes = sheet_meta(result, "CodeLists")
    expected = sum(1 for row in workbook["CodeLists"].iter_rows(min_row=2, values_only=True) if any(row))
    assert (codes["header_row"], codes["columns"], codes["data_rows"]) == (1, ["Code", "Code name"], expected)
    assert row_facts(result, "CodeLists", 2) == {"Code": Literal("AAB"), "Code name": Literal("Arrabury")}
    assert sheet_meta(result, "Map")["columns"][:3] == ["Ref", "Line Item Container", "Alias"]  # "Ref  " trimmed
    assert row_facts(result, "Map", 2)["Line Item Container"] == Literal("false", "xsd:boolean")
    assert sheet_meta(result, "Others")["error_cells"] > 300  # cached #REF!/#NAME? are no facts
    assert not any(f.object.value.startswith("#") for f in result.facts if isinstance(f.object, Literal))
    assert result.metadata["properties"]["creator"] == "Business Implementation Team"
    assert result.metadata["properties"]["created"] == "2005-02-21T00:40:06Z"


def test_large_workbook_streams_in_bounded_memory(shared_data: Path) -> None:
    path = shared_data / EXCEL / "large" / "65016.xlsx"
    tracemalloc.start()
    try:
        started = time.perf_counter()
        result = read(path)
        elapsed = time.perf_counter() - started
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # what the reader holds beyond the result it returns stays small: rows are streamed
    assert peak - kept < 16 * 2**20, (peak, kept)
    assert elapsed < 60
    activity = sheet_meta(result, "26 Mar 2014 11_11_02")
    # row 1 is a group label ("Move samples" merged over Z1:AH1) above the real header
    assert (activity["header_row"], activity["title_rows"], activity["data_rows"]) == (2, [1], 9805)
    assert activity["merged_ranges"] == ["Z1:AH1"]
    assert row_facts(result, "26 Mar 2014 11_11_02", 3)["Duration [s]"] == Literal("3860.6", "xsd:decimal")
    assert row_facts(result, "26 Mar 2014 11_11_02", 3)["Latitude"] == Literal("48.330288", "xsd:decimal")
    assert row_facts(result, "26 Mar 2014 11_11_02", 3)["Calories"] == Literal("845", "xsd:integer")
    splits = sheet_meta(result, "Splits")  # six legs side by side, each with the same column names
    assert (splits["header_row"], splits["data_rows"]) == (2, 440)
    assert row_facts(result, "Splits", 3)["Altitude"] == Literal("265", "xsd:integer")  # 265.0 stored


def test_big_csv_is_read_with_typed_values(shared_data: Path) -> None:
    path = shared_data / EXCEL / "csv" / "nics-checks-archive.csv"
    result = read(path)
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    meta = sheet_meta(result, "nics-checks-archive")
    assert result.metadata["encoding"] == "utf-8" and result.metadata["delimiter"] == ","
    assert (meta["header_row"], meta["columns"]) == (1, records[0])
    assert meta["rows"] == len(records) and meta["data_rows"] == len(records) - 1
    assert len(result.facts) == sum(1 for record in records[1:] for value in record if value.strip())
    facts = row_facts(result, "nics-checks-archive", 2)
    assert facts["month"] == Literal("2018-12")
    assert facts["state"] == Literal("Alabama")
    assert facts["permit"] == Literal("26029", "xsd:integer")
    assert facts["totals"] == Literal("54383", "xsd:integer")
    assert row_segment(result, "nics-checks-archive", 2).locator == SheetLocator("nics-checks-archive", "A2:AA2", 2)


# --- CSV encodings and dialects ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding", "delimiter"),
    [
        ("Nom;Ville;Prix\nÉlodie;Besançon;3,50 €\n".encode("cp1252"), "cp1252", ";"),
        ("Name\tCity\tPrice\nZoë\tKöln\t3.50\n".encode("utf-8-sig"), "utf-8-sig", "\t"),
        ("Name,City,Price\nZoë,Köln,3.50\n".encode("utf-8"), "utf-8", ","),
        (b"Name|Code|Price\nA\x81b|x|1\n", "latin-1", "|"),  # 0x81 is undefined in cp1252
    ],
)
def test_csv_encoding_and_delimiter_are_detected(tmp_path: Path, data: bytes, encoding: str, delimiter: str) -> None:
    path = tmp_path / "prices.csv"
    path.write_bytes(data)
    result = read(path)
    assert (result.metadata["encoding"], result.metadata["delimiter"]) == (encoding, delimiter)
    expected = data.decode(encoding).splitlines()[1].split(delimiter)
    assert row_segment(result, "prices", 2).table[1][:2] == expected[:2]


def test_csv_values_are_typed_conservatively(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "id,zip,born,seen,score,active,note\n"
        '1,01234,1990-02-28,2024-03-01T10:30:00,3.10,true,"a, quoted\nline"\n'
        "2,99,2023-02-30,yesterday,-0.5,FALSE,#N/A\n",
        encoding="utf-8",
    )
    result = read(path)
    assert row_facts(result, "people", 2) == {
        "id": Literal("1", "xsd:integer"),
        "zip": Literal("01234"),  # leading zero: a code, not a number
        "born": Literal("1990-02-28", "xsd:date"),
        "seen": Literal("2024-03-01T10:30:00", "xsd:dateTime"),
        "score": Literal("3.1", "xsd:decimal"),
        "active": Literal("true", "xsd:boolean"),
        "note": Literal("a, quoted\nline"),
    }
    third = row_facts(result, "people", 3)  # record 3 although the file has a quoted newline
    assert third["born"] == Literal("2023-02-30")  # no such day: stays text
    assert third["score"] == Literal("-0.5", "xsd:decimal")
    assert third["active"] == Literal("false", "xsd:boolean")
    assert "note" not in third and sheet_meta(result, "people")["error_cells"] == 1


def test_content_id_changes_with_the_bytes_and_not_with_how_they_arrive(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("Name,Age\nAda,36\n", encoding="utf-8")
    key = read(path).facts[0].subject.key
    from_bytes = next(SpreadsheetReader().read(Source("t.csv", data=path.read_bytes()), ReadOptions()))
    assert from_bytes.facts[0].subject.key == key == f"row:t!2@{read(path).metadata['content_id']}"
    path.write_text("Name,Age\nAda,37\n", encoding="utf-8")
    assert read(path).facts[0].subject.key != key


# --- values made by openpyxl -------------------------------------------------------------------


def test_literal_types_long_text_and_errors(tmp_path: Path) -> None:
    story = "Once upon a time " * 20
    path = make_xlsx(tmp_path / "kinds.xlsx", [
        ["Name", "When", "Clock", "Ratio", "Big", "Done", "Story", "Broken"],
        ["Ada", dt.datetime(2024, 5, 6, 7, 8, 9), dt.time(10, 30), 0.1 + 0.2, 1e20, True, story, "#N/A"],
    ])
    result = read(path)
    assert row_facts(result, "Data", 2) == {
        "Name": Literal("Ada"),
        "When": Literal("2024-05-06T07:08:09", "xsd:dateTime"),
        "Clock": Literal("10:30:00", "xsd:time"),
        "Ratio": Literal("0.3", "xsd:decimal"),  # no float noise
        "Big": Literal("100000000000000000000", "xsd:integer"),
        "Done": Literal("true", "xsd:boolean"),
        "Story": Literal(story.strip()),
    }
    long_text = [s for s in result.segments if s.kind == "text"]
    assert [(s.text, s.locator) for s in long_text] == [(story.strip(), SheetLocator("Data", "G2", 2))]
    assert sheet_meta(result, "Data")["error_cells"] == 1


def test_to_literal_numbers() -> None:
    assert to_literal(3.0) == Literal("3", "xsd:integer")
    assert to_literal(-1.25e-7) == Literal("-0.000000125", "xsd:decimal")
    assert to_literal(2.9999999999999996) == Literal("3", "xsd:integer")
    assert to_literal(False) == Literal("false", "xsd:boolean")
    assert to_literal(dt.date(2020, 2, 29)) == Literal("2020-02-29", "xsd:date")


def test_header_heuristic() -> None:
    title_then_table = [(1, ["Quarterly report"]), (3, ["Region", "Sales", "Year"]), (4, ["North", 10, 2024]), (5, ["South", 12, 2024])]
    assert find_header(title_then_table) == 1
    numbers = [(1, [1, 2, 3]), (2, [4, 5, 6])]
    assert find_header(numbers) is None
    key_value_form = [(1, ["Status", "Success"]), (2, ["Version"]), (3, ["Owner"])]
    assert find_header(key_value_form) is None
    single_line = [(1, ["only", "one", "row"])]
    assert find_header(single_line) is None
    all_text_table = [(1, ["Code", "Name"]), (2, ["AAB", "Arrabury"]), (3, ["AAE", "Annaba"])]
    assert find_header(all_text_table) == 0


# --- refusals ----------------------------------------------------------------------------------


def test_protected_workbook_needs_msoffcrypto_and_a_password(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = shared_data / EXCEL / "protected" / "testEXCEL_protected_passtika.xlsx"
    monkeypatch.setitem(sys.modules, "msoffcrypto", None)  # as if msoffcrypto-tool were not installed
    error = read_error(path, password="tika")
    assert not isinstance(error, PasswordRequired)  # a password would not help
    assert str(error).startswith("password-protected workbook")
    assert "msoffcrypto-tool" in str(error)


def test_protected_workbook_opens_with_its_password(shared_data: Path) -> None:
    pytest.importorskip("msoffcrypto")
    path = shared_data / EXCEL / "protected" / "testEXCEL_protected_passtika.xlsx"
    assert isinstance(read_error(path), PasswordRequired)
    wrong = read_error(path, password="not-tika")
    assert isinstance(wrong, PasswordRequired) and "wrong" in str(wrong)
    result = read(path, password="tika")
    assert result.metadata["encrypted"] is True
    assert row_facts(result, "Sheet1", 1) == {"Column A": Literal("This is an Encrypted Excel spreadsheet.")}


def test_corrupt_files_give_clear_errors(shared_data: Path) -> None:
    assert "damaged: invalid XML" in str(read_error(shared_data / EXCEL / "corrupt" / "invalid-xml.xlsx"))
    assert str(read_error(shared_data / EXCEL / "corrupt" / "too_small.xls")).startswith("not a spreadsheet")


def test_pdf_renamed_to_xlsx_is_not_a_spreadsheet(shared_data: Path, tmp_path: Path) -> None:
    fake = tmp_path / "report.xlsx"
    shutil.copy(shared_data / "pdf" / "text" / "seasonal.pdf", fake)
    assert str(read_error(fake)) == "not a spreadsheet: the file is a PDF document"


def test_other_zip_files_are_not_spreadsheets(tmp_path: Path) -> None:
    docx = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    assert str(read_error(docx)) == "not a spreadsheet: the file is a Word document"
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    assert str(read_error(empty)) == "the file is empty"


def test_zip_bomb_is_refused_before_decompressing(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(shared_data / EXCEL / "xlsm" / "xlsx_02_sample_sales_data.xlsm") as good, \
            zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in good.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                archive.writestr(info.filename, good.read(info))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b" " * 2**20
            for _ in range(150):  # 150 MiB of spaces squeeze to well under 1 MiB
                member.write(block)
    [info] = [i for i in zipfile.ZipFile(bomb).infolist() if i.filename == "xl/worksheets/sheet1.xml"]
    assert info.file_size == 150 * 2**20 and info.file_size / info.compress_size > 100
    assert bomb.stat().st_size < 2**20

    inflated: list[str] = []
    original_read = zipfile.ZipExtFile.read

    def spy(self: zipfile.ZipExtFile, *args: object) -> bytes:
        inflated.append(self.name)
        return original_read(self, *args)

    monkeypatch.setattr(zipfile.ZipExtFile, "read", spy)
    error = read_error(bomb)
    assert "zip bomb" in str(error) and "xl/worksheets/sheet1.xml" in str(error)
    assert inflated == []  # refused from the central directory alone


def billion_laughs(root: str) -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{"".join(f"&lol{i - 1};" for _ in range(10))}">' for i in range(1, 10)
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<!DOCTYPE lolz [{"".join(entities)}]>\n{root}'
    ).encode()


def test_xml_entity_expansion_is_refused(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / EXCEL / "xlsm" / "xlsx_02_sample_sales_data.xlsm"
    sst = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
           "<si><t>&lol9;</t></si></sst>")
    bomb = rewrite_part(source, tmp_path / "lol.xlsx", "xl/sharedStrings.xml", billion_laughs(sst))
    started = time.perf_counter()
    error = read_error(bomb)
    assert "DOCTYPE" in str(error) and "xl/sharedStrings.xml" in str(error)
    assert time.perf_counter() - started < 5


def test_defusedxml_is_a_second_line_of_defence(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("defusedxml")
    source = shared_data / EXCEL / "xlsm" / "xlsx_02_sample_sales_data.xlsm"
    sst = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
           "<si><t>&lol9;</t></si></sst>")
    bomb = rewrite_part(source, tmp_path / "lol.xlsx", "xl/sharedStrings.xml", billion_laughs(sst))
    monkeypatch.setattr(excel, "check_xml_prologs", lambda archive, limits: None)
    assert "entit" in str(read_error(bomb))


# --- sniffing ----------------------------------------------------------------------------------


def ole_head(*names: str) -> bytes:
    header = bytearray(512)
    header[:8] = excel.OLE_MAGIC
    header[0x1E:0x20] = (9).to_bytes(2, "little")  # 512-byte sectors
    header[0x30:0x34] = (0).to_bytes(4, "little")  # directory in sector 0, right after the header
    directory = bytearray(512)
    for index, name in enumerate(names[:4]):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        directory[index * 128:index * 128 + len(encoded)] = encoded
        directory[index * 128 + 64:index * 128 + 66] = len(encoded).to_bytes(2, "little")
    return bytes(header + directory)


def test_sniff(shared_data: Path, tmp_path: Path) -> None:
    reader = SpreadsheetReader()
    for name in ("xlsm/xlsx_02_sample_sales_data.xlsm", "multisheet/46535.xlsx", "xls/testEXCEL.xls"):
        assert reader.sniff(Source.from_path(shared_data / EXCEL / name).head()), name
    assert not reader.sniff(Source.from_path(shared_data / EXCEL / "csv" / "nics-checks-archive.csv").head())
    assert not reader.sniff((shared_data / "pdf" / "text" / "seasonal.pdf").read_bytes()[:8192])
    # an encrypted package may be any Office format: left to the extension
    assert not reader.sniff(Source.from_path(shared_data / EXCEL / "protected" / "testEXCEL_protected_passtika.xlsx").head())
    assert not reader.sniff(ole_head("Root Entry", "__substg1.0_0037001F", "__properties_version1.0"))  # .msg
    assert reader.sniff(ole_head("Root Entry", "Workbook"))

    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    assert not reader.sniff(docx.getvalue())
    photos = io.BytesIO()
    with zipfile.ZipFile(photos, "w") as archive:
        archive.writestr("IMG_0001.jpg", b"\xff\xd8")
    assert not reader.sniff(photos.getvalue())
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("media/IMG_0001.jpg", b"\xff\xd8")
    assert not reader.sniff(package.getvalue())  # walked past the generic part to a non-workbook one
    streamed = bytearray(package.getvalue())
    streamed[6] |= 0x08  # sizes in a data descriptor (a streamed zip): the walk cannot go on, so maybe
    assert reader.sniff(bytes(streamed))


def test_facts_point_at_row_segments_in_every_shared_workbook(shared_data: Path) -> None:
    for path in sorted((shared_data / EXCEL).glob("*/*")):
        if path.parent.name in ("corrupt", "protected"):
            continue
        result = read(path)
        for fact in result.facts:
            assert isinstance(fact, FactDraft) and fact.origin == "table"
            segment = result.segments[fact.segment]
            assert segment.kind == "row" and segment.locator.row == int(fact.subject.key.split("!")[-1].split("@")[0])
            assert fact.predicate in segment.text


def test_a_sheet_damaged_half_way_keeps_its_first_rows(tmp_path: Path) -> None:
    good = make_xlsx(tmp_path / "good.xlsx", [["Name", "Age"], ["Ada", 36], ["Bob", 41]])
    broken_sheet = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<dimension ref="A1:B3"/><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="B1" t="inlineStr"><is><t>Age</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>Ada</t></is></c><c r="B2"><v>36</v></c></row>'
        b'<row r="3"><c r="A3" t="inlineStr"><is><t>Bob</t></is></c><c r="B3"><v>41</v></c></row>'
        b'<row r="4"><c r="A4"'  # cut off
    )
    broken = rewrite_part(good, tmp_path / "broken.xlsx", "xl/worksheets/sheet1.xml", broken_sheet)
    result = read(broken)
    assert row_facts(result, "Data", 2) == {"Name": Literal("Ada"), "Age": Literal("36", "xsd:integer")}
    assert len(result.defects) == 1
    assert result.defects[0].startswith("sheet 'Data': damaged, reading stopped: invalid XML")


def test_a_malformed_csv_record_ends_the_read_with_a_defect(tmp_path: Path) -> None:
    path = tmp_path / "huge-field.csv"
    path.write_text("Name,Notes\nAda,short\nBob," + "x" * (csv.field_size_limit() + 10) + "\n", encoding="utf-8")
    result = read(path)
    assert row_facts(result, "huge-field", 2) == {"Name": Literal("Ada"), "Notes": Literal("short")}
    assert [d.split(":")[0] for d in result.defects] == ["sheet 'huge-field'"]
    assert "stopped at record 3" in result.defects[0]


def test_binary_data_named_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert str(read_error(path)) == "not a spreadsheet: the .csv file holds binary data, not text"


def test_xls_merged_cells_are_filled() -> None:
    """xlrd's merged_cells (0-based, upper bounds exclusive) fill the same cells as in .xlsx."""
    import xlrd

    from kgstudio.ingest.sheet_sources import xls_sheets

    class Cell:
        def __init__(self, value: object) -> None:
            self.ctype = xlrd.XL_CELL_TEXT if isinstance(value, str) else xlrd.XL_CELL_EMPTY
            self.value = value if value is not None else ""

    class Sheet:
        name = "Merged"
        visibility = 0
        merged_cells = [(0, 2, 0, 1), (2, 3, 1, 3)]  # A1:A2 and B3:C3
        grid = [["Team", "Lead", "Goal"], [None, "Ada", "Ship"], ["Core", "Bob", None]]
        nrows = len(grid)

        def row(self, index: int) -> list[Cell]:
            return [Cell(value) for value in self.grid[index]]

    class Book:
        nsheets = 1
        datemode = 0
        unloaded: list[int] = []

        def sheet_by_index(self, index: int) -> Sheet:
            return Sheet()

        def unload_sheet(self, index: int) -> None:
            self.unloaded.append(index)

    book = Book()
    [sheet] = list(xls_sheets(book))
    assert sheet.info["merged_ranges"] == ["A1:A2", "B3:C3"]
    assert [list(values) for _, values in sheet.rows] == [
        ["Team", "Lead", "Goal"], ["Team", "Ada", "Ship"], ["Core", "Bob", "Bob"],
    ]
    assert book.unloaded == [0]


def test_a_sheet_too_big_for_memory_is_cut_with_a_clear_defect(tmp_path, monkeypatch) -> None:
    import kgstudio.ingest.sheet_table as sheet_table
    from kgstudio.ingest.excel import SpreadsheetReader
    from kgstudio.ingest.reader import ReadOptions, Source

    monkeypatch.setattr(sheet_table, "MAX_FACTS_PER_FILE", 30)
    path = tmp_path / "big.csv"
    path.write_text("name,city,year\n" + "".join(f"Person {i},Town {i},{1900 + i}\n" for i in range(100)))
    (result,) = SpreadsheetReader().read(Source.from_path(path), ReadOptions())
    (defect,) = [d for d in result.defects if "left out" in d]
    read_rows = len(result.facts) // 3
    assert 10 <= read_rows < 100  # the header search window is always read, then the cap holds
    assert f"only the rows up to {read_rows + 1} were imported; {100 - read_rows} more rows were left out" in defect
    assert "split the file" in defect
