"""The e-mail readers (.eml, mbox, .msg) on the shared real-world samples and on crafted messages."""

from __future__ import annotations

import io
import json
import re
import struct
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kgstudio.domain import EmailLocator
from kgstudio.ingest.email import EmailReader, MboxReader, MsgReader, parse_mail
from kgstudio.ingest.email_parts import MAX_PARTS, html_to_text
from kgstudio.ingest.reader import EntityRef, Literal, ReadError, ReadOptions, ReadResult, Source

VOCABULARY = {"sender", "toRecipient", "ccRecipient", "bccRecipient", "dateSent", "subject", "inReplyTo", "email"}


def read_all(reader, source: Source) -> list[ReadResult]:
    return list(reader.read(source, ReadOptions()))


def read_eml(path: Path) -> ReadResult:
    [result] = read_all(EmailReader(), Source.from_path(path))
    return result


def read_bytes(data: bytes, name: str = "crafted.eml") -> ReadResult:
    [result] = read_all(EmailReader(), Source(name, data=data))
    return result


def body_text(result: ReadResult) -> str:
    return "\n\n".join(s.text for s in result.segments if s.locator.part_path == "body")


def facts(result: ReadResult, predicate: str) -> list:
    return [fact.object for fact in result.facts if fact.predicate == predicate]


# --- shared samples ----------------------------------------------------------------------


def test_mbox_yields_one_document_per_message_in_file_order(shared_data: Path) -> None:
    path = shared_data / "email/mbox/tests.mbox"
    expected = sum(1 for line in path.read_bytes().splitlines() if line.startswith(b"From "))
    results = read_all(MboxReader(), Source.from_path(path))
    assert len(results) == expected == 15
    assert [r.part for r in results] == [f"message {n}" for n in range(1, expected + 1)]
    assert all(r.kind == "email" and not r.defects for r in results)
    assert results[0].title == "Test: Message 1/3"
    assert results[13].title == "Test mail - variations on a theme of From"
    assert len({r.metadata["message_id"] for r in results}) == expected
    assert all(any(s.kind == "text" for s in r.segments) for r in results)


def test_mbox_threading_becomes_in_reply_to_facts(shared_data: Path) -> None:
    results = read_all(MboxReader(), Source.from_path(shared_data / "email/mbox/complex.mbox"))
    assert len(results) == 3
    keys = [f"message:{r.metadata['message_id']}" for r in results]
    assert keys[0] == "message:C649564F.1435F%jothipn@yahoo-inc.com"
    parents = [facts(r, "inReplyTo") for r in results]
    assert parents[1] == [EntityRef(keys[0], "C649564F.1435F%jothipn@yahoo-inc.com", "EmailMessage")]
    assert parents[2][0].key == keys[1]
    assert parents[0][0].key == "message:440622.41041.qm@web111005.mail.gq1.yahoo.com"  # outside the file
    # the same person is one key across messages
    senders = [facts(r, "sender")[0].key for r in results]
    assert senders[0] == senders[2] == "mailto:jothipn@yahoo-inc.com"
    assert results[1].metadata["references"] == ["C649564F.1435F%jothipn@yahoo-inc.com"]


def test_mbox_keeps_quoted_replies_as_their_own_segments(shared_data: Path) -> None:
    results = read_all(MboxReader(), Source.from_path(shared_data / "email/mbox/complex.mbox"))
    first = results[0]
    quoted = first.metadata["quoted_segments"]
    assert quoted
    for index in quoted:
        assert all(line.lstrip().startswith(">") for line in first.segments[index].text.split("\n"))
    assert "Reducers try to" in body_text(first)  # the new text is there too
    assert "shuffle" in body_text(first)


def test_mbox_from_bytes(shared_data: Path) -> None:
    data = (shared_data / "email/mbox/complex.mbox").read_bytes()
    results = read_all(MboxReader(), Source("inner.mbox", data=data))
    assert [r.title for r in results] == ["Re: question about when shuffle/sort start working"] * 3


