"""Turn a parsed MIME message into a :class:`Mail`: decoded headers, body text, attachments.

Everything here is standard library. Headers are read from the raw values
(``Message.raw_items``) and decoded by hand, so a raw 8-bit header, an RFC 2047
encoded word in an unknown charset or a broken base64 word degrades to the
best readable text instead of an exception. The MIME tree is walked with an
explicit stack and a part cap, never recursively.
"""

from __future__ import annotations

import codecs
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import HeaderParseError
from email.generator import BytesGenerator
from email.header import decode_header
from email.message import Message
from email.policy import Compat32
from html.parser import HTMLParser
from io import BytesIO

MAX_PARTS = 10_000  # a message with more MIME parts than this is cut there, with a defect


class _RawHeaderPolicy(Compat32):
    """compat32, except that a header with raw 8-bit bytes comes back as the parsed string.

    compat32 would wrap such a value in a ``Header`` whose ``str()`` turns every
    8-bit byte into U+FFFD; the surrogate-escaped string lets :func:`decode_header_text`
    recover the real characters (a raw UTF-8 or windows-1252 filename or subject).
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


MIME_POLICY = _RawHeaderPolicy()  # the policy every message here is parsed with


@dataclass(frozen=True)
class Person:
    """One mailbox: a lower-cased address and the name shown for it."""

    address: str
    name: str

    def render(self) -> str:
        return self.address if self.name == self.address else f"{self.name} <{self.address}>"


@dataclass
class MailAttachment:
    """A part that is a file: its bytes after transfer decoding."""

    filename: str | None  # as the message gave it (decoded, not yet made safe)
    data: bytes
    content_type: str | None


@dataclass
class Mail:
    """One e-mail message as read, whatever the file format (.eml, mbox, .msg)."""

    message_id: str  # without angle brackets
    subject: str | None = None
    senders: list[Person] = field(default_factory=list)
    to: list[Person] = field(default_factory=list)
    cc: list[Person] = field(default_factory=list)
    bcc: list[Person] = field(default_factory=list)
    date: datetime | None = None
    date_text: str | None = None  # the Date header as written
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    body: str = ""
    body_format: str | None = None  # "plain", "html" or "mixed"
    attachments: list[MailAttachment] = field(default_factory=list)
    charsets: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def note_charset(self, charset: str | None) -> None:
        if charset and charset.lower() not in self.charsets:
            self.charsets.append(charset.lower())


# --- text decoding -----------------------------------------------------------------------

_ASCII_NAMES = {"ascii"}
_LATIN1_NAMES = {"latin-1", "iso8859-1", "cp1252"}


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, bool]:
    """Decode ``data`` declared as ``declared``; return the text and whether it decoded cleanly.

    ISO-8859-1 is read as windows-1252 (its superset in practice, as browsers do);
    an undeclared or US-ASCII part is tried as UTF-8 first, since that is what
    mislabelled mail nearly always is. Nothing raises: the last resort is
    Latin-1, which maps every byte.
    """
    canonical = _codec_name(declared)
    if canonical is None or canonical in _ASCII_NAMES:
        candidates = ["utf-8", "cp1252"]
    elif canonical in _LATIN1_NAMES:
        candidates = ["cp1252"]
    else:
        candidates = [canonical, "utf-8"]
    for codec in candidates:
        try:
            return data.decode(codec), codec == candidates[0] or declared is None
        except UnicodeDecodeError:
            continue
    fallback = canonical if canonical and canonical not in _ASCII_NAMES | _LATIN1_NAMES else "latin-1"
    return data.decode(fallback, errors="replace"), False


def _codec_name(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip('"').lower()).name
    except (LookupError, ValueError):  # ValueError: a NUL inside the charset name
        return None


def _unsurrogate(value: str) -> str:
    """Raw 8-bit bytes in a header come back from the parser as surrogates: decode them."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(value.encode("ascii", "surrogateescape"), None)[0]


def decode_header_text(value: str | None, mail: Mail | None = None) -> str:
    """A header value as readable text: unfolded, raw 8-bit and RFC 2047 words decoded."""
    if value is None:
        return ""
    text = _unsurrogate(re.sub(r"\r?\n(?=[ \t])", "", str(value)))
    if "=?" in text:
        try:
            pieces = decode_header(text)
        except (HeaderParseError, ValueError):
            pieces = [(text, None)]
        out: list[str] = []
        for chunk, charset in pieces:
            if isinstance(chunk, str):
                out.append(chunk)
            elif charset is None or charset == "unknown-8bit":
                out.append(chunk.decode("raw-unicode-escape"))
            else:
                out.append(decode_bytes(chunk, charset)[0])
                if mail is not None:
                    mail.note_charset(charset)
        text = "".join(out)
    return re.sub(r"\s+", " ", text).strip()


