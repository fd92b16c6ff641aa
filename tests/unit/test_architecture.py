"""The house rules of DESIGN.md, checked: Qt only in gui, packages import only what the table allows."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "kgstudio"
QT_MODULES = {"PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6", "PySide2"}

# DESIGN.md, "Packages": which kgstudio packages each package may import.
# Top-level modules (errors, progress, settings, plugins) are shared by all.
ALLOWED = {
    "domain": set(),
    "store": {"domain"},
    "ingest": {"domain"},
    "llm": {"domain"},
    "ontology": {"domain"},
    "graph": {"domain", "store"},
    "edit": {"domain", "store"},
    "export": {"domain", "store"},
    # DESIGN.md lists domain, store, llm, ontology; stages also read files (ingest) and
    # change the graph, which goes through edit commands (edit).
    "pipeline": {"domain", "store", "llm", "ontology", "ingest", "edit"},
    "cli": {"domain", "store", "ingest", "llm", "pipeline", "ontology", "graph", "edit", "export", "gui", "api"},
    "gui": {"domain", "store", "ingest", "llm", "pipeline", "ontology", "graph", "edit", "export"},
}
SHARED_MODULES = {"errors", "progress", "settings", "plugins", "resources"}
# kgstudio.api (the plugin facade) may import only what it re-exports.
API_MAY_IMPORT = {"domain", "errors", "export", "ingest", "llm", "plugins", "progress"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def core_files() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "gui" not in p.relative_to(PACKAGE).parts[:1]]


def test_nothing_outside_gui_imports_qt() -> None:
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(m for m in imported_modules(path) if m.split(".")[0] in QT_MODULES)
        for path in core_files()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_whole_core_loads_no_qt() -> None:
    """Catches Qt pulled in indirectly (by a third-party library) too."""
    modules = sorted(
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in core_files() if p.name != "__main__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(QT_MODULES)!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_follow_the_design_table(package: str) -> None:
    allowed = ALLOWED[package] | {package} | SHARED_MODULES
    violations = []
    for path in (PACKAGE / package).rglob("*.py"):
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "kgstudio" and len(parts) > 1 and parts[1] not in allowed:
                violations.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert violations == []


def test_domain_uses_only_the_standard_library() -> None:
    for path in (PACKAGE / "domain").rglob("*.py"):
        for module in imported_modules(path):
            top = module.split(".")[0]
            assert top in sys.stdlib_module_names or top in {"kgstudio", "__future__"}, f"{path}: {module}"


def test_the_plugin_api_imports_only_what_it_reexports() -> None:
    imported = {m.split(".")[1] for m in imported_modules(PACKAGE / "api.py") if m.startswith("kgstudio.")}
    assert imported <= API_MAY_IMPORT
