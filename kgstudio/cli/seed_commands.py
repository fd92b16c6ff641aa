"""``kgstudio seeds PROJECT``: compute, list and review the seed concepts of a project.

Without an option the seeds are recomputed from the corpus (TextRank) and
listed; ``--list`` only lists. ``--add``, ``--accept``, ``--reject`` and
``--rename`` are the user's review, which a recompute never undoes.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from kgstudio.cli.terminal_progress import TerminalProgress
from kgstudio.domain import Seed, SeedStatus
from kgstudio.errors import EditError
from kgstudio.pipeline.seeds import add_user_seed, run_seeds
from kgstudio.store import Project


def register(commands: Any) -> None:
    command = commands.add_parser(
        "seeds", help="compute and review seed concepts (corpus keyphrases that steer extraction)",
        description="Without an action, recompute the seeds from the imported documents and list them. "
        "Accepted, rejected and user-added seeds survive a recompute.",
    )
    command.add_argument("project")
    action = command.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the stored seeds without recomputing")
    action.add_argument("--add", metavar="PHRASE", help="add a seed of your own (accepted)")
    action.add_argument("--accept", type=int, metavar="ID", help="accept a seed")
    action.add_argument("--reject", type=int, metavar="ID", help="reject a seed (it is never proposed again)")
    action.add_argument("--rename", nargs=2, metavar=("ID", "TEXT"), help="change a seed's phrase")
    command.add_argument("--top", type=int, default=30, metavar="N", help="how many keyphrases to propose (default 30)")
    command.add_argument("--all", action="store_true", help="list rejected seeds too")
    command.add_argument("--json", action="store_true", help="print machine-readable JSON")
    command.set_defaults(handler=run_seed_command)


def run_seed_command(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        if args.add is not None:
            return _show([add_user_seed(project, args.add)], args.json)
        if args.accept is not None or args.reject is not None:
            seed_id, status = (args.accept, SeedStatus.ACCEPTED) if args.accept is not None \
                else (args.reject, SeedStatus.REJECTED)
            with project.transaction() as repos:
                return _show([repos.seeds.set_status(seed_id, status)], args.json)
        if args.rename is not None:
            with project.transaction() as repos:
                return _show([repos.seeds.rename(_seed_id(args.rename[0]), args.rename[1])], args.json)
        if not args.list:
            bar = TerminalProgress()
            try:
                run_seeds(project, top=args.top, progress=bar)
            finally:
                bar.close()
        with project.repositories() as repos:
            seeds = repos.seeds.list(include_rejected=args.all)
    if not seeds and not args.json:
        print("No seeds yet: import documents, then run `kgstudio seeds PROJECT`.")
        return 0
    return _show(seeds, args.json)


def _seed_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise EditError(f"not a seed id: {value!r}") from None


def _show(seeds: list[Seed], as_json: bool) -> int:
    if as_json:
        print(json.dumps([{**asdict(seed), "status": str(seed.status), "origin": str(seed.origin)} for seed in seeds],
                         indent=2, ensure_ascii=False))
        return 0
    for seed in seeds:
        print(f"#{seed.id:<5} {seed.score:6.3f}  {seed.status:<8}  {seed.origin:<8}  {seed.text}")
    return 0
