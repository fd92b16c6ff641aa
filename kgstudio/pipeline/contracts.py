"""Extraction contracts (HyDRA): post-conditions every extracted triple must meet, as data.

A contract is a :class:`Rule`: a name the user sees in ``kgstudio verify`` and
the GUI, a one-line description, and a check that returns ``None`` when a
candidate passes or a plain-English message when it does not. The message is
written for the model as much as for the user: the extraction runner sends the
violations back to the model as text for a bounded retry, and what still
fails is recorded per triple and rule (table ``contract_result``) and kept out
of the graph.

The rules, in :data:`RULES`:

- ``predicate_in_ontology``: the predicate is one of the ontology's properties;
- ``domain_range``: the subject's class fits the property's domain and the
  object's class its range, with the subclass closure (a Person is an Agent);
  a class the model did not state cannot contradict anything and passes;
- ``class_not_instance``: a class of the ontology ("Person") is never used as
  a subject or object;
- ``grounded``: subject and object occur in the chunk's text (ignoring case
  and spacing) or are known names (seed concepts);
- ``names_normalised``: names are proper names, trimmed, without wrapping
  quotes or trailing punctuation, not a pronoun or a vague reference ("he",
  "the company");
- ``literal_vs_entity``: a data property has a value of its datatype as
  object, an object property an entity (not a date, a number, an e-mail
  address or a web address), and a subject is never a bare value.

The checks are pure functions of the candidate, the chunk text and the
ontology, so the same answer always gets the same verdict; the runner relies
on that to cache the retry (see ``kgstudio.pipeline.extract``). Change
:data:`RULESET_VERSION` whenever a rule changes what it accepts: it is part of
the answer cache key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kgstudio.domain import Ontology, OntologyProperty

RULESET_VERSION = "1"

# Names that refer to something without naming it (FinReflectKG's "vague subject" check).
VAGUE_NAMES = frozenset("""
i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
this that these those here there who whom which what someone somebody something anyone anything
everyone everything none nobody nothing one ones other others
""".split())
_VAGUE_HEADS = ("the company", "the organisation", "the organization", "the firm", "the author", "the authors",
                "the person", "the team", "the group", "the paper", "the article", "the document", "the study",
                "the project", "the city", "the country", "the place", "the event")
_WRAPPING = ("\"'`“”‘’«»()[]{}<>")
_TRAILING = ".,;:!?"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+Z?)?\Z")
_DATE_WORDS = re.compile(
    r"(?:\d{1,2}\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:\d{1,2},?\s+)?\d{4}\Z"
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}\Z", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:[ ,]\d{3})+|\d+)(?:[.,]\d+)?\s*%?\Z")
_YEAR = re.compile(r"(?:1[5-9]|20)\d{2}\Z")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}\Z")
_URL = re.compile(r"(?:https?://|www\.)\S+\Z", re.IGNORECASE)
# Range classes that stand for values although the ontology declares an object property
# (Text2KGBench's "calendar date", DBpedia's "number"): a value is the right object there.
_VALUE_CLASS_WORDS = ("date", "time", "year", "number", "quantity", "amount", "integer", "decimal", "string",
                      "literal", "duration", "age", "height", "weight", "length", "area", "population", "percent")
XSD = "xsd:"


@dataclass(frozen=True)
class Candidate:
    """What the rules look at: one proposed triple, its chunk text and the known names."""

    subject: str
    predicate: str
    object: str
    subject_class: str | None = None
    object_class: str | None = None
    text: str = ""
    names: frozenset[str] = frozenset()  # normalised names that count as grounded (seeds)

    @classmethod
    def from_dict(cls, candidate: dict[str, Any], text: str, names: Iterable[str] = ()) -> Candidate:
        """From an extraction candidate dict (``kgstudio.pipeline.extract.parse_answer``)."""
        return cls(candidate.get("subject") or "", candidate.get("predicate") or "", candidate.get("object") or "",
                   candidate.get("subject_class"), candidate.get("object_class"), text,
                   frozenset(_norm(n) for n in names))


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Callable[[Candidate, OntologyIndex], str | None]


@dataclass(frozen=True)
class Verdict:
    rule: str
    passed: bool
    message: str | None = None


@dataclass
class OntologyIndex:
    """The ontology, looked up the way the rules need it (by normalised name, with the class closure)."""

    ontology: Ontology
    properties: dict[str, OntologyProperty] = field(init=False)
    classes: dict[str, str] = field(init=False)  # key -> class name
    class_words: set[str] = field(init=False)  # keys of class names and labels
    parents: dict[str, str | None] = field(init=False)

    def __post_init__(self) -> None:
        self.properties = {key(p.name): p for p in self.ontology.properties}
        self.properties.update({key(p.label): p for p in self.ontology.properties
                                if p.label and key(p.label) not in self.properties})
        self.classes = {key(c.name): c.name for c in self.ontology.classes}
        self.class_words = set(self.classes) | {key(c.label) for c in self.ontology.classes if c.label}
        self.parents = {c.name: c.parent for c in self.ontology.classes}

    def property(self, name: str) -> OntologyProperty | None:
        return self.properties.get(key(name)) if name else None

    def class_name(self, name: str | None) -> str | None:
        return self.classes.get(key(name)) if name else None

    def ancestors(self, name: str) -> list[str]:
        """``name`` and its superclasses, nearest first (a cycle in a bad ontology is cut, not followed)."""
        chain, current = [], name
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parents.get(current)
        return chain

    def fits(self, class_name: str, required: str) -> bool:
        return required in self.ancestors(class_name)


# --- the rules ------------------------------------------------------------------------------


def _predicate_in_ontology(c: Candidate, index: OntologyIndex) -> str | None:
    if not index.properties:
        return None  # no ontology: every predicate is allowed
    if index.property(c.predicate) is None:
        return f"the predicate {c.predicate!r} is not a property of the ontology"
    return None


def _domain_range(c: Candidate, index: OntologyIndex) -> str | None:
    prop = index.property(c.predicate)
    if prop is None:
        return None  # predicate_in_ontology says so
    problems = []
    subject_class = index.class_name(c.subject_class)
    if prop.domain and subject_class and prop.domain in index.classes.values() \
            and not index.fits(subject_class, prop.domain):
        problems.append(f"the subject of {prop.name} must be a {prop.domain}, and {c.subject!r} is a {subject_class}")
    object_class = index.class_name(c.object_class)
    if prop.kind == "object" and prop.range and object_class and prop.range in index.classes.values() \
            and not index.fits(object_class, prop.range):
        problems.append(f"the object of {prop.name} must be a {prop.range}, and {c.object!r} is a {object_class}")
    return "; ".join(problems) or None


def _class_not_instance(c: Candidate, index: OntologyIndex) -> str | None:
    for role, value in (("subject", c.subject), ("object", c.object)):
        if value and key(value) in index.class_words:
            return f"the {role} {value!r} is a class of the ontology, not a particular thing; name the thing itself"
    return None


def _grounded(c: Candidate, index: OntologyIndex) -> str | None:
    for role, value in (("subject", c.subject), ("object", c.object)):
        if value and not occurs(c.text, value) and _norm(value) not in c.names:
            return f"the {role} {value!r} does not occur in the text; use names exactly as the text writes them"
    return None


def _names_normalised(c: Candidate, index: OntologyIndex) -> str | None:
    for role, value in (("subject", c.subject), ("object", c.object)):
        if not value:
            return f"the {role} is missing"
        if role == "object" and _is_data(index.property(c.predicate)):
            continue  # a value, not a name
        if normalise_name(value) != value:
            return f"the {role} {value!r} should be written {normalise_name(value)!r}"
        if _norm(value) in VAGUE_NAMES or _norm(value) in _VAGUE_HEADS:
            return f"the {role} {value!r} does not name anything; use the proper name the text gives"
    return None


def _literal_vs_entity(c: Candidate, index: OntologyIndex) -> str | None:
    if c.subject and looks_like_value(c.subject):
        return f"the subject {c.subject!r} is a value, not a thing; a subject must be an entity"
    prop = index.property(c.predicate)
    if prop is None or not c.object:
        return None
    if _is_data(prop):
        expected = (prop.range or "").removeprefix(XSD)
        if expected in ("date", "dateTime") and not (_ISO_DATE.match(c.object) or _DATE_WORDS.match(c.object)):
            return f"{prop.name} needs a date as object, not {c.object!r}"
        if expected in ("integer", "int", "long", "decimal", "double", "float", "nonNegativeInteger",
                        "positiveInteger") and not _NUMBER.match(c.object):
            return f"{prop.name} needs a number as object, not {c.object!r}"
        if expected == "gYear" and not _YEAR.match(c.object):
            return f"{prop.name} needs a year as object, not {c.object!r}"
        return None
    if looks_like_value(c.object) and not _value_class(prop.range):
        return f"{prop.name} needs an entity as object, not the value {c.object!r}"
    return None


RULES: tuple[Rule, ...] = (
    Rule("predicate_in_ontology", "the predicate is a property of the ontology", _predicate_in_ontology),
    Rule("domain_range", "subject and object classes fit the property's domain and range (with subclasses)",
         _domain_range),
    Rule("class_not_instance", "a class of the ontology is never used as a subject or object", _class_not_instance),
    Rule("grounded", "subject and object occur in the text (or are known names)", _grounded),
    Rule("names_normalised", "names are trimmed proper names, not pronouns or vague references", _names_normalised),
    Rule("literal_vs_entity", "values where the property needs a value, entities where it needs an entity",
         _literal_vs_entity),
)
RULE_NAMES = tuple(rule.name for rule in RULES)


def check(candidate: Candidate, index: OntologyIndex, rules: Sequence[Rule] = RULES) -> list[Verdict]:
    """The verdict of every rule on one candidate (all rules run, so pass rates are per rule)."""
    verdicts = []
    for rule in rules:
        message = rule.check(candidate, index)
        verdicts.append(Verdict(rule.name, message is None, message))
    return verdicts


def failures(verdicts: Iterable[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if not v.passed]


def feedback(violations: Sequence[tuple[dict[str, Any], str]]) -> str:
    """The retry request: each rejected triple with why, in plain words, and what to answer."""
    lines = ["Some of those triples break the rules:"]
    for candidate, message in violations:
        triple = ", ".join(str(candidate.get(k) or "?") for k in ("subject", "predicate", "object"))
        lines.append(f"- ({triple}): {message}")
    lines.append('Answer again with JSON only, in the form {"triples": [...]}: give the triples that were right, '
                 "correct the others, and leave out any you cannot correct.")
    return "\n".join(lines)


# --- helpers shared with the runner -------------------------------------------------------------


def key(name: str | None) -> str:
    """How names are compared with ontology terms: case, spaces, ``_`` and ``-`` ignored."""
    return re.sub(r"[\s_\-]+", "", name or "").casefold()


def normalise_name(name: str) -> str:
    """A name as the graph should hold it: single spaces, no wrapping quotes or brackets, no trailing stop."""
    value = " ".join(name.split())
    changed = True
    while changed and value:
        changed = False
        if len(value) >= 2 and value[0] in _WRAPPING and value[-1] in _WRAPPING and _balanced(value[1:-1]):
            value, changed = value[1:-1].strip(), True
        elif value[-1] in _TRAILING and not _abbreviation(value):
            value, changed = value[:-1].rstrip(), True
        elif value[0] in ",;:!?":
            value, changed = value[1:].lstrip(), True
    return value


def looks_like_value(text: str) -> bool:
    """A date, a number, an e-mail address or a web address: something a literal holds, not an entity."""
    value = text.strip()
    return bool(_ISO_DATE.match(value) or _DATE_WORDS.match(value) or _NUMBER.match(value)
                or _EMAIL.match(value) or _URL.match(value))


def occurs(text: str, phrase: str) -> bool:
    words = phrase.split()
    return bool(words) and re.search(r"\s+".join(map(re.escape, words)), text, re.IGNORECASE) is not None


def _is_data(prop: OntologyProperty | None) -> bool:
    return prop is not None and (prop.kind == "data" or (prop.range or "").startswith(XSD))


def _value_class(range_name: str | None) -> bool:
    if not range_name:
        return True  # no range: a value is as good as an entity
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", range_name).casefold()
    return any(word in words for word in _VALUE_CLASS_WORDS)


def _balanced(inner: str) -> bool:
    return all(inner.count(a) == inner.count(b) for a, b in ("()", "[]", "{}"))


def _abbreviation(value: str) -> bool:
    """'Acme Inc.', 'J. R. R. Tolkien', 'U.S.': a final stop that belongs to the name."""
    last = value.split()[-1]
    return value.endswith(".") and (last.count(".") > 1 or last.rstrip(".") in {
        "Inc", "Ltd", "Co", "Corp", "Jr", "Sr", "Dr", "St", "Mt", "Bros", "Ph.D", "S.A", "Ave"} or len(last) == 2)


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()
