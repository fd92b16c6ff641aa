"""The built wheel carries every module and every resource, and resources load from it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_contains_modules_and_resources_that_load_from_it(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("kgstudio-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    modules = {str(p.relative_to(REPO)) for p in (REPO / "kgstudio").rglob("*.py")}
    assert modules - names == set(), "modules missing from the wheel: add their package to pyproject.toml"
    resources = {"kgstudio/resources/" + str(p.relative_to(REPO / "resources"))
                 for p in (REPO / "resources").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert resources - names == set()
    assert "kgstudio/resources/ontology/default.ttl" in names

    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    code = (
        "import kgstudio.resources as r\n"
        "print(r.__file__)\n"
        "print(r.read_text('ontology', 'default.ttl').splitlines()[0])\n"
        "print(r.path('icons', 'kgstudio.svg').is_file(), r.path('kgstudio.desktop').is_file())\n"
    )
    # -S: no site-packages, so only the unpacked wheel can provide kgstudio
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(installed)}).stdout.splitlines()
    assert out[0].startswith(str(installed))
    assert out[1].startswith("# kgstudio default ontology")
    assert out[2] == "True True"
