"""``kgstudio import PROJECT PATH...``: files and folders into a project."""

from __future__ import annotations

import argparse
import json
import signal
from typing import Any

from kgstudio.cli.terminal_progress import TerminalProgress
from kgstudio.ingest.reader import ReadOptions
from kgstudio.pipeline.importing import ImportOptions, import_paths
from kgstudio.progress import CancelToken
from kgstudio.store import Project


def register(commands: Any) -> None:
    command = commands.add_parser("import", help="import PDFs, e-mails and spreadsheets (files or folders)")
    command.add_argument("project")
    command.add_argument("paths", nargs="+", metavar="PATH")
    command.add_argument("--recursive", action=argparse.BooleanOptionalAction, default=True,
                         help="go into sub-folders (default: yes)")
    command.add_argument("--include", action="append", default=[], metavar="GLOB",
                         help="only files matching (repeatable), e.g. '*.pdf'")
    command.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip matches (repeatable)")
    command.add_argument("--password", help="password of encrypted PDFs or workbooks")
    command.add_argument("--no-ocr", action="store_true", help="do not OCR pages without a text layer")
    command.add_argument("--json", action="store_true", help="print the report as JSON")
    command.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    options = ImportOptions(
        recursive=args.recursive, include=tuple(args.include), exclude=tuple(args.exclude),
        read=ReadOptions(password=args.password, ocr=not args.no_ocr),
    )
    cancel = CancelToken()
    # Ctrl+C finishes the file in hand, then stops: what was imported stays, a re-run resumes.
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    bar = TerminalProgress()
    try:
        with Project.open(args.project) as project:
            report = import_paths(project, args.paths, options, bar, cancel)
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    summary = report.to_dict()
    print(f"{summary['files']} files in {summary['seconds']} s: {summary['imported']} imported, "
          f"{summary['partial']} partly, {summary['failed']} failed, {summary['unchanged']} unchanged, "
          f"{summary['duplicate']} duplicates" + (" — cancelled, run again to resume" if report.cancelled else ""))
    for problem in summary["problems"]:
        print(f"  {problem['outcome']}: {problem['path']}: {problem['message']}")
    return 0
