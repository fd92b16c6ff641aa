"""Readers for e-mail: a single message (.eml), an mbox of many, an Outlook .msg.

Each message becomes one :class:`ReadResult` of kind ``"email"``:

* a ``"header"`` segment that renders From/To/Cc/Bcc/Date/Subject/In-Reply-To,
  and structural facts (origin ``"header"``, no LLM) pointing at it, in the
  vocabulary of schema.org's ``EmailMessage``: ``sender``, ``toRecipient``,
  ``ccRecipient``, ``bccRecipient``, ``dateSent``, ``subject``, ``inReplyTo``
  and a person's ``email``;
* the body (text/plain preferred, else HTML turned into text) split into
  paragraphs, each a ``"text"`` segment with its line span in the decoded body;
* every other part as an :class:`AttachmentDraft` for the reader registry.

Identity across messages: a message is ``message:<Message-ID without angle
brackets>``; a message without a Message-ID gets ``sha256-<hash of its bytes>
@kgstudio.invalid`` so a re-import finds the same entity. A person is
``mailto:<lower-cased address>``, whatever display name each message gives.

Note on the module name: imports are absolute, so ``import email`` here (and
everywhere else) is the standard library, not this module.
"""

from __future__ import annotations

import codecs
import email.parser
import mailbox
import mimetypes
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kgstudio.domain import EmailLocator
from kgstudio.ingest.email_parts import (
    MIME_POLICY,
    Mail,
    Person,
    has_mail_headers,
    read_headers,
    read_parts,
    stable_message_id,
)
from kgstudio.ingest.reader import (
    AttachmentDraft,
    EntityRef,
    FactDraft,
    Literal,
    ReadError,
    ReadOptions,
    ReadResult,
    SegmentDraft,
    Source,
    safe_attachment_name,
)

KIND = "email"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SNIFF_HEADERS = {"received", "from", "return-path", "message-id", "mime-version", "date", "to",
                  "subject", "delivered-to", "x-original-to", "reply-to", "sender", "cc",
                  "dkim-signature", "authentication-results", "content-type", "in-reply-to"}
_HEADER_LINE = re.compile(r"([!-9;-~]+)[ \t]*:")


# --- parsing -----------------------------------------------------------------------------


def parse_mail(raw: bytes, what: str = "file") -> Mail:
    """Read one RFC 822 message from its bytes; :class:`ReadError` if it is not one."""
    if not raw.strip():
        raise ReadError(f"the {what} is empty")
    mail = Mail(message_id=stable_message_id(raw))
    data = raw.removeprefix(codecs.BOM_UTF8)
    utf16 = _utf16_as_utf8(raw)
    if utf16 is not None:
        data = utf16
        mail.defects.append("the message was stored as UTF-16 text; it was read as UTF-8")
    policy = MIME_POLICY  # keeps raw header values: email_parts decodes them forgivingly
    try:
        message = email.parser.BytesParser(policy=policy).parsebytes(data)
        whole = True
    except RecursionError:
        message = email.parser.BytesParser(policy=policy).parsebytes(data, headersonly=True)
        mail.defects.append("MIME parts nested too deeply to read: only the headers were imported")
        whole = False
    if not has_mail_headers(message):
        raise ReadError(f"not an e-mail message: the {what} has no RFC 822 headers")
    read_headers(message, mail)
    if whole:
        read_parts(message, mail)
    return mail


