"""The ``kgstudio`` command: no arguments opens the GUI, a subcommand runs headless.

User mistakes (a missing file, a file that is not a project, nothing to
undo) print one line on stderr and exit 1; argparse usage errors exit 2; a
run paused because something outside kgstudio failed (a model server gone)
exits 75 (``RunPausedError.exit_code``), and running it again resumes.
Tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kgstudio import __version__
from kgstudio.cli import (
    edit_commands,
    export_commands,
    extract_commands,
    fuse_commands,
    import_commands,
    model_commands,
    plugin_commands,
    project_commands,
    reflect_commands,
    scope_commands,
    seed_commands,
)
from kgstudio.errors import KgstudioError

EXIT_USER_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what the shell shows for a tool its reader left


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kgstudio",
        description="Build a knowledge graph from your own documents with a local LLM. "
        "Without a command (or with just a project file: kgstudio thesis.kgs), the desktop application opens.",
    )
    parser.add_argument("--version", action="version", version=f"kgstudio {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    gui = commands.add_parser("gui", help="open the desktop application (the default)")
    gui.add_argument("project", nargs="?", help="a project to open")
    gui.set_defaults(handler=_run_gui)
    project_commands.register(commands)
    import_commands.register(commands)
    edit_commands.register(commands)
    model_commands.register(commands)
    seed_commands.register(commands)
    extract_commands.register(commands)
    fuse_commands.register(commands)
    export_commands.register(commands)
    scope_commands.register(commands)
    plugin_commands.register(commands)
    reflect_commands.register(commands)
    parser.set_defaults(commands=set(commands.choices))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kgstudio`` console script; returns the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-") and argv[0] not in parser.get_default("commands"):
        # `kgstudio thesis.kgs` (and the .desktop file's `kgstudio %F`) opens the window on it.
        argv.insert(0, "gui")
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", _run_gui)
    try:
        return handler(args) or 0
    except KgstudioError as exc:
        print(f"kgstudio: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", EXIT_USER_ERROR)
    except KeyboardInterrupt:
        print("kgstudio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Whoever reads our output stopped reading (`kgstudio triples P | head`): stop quietly, as Unix
        # tools do. Point stdout at /dev/null so the flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _run_gui(args: argparse.Namespace) -> int:
    from kgstudio.gui.app import run_gui  # Qt is imported only when the GUI is wanted

    return run_gui(getattr(args, "project", None))


if __name__ == "__main__":
    sys.exit(main())