def test_windows_1255_hebrew_subject_and_body(shared_data: Path) -> None:
    result = read_eml(shared_data / "email/non_utf8/email-no-utf8-2008-07-16.062410.eml")
    assert result.title == "RE: שלום"
    assert facts(result, "subject") == [Literal("RE: שלום")]
    assert "סלבה היקר" in body_text(result)
    assert "windows-1255" in result.metadata["charsets"]
    assert facts(result, "toRecipient") == [EntityRef("mailto:slatest@gmail.com", "Slava", "Person")]
    assert facts(result, "dateSent") == [Literal("2008-07-16T09:24:06+03:00", "xsd:dateTime")]


def test_raw_8bit_headers_decode(shared_data: Path) -> None:
    result = read_eml(shared_data / "email/non_utf8/broken-headers.eml")
    assert result.title == "Forget Asking For A Link Exchange\u2026"  # 0x85 in windows-1252
    text = body_text(result)
    assert "insider *secrets*:" in text and "\ufffd" not in text
    assert facts(result, "sender") == [EntityRef("mailto:admin@advertise-bz.cn", "Link Directory SUbmitter", "Person")]


def test_utf16_message_is_read(shared_data: Path) -> None:
    result = read_eml(shared_data / "email/non_utf8/fake-email-utf-16-le.eml")
    assert result.title == "Test Email"
    assert "Roses are red" in body_text(result)
    assert "This is a test email to use for unit tests." in body_text(result)
    assert any("UTF-16" in defect for defect in result.defects)


def test_html_only_body_becomes_clean_paragraphs(shared_data: Path) -> None:
    result = read_eml(shared_data / "email/html_only/mime-html-only.eml")
    body = [s for s in result.segments if s.locator.part_path == "body"]
    assert [s.text for s in body] == [
        "This is a text/html part.",
        "The first emoticon, :) , was proposed by Scott Fahlman in 1982 to indicate just or sarcasm in text emails.",
        "Gmail was launched by Google in 2004 with 1 GB of free storage, significantly more than what other "
        "services offered at the time.",
    ]
    assert result.metadata["body_format"] == "html"
    assert all("<" not in s.text for s in body)


def test_to_cc_bcc_people_are_counted_and_lower_cased(shared_data: Path) -> None:
    result = read_eml(shared_data / "email/enron/testRFC822-CC-BCC.eml")
    to, cc, bcc = facts(result, "toRecipient"), facts(result, "ccRecipient"), facts(result, "bccRecipient")
    assert (len(to), len(cc), len(bcc)) == (10, 7, 7)
    for person in to + cc + bcc:
        assert person.class_name == "Person"
        assert person.key.startswith("mailto:") and person.key == person.key.lower()
    assert to[6].key == "mailto:john.j.boudreaux@us.arthurandersen.com"
    assert facts(result, "sender")[0].key == "mailto:beth.apollo@enron.com"
    # one `email` fact per distinct person (cc and bcc name the same seven people)
    assert len(facts(result, "email")) == 1 + 10 + 7
    assert result.metadata["message_id"] == "4890112.1075845067403.JavaMail.evans@thyme"
    assert result.metadata["date"] == "2001-04-10T11:52:00-07:00"


def test_pdf_attachment_is_decoded(shared_data: Path) -> None:
    result = read_eml(shared_data / "email/attachments/attached-pdf.eml")
    [pdf] = result.attachments
    assert pdf.name == "test.pdf" and pdf.content_type == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert pdf.locator == EmailLocator(result.metadata["message_id"], "test.pdf")
    assert body_text(result) == "Test - body content"  # preamble and epilogue are not the body
    assert result.metadata["attachments"] == ["test.pdf"]


