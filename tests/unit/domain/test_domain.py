from __future__ import annotations

import pytest

from kgstudio.domain import EmailLocator, PdfLocator, SheetLocator, TextLocator, Triple, locator_from_dict
from kgstudio.domain.iris import mint_entity_iri, slugify
from kgstudio.domain.locators import locator_to_dict


@pytest.mark.parametrize("locator", [
    PdfLocator(3, (1.0, 2.0, 3.0, 4.0), 5, 9),
    EmailLocator("<a@b>", "body", 1, 4),
    EmailLocator("<a@b>", "scan.pdf", inner=PdfLocator(2)),
    SheetLocator("Q1 2024", "B2:B9", 2),
    TextLocator(3, 7),
])
def test_locators_round_trip_through_json_dicts(locator) -> None:
    assert locator_from_dict(locator_to_dict(locator)) == locator


def test_unknown_locator_kind() -> None:
    with pytest.raises(ValueError, match="unknown locator kind"):
        locator_from_dict({"kind": "video"})


def test_triple_needs_exactly_one_object() -> None:
    with pytest.raises(ValueError):
        Triple(1, "knows")
    with pytest.raises(ValueError):
        Triple(1, "knows", object_id=2, object_literal="x")


def test_slugs_and_iris() -> None:
    assert slugify("Café Müller & Co.") == "cafe-muller-co"
    assert slugify("حبيبي") == "entity"
    first, second = mint_entity_iri("urn:x:", "IBM"), mint_entity_iri("urn:x:", "IBM")
    assert first.startswith("urn:x:entity/ibm-") and first != second
