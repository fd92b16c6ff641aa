"""Outlook .msg items, read with the ``extract-msg`` package into the same :class:`Mail` as .eml.

When the item keeps its Internet transport headers (received mail), they are
read exactly like an .eml's. Otherwise (drafts, items created in Outlook) the
header fields come from the MAPI properties: the sender, the recipient table
with its To/Cc/Bcc types, the send date and the subject.
"""

from __future__ import annotations

import email.utils
import mimetypes
import struct
from email.message import Message

from kgstudio.ingest.email_parts import (
    Mail,
    MailAttachment,
    Person,
    clean_lines,
    decode_bytes,
    html_to_text,
    read_headers,
    stable_message_id,
)
from kgstudio.ingest.reader import ReadError, Source

_RECIPIENT_FIELDS = {1: "to", 2: "cc", 3: "bcc"}  # extract_msg.enums.RecipientType


def read_outlook(source: Source) -> Mail:
    """Read one Outlook item; :class:`ReadError` when it is not one, or extract-msg is missing."""
    try:
        import extract_msg
        from extract_msg.enums import ErrorBehavior
        from extract_msg.exceptions import ExMsgBaseException
    except ImportError as error:
        raise ReadError("reading Outlook .msg files needs the extract-msg package") from error

    # Import what can be read: broken attachments, malformed RTF and standards
    # violations become defects or gaps instead of failing the whole item.
    tolerated = (ErrorBehavior.ATTACH_SUPPRESS_ALL | ErrorBehavior.RTFDE
                 | ErrorBehavior.STANDARDS_VIOLATION | ErrorBehavior.NAMED_NAME_STREAM)
    raw = source.read_bytes()
    if not raw.strip():
        raise ReadError("the file is empty")
    if not raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ReadError("not an Outlook .msg file (no OLE2 signature)")
    try:
        item = extract_msg.openMsg(raw, strict=True, errorBehavior=tolerated)
    except (ExMsgBaseException, OSError, ValueError) as error:
        raise ReadError(f"not a readable Outlook e-mail: {error}") from error
    try:
        return _mail_from_item(item, raw)
    # extract-msg reads streams lazily, so damage inside the OLE2 file (olefile's OleFileError is an
    # OSError; a cut stream gives struct/index errors) only shows when a property is read.
    except (ExMsgBaseException, OSError, ValueError, EOFError, IndexError, KeyError, struct.error) as error:
        raise ReadError(f"the Outlook item could not be read: {error}") from error
    finally:
        item.close()


def _mail_from_item(item, raw: bytes) -> Mail:  # item: extract_msg.MessageBase
    mail = Mail(message_id=stable_message_id(raw))
    _read_properties(item, mail)
    if item.headerText:  # the Internet headers of received mail win where they say something
        read_headers(item.header, mail)

    body = item.body
    if body and body.strip():
        mail.body, mail.body_format = clean_lines(body), "plain"
    else:
        html = item.htmlBody
        if html:
            mail.body, mail.body_format = clean_lines(html_to_text(decode_bytes(html, None)[0])), "html"

    for attachment in item.attachments:
        _add_attachment(attachment, mail)
    return mail


def _read_properties(item, mail: Mail) -> None:
    """Header fields from the MAPI properties and the recipient table."""
    headers = Message()
    for name, value in (("Message-ID", item.messageId), ("From", item.sender), ("Subject", item.subject),
                        ("In-Reply-To", item.inReplyTo)):
        if value:
            headers[name] = value
    read_headers(headers, mail)
    for recipient in item.recipients:
        field = _RECIPIENT_FIELDS.get(int(recipient.type))
        address = (recipient.email or "").strip().lower()
        if field is None or "@" not in address:
            continue
        group: list[Person] = getattr(mail, field)
        if all(person.address != address for person in group):
            name = (recipient.name or "").strip().strip("\"'") or address
            group.append(Person(address, name))
    if item.date is not None:
        mail.date = item.date
        mail.date_text = email.utils.format_datetime(item.date)


def _add_attachment(attachment, mail: Mail) -> None:
    name = attachment.longFilename or attachment.shortFilename or attachment.name
    data = attachment.data
    if isinstance(data, bytes):
        content_type = attachment.mimetype or (mimetypes.guess_type(name)[0] if name else None)
        mail.attachments.append(MailAttachment(name, data, content_type))
        return
    if data is not None and hasattr(data, "exportBytes"):  # an embedded Outlook item
        try:
            blob = data.exportBytes()
        except Exception as error:  # noqa: BLE001 - extract-msg raises many kinds here; keep the rest of the item
            mail.defects.append(f"embedded item {name or '(unnamed)'!r} could not be exported: {error}")
            return
        subject = getattr(data, "subject", None) or "message"
        mail.attachments.append(MailAttachment(name or f"{subject}.msg", blob, "application/vnd.ms-outlook"))
        return
    mail.defects.append(f"attachment {name or '(unnamed)'!r} has no data that could be read")