def test_text_attachments_and_alternative_body(shared_data: Path) -> None:
    result = read_eml(shared_data / "email/attachments/testRFC822_multipart_attachments.eml")
    assert [(a.name, a.data) for a in result.attachments] == [
        ("Test TxtA.txt", b"This is Test TXTA File for parser"),
        ("Test TxtB.txt", b"This is Test TXTB File for parser"),
    ]
    text = body_text(result)
    assert "This is test email for EML1" in text
    assert "html body" not in text  # the HTML alternative is not read twice
    assert result.metadata["body_format"] == "plain"


def test_rfc2047_headers_decode(shared_data: Path) -> None:
    result = read_eml(shared_data / "email/i18n/testRFC822_i18nheaders.eml")
    assert result.title == "If you can read this you understand the example."
    assert facts(result, "sender") == [EntityRef("mailto:keld@dkuug.dk", "Keld Jørn Simonsen", "Person")]
    assert result.metadata["charsets"][:2] == ["iso-8859-1", "iso-8859-2"]


def test_malformed_messages_keep_what_can_be_read(shared_data: Path) -> None:
    false_multipart = read_eml(shared_data / "email/malformed/false-multipart.eml")
    assert false_multipart.title == "Broken MIME"
    assert "StartBoundaryNotFoundDefect" in false_multipart.defects
    assert facts(false_multipart, "sender")[0].key == "mailto:broken.mime@notreallymultipart.com"

    missing_end = read_eml(shared_data / "email/malformed/missing-final-boundary.eml")
    assert body_text(missing_end) == "Some body"
    assert "CloseBoundaryNotFoundDefect" in missing_end.defects
    recipients = [p.key for p in facts(missing_end, "toRecipient")]
    assert recipients == ["mailto:bob@example.com", "mailto:hithere@example.com"]


def test_every_sample_gives_well_formed_results(shared_data: Path) -> None:
    for path in sorted((shared_data / "email").glob("*/*")):
        reader = MboxReader() if path.suffix == ".mbox" else EmailReader()
        for result in read_all(reader, Source.from_path(path)):
            json.dumps(result.metadata)
            mid = result.metadata["message_id"]
            headers = result.segments[0]
            assert headers.kind == "header"
            assert headers.locator == EmailLocator(mid, "headers", 1, len(headers.text.split("\n")))
            for fact in result.facts:
                assert fact.predicate in VOCABULARY and fact.origin == "header" and fact.segment == 0
            for segment in result.segments[1:]:
                assert segment.kind == "text" and segment.locator.part_path == "body" and segment.text.strip()


def test_body_locators_point_at_the_decoded_body_lines(shared_data: Path) -> None:
    for name in ("non_utf8/email-no-utf8-2008-07-16.062410.eml", "enron/testRFC822-CC-BCC.eml",
                 "html_only/mime-html-only.eml"):
        raw = (shared_data / "email" / name).read_bytes()
        lines = parse_mail(raw).body.split("\n")
        result = read_bytes(raw)
        body = [s for s in result.segments if s.locator.part_path == "body"]
        assert body
        for segment in body:
            assert "\n".join(lines[segment.locator.line_start - 1 : segment.locator.line_end]) == segment.text
        # nothing of the body is lost: every non-blank line is in a segment
        covered = {n for s in body for n in range(s.locator.line_start, s.locator.line_end + 1)}
        assert covered == {n for n, line in enumerate(lines, start=1) if line.strip()}


# --- crafted messages ----------------------------------------------------------------------


def crafted_attachments(*names: str) -> bytes:
    parts = "".join(
        f'--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="{name}"\n\n'
        f"data {number}\n" for number, name in enumerate(names)
    )
    return (
        "From: a@example.com\nSubject: files\nMessage-ID: <files@example.com>\n"
        "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n"
        f"{parts}--b--\n"
    ).encode()


