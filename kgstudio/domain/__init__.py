"""Plain data types shared by every layer (standard library only).

These are what repositories return and commands take: no ORM rows, no Qt
objects. See DESIGN.md, "Data".
"""

from kgstudio.domain.changes import ChangeSet, RowChange
from kgstudio.domain.documents import Chunk, Document, DocumentStatus, Segment
from kgstudio.domain.graph import (
    Alias,
    Candidate,
    Entity,
    EntityStatus,
    Merge,
    Origin,
    Provenance,
    Triple,
    TripleStatus,
)
from kgstudio.domain.history import Actor, EditRecord, EditState
from kgstudio.domain.locators import (
    EmailLocator,
    Locator,
    PdfLocator,
    SheetLocator,
    TextLocator,
    locator_from_dict,
)
from kgstudio.domain.ontology import (
    CompetencyQuestion,
    ContractResult,
    Ontology,
    OntologyClass,
    OntologyProperty,
)
from kgstudio.domain.runs import LlmCall, Run, RunStatus
from kgstudio.domain.seeds import Seed, SeedOrigin, SeedStatus

__all__ = [
    "Actor", "Alias", "Candidate", "ChangeSet", "Chunk", "CompetencyQuestion",
    "ContractResult", "Document", "DocumentStatus", "EditRecord", "EditState",
    "EmailLocator", "Entity", "EntityStatus", "LlmCall", "Locator", "Merge", "Ontology",
    "OntologyClass", "OntologyProperty", "Origin", "PdfLocator", "Provenance",
    "RowChange", "Run", "RunStatus", "Seed", "SeedOrigin", "SeedStatus", "Segment", "SheetLocator",
    "TextLocator", "Triple", "TripleStatus", "locator_from_dict",
]
