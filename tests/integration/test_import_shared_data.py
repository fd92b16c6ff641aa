"""Issue 3's acceptance: the whole shared corpus in one `kgstudio import --recursive`, as a user runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FOLDERS = ("pdf", "email", "excel")


def kgstudio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kgstudio", *args], capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from tests.conftest import require_shared_data

    SHARED_DATA = require_shared_data()
    project = str(tmp_path_factory.mktemp("corpus") / "corpus.kgs")
    assert kgstudio("new", project).returncode == 0
    folders = [str(SHARED_DATA / f) for f in FOLDERS]
    first = kgstudio("import", project, *folders, "--recursive", "--json")
    assert first.returncode == 0, first.stderr
    status = kgstudio("status", project, "--json")
    assert status.returncode == 0, status.stderr
    return {"project": project, "folders": folders, "report": json.loads(first.stdout),
            "status": json.loads(status.stdout), "files": sorted(p for f in FOLDERS for p in (SHARED_DATA / f).rglob("*")
                                                                 if p.is_file() and not p.name.startswith("."))}


def test_every_file_is_imported_or_refused_with_one_clear_line(imported: dict) -> None:
    report = imported["report"]
    assert report["files"] == len(imported["files"])
    assert report["imported"] + report["partial"] + report["failed"] + report["duplicate"] == report["files"]
    for problem in report["problems"]:
        message = problem["message"]
        assert message and "\n" not in message and "Traceback" not in message, problem
    failed = {Path(p["path"]).name: p["message"] for p in report["problems"] if p["outcome"] == "failed"}
    assert "empty" in failed["empty.pdf"]
    assert "password" in failed["libreoffice-writer-password.pdf"]
    assert "password" in failed["testEXCEL_protected_passtika.xlsx"].lower()
    assert {"invalid.pdf", "invalid-xml.xlsx", "too_small.xls"} <= set(failed)
    for good in ("multicolumn.pdf", "habibi.pdf", "nics-background-checks-2015-11.pdf", "tests.mbox",
                 "attached-pdf.eml", "merged_range.xlsx", "date_1904.xlsx", "nics-checks-archive.csv"):
        assert good not in failed, failed.get(good)


def test_status_shows_the_counts_and_the_per_file_errors(imported: dict) -> None:
    status, report = imported["status"], imported["report"]
    by_status = status["documents"]["by_status"]
    assert by_status["failed"] == report["failed"]
    assert status["segments"] > 1000 and status["chunks"] > 100
    assert status["triples"]["by_origin"]["header"] > 0 and status["triples"]["by_origin"]["table"] > 0
    failed_paths = {p["path"] for p in status["problems"] if p["status"] == "failed"}
    assert failed_paths == {p["path"] for p in report["problems"] if p["outcome"] == "failed"}


def test_the_pdf_attached_to_an_email_keeps_a_nested_locator(imported: dict) -> None:
    from kgstudio.domain import EmailLocator, PdfLocator
    from kgstudio.store import Project

    with Project.open(imported["project"]) as project, project.repositories() as repos:
        (attachment,) = [d for d in repos.documents.list() if d.path.endswith("attached-pdf.eml#test.pdf")]
        segments = repos.documents.segments(attachment.id)
    assert attachment.kind == "pdf" and segments
    assert isinstance(segments[0].locator, EmailLocator) and segments[0].locator.part_path == "test.pdf"
    assert isinstance(segments[0].locator.inner, PdfLocator) and segments[0].locator.inner.page == 1


def test_importing_the_same_folders_again_adds_nothing(imported: dict) -> None:
    again = kgstudio("import", imported["project"], *imported["folders"], "--json")
    report = json.loads(again.stdout)
    assert report["imported"] == report["partial"] == 0
    assert report["unchanged"] + report["duplicate"] + report["failed"] == report["files"]
    status = json.loads(kgstudio("status", imported["project"], "--json").stdout)
    assert status["segments"] == imported["status"]["segments"]
    assert status["triples"] == imported["status"]["triples"]


def test_changing_one_file_reimports_only_that_file(tmp_path: Path, shared_data: Path) -> None:
    folder = tmp_path / "mail"
    shutil.copytree(shared_data / "email" / "mbox", folder)
    project = str(tmp_path / "p.kgs")
    kgstudio("new", project)
    kgstudio("import", project, str(folder))
    (folder / "complex.mbox").write_bytes((folder / "complex.mbox").read_bytes() + b"\n")
    report = json.loads(kgstudio("import", project, str(folder), "--json").stdout)
    assert report["imported"] == 1 and report["unchanged"] == 2
    status = json.loads(kgstudio("status", project, "--json").stdout)
    assert status["documents"]["by_status"]["replaced"] >= 1
