"""Minting stable entity IRIs: project base IRI + readable slug + short unique id."""

from __future__ import annotations

import re
import unicodedata
import uuid

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str, max_length: int = 48) -> str:
    """ASCII slug of a name ("Café Müller & Co." → "cafe-muller-co"); "entity" if nothing is left."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SLUG.sub("-", folded).strip("-")[:max_length].strip("-")
    return slug or "entity"


def mint_entity_iri(base_iri: str, name: str) -> str:
    """A new IRI for an entity; unique because of the random short id, readable because of the slug."""
    return f"{base_iri}entity/{slugify(name)}-{uuid.uuid4().hex[:8]}"
