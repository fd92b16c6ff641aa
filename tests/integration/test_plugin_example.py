"""The example reader plugin installs like any package and kgstudio imports through it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "plugins" / "kgstudio-markdown"


def test_installed_markdown_plugin_is_used_by_kgstudio_import(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q",
                    "--target", str(target), str(PLUGIN)], check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}
    plugin_tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   str(PLUGIN / "tests")], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert plugin_tests.returncode == 0, plugin_tests.stdout + plugin_tests.stderr

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "lovelace.md").write_text("# Ada\n\nAda Lovelace wrote the first program.\n")

    def kgstudio(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kgstudio", *args], capture_output=True, text=True, env=env,
                              timeout=120)

    project = str(tmp_path / "p.kgs")
    assert kgstudio("new", project).returncode == 0
    imported = kgstudio("import", project, str(notes), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["imported"] == 1
    status = json.loads(kgstudio("status", project, "--json").stdout)
    assert status["documents"]["by_status"]["imported"] == 1 and status["segments"] == 2
