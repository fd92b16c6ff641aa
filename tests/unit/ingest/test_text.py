from pathlib import Path

import pytest

from kgstudio.domain import TextLocator
from kgstudio.ingest.reader import ReadError, ReadOptions, Source
from kgstudio.ingest.text import PlainTextReader


def read(data: bytes):
    (result,) = PlainTextReader().read(Source("notes.txt", data=data), ReadOptions())
    return result


def test_paragraphs_with_line_locators_and_encodings() -> None:
    result = read("Ada Lovelace\nwrote notes.\n\n\nBabbage built engines.\n".encode())
    assert [(s.text, s.locator) for s in result.segments] == [
        ("Ada Lovelace wrote notes.", TextLocator(1, 2)), ("Babbage built engines.", TextLocator(5, 5))]
    assert read("Café".encode("cp1252")).segments[0].text == "Café"
    assert read("Café".encode("utf-16")).metadata["encoding"] == "utf-16"


def test_shared_ground_truth_text(shared_data: Path) -> None:
    result = read((shared_data / "pdf" / "cv" / "John_Doe.txt").read_bytes())
    assert "John Doe" in " ".join(s.text for s in result.segments)


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\x00\x01binary\x00"])
def test_empty_or_binary_is_refused(data: bytes) -> None:
    with pytest.raises(ReadError):
        read(data)
