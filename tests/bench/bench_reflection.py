"""Reflection modes compared on the shared data, with the same model: compliance and extra model calls.

Run (with nothing else busy):
    .venv/bin/python tests/bench/bench_reflection.py [--limit N] [--model GGUF] [--sets cv,paper,email]

For each set the documents are imported and extracted once (single pass);
then copies of that project get ``multi`` (one normalising pass from the
rule findings) and ``reflect`` (critic + corrector, 2 steps). Printed as
JSON: per set and mode, the triples judged, compliance (share passing every
rule of kgstudio.pipeline.reflect.RULES), the changes made and the model
calls each mode costs on top of extraction. Precision against gold triples
is measured on Text2KGBench by tests/bench/bench_text2kgbench.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from kgstudio.pipeline.extract import ExtractionSettings, project_ontology, run_extraction
from kgstudio.pipeline.importing import import_paths
from kgstudio.pipeline.reflect import compliance, load_triples, run_reflection
from kgstudio.store import Project

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SETS = {
    "cv": [SHARED / "pdf" / "cv" / "CV_John_Doe.pdf", SHARED / "pdf" / "cv" / "CV_Jane_Smith.pdf"],
    "paper": [SHARED / "pdf" / "text" / "seasonal.pdf"],
    "email": [SHARED / "email"],
}


def bench_set(name: str, paths: list[Path], settings: ExtractionSettings, folder: Path) -> dict:
    base = folder / f"{name}.kgs"
    with Project.create(base) as project:
        import_paths(project, paths)
        started = time.perf_counter()
        extraction = run_extraction(project, settings)
        extract_seconds = time.perf_counter() - started
        ontology = project_ontology(project)
        single = load_triples(project)
    result = {"single": {"triples": len(single), "compliance": round(compliance(single, ontology), 4),
                         "model_calls": extraction.model_calls, "seconds": round(extract_seconds, 1)}}
    for mode in ("multi", "reflect"):
        copy = folder / f"{name}-{mode}.kgs"
        shutil.copy(base, copy)
        with Project.open(copy) as project:
            started = time.perf_counter()
            report = run_reflection(project, settings, mode=mode, steps=2)
            result[mode] = {
                "triples": report.triples, "compliance": round(report.compliance_after, 4),
                "fixed": report.fixed, "dropped": report.dropped, "extra_model_calls": report.model_calls,
                "seconds": round(time.perf_counter() - started, 1),
            }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=6, help="chunks extracted per set (default 6)")
    parser.add_argument("--model", type=Path, help="a GGUF model (default: the embedded SmolLM2-135M)")
    parser.add_argument("--sets", default=",".join(SETS))
    args = parser.parse_args()
    # Single pass means extraction as the model answers: contracts off, so all three modes judge the same
    # raw triples (with contracts on, extraction itself already rejects what breaks them).
    settings = ExtractionSettings(model_path=args.model, limit=args.limit, contracts=False)
    with tempfile.TemporaryDirectory() as folder:
        results = {name: bench_set(name, SETS[name], settings, Path(folder)) for name in args.sets.split(",")}
    print(json.dumps({"model": str(args.model or "embedded SmolLM2-135M-Instruct Q4_1"), "limit": args.limit,
                      "extraction_contracts": False,
                      "sets": results}, indent=2))


if __name__ == "__main__":
    main()
