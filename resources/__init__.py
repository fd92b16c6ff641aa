"""Data files shipped with kgstudio: icons, prompt templates, default ontology, example CQs, .desktop.

The repository's top-level ``resources/`` folder is installed as the package
``kgstudio.resources``; read files through :func:`path` / :func:`read_text`
so they are found in an installed wheel and in a checkout alike.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def path(*parts: str) -> Traversable:
    """A shipped file, e.g. ``path("ontology", "default.ttl")``."""
    return files(__name__).joinpath(*parts)


def read_text(*parts: str) -> str:
    return path(*parts).read_text(encoding="utf-8")
