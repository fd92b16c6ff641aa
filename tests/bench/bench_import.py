"""Import speed: kgstudio's PDF import vs bare PyMuPDF, and a folder of 1,000+ mixed files.

Run (with nothing else busy):  .venv/bin/python tests/bench/bench_import.py [--files N]
Prints one JSON object:
- pdf: pages/s of `kgstudio import` work (read: blocks, reading order, tables, locators;
  stored: documents, segments, chunks) vs bare `page.get_text()` on the same files, measured
  in alternating rounds; goal ratio >= 0.7. Also the import with the PDF reader's helper process
  switched off (pages read by one process, as bare get_text() is), and the CPU seconds (this
  process and its children) each took, which a busy machine disturbs less than wall time; and
  the load average before and after.
- folder: files/s and peak resident memory of importing a generated folder of N mixed files
  (PDF, e-mail, CSV, XLSX), in a child process so its peak is its own; then a re-import of the
  same folder (nothing to do) for comparison.
- mbox: messages/s and peak memory of importing one generated mbox of N short messages (a
  document and header facts each), in a child process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
TEXT_PDFS = ["multicolumn.pdf", "seasonal.pdf", "federal-register-2020-17221.pdf", "pdflatex-4-pages.pdf",
             "GeoTopo-komprimiert.pdf"]


def _cpu() -> float:
    """CPU seconds of this process and its (finished) children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bare_pymupdf(paths: list[Path]) -> tuple[int, float, float]:
    import pymupdf

    started, cpu, pages = time.perf_counter(), _cpu(), 0
    for path in paths:
        with pymupdf.open(path) as document:
            for page in document:
                page.get_text()
                pages += 1
    return pages, time.perf_counter() - started, _cpu() - cpu


def kgstudio_import(paths: list[Path], folder: Path, helper: bool = True) -> tuple[int, float, float]:
    from unittest import mock

    from kgstudio.ingest import pdf
    from kgstudio.pipeline.importing import import_paths
    from kgstudio.store import Project

    project_path = folder / f"bench-{time.monotonic_ns()}.kgs"
    with Project.create(project_path) as project, \
            mock.patch.object(pdf, "PARALLEL_MIN_PAGES", getattr(pdf, "PARALLEL_MIN_PAGES", 0) if helper else 10**9):
        started, cpu = time.perf_counter(), _cpu()
        report = import_paths(project, paths)
        elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
        assert report.count("imported") + report.count("partial") == len(paths), report.to_dict()
    import pymupdf

    pages = sum(pymupdf.open(p).page_count for p in paths)
    return pages, elapsed, cpu


