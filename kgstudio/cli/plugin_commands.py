"""``kgstudio plugins``: every installed reader, exporter and backend, where it comes from, and whether it loaded."""

from __future__ import annotations

import argparse
import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from kgstudio import plugins
from kgstudio.api import check_plugin


def register(commands: Any) -> None:
    listing = commands.add_parser(
        "plugins", help="list the installed readers, exporters and LLM backends and whether they load",
        description="Each plugin is imported to check it; one that fails is listed with the reason, "
        "and never stops kgstudio. Built-ins are listed too: they are plugins of the kgstudio distribution.",
    )
    listing.add_argument("--kind", choices=sorted(plugins.GROUPS), help="only this kind")
    listing.add_argument("--json", action="store_true", help="print machine-readable JSON")
    listing.set_defaults(handler=run_plugins)


def describe_plugins(kinds: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per kind, one entry per plugin: name, target, distribution and version, ok, error, problems."""
    found: dict[str, list[dict[str, Any]]] = {}
    for kind in kinds:
        found[kind] = []
        for plugin in plugins.load_all(kind):
            problems = [] if plugin.error is not None else check_plugin(kind, plugin.loaded, plugin.name)
            found[kind].append({
                "name": plugin.name, "target": plugin.target, "distribution": plugin.distribution,
                "version": _version(plugin.distribution), "ok": plugin.error is None and not problems,
                "error": plugin.error, "problems": problems,
            })
    return found


def run_plugins(args: argparse.Namespace) -> int:
    found = describe_plugins([args.kind] if args.kind else list(plugins.GROUPS))
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for kind, entries in found.items():
        print(f"{kind}:")
        width = max((len(e["name"]) for e in entries), default=0)
        for entry in entries:
            origin = entry["distribution"] or "?"
            if entry["version"]:
                origin += f" {entry['version']}"
            state = "ok" if entry["ok"] else "FAILED: " + (entry["error"] or "; ".join(entry["problems"]))
            print(f"  {entry['name']:<{width}}  {state}  ({origin}, {entry['target']})")
        if not entries:
            print("  none")
    failed = sum(not e["ok"] for entries in found.values() for e in entries)
    if failed:
        print(f"{failed} plugin{'s' if failed != 1 else ''} failed to load; kgstudio works without "
              f"{'them' if failed != 1 else 'it'}")
    return 0


def _version(distribution: str | None) -> str | None:
    if distribution is None:
        return None
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None
