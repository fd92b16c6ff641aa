"""kgstudio.api is the plugin facade: its names exist, nothing else is public, and a plugin
written only against it reads and exports through kgstudio's registries."""

from __future__ import annotations

import ast
import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from kgstudio import api, plugins
from kgstudio.errors import KgstudioError
from kgstudio.export import export_formats, export_project
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project

# A reader of "*.notes" files (one passage per non-empty line) and an exporter that writes
# one entity name per line, importing nothing of kgstudio but kgstudio.api.
PLUGIN_SOURCE = textwrap.dedent('''
    from kgstudio.api import (ExportFormat, ReadError, ReadResult, SegmentDraft, TextLocator,
                              EntityRef, FactDraft, open_file)

    class NotesReader:
        name = "notes"
        patterns = ("*.notes",)

        def sniff(self, head):
            return head.startswith(b"NOTES\\n")

        def read(self, source, options):
            lines = source.read_bytes().decode("utf-8").split("\\n")
            if lines[0] != "NOTES":
                raise ReadError("no NOTES header")
            result = ReadResult("notes", title=source.name)
            for number, line in enumerate(lines[1:], start=2):
                if line.strip():
                    result.segments.append(SegmentDraft(line.strip(), TextLocator(number, number)))
            author = EntityRef("notes:author", "Ada Lovelace", "Person")
            result.facts.append(FactDraft(author, "wrote", EntityRef("notes:g", "Note G"), 0, "header"))
            yield result

    class NamesExporter:
        format = ExportFormat("names", "Entity names", ".txt")

        def write(self, context, out):
            with open_file(out) as sink:
                for batch in context.source.entity_batches():
                    context.cancel.raise_if_cancelled()
                    for entity in sorted(batch, key=lambda e: e.name):
                        sink.write(entity.name + "\\n")
                        context.report.entities += 1
''')


def test_every_public_name_exists_and_nothing_else_is_public() -> None:
    assert len(api.__all__) == len(set(api.__all__))
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert missing == []
    # Only what __all__ lists (plus the module's own imports of the standard library) is public.
    public = {name for name in vars(api) if not name.startswith("_")}
    assert public - set(api.__all__) == {"annotations", "inspect", "Any"}


def test_the_api_reexports_the_very_objects_kgstudio_uses() -> None:
    from kgstudio.export.formats import ExportFormat
    from kgstudio.ingest.reader import Source
    from kgstudio.progress import CancelToken

    assert api.ExportFormat is ExportFormat and api.Source is Source and api.CancelToken is CancelToken
    assert api.GROUPS == {"readers": "kgstudio.readers", "exporters": "kgstudio.exporters",
                          "backends": "kgstudio.backends"}


@pytest.mark.parametrize("kind", sorted(plugins.GROUPS))
def test_every_builtin_plugin_fits_its_contract(kind: str) -> None:
    loaded = plugins.load_all(kind)
    assert loaded and all(p.error is None for p in loaded)
    assert {p.name: api.check_plugin(kind, p.loaded, p.name) for p in loaded} == {p.name: [] for p in loaded}


def test_check_plugin_says_what_does_not_fit() -> None:
    class Shouting:
        name = "shout"
        patterns = ("*.TXT",)

        def sniff(self, head: bytes) -> bool:
            return False

    class Misnamed:
        format = api.ExportFormat("other", "Other", ".x")
        write = "not a method"

    class Exploding:
        def __init__(self) -> None:
            raise OSError("no config")

    assert api.check_plugin("readers", Shouting) == [
        "Shouting has no 'read'", "patterns must be lower case (file names are matched lower-cased)"]
    assert api.check_plugin("exporters", Misnamed, "mine") == [
        "Misnamed.write is not callable", "format.name is 'other' but the entry point is called 'mine'"]
    assert api.check_plugin("exporters", Exploding) == ["Exploding() failed: OSError: no config"]
    assert api.check_plugin("backends", 42) == ["int is not a class"]
    with pytest.raises(KgstudioError, match="unknown plugin kind"):
        api.check_plugin("widgets", Shouting)


@pytest.fixture
def api_only_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    module = "api_only_plugin"
    (tmp_path / f"{module}.py").write_text(PLUGIN_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    real = plugins.entry_points
    extra = {"kgstudio.readers": [EntryPoint("notes", f"{module}:NotesReader", "kgstudio.readers")],
             "kgstudio.exporters": [EntryPoint("names", f"{module}:NamesExporter", "kgstudio.exporters")]}
    monkeypatch.setattr(plugins, "entry_points", lambda group: [*real(group=group), *extra.get(group, [])])
    yield module
    sys.modules.pop(module, None)


def test_a_plugin_written_only_against_the_api_reads_and_exports(api_only_plugin: str, tmp_path: Path) -> None:
    imported = {n.module for n in ast.walk(ast.parse(PLUGIN_SOURCE)) if isinstance(n, ast.ImportFrom)}
    assert imported == {"kgstudio.api"}
    assert api.check_plugin("readers", plugins.load("readers", "notes")) == []
    assert api.check_plugin("exporters", plugins.load("exporters", "names"), "names") == []

    notes = tmp_path / "in"
    notes.mkdir()
    (notes / "engine.notes").write_text("NOTES\nThe Analytical Engine weaves algebraic patterns.\n\nNote G.\n")
    project = Project.create(tmp_path / "p.kgs")
    report = import_paths(project, [notes])
    assert [f.outcome for f in report.files] == ["imported"]

    assert "names" in [f.name for f in export_formats()]
    out = tmp_path / "names.txt"
    assert export_project(project, "names", out).entities == 2
    assert out.read_text() == "Ada Lovelace\nNote G\n"
