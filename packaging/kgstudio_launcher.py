"""Entry point of the frozen application: the ``kgstudio`` command.

A frozen bundle has no pip, so third-party plugins cannot be installed into
it. Instead, folders named in ``KGSTUDIO_PLUGIN_PATH`` (separated like PATH)
and the user's plugin folder (``plugins/`` in kgstudio's data folder, e.g.
``~/.local/share/kgstudio/plugins``) are put on ``sys.path`` before kgstudio
starts; ``pip install --target THAT_FOLDER some-plugin`` installs a
pure-Python plugin there, and its entry points are found like any other.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def plugin_folders() -> list[str]:
    """Existing plugin folders, in the order they are searched."""
    from kgstudio.settings import data_dir

    named = [p for p in os.environ.get("KGSTUDIO_PLUGIN_PATH", "").split(os.pathsep) if p]
    candidates = [*named, str(data_dir() / "plugins")]
    return [folder for folder in dict.fromkeys(candidates) if Path(folder).is_dir()]


def main() -> int:
    # PyMuPDF prints a suggestion to install its layout add-on on stdout (not bundled), which
    # would corrupt `--json` output and `-o -` exports.
    os.environ.setdefault("PYMUPDF_SUGGEST_LAYOUT_ANALYZER", "0")
    # Appended, not prepended: a plugin folder must not shadow what the bundle ships.
    sys.path.extend(folder for folder in plugin_folders() if folder not in sys.path)
    from kgstudio.cli.main import main as kgstudio_main

    return kgstudio_main()


if __name__ == "__main__":
    sys.exit(main())
