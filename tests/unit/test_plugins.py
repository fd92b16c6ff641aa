"""Plugins come from entry points; the built-in backend is one; a broken plugin is reported, not fatal."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from kgstudio import plugins
from kgstudio.errors import KgstudioError


def test_the_builtin_backend_is_an_entry_point() -> None:
    (llamacpp,) = [p for p in plugins.available("backends") if p.name == "llamacpp"]
    assert llamacpp.distribution == "kgstudio"
    assert plugins.load("backends", "llamacpp").__name__ == "LlamaCppBackend"


def test_a_broken_plugin_is_reported_and_the_rest_still_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_plugin.py").write_text("raise ImportError('needs libfoo 2.0')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    real = plugins.entry_points

    def with_broken(group: str):
        found = list(real(group=group))
        if group == "kgstudio.backends":
            found.append(EntryPoint("broken", "broken_plugin:Backend", group))
        return found

    monkeypatch.setattr(plugins, "entry_points", with_broken)
    results = {p.name: p for p in plugins.load_all("backends")}
    assert results["broken"].error == "ImportError: needs libfoo 2.0"
    assert results["llamacpp"].error is None and results["llamacpp"].loaded is not None
    with pytest.raises(KgstudioError, match="backends plugin 'broken' .* failed to load: needs libfoo 2.0"):
        plugins.load("backends", "broken")
    sys.modules.pop("broken_plugin", None)


def test_unknown_names_and_kinds() -> None:
    with pytest.raises(KgstudioError, match="no backends plugin called 'gpt9'"):
        plugins.load("backends", "gpt9")
    with pytest.raises(KgstudioError, match="unknown plugin kind"):
        plugins.available("widgets")