def pdf_benchmark(rounds: int) -> dict:
    paths = [SHARED / "pdf" / "text" / name for name in TEXT_PDFS]
    runs = {"bare": bare_pymupdf, "import": kgstudio_import,
            "import_one_process": lambda p: kgstudio_import(p, folder, helper=False)}
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs["import"] = lambda p: kgstudio_import(p, folder)
        for _ in range(rounds):
            for name, run in runs.items():
                pages, seconds, cpu_seconds = run(paths)
                wall[name].append(pages / seconds)
                cpu[name].append(pages / cpu_seconds)
    median = {name: statistics.median(values) for name, values in wall.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    return {
        "files": TEXT_PDFS, "pages": pages, "rounds": rounds,
        "bare_pymupdf_pages_per_s": round(median["bare"], 1),
        "kgstudio_import_pages_per_s": round(median["import"], 1),
        "ratio": round(median["import"] / median["bare"], 3),
        "goal_ratio": 0.7,
        "kgstudio_import_one_process_pages_per_s": round(median["import_one_process"], 1),
        "ratio_one_process": round(median["import_one_process"] / median["bare"], 3),
        "pages_per_cpu_s": {name: round(value, 1) for name, value in median_cpu.items()},
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }


def make_message(n: int, *, people: int, teams: int, subject: str, hours: float, body: str):
    """Message ``n`` of a generated archive: one of ``people`` senders to one of ``teams`` lists."""
    import email.message
    import email.utils

    message = email.message.EmailMessage()
    message["From"] = f"Person {n % people} <person{n % people}@example.org>"
    message["To"] = f"team{n % teams}@example.org"
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(1_600_000_000 + int(n * hours * 3600))
    message["Message-ID"] = f"<{subject.split()[0].lower()}-{n}@example.org>"
    message.set_content(body)
    return message


def make_folder(folder: Path, count: int) -> dict[str, int]:
    """A realistic mix of distinct small documents (each file's content is unique)."""
    import openpyxl
    import pymupdf

    kinds = {"pdf": 0, "eml": 0, "csv": 0, "xlsx": 0}
    for n in range(count):
        sub = folder / f"batch-{n // 100:02d}"
        sub.mkdir(exist_ok=True)
        kind = ("pdf", "eml", "eml", "pdf", "csv", "pdf", "eml", "xlsx", "pdf", "eml")[n % 10]
        kinds[kind] += 1
        if kind == "pdf":
            document = pymupdf.open()
            for page_number in range(2):
                page = document.new_page()
                page.insert_text((72, 72), f"Report {n}, page {page_number + 1}", fontsize=14)
                page.insert_textbox(pymupdf.Rect(72, 100, 520, 700),
                                    f"Ada Lovelace met Charles Babbage in London in 18{n % 100:02d}. " * 12)
            document.save(sub / f"report-{n}.pdf")
        elif kind == "eml":
            message = make_message(n, people=37, teams=5, subject=f"Meeting notes {n}", hours=1,
                                   body=f"Hello,\n\nThe minutes of meeting {n} are below.\n\n" + "A decision was made. " * 20)
            (sub / f"note-{n}.eml").write_bytes(message.as_bytes())
        elif kind == "csv":
            rows = ["name,city,joined"] + [f"Member {n}-{i},City {i % 7},2020-0{1 + i % 9}-1{i % 9}" for i in range(30)]
            (sub / f"members-{n}.csv").write_text("\n".join(rows) + "\n")
        else:
            workbook = openpyxl.Workbook()
            sheet = workbook.active
            sheet.append(["Product", "Price", "Sold on"])
            for i in range(40):
                sheet.append([f"Item {n}-{i}", 1.5 * i, f"2021-03-{1 + i % 28:02d}"])
            workbook.save(sub / f"sales-{n}.xlsx")
    return kinds


CHILD = """
import json, resource, sys, time
from kgstudio.pipeline.importing import import_paths
from kgstudio.store import Project
with Project.open(sys.argv[1]) as project:
    started = time.perf_counter()
    report = import_paths(project, [sys.argv[2]])
    seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "report": report.to_dict(),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def folder_benchmark(count: int) -> dict:
    from kgstudio.store import Project

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "documents"
        folder.mkdir()
        kinds = make_folder(folder, count)
        project = Path(tmp) / "folder.kgs"
        Project.create(project).close()
        runs = []
        for _ in range(2):  # the first imports everything, the second finds nothing new
            out = subprocess.run([sys.executable, "-c", CHILD, str(project), str(folder)], capture_output=True,
                                 text=True, check=True)
            runs.append(json.loads(out.stdout))
        first, second = runs
    return {
        "files": count, "kinds": kinds,
        "files_per_s": round(count / first["seconds"], 1),
        "seconds": round(first["seconds"], 1),
        "peak_rss_mib": round(first["peak_rss_mib"], 1),
        "imported": first["report"]["imported"], "failed": first["report"]["failed"],
        "reimport_seconds": round(second["seconds"], 2),
        "reimport_unchanged": second["report"]["unchanged"],
        "ratio_reimport_vs_import_time": round(second["seconds"] / first["seconds"], 3),
    }


def mailbox_benchmark(messages: int) -> dict:
    """Messages/s of importing one mbox of ``messages`` short messages (each: headers as facts, a body)."""
    import mailbox

    from kgstudio.store import Project

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.mbox"
        box = mailbox.mbox(path)
        for n in range(messages):
            box.add(make_message(n, people=53, teams=7, subject=f"Status {n}", hours=1 / 6,
                                 body=f"Report {n}: the survey of site {n % 40} is finished.\n"))
        box.close()
        project = Path(tmp) / "mail.kgs"
        Project.create(project).close()
        out = subprocess.run([sys.executable, "-c", CHILD, str(project), str(path)], capture_output=True, text=True,
                             check=True)
        run = json.loads(out.stdout)
    return {"messages": messages, "messages_per_s": round(messages / run["seconds"], 1),
            "seconds": round(run["seconds"], 2), "peak_rss_mib": round(run["peak_rss_mib"], 1),
            "imported": run["report"]["imported"], "failed": run["report"]["failed"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=2000, help="messages in the generated mbox")
    args = parser.parse_args()
    print(json.dumps({"benchmark": "import", "pdf": pdf_benchmark(args.rounds),
                      "folder": folder_benchmark(args.files), "mbox": mailbox_benchmark(args.messages)}, indent=2))


if __name__ == "__main__":
    main()
