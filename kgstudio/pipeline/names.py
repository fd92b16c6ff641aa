"""Name normalisation for entity resolution: the forms under which two spellings of one thing meet.

Everything here is a pure function of a string (and the entity's kind), so
the same rules serve fusion, its benchmark and the tests. The rules, in order:

- Unicode NFKC, then accents stripped (``Jørn``/``Jorn`` stay apart only where
  Unicode has no decomposition), case folded, ``&`` read as "and".
- Dotted acronyms joined (``I.B.M.`` → ``ibm``); every other punctuation mark
  is a word break; runs of whitespace collapse.
- People: "Last, First" turned round; titles (Dr, Prof) and generational
  suffixes (Jr, III, PhD) dropped; the parts (first, middle initials, last) kept
  for the person rules of :mod:`kgstudio.pipeline.resolve`.
- Organisations: corporate suffixes (Inc, Corp., GmbH, Ltd …) and a leading
  "the" dropped.
- Everything else (topics, concepts, places): a few well-known abbreviations
  expanded (``HR`` → "human resources") and plurals folded (``policies`` →
  "policy").
- E-mail addresses: an address used as a name is compared as the whole
  address; its local part (``beth.apollo``) yields a name ("beth apollo") and
  a handle, unless it is a role address (``info``, ``users``, ``dev`` …).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

PERSON, ORGANIZATION, OTHER = "person", "organization", "other"

CORPORATE_SUFFIXES = frozenset({
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "llp", "lp", "plc",
    "gmbh", "ag", "kg", "sa", "sas", "sarl", "nv", "bv", "srl", "spa", "oy", "ab", "as", "pty", "pte", "kk",
})
TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sir", "dame", "rev"})
GENERATIONAL = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"})
ABBREVIATIONS = {
    "hr": "human resources", "intl": "international", "univ": "university", "dept": "department",
    "mgmt": "management", "govt": "government", "natl": "national", "assn": "association", "dev": "development",
}
# Local parts of addresses that name a role or a list, not a person.
ROLE_HANDLES = frozenset({
    "admin", "administrator", "info", "contact", "mail", "me", "user", "users", "dev", "devs", "sender",
    "recipient", "noreply", "no-reply", "donotreply", "support", "help", "sales", "office", "team", "test",
    "hello", "hithere", "webmaster", "postmaster", "root", "list", "lists", "announce", "news", "press",
    "jobs", "hr", "billing", "security", "abuse", "core-user", "general", "private", "commits", "issues",
})
CONNECTIVES = frozenset({"of", "and", "the", "for", "in", "on", "at", "de", "du", "der", "die", "la", "le", "a", "an"})

_DOTTED_ACRONYM = re.compile(r"\b(?:\w\.){2,}(?!\w)")
_NON_WORD = re.compile(r"[^\w]+")
_DIGITS = re.compile(r"\d+")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def fold(text: str) -> str:
    """NFKC, accents stripped, case folded, ``&`` as "and" (punctuation still there)."""
    text = unicodedata.normalize("NFKC", text)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return text.casefold().replace("&", " and ").replace("’", "'")


def words(text: str) -> list[str]:
    """The words of a name after :func:`fold`: dotted acronyms joined, punctuation a break."""
    folded = _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", "") + " ", fold(text))
    folded = folded.replace("'s ", " ").replace("'", "")
    return [w for w in _NON_WORD.split(folded) if w and w != "_"]


def is_address(text: str) -> bool:
    return bool(_ADDRESS.match(text.strip().removeprefix("mailto:")))


def address_handle(address: str) -> str | None:
    """The personal local part of an address (``sebb`` of ``sebb@apache.org``); None for role addresses."""
    local = address.strip().removeprefix("mailto:").split("@", 1)[0].casefold()
    local = local.split("+", 1)[0]
    if len(local) < 3 or local in ROLE_HANDLES:
        return None
    return local


def address_name(address: str) -> list[str] | None:
    """Name words an address spells out (``beth.apollo@`` → beth apollo), when it has a separator."""
    handle = address_handle(address)
    if handle is None:
        return None
    parts = [p for p in re.split(r"[._\-]+", _DIGITS.sub("", handle)) if p]
    return parts if len(parts) >= 2 else None


def singular(word: str) -> str:
    """A plural folded to its singular by rule (good enough for matching; never shown)."""
    if len(word) <= 3 or word.endswith(("ss", "us", "is", "ous")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


@dataclass(frozen=True)
class PersonName:
    first: str
    middles: tuple[str, ...]
    last: str


@dataclass(frozen=True)
class NormalName:
    """One surface form, normalised for its kind."""

    text: str  # as written
    key: str  # the normalised words joined by single spaces
    kind: str
    address: bool = False  # the form is an e-mail address (compared only as a whole)
    person: PersonName | None = None

    @property
    def compact(self) -> str:
        return self.key.replace(" ", "")

    @property
    def digits(self) -> tuple[str, ...]:
        return tuple(_DIGITS.findall(self.key))

    @property
    def acronym(self) -> str | None:
        significant = [w for w in self.key.split() if w not in CONNECTIVES]
        if len(significant) < 2:
            return None
        return "".join(w[0] for w in significant)


def normalise(text: str, kind: str = OTHER) -> NormalName:
    """Normalise one surface form of an entity of ``kind`` (:data:`PERSON`, :data:`ORGANIZATION`, :data:`OTHER`)."""
    stripped = text.strip().removeprefix("mailto:")
    if is_address(stripped):
        address = stripped.casefold()
        parts = address_name(address)
        person = PersonName(parts[0], tuple(parts[1:-1]), parts[-1]) if parts and kind == PERSON else None
        return NormalName(text, address, kind, address=True, person=person)
    if kind == PERSON:
        if text.count(",") == 1:  # "Doe, John" → "John Doe"
            last, first = text.split(",")
            text_words = words(f"{first} {last}")
        else:
            text_words = words(text)
        text_words = [w for w in text_words if w not in TITLES and w not in GENERATIONAL] or text_words
        person = None
        if len(text_words) >= 2:
            person = PersonName(text_words[0], tuple(w[0] for w in text_words[1:-1]), text_words[-1])
        return NormalName(text, " ".join(text_words), kind, person=person)
    text_words = words(text)
    if kind == ORGANIZATION:
        if len(text_words) > 1 and text_words[0] == "the":
            text_words = text_words[1:]
        while len(text_words) > 1 and text_words[-1] in CORPORATE_SUFFIXES:
            text_words = text_words[:-1]
        return NormalName(text, " ".join(text_words), kind)
    expanded: list[str] = []
    for word in text_words:
        expanded.extend(ABBREVIATIONS.get(word, word).split())
    return NormalName(text, " ".join(singular(w) for w in expanded), kind)


def handles(name: NormalName) -> set[str]:
    """Handles a person is likely to use in addresses: johndoe, john.doe, garydgregory, sebbaz (3+3)."""
    if name.address:
        handle = address_handle(name.text)
        return {handle} if handle else set()
    if name.person is None:
        single = name.compact
        # a one-word lowercase name is how people sign with their handle ("sebb")
        return {single} if name.kind == PERSON and len(single) >= 3 and name.text.strip().islower() else set()
    first, last = name.person.first, name.person.last
    middle = "".join(name.person.middles)
    # not initial + surname (jdoe): too many people share it
    found = {first + last, f"{first}.{last}", f"{first}_{last}", first + middle + last, first[:3] + last[:3]}
    return {h for h in found if len(h) >= 4}
