"""Installed plugins: the example GEXF exporter works from the CLI, `kgstudio plugins` lists it,
and a plugin that raises on import is reported while kgstudio keeps working."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parents[2]
GEXF_PLUGIN = REPO / "plugins" / "kgstudio-gexf"

BROKEN_PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "kgstudio-broken"
version = "0.0.1"

[project.entry-points."kgstudio.readers"]
broken = "kgstudio_broken:Reader"

[project.entry-points."kgstudio.exporters"]
broken = "kgstudio_broken:Exporter"

[tool.setuptools]
py-modules = ["kgstudio_broken"]
"""


def pip_install(package: Path, target: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q",
                    "--target", str(target), str(package)], check=True, capture_output=True, timeout=300)


def kgstudio(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kgstudio", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=180)


def test_the_gexf_plugin_passes_its_tests_and_exports_through_the_cli(tmp_path: Path) -> None:
    target = tmp_path / "site"
    pip_install(GEXF_PLUGIN, target)
    env = {**os.environ, "PYTHONPATH": str(target)}
    plugin_tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   str(GEXF_PLUGIN / "tests")], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert plugin_tests.returncode == 0, plugin_tests.stdout + plugin_tests.stderr

    listed = json.loads(kgstudio(env, "plugins", "--json").stdout)
    (gexf,) = [p for p in listed["exporters"] if p["name"] == "gexf"]
    assert gexf == {"name": "gexf", "target": "kgstudio_gexf:GexfExporter", "distribution": "kgstudio-gexf",
                    "version": "0.1.0", "ok": True, "error": None, "problems": []}
    assert "GEXF (Gephi)" in kgstudio(env, "export", "--list").stdout

    project = str(tmp_path / "p.kgs")
    assert kgstudio(env, "new", project).returncode == 0
    for name in ("Ada Lovelace", "Charles Babbage"):
        assert kgstudio(env, "edit", project, "add-entity", name, "--class", "Person").returncode == 0
    added = kgstudio(env, "edit", project, "add-triple", "1", "knows", "--object", "2")
    assert added.returncode == 0, added.stderr
    exported = kgstudio(env, "export", project, "--format", "gexf", "-o", str(tmp_path / "p.gexf"), "--json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["entities"] == 2

    graph = nx.read_gexf(tmp_path / "p.gexf", version="1.3")
    assert [(graph.nodes[s]["label"], d["label"], graph.nodes[t]["label"]) for s, t, d in graph.edges(data=True)] \
        == [("Ada Lovelace", "knows", "Charles Babbage")]


@pytest.fixture
def broken_plugin(tmp_path: Path) -> dict[str, str]:
    """An installed distribution whose reader and exporter entry points raise on import."""
    source = tmp_path / "kgstudio-broken"
    source.mkdir()
    (source / "pyproject.toml").write_text(BROKEN_PYPROJECT)
    (source / "kgstudio_broken.py").write_text('raise ImportError("needs libfoo 2.0, which is not installed")\n')
    target = tmp_path / "site"
    pip_install(source, target)
    return {**os.environ, "PYTHONPATH": str(target)}


def test_a_broken_plugin_is_reported_and_kgstudio_still_works(broken_plugin: dict[str, str], tmp_path: Path) -> None:
    env = broken_plugin
    listing = kgstudio(env, "plugins")
    assert listing.returncode == 0, listing.stderr
    assert re.search(r"^  broken +FAILED: ImportError: needs libfoo 2.0, which is not installed  "
                     r"\(kgstudio-broken 0.0.1, kgstudio_broken:Reader\)$", listing.stdout, re.MULTILINE)
    assert listing.stdout.rstrip().endswith("2 plugins failed to load; kgstudio works without them")

    found = json.loads(kgstudio(env, "plugins", "--json").stdout)
    broken = [(kind, p["ok"], p["error"]) for kind, entries in found.items() for p in entries
              if p["distribution"] == "kgstudio-broken"]
    error = "ImportError: needs libfoo 2.0, which is not installed"
    assert broken == [("readers", False, error), ("exporters", False, error)]
    assert all(p["ok"] for entries in found.values() for p in entries if p["distribution"] == "kgstudio")

    # Everything else still works: the version, an import (other readers), exports and their list.
    assert kgstudio(env, "--version").returncode == 0
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ada.txt").write_text("Ada Lovelace wrote the first program.\n")
    project = str(tmp_path / "p.kgs")
    assert kgstudio(env, "new", project).returncode == 0
    imported = kgstudio(env, "import", project, str(notes), "--json")
    assert imported.returncode == 0 and json.loads(imported.stdout)["imported"] == 1, imported.stderr
    formats = kgstudio(env, "export", "--list")
    assert formats.returncode == 0 and "ttl" in formats.stdout and "broken" not in formats.stdout
    exported = kgstudio(env, "export", project, "-f", "ttl", "-o", str(tmp_path / "p.ttl"))
    assert exported.returncode == 0, exported.stderr
    unusable = kgstudio(env, "export", project, "-f", "broken", "-o", str(tmp_path / "p.x"))
    assert unusable.returncode == 1
    assert unusable.stderr.strip() == ("kgstudio: error: exporters plugin 'broken' (kgstudio_broken:Exporter) "
                                       "failed to load: needs libfoo 2.0, which is not installed")


@pytest.mark.gui
def test_the_window_opens_with_a_broken_plugin_installed(broken_plugin: dict[str, str], tmp_path: Path) -> None:
    env = {**broken_plugin, "QT_QPA_PLATFORM": "offscreen", "KGSTUDIO_CONFIG_DIR": str(tmp_path / "config"),
           "KGSTUDIO_DATA_DIR": str(tmp_path / "data")}
    window = subprocess.Popen([sys.executable, "-m", "kgstudio"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(8)  # long enough to import Qt, build the main window and enter the event loop
        assert window.poll() is None, window.communicate()
        window.send_signal(signal.SIGINT)  # the window closes on Ctrl+C
        _, stderr = window.communicate(timeout=30)
    finally:
        if window.poll() is None:
            window.kill()
    assert window.returncode == 0, stderr