def test_attachment_names_cannot_escape_a_folder() -> None:
    result = read_bytes(crafted_attachments("../../etc/passwd", "/abs/path.txt", "C:\\Windows\\evil.bat",
                                            "..", "report.pdf", "report.pdf", "body"))
    names = [a.name for a in result.attachments]
    assert names == ["passwd", "path.txt", "evil.bat", "part-4.bin", "report.pdf", "report (2).pdf", "body (2)"]
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".")
    assert [a.data for a in result.attachments][:2] == [b"data 0", b"data 1"]
    assert [a.locator.part_path for a in result.attachments] == names


def test_message_without_id_gets_a_stable_hash_id() -> None:
    raw = b"From: a@example.com\nSubject: no id\n\nhello\n"
    first, again = read_bytes(raw), read_bytes(raw)
    other = read_bytes(raw.replace(b"hello", b"bye"))
    mid = first.metadata["message_id"]
    assert re.fullmatch(r"sha256-[0-9a-f]{32}@kgstudio\.invalid", mid)
    assert mid == again.metadata["message_id"] != other.metadata["message_id"]
    assert first.facts[0].subject == EntityRef(f"message:{mid}", "no id", "EmailMessage")


def test_people_are_normalised() -> None:
    raw = (
        "From: =?utf-8?q?Ren=C3=A9e_M=C3=BCller?= <Renee.Mueller@Example.COM>\n"
        "To: \"'Bob'\" <BOB@example.com>, bob@example.com, \"Doe, Jane\" <jane@example.com>, undisclosed-recipients:;\n"
        "Subject: people\nMessage-ID: <p@example.com>\n\nhi\n"
    ).encode()
    result = read_bytes(raw)
    assert facts(result, "sender") == [EntityRef("mailto:renee.mueller@example.com", "Renée Müller", "Person")]
    assert facts(result, "toRecipient") == [
        EntityRef("mailto:bob@example.com", "Bob", "Person"),
        EntityRef("mailto:jane@example.com", "Doe, Jane", "Person"),
    ]
    emails = {fact.subject.key: fact.object for fact in result.facts if fact.predicate == "email"}
    assert emails["mailto:bob@example.com"] == Literal("bob@example.com")


def test_raw_utf8_header_and_latin1_quoted_printable_body() -> None:
    raw = (
        "From: a@example.com\nSubject: Grüße aus Köln\nContent-Type: text/plain; charset=ISO-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9 cr=E8me =80 5\n"
    ).encode("utf-8")
    result = read_bytes(raw)
    assert result.title == "Grüße aus Köln"
    assert body_text(result) == "café crème € 5"


def test_broken_base64_is_a_defect_not_a_failure() -> None:
    raw = (
        "From: a@example.com\nSubject: b64\nContent-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain\n\nbody\n"
        "--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=x.pdf\n\nJVBERi0x!!!LjM\n--b--\n"
    ).encode()
    result = read_bytes(raw)
    assert body_text(result) == "body"
    assert result.attachments[0].name == "x.pdf" and result.attachments[0].data.startswith(b"%PDF")
    assert any("Base64" in defect for defect in result.defects)


def test_raw_8bit_attachment_names_decode() -> None:
    raw = (
        "From: a@example.com\nSubject: fwd\nContent-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: text/plain\n\nx\n"
        '--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="Grüße.pdf"\n\n%PDF\n'
        "--b\nContent-Type: message/rfc822\n\nFrom: b@example.com\nSubject: Überweisung\n\ninner\n--b--\n"
    ).encode("utf-8")
    assert [a.name for a in read_bytes(raw).attachments] == ["Grüße.pdf", "Überweisung.eml"]


def test_html_to_text_drops_markup_and_keeps_paragraphs() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<h1>Hello &amp; welcome</h1><p>First&nbsp;para<br>line two</p><div>Div <b>bold</b> tail</div>"
        "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
        "<p>caf&eacute; &#8364;</p><!-- hidden --></body></html>"
    )
    assert html_to_text(html) == (
        "Hello & welcome\n\nFirst para\nline two\n\nDiv bold tail\n\n- one\n- two\n\na | b\n\ncafé €"
    )


