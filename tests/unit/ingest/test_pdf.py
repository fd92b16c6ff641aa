"""The PDF reader on real files: reading order, tables, metadata, OCR, passwords, damage, attachments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pymupdf
import pytest

from kgstudio import plugins
from kgstudio.domain import PdfLocator
from kgstudio.ingest import pdf as pdf_module
from kgstudio.ingest.pdf import PdfReader, find_tessdata, pdf_date
from kgstudio.ingest.pdf_layout import Line, block_text, reading_order
from kgstudio.ingest.reader import PasswordRequired, ReadError, ReadOptions, ReadResult, Source


def read(path: Path, **options) -> ReadResult:
    results = list(PdfReader().read(Source.from_path(path), ReadOptions(**options)))
    assert len(results) == 1
    return results[0]


def index_of(result: ReadResult, fragment: str, page: int | None = None) -> int:
    """The position of the one segment holding ``fragment``."""
    hits = [i for i, s in enumerate(result.segments)
            if fragment in s.text and (page is None or s.locator.page == page)]
    assert len(hits) == 1, (fragment, [result.segments[i].text[:80] for i in hits])
    return hits[0]


def text_of(result: ReadResult) -> str:
    return "\n\n".join(s.text for s in result.segments)


@pytest.fixture
def pdf_dir(shared_data: Path) -> Path:
    return shared_data / "pdf"


# --- the reader as a plugin ---------------------------------------------------------------------------


def test_the_pdf_reader_is_registered_as_a_plugin() -> None:
    reader = plugins.load("readers", "pdf")()
    assert reader.name == "pdf" and reader.patterns == ("*.pdf",)


def test_sniff_finds_the_pdf_header_even_after_some_junk() -> None:
    reader = PdfReader()
    assert reader.sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    assert reader.sniff(b"\x00" * 300 + b"%PDF-1.4\n")
    assert not reader.sniff(b"PK\x03\x04 a zip file")
    assert not reader.sniff(b"x" * 2000 + b"%PDF-1.4")


# --- reading order ------------------------------------------------------------------------------------


def test_two_columns_are_read_column_by_column(pdf_dir: Path) -> None:
    result = read(pdf_dir / "text" / "multicolumn.pdf")
    title = index_of(result, "Two-Column Document with Lorem Ipsum")
    abstract = index_of(result, "This is a sample document with two columns")
    left_last = index_of(result, "Nulla malesuada porttitor diam", page=1)
    right_first = index_of(result, "pellentesque ante. Phasellus adipiscing semper elit")
    right_last = index_of(result, "Fusce mauris. Vestibulum luctus nibh at lectus", page=1)
    assert title < abstract < left_last < right_first < right_last
    assert result.segments[title].kind == "heading"
    assert result.segments[index_of(result, "Abstract", page=1)].kind == "heading"
    # one paragraph per segment: the left column's last paragraph does not run into the right column
    assert "pellentesque" not in result.segments[left_last].text
    # page 2 continues the left column first, then the right one
    assert index_of(result, "lacus vel est. Curabitur", page=2) < index_of(
        result, "Morbi luctus, wisi viverra", page=2) < index_of(result, "luctus et ultrices posuere cubilia", page=2)


def test_hyphenation_ligatures_and_line_breaks_are_undone(pdf_dir: Path) -> None:
    result = read(pdf_dir / "text" / "multicolumn.pdf")
    text = text_of(result)
    assert "consectetuer adipiscing elit" in text  # "adip-\niscing" in the PDF
    assert "with two columns filled with Lorem Ipsum text." in text  # the "ﬁ" ligature and a line break
    assert "ﬁ" not in text and "-\n" not in text


def test_three_columns_of_the_federal_register_in_order(pdf_dir: Path) -> None:
    result = read(pdf_dir / "text" / "federal-register-2020-17221.pdf")
    order = [
        index_of(result, "SUMMARY: The FAA proposes to supersede", page=1),
        index_of(result, "ADDRESSES: You may send comments", page=1),
        index_of(result, "Federal eRulemaking Portal: Go to", page=1),  # column 2, top
        index_of(result, "The FAA invites you to participate", page=1),  # column 2, bottom
        index_of(result, "proposal, explain the reason for any", page=1),  # column 3, top
        index_of(result, "On October 29, 2018, a Boeing Model", page=1),  # column 3, bottom
    ]
    assert order == sorted(order)
    # the rotated margin note comes after the text, not in the middle of a column
    margin = index_of(result, "jbell on DSKJLSW7X2PROD", page=1)
    assert margin > order[-1]
    # page 2: each column's text before the next column (footnotes included)
    page2 = [
        index_of(result, "Hatta International Airport in Jakarta", page=2),
        index_of(result, "altitude disagree alert,5 and may affect", page=2),
        index_of(result, "and the Ethiopian Civil Aviation", page=2),
        index_of(result, "In addition to these four design", page=2),
    ]
    assert page2 == sorted(page2)
    # a caption centred over a full-width table comes after the columns above it and before the table
    costs = index_of(result, "ESTIMATED COSTS", page=5)
    assert index_of(result, "The FAA estimates that this proposed AD affects", page=5) < costs
    assert result.segments[costs + 1].kind == "table"


def test_reading_order_keeps_columns_whose_paragraph_gaps_line_up() -> None:
    @dataclass
    class Box:
        name: str
        bbox: tuple[float, float, float, float]

    boxes = [
        Box("title", (50, 40, 550, 60)),
        Box("left 1", (50, 80, 290, 200)), Box("right 1", (310, 80, 550, 200)),
        # a gap from 200 to 210 in both columns at once
        Box("left 2", (50, 210, 290, 400)), Box("right 2", (310, 210, 550, 400)),
        Box("footer", (50, 700, 550, 710)),
    ]
    order = [b.name for b in reading_order(boxes[::-1], line_height=10)]
    assert order == ["title", "left 1", "left 2", "right 1", "right 2", "footer"]


def test_block_text_joins_lines_and_undoes_hyphens() -> None:
    def line(y: float, text: str, x0: float = 0, x1: float = 200) -> Line:
        return Line((x0, y, x1, y + 10), text, 10, False)

    assert block_text([line(0, "inter-"), line(12, "national")]) == "international"
    assert block_text([line(0, "Boeing 737-"), line(12, "MAX")]) == "Boeing 737- MAX"
    assert block_text([line(0, "soft\u00ad"), line(12, "hyphen")]) == "softhyphen"
    # cells of a table without rules stay apart, one row per line
    assert block_text([line(0, "Austria", 0, 40), line(0, "8.9", 100, 120),
                       line(12, "Belgium", 0, 40), line(12, "11.5", 100, 120)]) == "Austria | 8.9\nBelgium | 11.5"


def test_locators_give_page_box_and_the_span_in_the_page_text(pdf_dir: Path) -> None:
    result = read(pdf_dir / "text" / "federal-register-2020-17221.pdf")
    pages: dict[int, list] = {}
    for segment in result.segments:
        assert isinstance(segment.locator, PdfLocator)
        pages.setdefault(segment.locator.page, []).append(segment)
    assert sorted(pages) == list(range(1, 16))
    for segments in pages.values():
        page_text = "\n\n".join(s.text for s in segments)
        for s in segments:
            x0, y0, x1, y1 = s.locator.bbox
            assert 0 <= x0 <= x1 <= 612 and 0 <= y0 <= y1 <= 792
            assert page_text[s.locator.char_start:s.locator.char_end] == s.text


# --- tables -------------------------------------------------------------------------------------------


def test_a_ruled_table_becomes_rows_of_cells(pdf_dir: Path) -> None:
    result = read(pdf_dir / "tables" / "nics-background-checks-2015-11.pdf")
    tables = [s for s in result.segments if s.kind == "table"]
    assert len(tables) == 1
    table = tables[0]
    header, rows = table.table[0], {row[0]: row for row in table.table[1:]}
    assert header[0] == "State / Territory" and header[-1] == "Totals"
    assert header[1:4] == ["Permit", "Handgun", "Long Gun"]
    assert "Pre-Pawn Handgun" in header and "Return to Seller - Private Sale *Other" in header
    assert all(len(row) == len(header) for row in table.table)
    # the PDF shades its rows in bands of five states: each state is still a row of its own
    assert len(rows) == 56  # 55 states and territories, and the totals
    assert rows["Alabama"][:6] == ["Alabama", "18,870", "23,022", "22,650", "859", "1,178"]
    assert rows["Alabama"][-1] == "71,137"
    assert rows["Kentucky"][1] == "264,140" and rows["Kentucky"][-1] == "295,891"
    assert rows["District of Columbia"][-1] == "64"
    assert rows["Totals"][1] == "804,006" and rows["Totals"][-1] == "2,236,457"
    assert "Alabama | 18,870 | 23,022 | 22,650" in table.text
    # the table's box holds the grid, and its numbers are not repeated as loose text
    x0, y0, x1, y1 = table.locator.bbox
    assert x0 < 50 and x1 > 950 and y0 < 80 and y1 > 470
    assert not any("18,870" in s.text for s in result.segments if s.kind != "table")
    # the title above and the notes below the grid stay text
    assert result.segments[index_of(result, "NICS Firearm Background Checks")].kind == "heading"
    assert "*Refers to frames, receivers and other firearms" in text_of(result)


def test_tables_with_merged_and_rotated_cells(pdf_dir: Path) -> None:
    result = read(pdf_dir / "text" / "seasonal.pdf")
    (table,) = [s for s in result.segments if s.kind == "table"]
    assert table.locator.page == 2
    assert table.table[0] == ["", "Wall composition", "λ (w/m.k)", "Cp (J/Kg.k)", "ρ (kg/m³)", "e (m)"]
    assert table.table[1] == ["External walls", "Coating", "0.24", "1000", "1700", "0.01"]
    assert table.table[2] == ["", "Clay hollow brick", "0.915", "790", "720", "0.15"]
    caption = index_of(result, "Table 1: Thermo-physical characteristics")
    assert result.segments[caption + 1] is table


def test_a_table_row_with_a_wrapped_cell_and_dot_leaders(pdf_dir: Path) -> None:
    result = read(pdf_dir / "text" / "federal-register-2020-17221.pdf")
    tables = [s for s in result.segments if s.kind == "table"]
    assert [t.locator.page for t in tables] == [5, 6]
    assert tables[0].table == [
        ["Action", "Labor cost", "Parts cost", "Cost per product", "Cost on U.S. operators"],
        ["FCC OPS installation and verification", "1 work-hour × $85 per hour = $85", "$0", "$85", "$6,205."],
        ["AFM revisions", "1 work-hour × $85 per hour = $85", "$0", "$85", "$6,205."],
        ["MDS installation and verification, INOP marker removal.", "1 work-hour × $85 per hour = $85",
         "$0", "$85", "$6,205."],
    ]


def test_diagrams_are_not_taken_for_tables(pdf_dir: Path) -> None:
    result = read(pdf_dir / "text" / "GeoTopo-komprimiert.pdf")
    assert [s for s in result.segments if s.kind == "table"] == []


# --- metadata -----------------------------------------------------------------------------------------


def test_metadata_title_author_keywords_and_iso_dates(pdf_dir: Path) -> None:
    result = read(pdf_dir / "text" / "GeoTopo-komprimiert.pdf")
    meta = result.metadata
    assert result.title == "Geometrie und Topologie"
    assert meta["title"] == "Geometrie und Topologie"
    assert meta["author"] == "Martin Thoma"
    assert meta["keywords"] == "Geometrie, Topologie"
    assert meta["created"] == "2016-12-31T18:43:23+01:00"
    assert meta["modified"] == "2023-06-23T06:39:33+00:00"
    assert meta["page_count"] == 117
    json.dumps(meta)  # JSON-safe
    text = text_of(result)
    assert "Einführung in die" in text and "Vorwort" in text
    assert len({s.locator.page for s in result.segments}) > 100


def test_title_falls_back_to_the_first_heading(pdf_dir: Path) -> None:
    assert read(pdf_dir / "text" / "multicolumn.pdf").title == "Two-Column Document with Lorem Ipsum"
    # "Binder1.pdf" is a file name, not a title
    vicksburg = read(pdf_dir / "scanned" / "Seige_of_Vicksburg_Sample_OCR.pdf")
    assert vicksburg.metadata["title"] == "Binder1.pdf" and vicksburg.title != "Binder1.pdf"


@pytest.mark.parametrize(("raw", "iso"), [
    ("D:20200806055139-04'00'", "2020-08-06T05:51:39-04:00"),
    ("D:20151212184957Z00'00'", "2015-12-12T18:49:57+00:00"),
    ("D:20220414132421+05'24'", "2022-04-14T13:24:21+05:24"),
    ("D:20240617231354", "2024-06-17T23:13:54"),
    ("D:2019", "2019-01-01"),
    ("D:20191340", None),  # no 13th month
    ("yesterday", None),
    ("", None),
])
def test_pdf_dates_become_iso_8601(raw: str, iso: str | None) -> None:
    assert pdf_date(raw) == iso


def test_paragraphs_split_over_one_block_per_line_are_joined(pdf_dir: Path) -> None:
    result = read(pdf_dir / "cv" / "CV_Jane_Smith.pdf")
    summary = result.segments[index_of(result, "Experienced marketing specialist")]
    assert summary.text.endswith("through innovative marketing strategies.")
    assert result.segments[index_of(result, "Profile Summary")].kind == "heading"
    assert result.segments[index_of(result, "Name: Jane Smith")].text == "Name: Jane Smith"
    assert result.title == "Curriculum Vitae"


# --- text in other scripts ----------------------------------------------------------------------------


def test_arabic_comes_out_in_logical_order(pdf_dir: Path) -> None:
    result = read(pdf_dir / "text" / "habibi.pdf")
    (segment,) = result.segments
    # the source HTML is <div>حَبيبي habibi</div>: the Arabic word first, its letters in logical order
    assert segment.text.startswith("حَبيبي habibi")
    assert "يبيبَح" not in segment.text  # not the glyphs in visual (reversed) order
    # glyphs the file maps to nothing come out as nothing (not as "\x03ϲΒϴΒ"), and are reported
    assert "\x03" not in segment.text and "ϲ" not in segment.text and "Β" not in segment.text
    assert any("no Unicode mapping" in d for d in result.defects)
    assert result.title == "habibi"


# --- OCR ----------------------------------------------------------------------------------------------


def test_a_scanned_page_is_read_with_ocr(pdf_dir: Path) -> None:
    if find_tessdata("eng") is None:
        pytest.skip("Tesseract with English language data is not installed")
    result = read(pdf_dir / "scanned" / "c02-22.pdf")
    text = text_of(result).lower()
    assert "tip-toeing" in text and "kitchen" in text and "branches" in text
    assert result.metadata["ocr_pages"] == [1]
    assert "needs_ocr_pages" not in result.metadata
    assert all(s.locator.page == 1 for s in result.segments)


def test_a_scanned_page_without_tesseract_is_reported(pdf_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "find_tessdata", lambda language: None)
    result = read(pdf_dir / "scanned" / "c02-22.pdf")
    assert result.segments == []
    assert result.metadata["needs_ocr_pages"] == [1]
    assert any(d.startswith("page 1: no text layer; needs OCR (install Tesseract") for d in result.defects)


def test_ocr_turned_off_is_reported(pdf_dir: Path) -> None:
    result = read(pdf_dir / "scanned" / "c02-22.pdf", ocr=False)
    assert result.metadata["needs_ocr_pages"] == [1]
    assert result.defects == ["page 1: no text layer; not read because OCR is turned off"]


def test_a_scan_with_an_invisible_text_layer_needs_no_ocr(pdf_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_module, "find_tessdata", lambda language: pytest.fail("OCR was not needed"))
    result = read(pdf_dir / "scanned" / "Seige_of_Vicksburg_Sample_OCR.pdf")
    text = text_of(result)
    assert "Johnston is coming with fifty thousand men" in text
    assert "conspicuous and dangerous for use" in text  # "dan-\ngerous"
    assert "needs_ocr_pages" not in result.metadata and "ocr_pages" not in result.metadata
    assert result.defects == []


# --- passwords ----------------------------------------------------------------------------------------


def test_an_encrypted_file_opens_with_its_password(pdf_dir: Path) -> None:
    result = read(pdf_dir / "encrypted" / "libreoffice-writer-password.pdf", password="openpassword")
    assert "Lorem ipsum dolor sit amet" in text_of(result)
    assert result.metadata["encryption"].startswith("Standard")


@pytest.mark.parametrize("password", [None, "", "wrong"])
def test_an_encrypted_file_without_its_password_asks_for_it(pdf_dir: Path, password: str | None) -> None:
    with pytest.raises(PasswordRequired) as caught:
        read(pdf_dir / "encrypted" / "libreoffice-writer-password.pdf", password=password)
    message = str(caught.value)
    assert "encrypted" in message and "--password" in message
    assert "libreoffice" not in message and "\n" not in message


def test_an_owner_password_alone_does_not_stop_reading(pdf_dir: Path) -> None:
    result = read(pdf_dir / "encrypted" / "r6-owner-password.pdf")
    assert "pdf encryption test" in text_of(result)


# --- damage -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "says"), [("empty.pdf", "empty"), ("invalid.pdf", "not a PDF")])
def test_unreadable_files_raise_a_clear_error(pdf_dir: Path, name: str, says: str) -> None:
    with pytest.raises(ReadError) as caught:
        read(pdf_dir / "corrupt" / name)
    assert not isinstance(caught.value, PasswordRequired)
    message = str(caught.value)
    assert says in message and name not in message and "\n" not in message


def test_unreadable_bytes_raise_a_clear_error() -> None:
    for data in (b"", b"%PDF-1.4\nnothing else"):
        with pytest.raises(ReadError):
            list(PdfReader().read(Source("attached.pdf", data=data), ReadOptions()))


def test_a_damaged_file_that_can_be_repaired_is_read(pdf_dir: Path) -> None:
    result = read(pdf_dir / "corrupt" / "append-page-content-damaged.pdf")
    assert result.metadata["page_count"] == 30
    assert "Potato" in text_of(result)
    assert any("repaired" in d for d in result.defects)


def test_a_page_that_fails_is_a_defect_and_the_others_are_read(pdf_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real = pymupdf.Page.get_textpage

    def failing(page, *args, **kwargs):
        if page.number == 1:
            raise RuntimeError("broken content stream")
        return real(page, *args, **kwargs)

    monkeypatch.setattr(pymupdf.Page, "get_textpage", failing)
    result = read(pdf_dir / "text" / "multicolumn.pdf")
    assert {s.locator.page for s in result.segments} == {1, 3}
    assert result.defects == ["page 2: could not be read (broken content stream)"]


# --- sources and resources ----------------------------------------------------------------------------


def test_bytes_read_as_the_file_does(pdf_dir: Path) -> None:
    path = pdf_dir / "text" / "multicolumn.pdf"
    from_bytes = list(PdfReader().read(Source(path.name, data=path.read_bytes()), ReadOptions()))[0]
    assert [s.text for s in from_bytes.segments] == [s.text for s in read(path).segments]


def test_the_document_is_closed_after_reading(pdf_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = []
    real_open = pymupdf.open

    def recording(*args, **kwargs):
        opened.append(real_open(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(pymupdf, "open", recording)
    read(pdf_dir / "text" / "habibi.pdf")
    with pytest.raises(PasswordRequired):
        read(pdf_dir / "encrypted" / "libreoffice-writer-password.pdf")
    assert len(opened) == 2 and all(doc.is_closed for doc in opened)


# --- attachments --------------------------------------------------------------------------------------


def test_embedded_files_become_attachments(pdf_dir: Path) -> None:
    result = read(pdf_dir / "text" / "with-attachment.pdf")
    (attachment,) = result.attachments
    assert attachment.name == "image.png"
    assert attachment.data.startswith(b"\x89PNG\r\n\x1a\n") and len(attachment.data) == 6669
    assert attachment.content_type == "image/png"
    assert attachment.locator == PdfLocator(page=1)
    assert "Lorem ipsum" in text_of(result)


def test_file_annotations_become_attachments_on_their_page(tmp_path: Path) -> None:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "First page.")
    page = doc.new_page()
    page.insert_text((72, 72), "The minutes are attached here.")
    page.add_file_annot((300, 100), b"Minutes of the meeting.\n", "../../minutes.txt")
    doc.embfile_add("data.csv", b"a,b\n1,2\n", filename="data.csv")
    path = tmp_path / "attached.pdf"
    doc.save(path)
    doc.close()

    result = read(path)
    by_name = {a.name: a for a in result.attachments}
    assert set(by_name) == {"data.csv", "minutes.txt"}  # no way out of the folder
    assert by_name["data.csv"].data == b"a,b\n1,2\n" and by_name["data.csv"].locator == PdfLocator(page=1)
    minutes = by_name["minutes.txt"]
    assert minutes.data == b"Minutes of the meeting.\n" and minutes.content_type == "text/plain"
    assert minutes.locator.page == 2 and minutes.locator.bbox is not None
