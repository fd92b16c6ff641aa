"""User settings shared by the CLI and the GUI: model paths, default model, recent projects.

Stored as JSON in the user's config folder (``platformdirs``), or in
``$KGSTUDIO_CONFIG_DIR`` when set (tests and portable installs). Nothing is
read at import time; call :meth:`Settings.load`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs

MAX_RECENT = 10


def config_dir() -> Path:
    override = os.environ.get("KGSTUDIO_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("kgstudio"))


def data_dir() -> Path:
    """Where user-wide data lives; ``models/`` inside it is searched for GGUF files."""
    override = os.environ.get("KGSTUDIO_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("kgstudio"))


@dataclass
class Settings:
    model_paths: list[str] = field(default_factory=list)  # GGUF files or folders holding them
    default_model: str | None = None  # None: the embedded SmolLM2 model
    recent_projects: list[str] = field(default_factory=list)

    @classmethod
    def load(cls) -> "Settings":
        """Read the settings file; a missing or unreadable file gives the defaults."""
        path = config_dir() / "settings.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        return cls(**known)

    def save(self) -> None:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        folder = config_dir()
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
        os.replace(handle.name, folder / "settings.json")

    def add_recent(self, project: str) -> None:
        self.recent_projects = [project] + [p for p in self.recent_projects if p != project]
        del self.recent_projects[MAX_RECENT:]
