"""Fixtures shared by all tests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own settings/data folders: tests never read or write the user's real ones."""
    home = tmp_path_factory.mktemp("kgstudio-home")
    monkeypatch.setenv("KGSTUDIO_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("KGSTUDIO_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # nothing may download a model
    return home


def require_shared_data() -> Path:
    """The shared real-world test files (../shared/data next to the repository).

    Skips when they are absent, unless KGSTUDIO_REQUIRE_SHARED_DATA=1 (CI), where that is a failure.
    """
    if not SHARED_DATA.is_dir():
        message = f"shared test data not found at {SHARED_DATA}"
        if os.environ.get("KGSTUDIO_REQUIRE_SHARED_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture
def shared_data() -> Path:
    return require_shared_data()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