def test_html_body_alternative_is_used_only_without_plain_text() -> None:
    raw = (
        "From: a@example.com\nSubject: alt\nContent-Type: multipart/alternative; boundary=x\n\n"
        "--x\nContent-Type: text/html\n\n<p>Rich <script>bad()</script>text</p>\n"
        "--x\nContent-Type: text/plain\n\nPlain text\n--x--\n"
    ).encode()
    assert body_text(read_bytes(raw)) == "Plain text"
    html_only = raw.replace(b"--x\nContent-Type: text/plain\n\nPlain text\n", b"")
    assert body_text(read_bytes(html_only)) == "Rich text"


def test_forwarded_message_becomes_an_eml_attachment() -> None:
    raw = (
        "From: a@example.com\nSubject: Fwd\nContent-Type: multipart/mixed; boundary=m\n\n"
        "--m\nContent-Type: text/plain\n\nforwarding\n"
        "--m\nContent-Type: message/rfc822\n\nFrom: c@example.com\nSubject: Original\n"
        "Message-ID: <orig@example.com>\n\nthe original text\n--m--\n"
    ).encode()
    result = read_bytes(raw)
    [attached] = result.attachments
    assert attached.name == "Original.eml" and attached.content_type == "message/rfc822"
    inner = read_bytes(attached.data, attached.name)
    assert inner.title == "Original" and body_text(inner) == "the original text"
    assert inner.metadata["message_id"] == "orig@example.com"


def test_many_parts_are_capped() -> None:
    parts = "".join(f"--b\nContent-Type: application/octet-stream\n\n{n}\n" for n in range(MAX_PARTS + 20))
    raw = f"From: a@example.com\nSubject: many\nContent-Type: multipart/mixed; boundary=b\n\n{parts}--b--\n"
    result = read_bytes(raw.encode())
    assert len(result.attachments) < MAX_PARTS
    assert any("more than" in defect for defect in result.defects)


def test_deep_nesting_does_not_crash() -> None:
    inner = "Content-Type: text/plain\n\nhello deep\n"
    for level in range(3000):
        inner = f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n{inner}\n--b{level}--\n'
    result = read_bytes(f"From: a@example.com\nSubject: deep\n{inner}".encode())
    assert result.title == "deep"
    assert any("nested too deeply" in defect for defect in result.defects)


def test_moderate_nesting_is_read_through() -> None:
    inner = "Content-Type: text/plain\n\nhello deep\n"
    for level in range(200):
        inner = f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n{inner}\n--b{level}--\n'
    assert body_text(read_bytes(f"From: a@example.com\nSubject: deep\n{inner}".encode())) == "hello deep"


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"%PDF-1.4\n%binary\x00\x01", b"just some text\nwith lines\n"])
def test_not_an_email_is_a_read_error(data: bytes) -> None:
    with pytest.raises(ReadError) as error:
        read_bytes(data, "secret-name.eml")
    assert "secret-name" not in str(error.value)


def test_mbox_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mbox"
    empty.write_bytes(b"")
    with pytest.raises(ReadError, match="empty"):
        read_all(MboxReader(), Source.from_path(empty))
    with pytest.raises(ReadError, match="From "):
        read_all(MboxReader(), Source("x.mbox", data=b"Subject: not an mbox\n\nbody\n"))
    # a message with no headers is reported in place; the others are still read
    mixed = b"From x Mon Jan 1 00:00:00 2024\nSubject: one\n\nfirst\n\nFrom y Mon Jan 1 00:00:00 2024\n\n\n" \
            b"From z Mon Jan 1 00:00:00 2024\nSubject: three\n\nthird\n"
    results = read_all(MboxReader(), Source("x.mbox", data=mixed))
    assert [r.title for r in results] == ["one", None, "three"]
    assert results[1].defects and not results[1].segments


