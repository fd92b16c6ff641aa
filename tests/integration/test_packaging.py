"""The desktop bundle's launcher, without building the bundle (packaging/smoke_test.sh builds and runs it).

The launcher is what a frozen app runs first: it puts plugin folders on the
path, since a bundle has no pip. Run here with the ordinary interpreter, it
must find a plugin installed into such a folder.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = REPO / "packaging" / "kgstudio_launcher.py"


def test_plugin_folders_come_from_the_variable_then_the_data_folder(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, data = tmp_path / "first", tmp_path / "second", tmp_path / "data"
    for folder in (first, second, data / "plugins"):
        folder.mkdir(parents=True)
    monkeypatch.setenv("KGSTUDIO_PLUGIN_PATH", os.pathsep.join([str(first), str(tmp_path / "missing"), str(second)]))
    monkeypatch.setenv("KGSTUDIO_DATA_DIR", str(data))
    plugin_folders = runpy.run_path(str(LAUNCHER))["plugin_folders"]
    assert plugin_folders() == [str(first), str(second), str(data / "plugins")]


def test_the_launcher_finds_a_plugin_in_the_user_plugin_folder(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "plugins"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q", "--target",
                    str(folder), str(REPO / "plugins" / "kgstudio-gexf")], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "KGSTUDIO_DATA_DIR": str(tmp_path / "data")}
    env.pop("PYTHONPATH", None)
    listed = subprocess.run([sys.executable, str(LAUNCHER), "plugins", "--kind", "exporters", "--json"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert listed.returncode == 0, listed.stderr
    (gexf,) = [p for p in json.loads(listed.stdout)["exporters"] if p["name"] == "gexf"]
    assert gexf["ok"] and gexf["distribution"] == "kgstudio-gexf"