def _utf16_as_utf8(raw: bytes) -> bytes | None:
    """A message saved as UTF-16 (with or without a BOM), re-encoded as UTF-8; None if it is not."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16", errors="replace").encode("utf-8")
    sample = raw[:400]
    if len(sample) < 8:
        return None
    for codec, zeros, letters in (("utf-16-le", sample[1::2], sample[0::2]), ("utf-16-be", sample[0::2], sample[1::2])):
        if zeros.count(0) > 0.9 * len(zeros) and letters.count(0) < 0.1 * len(letters):
            return raw.decode(codec, errors="replace").encode("utf-8")
    return None


# --- one message -> one ReadResult ---------------------------------------------------------


def mail_result(mail: Mail, part: str | None = None) -> ReadResult:
    """The document, segments, header facts and attachments of one message."""
    mid = mail.message_id
    message = EntityRef(f"message:{mid}", mail.subject or mid, "EmailMessage")
    result = ReadResult(kind=KIND, title=mail.subject, part=part, defects=list(mail.defects))

    lines = _header_lines(mail)
    if lines:
        result.segments.append(SegmentDraft("\n".join(lines), EmailLocator(mid, "headers", 1, len(lines)), "header"))
        result.facts = _header_facts(mail, message)

    quoted = _body_segments(mail, result.segments)
    names = _attachments(mail, result.attachments)

    result.metadata = {
        "message_id": mid,
        "subject": mail.subject,
        "from": ", ".join(person.render() for person in mail.senders) or None,
        "to": [person.render() for person in mail.to],
        "cc": [person.render() for person in mail.cc],
        "bcc": [person.render() for person in mail.bcc],
        "date": mail.date.isoformat() if mail.date else None,
        "in_reply_to": mail.in_reply_to,
        "references": list(mail.references),
        "charsets": list(mail.charsets),
        "attachments": names,
        "body_format": mail.body_format,
        "quoted_segments": quoted,
    }
    if mail.date is None and mail.date_text:
        result.metadata["date_text"] = mail.date_text
    return result


def _header_lines(mail: Mail) -> list[str]:
    fields = [
        ("From", ", ".join(person.render() for person in mail.senders)),
        ("To", ", ".join(person.render() for person in mail.to)),
        ("Cc", ", ".join(person.render() for person in mail.cc)),
        ("Bcc", ", ".join(person.render() for person in mail.bcc)),
        ("Date", mail.date_text or (mail.date.isoformat() if mail.date else "")),
        ("Subject", mail.subject or ""),
        ("In-Reply-To", f"<{mail.in_reply_to}>" if mail.in_reply_to else ""),
    ]
    return [f"{label}: {value}" for label, value in fields if value]


def _person(person: Person) -> EntityRef:
    return EntityRef(f"mailto:{person.address}", person.name, "Person")


def _header_facts(mail: Mail, message: EntityRef) -> list[FactDraft]:
    """Facts read from the headers; they all point at the headers segment (index 0)."""
    facts: list[FactDraft] = []

    def fact(subject: EntityRef, predicate: str, obj: EntityRef | Literal) -> None:
        facts.append(FactDraft(subject, predicate, obj, segment=0, origin="header"))

    people: dict[str, Person] = {}
    for predicate, group in (("sender", mail.senders), ("toRecipient", mail.to),
                             ("ccRecipient", mail.cc), ("bccRecipient", mail.bcc)):
        for person in group:
            fact(message, predicate, _person(person))
            people.setdefault(person.address, person)
    for person in people.values():
        fact(_person(person), "email", Literal(person.address))
    if mail.date is not None:
        fact(message, "dateSent", Literal(mail.date.isoformat(), "xsd:dateTime"))
    if mail.subject:
        fact(message, "subject", Literal(mail.subject))
    if mail.in_reply_to:
        parent = mail.in_reply_to
        fact(message, "inReplyTo", EntityRef(f"message:{parent}", parent, "EmailMessage"))
    return facts


def _body_segments(mail: Mail, segments: list[SegmentDraft]) -> list[int]:
    """Append one segment per paragraph of the body; return the indices of quoted ones ("> ...").

    A paragraph ends at a blank line, and also where quoting starts or stops, so a
    quoted reply is its own segment (kept: nothing of the body is dropped).
    """
    quoted: list[int] = []
    start: int | None = None
    block: list[str] = []

    def flush(end: int) -> None:
        if block and start is not None:
            if all(line.lstrip().startswith(">") for line in block):
                quoted.append(len(segments))
            segments.append(SegmentDraft("\n".join(block), EmailLocator(mail.message_id, "body", start, end)))
        block.clear()

    for number, line in enumerate(mail.body.split("\n") if mail.body else [], start=1):
        is_quote = line.lstrip().startswith(">")
        if not line.strip():
            flush(number - 1)
            start = None
            continue
        if block and is_quote != block[-1].lstrip().startswith(">"):
            flush(number - 1)
            start = None
        if start is None:
            start = number
        block.append(line)
    flush(len(mail.body.split("\n")) if mail.body else 0)
    return quoted


def _attachments(mail: Mail, drafts: list[AttachmentDraft]) -> list[str]:
    """Attachments with safe, unique names (never "body" or "headers": those are part paths too)."""
    taken = {"body", "headers"}
    for number, attachment in enumerate(mail.attachments, start=1):
        extension = mimetypes.guess_extension(attachment.content_type or "") or ".bin"
        name = safe_attachment_name(attachment.filename, fallback=f"part-{number}{extension}")
        stem, dot, suffix = name.rpartition(".")
        if not stem:
            stem, dot, suffix = name, "", ""
        copy = 2
        while name.lower() in taken:
            name = f"{stem} ({copy}){dot}{suffix}"
            copy += 1
        taken.add(name.lower())
        locator = EmailLocator(mail.message_id, name)
        drafts.append(AttachmentDraft(name, attachment.data, locator, attachment.content_type))
    return [draft.name for draft in drafts]


# --- sniffing ------------------------------------------------------------------------------


def _looks_like_headers(head: bytes) -> bool:
    utf16 = _utf16_as_utf8(head)
    text = (utf16 if utf16 is not None else head.removeprefix(codecs.BOM_UTF8)).decode("latin-1")
    lines = text.replace("\r\n", "\n").split("\n")
    if len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]  # the head may end mid-line
    names: set[str] = set()
    for index, line in enumerate(lines[:60]):
        if not line:
            break
        if line[0] in " \t":
            if index == 0:
                return False
            continue
        match = _HEADER_LINE.match(line)
        if match is None:
            return False
        names.add(match.group(1).lower())
    return bool(names & _SNIFF_HEADERS)


# --- readers -------------------------------------------------------------------------------


class EmailReader:
    """One RFC 822 message (.eml)."""

    name = "email"
    patterns = ("*.eml",)

    def sniff(self, head: bytes) -> bool:
        return not head.startswith(b"From ") and _looks_like_headers(head)

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        yield mail_result(parse_mail(source.read_bytes()))


class MboxReader:
    """An mbox mailbox: one document per message, in file order, streamed one message at a time."""

    name = "mbox"
    patterns = ("*.mbox", "*.mbx")

    def sniff(self, head: bytes) -> bool:
        return head.lstrip(b"\r\n").startswith(b"From ")

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        head = source.head(4096)
        if not head.strip():
            raise ReadError("the file is empty")
        if not self.sniff(head):
            raise ReadError("not an mbox file: it does not start with a 'From ' line")
        temporary: Path | None = None
        path = source.path
        if path is None:  # mailbox.mbox reads from a path: spill attachment bytes to a temp file
            handle, name = tempfile.mkstemp(suffix=".mbox")
            with os.fdopen(handle, "wb") as out:
                out.write(source.data or b"")
            path = temporary = Path(name)
        box = mailbox.mbox(str(path), create=False)
        try:
            count = 0
            for key in box.iterkeys():
                count += 1
                part = f"message {count}"
                try:
                    mail = parse_mail(box.get_bytes(key), what="message")
                except ReadError as error:
                    yield ReadResult(kind=KIND, part=part, defects=[f"{part} could not be read: {error}"])
                    continue
                yield mail_result(mail, part=part)
            if count == 0:
                raise ReadError("the mbox holds no messages")
        finally:
            box.close()
            if temporary is not None:
                temporary.unlink(missing_ok=True)


class MsgReader:
    """An Outlook .msg item (read with the extract-msg package)."""

    name = "msg"
    patterns = ("*.msg",)

    def sniff(self, head: bytes) -> bool:
        # .doc/.xls share the OLE2 magic: claim the file only when an Outlook stream
        # name is visible in the head, else leave it to the extension.
        return head.startswith(OLE_MAGIC) and (
            "__substg1.0_".encode("utf-16-le") in head or "__properties_version1.0".encode("utf-16-le") in head
        )

    def read(self, source: Source, options: ReadOptions) -> Iterator[ReadResult]:
        from kgstudio.ingest.msg import read_outlook

        yield mail_result(read_outlook(source))