# --- headers -----------------------------------------------------------------------------


def stable_message_id(raw: bytes) -> str:
    """The id of a message that has no Message-ID: a hash of its bytes, so a re-import finds it again."""
    return f"sha256-{hashlib.sha256(raw).hexdigest()[:32]}@kgstudio.invalid"


def _message_ids(value: str) -> list[str]:
    found = re.findall(r"<([^<>\s]+)>", value)
    if not found and value.strip():
        found = [token for token in value.split() if "@" in token]
    return found


_ADDRESS = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")


def _people(values: list[str], mail: Mail, header: str) -> list[Person]:
    people: list[Person] = []
    seen: set[str] = set()
    try:
        pairs = email.utils.getaddresses(values)
    except RecursionError:
        # The standard parser recurses once per group ("name: ...;"): a header of thousands of
        # colons exhausts the stack. The addresses are still there to be found, without names.
        mail.defects.append(f"{header} header too deeply nested to parse: addresses taken without names")
        pairs = [("", address) for value in values for address in _ADDRESS.findall(value)]
    for name, address in pairs:
        address = address.strip().strip("<>").lower()
        if not address:
            continue
        if "@" not in address:
            mail.defects.append(f"{header} address without a domain ignored: {address!r}")
            continue
        if address in seen:
            continue
        seen.add(address)
        display = decode_header_text(name, mail).strip().strip("\"'").strip()
        people.append(Person(address, display or address))
    return people


def read_headers(headers: Message, mail: Mail) -> None:
    """Set ``mail``'s header fields from a message's raw headers; fields it lacks are left as they are."""
    raw: dict[str, list[str]] = {}
    for name, value in headers.raw_items():
        raw.setdefault(name.lower(), []).append(_unsurrogate(str(value)))

    def first(name: str) -> str | None:
        values = raw.get(name)
        return values[0] if values else None

    if ids := _message_ids(first("message-id") or ""):
        mail.message_id = ids[0]
    if subject := decode_header_text(first("subject"), mail):
        mail.subject = subject
    for header, attribute in (("from", "senders"), ("sender", "senders"), ("to", "to"), ("cc", "cc"), ("bcc", "bcc")):
        if header in raw and (people := _people(raw[header], mail, header.capitalize())):
            if not (header == "sender" and mail.senders):  # Sender only stands in for a missing From
                setattr(mail, attribute, people)
    if date_text := decode_header_text(first("date")):
        mail.date_text = date_text
        try:
            mail.date = email.utils.parsedate_to_datetime(date_text)
        except (TypeError, ValueError, IndexError, OverflowError):  # Overflow: a year or offset past any date
            mail.defects.append(f"unreadable Date header: {date_text!r}")
    if parents := _message_ids(first("in-reply-to") or ""):
        mail.in_reply_to = parents[0]
    if references := _message_ids(" ".join(raw.get("references", []))):
        mail.references = references


def has_mail_headers(headers: Message) -> bool:
    """True when the parsed headers include at least one that every real message has."""
    known = {"from", "to", "subject", "date", "message-id", "received", "return-path",
             "mime-version", "content-type", "cc", "sender", "delivered-to"}
    return any(name.lower() in known for name in headers.keys())


# --- MIME structure ----------------------------------------------------------------------


def read_parts(message: Message, mail: Mail) -> None:
    """Walk the MIME tree (iteratively, at most :data:`MAX_PARTS` parts): body text and attachments."""
    bodies: list[tuple[str, str]] = []  # (subtype, text)
    stack: list[tuple[Message, bool]] = [(message, True)]  # (part, may it hold body text?)
    visited = 0
    while stack:
        part, body_allowed = stack.pop()
        visited += 1
        if visited > MAX_PARTS:
            mail.defects.append(f"more than {MAX_PARTS} MIME parts: the rest were not read")
            break
        ctype = part.get_content_type()
        if ctype.startswith("message/") and part.is_multipart():
            mail.attachments.append(_embedded_message(part))
        elif part.is_multipart():
            children = [child for child in part.get_payload() if isinstance(child, Message)]
            chosen = _preferred_alternative(children) if ctype == "multipart/alternative" else None
            for child in reversed(children):
                stack.append((child, body_allowed and (chosen is None or child is chosen)))
        elif _is_attachment(part):
            mail.attachments.append(_leaf_attachment(part))
        elif body_allowed:
            subtype = "html" if ctype == "text/html" else "plain"
            text = _part_text(part, mail)
            if text.strip():
                bodies.append((subtype, html_to_text(text) if subtype == "html" else text))
        mail.defects.extend(_describe(defect) for defect in part.defects)  # after decoding: it adds some
    formats = {subtype for subtype, _ in bodies}
    mail.body_format = (formats.pop() if len(formats) == 1 else "mixed") if formats else None
    mail.body = "\n\n".join(clean_lines(text) for _, text in bodies)


