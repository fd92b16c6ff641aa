"""Checking an ontology before it steers extraction: what an LLM-derived (or hand-edited) one gets wrong.

:func:`validate_ontology` returns :class:`Problem` rows, errors first. Errors
make the ontology unusable as it stands: a name used twice, a class that is its
own superclass, a cycle in the class hierarchy, a property whose domain or
range is not a class of the ontology (nor, for a data property, an XSD
datatype), a name that cannot be an IRI's local part. Warnings are things a
user may want on purpose: a class no property mentions and that has no
superclass or subclass (disconnected), a superclass from another vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kgstudio.domain import Ontology

_NAME = re.compile(r"[A-Za-z_][\w.-]*\Z")
XSD_TYPES = {"string", "date", "dateTime", "time", "gYear", "integer", "int", "long", "decimal", "double", "float",
             "boolean", "anyURI", "duration", "nonNegativeInteger", "positiveInteger", "langString"}


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" or "warning"
    term: str  # the class or property it is about
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.term}: {self.message}"


def validate_ontology(ontology: Ontology, *, allow_disconnected: bool = False) -> list[Problem]:
    """Every problem of ``ontology``, errors first (see the module docstring).

    ``allow_disconnected``: the user consents to classes no property connects; they are then not reported.
    """
    problems: list[Problem] = []
    # Unique among classes and among properties ignoring case (the model's answers are matched that
    # way); a class and a property may differ in case only ("Event" and "event", as schema.org has).
    seen: dict[tuple[str, str], str] = {}
    exact: dict[str, str] = {}
    for kind, name in [("class", c.name) for c in ontology.classes] + [("property", p.name)
                                                                       for p in ontology.properties]:
        folded = (kind, name.casefold())
        if folded in seen:
            problems.append(Problem("error", name, f"two {kind} names differ only in case or are equal "
                                                   f"({seen[folded]} and {name})"))
        elif name in exact:
            problems.append(Problem("error", name, f"the name is used twice (as a {exact[name]} and a {kind})"))
        seen.setdefault(folded, name)
        exact.setdefault(name, kind)
        if not _NAME.match(name):
            problems.append(Problem("error", name, "a name must start with a letter and hold only letters, digits, "
                                                   "'_', '-' and '.'"))
    classes = {c.name: c for c in ontology.classes}
    for cls in ontology.classes:
        if cls.parent == cls.name:
            problems.append(Problem("error", cls.name, "the class is its own superclass"))
        elif cls.parent and cls.parent not in classes:
            problems.append(Problem("warning", cls.name, f"the superclass {cls.parent} is not a class of the ontology"))
    problems += _cycles(ontology)
    for prop in ontology.properties:
        if prop.kind not in ("object", "data"):
            problems.append(Problem("error", prop.name, f"kind {prop.kind!r}: a property is 'object' or 'data'"))
        if prop.domain and prop.domain not in classes:
            problems.append(Problem("error", prop.name, f"the domain {prop.domain} is not a class of the ontology"))
        if prop.range:
            if prop.range.startswith("xsd:"):
                if prop.kind == "object":
                    problems.append(Problem("error", prop.name, f"an object property cannot have the datatype "
                                                                f"{prop.range} as range; make it a data property"))
                elif prop.range.removeprefix("xsd:") not in XSD_TYPES:
                    problems.append(Problem("error", prop.name, f"unknown datatype {prop.range}"))
            elif prop.range not in classes:
                problems.append(Problem("error", prop.name, f"the range {prop.range} is not a class of the ontology"))
            elif prop.kind == "data":
                problems.append(Problem("error", prop.name, f"a data property needs a datatype (xsd:...) as range, "
                                                            f"not the class {prop.range}"))
    if not allow_disconnected:
        used = {p.domain for p in ontology.properties} | {p.range for p in ontology.properties}
        related = {c.parent for c in ontology.classes} | {c.name for c in ontology.classes if c.parent}
        for cls in ontology.classes:
            if cls.name not in used and cls.name not in related:
                problems.append(Problem("warning", cls.name, "disconnected: no property and no superclass or subclass "
                                                             "relates it to the rest of the ontology"))
    return sorted(problems, key=lambda p: p.severity != "error")


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def _cycles(ontology: Ontology) -> list[Problem]:
    parent = {c.name: c.parent for c in ontology.classes if c.parent and c.parent != c.name}
    reported: set[frozenset[str]] = set()
    problems = []
    for start in parent:
        path, current = [], start
        while current in parent and current not in path:
            path.append(current)
            current = parent[current]
        if current in path:
            loop = path[path.index(current):]
            if frozenset(loop) not in reported:
                reported.add(frozenset(loop))
                problems.append(Problem("error", loop[0], "cycle in the class hierarchy: "
                                        + " -> ".join(loop + [loop[0]])))
    return problems
