"""Scope and schema: ontology classes and properties, competency questions, contract results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class OntologyClass:
    name: str
    iri: str
    label: str | None = None
    parent: str | None = None  # name of the superclass
    description: str | None = None
    id: int | None = None


@dataclass
class OntologyProperty:
    name: str
    iri: str
    kind: str = "object"  # "object" (entity → entity) or "data" (entity → literal)
    domain: str | None = None
    range: str | None = None  # a class name, or an XSD datatype for data properties
    functional: bool = False
    label: str | None = None
    id: int | None = None


@dataclass
class Ontology:
    classes: list[OntologyClass] = field(default_factory=list)
    properties: list[OntologyProperty] = field(default_factory=list)


@dataclass
class CompetencyQuestion:
    text: str
    sparql: str | None = None
    status: str = "proposed"  # proposed / accepted / rejected
    last_answer: list[Any] | None = None
    id: int | None = None


@dataclass
class ContractResult:
    run_id: int | None
    subject_table: str  # "candidate", "triple", ...
    subject_id: int
    rule: str
    passed: bool
    message: str | None = None
    id: int | None = None