# --- sniffing ----------------------------------------------------------------------------


def test_sniff(shared_data: Path) -> None:
    email, mbox, msg = EmailReader(), MboxReader(), MsgReader()
    for name in ("enron/testRFC822-CC-BCC.eml", "non_utf8/broken-headers.eml", "attachments/attached-pdf.eml",
                 "html_only/mime-html-only.eml", "non_utf8/fake-email-utf-16-le.eml"):
        head = Source.from_path(shared_data / "email" / name).head()
        assert email.sniff(head), name
        assert not mbox.sniff(head) and not msg.sniff(head)
    mbox_head = Source.from_path(shared_data / "email/mbox/tests.mbox").head()
    assert mbox.sniff(mbox_head) and not email.sniff(mbox_head)
    for other in (b"%PDF-1.7\n", b"title: notes\nauthor: me\n", b"a,b,c\n1,2,3\n", b"PK\x03\x04", b""):
        assert not email.sniff(other) and not mbox.sniff(other) and not msg.sniff(other)


# --- Outlook .msg --------------------------------------------------------------------------


def _props(entries: list[tuple[int, int]], header: bytes) -> bytes:
    """A MAPI property stream: its header, then fixed-size entries (tag, flags, 8-byte value)."""
    return header + b"".join(struct.pack("<IIQ", tag, 6, value) for tag, value in entries)


def build_msg(subject: str = "Quarterly report ✓", named_properties: bool = True,
              transport_headers: str | None = None) -> bytes:
    """A minimal Outlook item (IPM.Note) written with extract-msg's own OLE writer."""
    from extract_msg.ole_writer import OleWriter

    def text(value: str) -> bytes:
        return value.encode("utf-16-le")

    sent = datetime(2024, 3, 1, 10, 30, tzinfo=timezone.utc)
    filetime = int((sent.timestamp() + 11644473600) * 10_000_000)
    writer = OleWriter()
    writer.addEntry("__properties_version1.0", _props([(0x00390040, filetime)], struct.pack("<8xIIII8x", 1, 1, 1, 1)))
    writer.addEntry("__substg1.0_001A001F", text("IPM.Note"))
    writer.addEntry("__substg1.0_0037001F", text(subject))
    writer.addEntry("__substg1.0_1000001F", text("Hello Bob,\r\n\r\nThe report is attached.\r\n\r\nAda"))
    writer.addEntry("__substg1.0_0C1A001F", text("Ada Lovelace"))
    writer.addEntry("__substg1.0_0C1F001F", text("Ada@Example.com"))
    writer.addEntry("__substg1.0_5D01001F", text("Ada@Example.com"))
    writer.addEntry("__substg1.0_1035001F", text("<msg-1@example.com>"))
    writer.addEntry("__substg1.0_1042001F", text("<parent@example.com>"))
    if transport_headers is not None:
        writer.addEntry("__substg1.0_007D001F", text(transport_headers))
    if named_properties:  # required by the format; extract-msg is asked to tolerate its absence
        writer.addEntry("__nameid_version1.0", storage=True)
        for stream in ("00020102", "00030102", "00040102"):
            writer.addEntry(f"__nameid_version1.0/__substg1.0_{stream}", b"")
    for number, (name, address, kind) in enumerate([("Bob Builder", "bob@example.com", 1),
                                                     ("Carol", "Carol@Example.com", 2)]):
        storage = f"__recip_version1.0_#{number:08X}"
        writer.addEntry(storage, storage=True)
        writer.addEntry(f"{storage}/__properties_version1.0", _props([(0x0C150003, kind)], bytes(8)))
        writer.addEntry(f"{storage}/__substg1.0_3001001F", text(name))
        writer.addEntry(f"{storage}/__substg1.0_39FE001F", text(address))
        writer.addEntry(f"{storage}/__substg1.0_3003001F", text(address))
    storage = "__attach_version1.0_#00000000"
    writer.addEntry(storage, storage=True)
    writer.addEntry(f"{storage}/__properties_version1.0", _props([(0x37050003, 1)], bytes(8)))
    writer.addEntry(f"{storage}/__substg1.0_3707001F", text("../../notes.txt"))
    writer.addEntry(f"{storage}/__substg1.0_37010102", b"attachment text\n")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_msg_is_read_into_the_same_shape() -> None:
    pytest.importorskip("extract_msg")
    data = build_msg()
    assert MsgReader().sniff(data[:8192])
    [result] = read_all(MsgReader(), Source("item.msg", data=data))
    assert result.kind == "email" and result.title == "Quarterly report ✓"
    message = EntityRef("message:msg-1@example.com", "Quarterly report ✓", "EmailMessage")
    assert result.facts[0].subject == message
    assert facts(result, "sender") == [EntityRef("mailto:ada@example.com", "Ada Lovelace", "Person")]
    assert facts(result, "toRecipient") == [EntityRef("mailto:bob@example.com", "Bob Builder", "Person")]
    assert facts(result, "ccRecipient") == [EntityRef("mailto:carol@example.com", "Carol", "Person")]
    assert facts(result, "dateSent") == [Literal("2024-03-01T10:30:00+00:00", "xsd:dateTime")]
    assert facts(result, "inReplyTo")[0].key == "message:parent@example.com"
    assert [s.text for s in result.segments if s.locator.part_path == "body"] == [
        "Hello Bob,", "The report is attached.", "Ada"]
    [attachment] = result.attachments
    assert attachment.name == "notes.txt"  # sent as "../../notes.txt"
    assert (attachment.data, attachment.content_type) == (b"attachment text\n", "text/plain")
    json.dumps(result.metadata)


