"""Fuzz every reader (PDF, e-mail .eml/.mbox/.msg, spreadsheet .xlsx/.xls/.csv, RDF import) for a bounded time.

Run (not part of the default test run):

    .venv/bin/python tests/bench/fuzz_readers.py [--seconds 600] [--seed 1] [--findings DIR]

Seeds are the real files in ../shared/data (plus one Outlook item built with
extract-msg's own writer, as the unit tests do). Each input is a seed mutated
by a seeded mutator: bit flips, "interesting" bytes, truncation, deletions,
repeated chunks, splices with another seed of the same kind; for zip-based
workbooks also the same mutations applied *inside* one member, re-zipped, so
the XML parsers are reached and not only the zip's CRC check.

Each input is read in a forked child (the parent has already imported the
libraries, so a fork costs milliseconds) under an address-space limit
(``resource.setrlimit(RLIMIT_AS)``) and a per-file timeout, through the real
reader registry, attachments included, exactly as an import reads them. RDF
goes through ``kgstudio.edit.rdf_import.import_rdf`` into a real project.

The outcome must be a normal result or a recorded per-file error (a
:class:`~kgstudio.errors.KgstudioError`, which the importer turns into the
file's one-line message). Anything else — a crash (signal), a hang past the
timeout, ``MemoryError`` under the limit, any other exception type, or a
result whose metadata is not JSON-safe — is a finding: the input and a JSON
note (traceback included) are saved in the findings folder.

Prints one JSON object: inputs per reader, time, outcomes, findings.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
MAX_SEED_BYTES = 400_000  # bigger seeds are cut (a CSV) or left out: throughput matters more than size here
INTERESTING = [b"\x00", b"\xff", b"\x7f", b"\x80", b"0", b"-1", b"4294967295", b"99999999999", b"<", b">",
               b"(", b")", b"[", b"]", b"\n", b"\r\n", b"%", b"=", b"@", b"&", b"--", b"obj", b"endobj",
               b"R", b" 0 R", b"<<", b">>", b"stream", b"boundary=", b"Content-Type: multipart/mixed;",
               b"=?utf-8?b?", b"From ", b"<!ENTITY", b"&#x0;", b"\xef\xbb\xbf", b"\"", b";", b"@prefix"]


@dataclass
class Kind:
    """One reader under fuzz: its seeds and the name a fuzzed input is given."""

    name: str
    seeds: list[tuple[str, bytes]] = field(default_factory=list)


def collect_seeds() -> dict[str, Kind]:
    kinds = {name: Kind(name) for name in ("pdf", "eml", "mbox", "msg", "xlsx", "xls", "csv", "rdf")}
    suffixes = {".pdf": "pdf", ".eml": "eml", ".mbox": "mbox", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls",
                ".csv": "csv", ".ttl": "rdf", ".rdf": "rdf"}
    for path in sorted(DATA.rglob("*")):
        kind = suffixes.get(path.suffix.lower())
        if kind is None or not path.is_file():
            continue
        data = path.read_bytes()
        if len(data) > MAX_SEED_BYTES:
            if kind not in ("csv", "mbox", "rdf"):
                continue  # a cut binary file is only a truncation test, which the mutator does anyway
            data = data[:MAX_SEED_BYTES // 8]
        kinds[kind].seeds.append((path.name, data))
    try:
        sys.path.insert(0, str(ROOT))
        from tests.unit.ingest.test_email import build_msg

        kinds["msg"].seeds.append(("item.msg", build_msg()))
        kinds["msg"].seeds.append(("loose.msg", build_msg("Loose", named_properties=False)))
    except Exception as exc:  # extract-msg absent: the .msg reader is then not fuzzed, and the report says so
        print(f"no .msg seed ({type(exc).__name__}: {exc})", file=sys.stderr)
    return {name: kind for name, kind in kinds.items() if kind.seeds}


# --- mutation -----------------------------------------------------------------------------------


def mutate_bytes(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    """1-4 stacked byte-level mutations."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        n = len(out)
        if op == 0 and n:  # bit flips
            for _ in range(rng.randint(1, 16)):
                i = rng.randrange(n)
                out[i] ^= 1 << rng.randrange(8)
        elif op == 1 and n:  # an interesting token written over or into the data
            token = rng.choice(INTERESTING)
            i = rng.randrange(n)
            if rng.random() < 0.5:
                out[i:i + len(token)] = token
            else:
                out[i:i] = token
        elif op == 2 and n:  # truncation
            del out[rng.randrange(n):]
        elif op == 3 and n > 2:  # delete a chunk
            i = rng.randrange(n)
            del out[i:i + rng.randint(1, max(1, n // 8))]
        elif op == 4 and n > 2:  # repeat a chunk many times (amplification)
            i = rng.randrange(n)
            chunk = bytes(out[i:i + rng.randint(1, 256)])
            out[i:i] = chunk * rng.choice((2, 16, 256, 4096))
        elif op == 5 and others:  # splice with another seed of the same kind
            other = rng.choice(others)
            if other:
                i, j = rng.randrange(n + 1), rng.randrange(len(other))
                out[i:] = other[j:j + rng.randint(1, 65536)]
        elif op == 6 and n:  # random bytes
            i = rng.randrange(n)
            out[i:i] = rng.randbytes(rng.randint(1, 64))
        elif op == 7 and n > 4:  # swap two chunks
            a, b = sorted(rng.sample(range(n), 2))
            size = rng.randint(1, max(1, min(b - a, 512)))
            out[a:a + size], out[b:b + size] = out[b:b + size], out[a:a + size]
    return bytes(out[:8 * MAX_SEED_BYTES])


def mutate_zip(data: bytes, rng: random.Random) -> bytes | None:
    """Mutate one member of a zip (a workbook's XML part) and zip it again; None when it is not a zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [(info, archive.read(info)) for info in archive.infolist()]
    except Exception:
        return None
    if not members:
        return None
    victim = rng.randrange(len(members))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (info, content) in enumerate(members):
            if index == victim:
                content = mutate_bytes(content, rng, [])
            archive.writestr(info.filename, content)
    return buffer.getvalue()


def make_input(kind: Kind, rng: random.Random) -> tuple[str, bytes]:
    name, seed = rng.choice(kind.seeds)
    others = [data for _, data in kind.seeds]
    if kind.name == "xlsx" and rng.random() < 0.6:
        mutated = mutate_zip(seed, rng)
        if mutated is not None:
            return name, mutated
    return name, mutate_bytes(seed, rng, others)


# --- running one input --------------------------------------------------------------------------


def read_through_registry(registry, name: str, data: bytes, options) -> dict:
    """Read as the importer does (attachments through the registry too); what came out, in numbers."""
    from kgstudio.ingest.reader import Source

    totals = Counter()

    def read(source: Source, depth: int) -> None:
        choice = registry.choose(source)
        if choice is None:
            totals["unsupported"] += 1
            return
        for result in choice.reader.read(source, options):
            json.dumps(result.metadata)  # the store writes it as JSON: the contract says JSON-safe values only
            for segment in result.segments:
                if not isinstance(segment.text, str):
                    raise TypeError(f"segment text is {type(segment.text).__name__}, not str")
            totals["documents"] += 1
            totals["segments"] += len(result.segments)
            totals["facts"] += len(result.facts)
            totals["defects"] += len(result.defects)
            for attachment in result.attachments:
                if depth >= 3:
                    continue
                try:
                    read(Source(attachment.name, data=attachment.data), depth + 1)
                except KgstudioError:
                    totals["attachment_errors"] += 1

    from kgstudio.errors import KgstudioError

    read(Source(name, data=data), 0)
    return dict(totals)


def read_rdf(template: Path, work: Path, name: str, data: bytes) -> dict:
    from kgstudio.edit.rdf_import import import_rdf
    from kgstudio.store.project import Project

    project_path = work / "project.kgs"
    shutil.copyfile(template, project_path)
    source = work / name
    source.write_bytes(data)
    with Project.open(project_path) as project:
        report = import_rdf(project, source)
    return {"statements": report.statements, "triples": report.triples}


def child(kind: str, name: str, data: bytes, registry, options, template: Path, memory_limit: int,
          write_fd: int) -> None:
    """In the forked child: limit memory, read, report one JSON line, exit without cleanup."""
    from kgstudio.errors import KgstudioError

    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    outcome: dict
    try:
        if kind == "rdf":
            work = Path(tempfile.mkdtemp(prefix="kgfuzz-"))
            try:
                outcome = {"status": "ok", "result": read_rdf(template, work, name, data)}
            finally:
                shutil.rmtree(work, ignore_errors=True)
        else:
            outcome = {"status": "ok", "result": read_through_registry(registry, name, data, options)}
    except KgstudioError as exc:
        outcome = {"status": "error", "type": type(exc).__name__, "message": str(exc)[:300]}
    except MemoryError:
        outcome = {"status": "finding", "problem": "memory", "type": "MemoryError",
                   "traceback": traceback.format_exc()[-4000:]}
    except BaseException as exc:  # the point of fuzzing: anything not a KgstudioError is a reader bug
        outcome = {"status": "finding", "problem": "exception", "type": f"{type(exc).__module__}.{type(exc).__name__}",
                   "message": str(exc)[:300], "traceback": traceback.format_exc()[-4000:]}
    try:
        os.write(write_fd, json.dumps(outcome).encode() + b"\n")
    finally:
        os._exit(0)


def run_one(kind: str, name: str, data: bytes, registry, options, template: Path, memory_limit: int,
            timeout: float) -> dict:
    read_fd, write_fd = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        child(kind, name, data, registry, options, template, memory_limit, write_fd)
    os.close(write_fd)
    chunks = []
    deadline = started + timeout
    timed_out = False
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            timed_out = True
            break
        ready, _, _ = select.select([read_fd], [], [], left)
        if ready:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(read_fd)
    seconds = time.perf_counter() - started
    if timed_out:
        return {"status": "finding", "problem": "hang", "seconds": seconds}
    if os.WIFSIGNALED(status):
        return {"status": "finding", "problem": "crash", "signal": os.WTERMSIG(status), "seconds": seconds}
    try:
        outcome = json.loads(b"".join(chunks))
    except ValueError:
        return {"status": "finding", "problem": "crash", "exit": os.WEXITSTATUS(status), "seconds": seconds}
    outcome["seconds"] = seconds
    return outcome


def save_finding(findings: Path, kind: str, name: str, data: bytes, outcome: dict) -> str:
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = findings / kind
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(name).suffix
    (folder / f"{digest}{suffix}").write_bytes(data)
    (folder / f"{digest}.json").write_text(json.dumps({"seed": name, **outcome}, indent=2))
    return str(folder / f"{digest}{suffix}")


def signature(kind: str, outcome: dict) -> str:
    """Findings with the same cause share a signature: problem, type and the innermost kgstudio frame."""
    frame = ""
    for line in outcome.get("traceback", "").splitlines():
        if 'File "' in line and "/kgstudio/" in line:
            frame = line.strip().split("/kgstudio/", 1)[1]
    return f"{kind}: {outcome['problem']} {outcome.get('type', '')} {frame}".strip()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="total fuzzing time, shared by the readers")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=30.0, help="per input, seconds")
    parser.add_argument("--memory-mib", type=int, default=1536, help="address space a read may add, MiB")
    parser.add_argument("--findings", type=Path, default=Path(tempfile.gettempdir()) / "kgstudio-fuzz-findings")
    parser.add_argument("--only", nargs="*", help="reader kinds to fuzz (pdf eml mbox msg xlsx xls csv rdf)")
    args = parser.parse_args(argv)

    import logging

    logging.disable(logging.CRITICAL)  # libraries log every broken input; the JSON is the report
    # Import everything the children need before forking, so each fork is cheap and identical.
    import extract_msg  # noqa: F401
    import openpyxl  # noqa: F401
    import pymupdf  # noqa: F401
    import pyoxigraph  # noqa: F401
    import xlrd  # noqa: F401

    from kgstudio.edit.rdf_import import import_rdf  # noqa: F401
    from kgstudio.ingest.reader import ReadOptions
    from kgstudio.ingest.registry import ReaderRegistry
    from kgstudio.store.project import Project

    registry = ReaderRegistry.from_plugins()
    options = ReadOptions(ocr=False)  # OCR would spend the budget in Tesseract, not in kgstudio's parsing
    kinds = collect_seeds()
    if args.only:
        kinds = {k: v for k, v in kinds.items() if k in args.only}
    work = Path(tempfile.mkdtemp(prefix="kgfuzz-template-"))
    template = work / "template.kgs"
    Project.create(template).close()
    with open("/proc/self/status") as status:
        vm_kib = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    memory_limit = vm_kib * 1024 + args.memory_mib * 1024 * 1024

    rng = random.Random(args.seed)
    spent = {name: 0.0 for name in kinds}
    counts = {name: Counter() for name in kinds}
    slowest = {name: 0.0 for name in kinds}
    findings: dict[str, dict] = {}
    started = time.perf_counter()
    # Seeds first, unmutated: a finding there is a bug on a real file.
    queue = [(name, seed_name, data, True) for name, kind in kinds.items() for seed_name, data in kind.seeds]
    while time.perf_counter() - started < args.seconds:
        if queue:
            kind_name, seed_name, data, is_seed = queue.pop(0)
        else:
            kind_name = min(spent, key=spent.get)  # the reader with least time so far: equal shares
            seed_name, data = make_input(kinds[kind_name], rng)
            is_seed = False
        # The seed's name: the registry picks the reader by name, as for a user's file.
        outcome = run_one(kind_name, seed_name, data, registry, options, template,
                          memory_limit, args.timeout)
        spent[kind_name] += outcome["seconds"]
        slowest[kind_name] = max(slowest[kind_name], outcome["seconds"])
        counts[kind_name][outcome["status"]] += 1
        if is_seed:
            counts[kind_name]["seeds"] += 1
        if outcome["status"] == "finding":
            key = signature(kind_name, outcome)
            entry = findings.setdefault(key, {"count": 0, "examples": []})
            entry["count"] += 1
            if len(entry["examples"]) < 3:
                entry["examples"].append(save_finding(args.findings, kind_name, seed_name, data, outcome))
            if "message" in outcome:
                entry.setdefault("message", outcome["message"])
    shutil.rmtree(work, ignore_errors=True)
    report = {
        "seconds": round(time.perf_counter() - started, 1),
        "seed": args.seed,
        "timeout_s": args.timeout,
        "memory_limit_mib_added": args.memory_mib,
        "readers": {name: {"inputs": sum(v for k, v in counts[name].items() if k != "seeds"),
                           "seeds": len(kinds[name].seeds), **{k: v for k, v in counts[name].items() if k != "seeds"},
                           "seconds": round(spent[name], 1), "slowest_s": round(slowest[name], 2)}
                    for name in kinds},
        "inputs": sum(sum(v for k, v in c.items() if k != "seeds") for c in counts.values()),
        "findings": findings,
        "findings_folder": str(args.findings),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
