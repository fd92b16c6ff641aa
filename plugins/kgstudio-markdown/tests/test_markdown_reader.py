from kgstudio.api import ReadOptions, Source, TextLocator, check_plugin
from kgstudio_markdown import MarkdownReader

NOTE = b"""---
tags: [demo]
---
# Field notes

Ada Lovelace corresponded with
Charles Babbage about the Analytical Engine.

## Sources

```
# not a heading
```
Letters, 1843.
"""


def test_headings_and_paragraphs_with_line_locators() -> None:
    (result,) = MarkdownReader().read(Source("notes.md", data=NOTE), ReadOptions())
    assert result.title == "Field notes"
    assert [(s.kind, s.text, s.locator) for s in result.segments] == [
        ("heading", "Field notes", TextLocator(4, 4)),
        ("text", "Ada Lovelace corresponded with Charles Babbage about the Analytical Engine.", TextLocator(6, 7)),
        ("heading", "Sources", TextLocator(9, 9)),
        ("text", "# not a heading", TextLocator(12, 12)),
        ("text", "Letters, 1843.", TextLocator(14, 14)),
    ]


def test_the_reader_fits_the_plugin_contract() -> None:
    assert check_plugin("readers", MarkdownReader, "markdown") == []
