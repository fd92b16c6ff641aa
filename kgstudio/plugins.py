"""Plugin discovery: one entry-point group per kind, built-ins registered the same way.

Groups: ``kgstudio.readers``, ``kgstudio.exporters``, ``kgstudio.backends``.
kgstudio's own readers, exporters and backends are entry points of the
kgstudio distribution itself (see ``pyproject.toml``), so a third-party
package extends kgstudio exactly as the built-ins do. Plugins load lazily,
by name; a plugin that fails to load is reported (which one, why) and never
stops the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from kgstudio.errors import KgstudioError

GROUPS = {
    "readers": "kgstudio.readers",
    "exporters": "kgstudio.exporters",
    "backends": "kgstudio.backends",
}


@dataclass(frozen=True)
class Plugin:
    """One entry point: where it comes from, and (after :func:`load_all`) whether it loaded."""

    kind: str
    name: str
    target: str  # "module:attribute"
    distribution: str | None
    loaded: object | None = None
    error: str | None = None


def available(kind: str) -> list[Plugin]:
    """The plugins of one kind, without importing them."""
    return [_describe(kind, entry) for entry in _entries(kind)]


def load(kind: str, name: str) -> Any:
    """Import and return one plugin; :class:`KgstudioError` names it and says why when it cannot."""
    for entry in _entries(kind):
        if entry.name == name:
            try:
                return entry.load()
            except Exception as exc:  # a third-party module may raise anything at import
                raise KgstudioError(f"{kind} plugin {name!r} ({entry.value}) failed to load: {exc}") from exc
    known = ", ".join(sorted(e.name for e in _entries(kind))) or "none"
    raise KgstudioError(f"no {kind} plugin called {name!r} (installed: {known})")


def load_all(kind: str) -> list[Plugin]:
    """Every plugin of a kind, each loaded or carrying the error that stopped it."""
    results = []
    for entry in _entries(kind):
        plugin = _describe(kind, entry)
        try:
            results.append(Plugin(**{**plugin.__dict__, "loaded": entry.load()}))
        except Exception as exc:  # reported, never fatal: one broken plugin must not stop kgstudio
            results.append(Plugin(**{**plugin.__dict__, "error": f"{type(exc).__name__}: {exc}"}))
    return results


def _entries(kind: str) -> list[EntryPoint]:
    try:
        group = GROUPS[kind]
    except KeyError:
        raise KgstudioError(f"unknown plugin kind {kind!r} (one of {', '.join(GROUPS)})") from None
    # Several installed copies of one distribution can list the same entry point twice.
    unique = {(e.name, e.value): e for e in entry_points(group=group)}
    return sorted(unique.values(), key=lambda e: e.name)


def _describe(kind: str, entry: EntryPoint) -> Plugin:
    distribution = entry.dist.name if entry.dist is not None else None
    return Plugin(kind, entry.name, entry.value, distribution)