def _describe(defect: Exception) -> str:
    detail = str(defect)
    return f"{type(defect).__name__}: {detail}" if detail else type(defect).__name__


def _is_attachment(part: Message) -> bool:
    if part.get_content_disposition() == "attachment" or part.get_filename():
        return True
    maintype = part.get_content_maintype()
    if maintype == "multipart":  # declared multipart but unparseable: its text is the body
        return False
    return maintype != "text" or part.get_content_subtype() not in ("plain", "html")


def _preferred_alternative(children: list[Message]) -> Message | None:
    """Plain text first, then a multipart that may hold it, then HTML, then whatever comes first."""
    for wanted in ("text/plain", "multipart/", "text/html"):
        for child in children:
            if child.get_content_type().startswith(wanted) and not _leaf_is_file(child):
                return child
    return children[0] if children else None


def _leaf_is_file(part: Message) -> bool:
    return not part.is_multipart() and (part.get_content_disposition() == "attachment" or bool(part.get_filename()))


def _part_text(part: Message, mail: Mail) -> str:
    data = part.get_payload(decode=True) or b""
    charset = part.get_content_charset()
    if charset is None and part.get_content_type() == "text/html":
        found = re.search(rb"""<meta[^>]+charset=["']?([\w.:-]+)""", data[:4096], re.IGNORECASE)
        charset = found.group(1).decode("ascii") if found else None
    text, clean = decode_bytes(data, charset)
    mail.note_charset(charset)
    if not clean:
        mail.defects.append(f"body part is not valid {charset or 'UTF-8'}: read with a fallback charset")
    return text


def _leaf_attachment(part: Message) -> MailAttachment:
    filename = part.get_filename()
    data = part.get_payload(decode=True)
    if data is None:  # a payload that is not a string (malformed); keep what there is
        data = str(part.get_payload()).encode("utf-8", "surrogateescape")
    return MailAttachment(decode_header_text(filename) if filename else None, data, part.get_content_type())


def _embedded_message(part: Message) -> MailAttachment:
    """A forwarded message (message/rfc822) becomes a .eml attachment, read by the e-mail reader."""
    buffer = BytesIO()
    generator = BytesGenerator(buffer, mangle_from_=False)
    for inner in part.get_payload():
        generator.flatten(inner)
    filename = part.get_filename()
    if not filename and part.get_content_type() == "message/rfc822":
        inner_subject = decode_header_text(part.get_payload(0).get("subject"))
        filename = f"{inner_subject or 'message'}.eml"
    name = decode_header_text(filename) if filename else None
    return MailAttachment(name, buffer.getvalue(), part.get_content_type())


def clean_lines(text: str) -> str:
    """Unix line ends, no trailing spaces, no leading or trailing blank lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


# --- HTML --------------------------------------------------------------------------------

_SKIPPED = {"script", "style", "title", "noscript", "template"}
_PARAGRAPH = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote",
              "pre", "section", "article", "header", "footer", "address", "hr", "form", "fieldset", "body"}
_LINE = {"br", "li", "tr", "dt", "dd", "caption"}


class _HtmlText(HTMLParser):
    """Collects readable text: block elements end paragraphs; scripts, styles and titles are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0

    def _breaks(self, count: int) -> None:
        """End the current line or paragraph (extra blank lines are collapsed at the end)."""
        if self.out:
            tail = "".join(self.out[-4:])
            missing = count - (len(tail) - len(tail.rstrip("\n")))
            if missing > 0:
                self.out.append("\n" * missing)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skip_depth += 1
        elif tag in _PARAGRAPH:
            self._breaks(2)
            self.pre_depth += tag == "pre"
        elif tag in _LINE:
            self._breaks(1)
            if tag == "li":
                self.out.append("- ")
        elif tag in ("td", "th") and self.out and not self.out[-1].endswith(("\n", "- ")):
            self.out.append(" | ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _LINE or tag in _PARAGRAPH:
            self._breaks(1 if tag in _LINE else 2)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _PARAGRAPH:
            self.pre_depth = max(0, self.pre_depth - (tag == "pre"))
            self._breaks(2)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if not self.pre_depth:
            data = re.sub(r"\s+", " ", data)
            if not self.out or self.out[-1].endswith("\n"):
                data = data.lstrip()
        if data:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: no tags, no scripts or styles, entities unescaped, paragraphs kept."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