def test_msg_with_standards_violations_is_still_read() -> None:
    pytest.importorskip("extract_msg")
    [result] = read_all(MsgReader(), Source("item.msg", data=build_msg("Loose", named_properties=False)))
    assert result.title == "Loose" and facts(result, "sender")[0].key == "mailto:ada@example.com"


def test_msg_transport_headers_are_read_like_an_eml() -> None:
    pytest.importorskip("extract_msg")
    headers = ("Received: from mx.example.com\r\nFrom: \"Ada L.\" <ADA@example.com>\r\n"
               "To: Dan <dan@example.com>\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n"
               "Date: Fri, 01 Mar 2024 12:00:00 +0100\r\nMessage-ID: <sent@example.com>\r\n\r\n")
    [result] = read_all(MsgReader(), Source("item.msg", data=build_msg(transport_headers=headers)))
    assert result.metadata["message_id"] == "sent@example.com"
    assert result.title == "Café"
    assert facts(result, "sender") == [EntityRef("mailto:ada@example.com", "Ada L.", "Person")]
    assert [p.key for p in facts(result, "toRecipient")] == ["mailto:dan@example.com"]
    assert [p.key for p in facts(result, "ccRecipient")] == ["mailto:carol@example.com"]  # from the recipient table
    assert facts(result, "dateSent") == [Literal("2024-03-01T12:00:00+01:00", "xsd:dateTime")]


def test_msg_errors() -> None:
    pytest.importorskip("extract_msg")
    from extract_msg.ole_writer import OleWriter

    writer = OleWriter()
    writer.addEntry("Workbook", b"\x09\x08" + bytes(200))  # an OLE2 file that is not an Outlook item (.xls)
    buffer = io.BytesIO()
    writer.write(buffer)
    not_outlook = buffer.getvalue()
    assert not MsgReader().sniff(not_outlook[:8192])
    for data in (b"", b"From: a@example.com\n\nhi\n", not_outlook):
        with pytest.raises(ReadError) as error:
            read_all(MsgReader(), Source("secret-name.msg", data=data))
        assert "secret-name" not in str(error.value)
