"""Reflection modes compared on the shared data and Text2KGBench, same model: compliance, precision, model calls.

Run (with nothing else busy):
    .venv/bin/python tests/bench/bench_reflection.py [--limit N] [--model GGUF] [--sets cv,paper,email|none]
        [--text2kgbench N] [--ontology ont_7_space ...]

For each set the documents are imported and extracted once (single pass);
then copies of that project get ``multi`` (one normalising pass from the
rule findings) and ``reflect`` (critic + corrector, 2 steps). Printed as
JSON: per set and mode, the triples judged, compliance (share passing every
rule of kgstudio.pipeline.reflect.RULES), the changes made and the model
calls each mode costs on top of extraction.

Then, per Text2KGBench slice (``--text2kgbench N`` test sentences of each
ontology; 0 skips it), the same three modes on the sentences, scored as
tests/bench/bench_text2kgbench.py scores them (Text2KGBench's own
precision/recall/F1 per sentence, averaged): the triples each mode leaves in
the graph (not rejected) against the gold triples, with compliance and the
extra model calls. Reflection may only lower precision by dropping a right
triple or "fixing" it into a wrong one, so the table shows both.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kgstudio.domain import TripleStatus  # noqa: E402
from kgstudio.llm.backend import Backend  # noqa: E402
from kgstudio.ontology.owl import load_ontology  # noqa: E402
from kgstudio.pipeline.extract import (  # noqa: E402
    ExtractionSettings,
    make_backend,
    model_identity,
    project_ontology,
    run_extraction,
)
from kgstudio.pipeline.importing import import_paths  # noqa: E402
from kgstudio.pipeline.reflect import compliance, load_triples, run_reflection  # noqa: E402
from kgstudio.store import Project  # noqa: E402
from tests.bench.bench_text2kgbench import (  # noqa: E402
    DATA,
    ONTOLOGIES,
    average,
    benchmark_ontology,
    load_slice,
    sentence_metrics,
)

SHARED = ROOT.parent / "shared" / "data"
MODES = ("single", "multi", "reflect")
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


def graph_triples(project: Project) -> dict[str, list[tuple[str, str, str]]]:
    """The triples a mode left in the graph (not rejected), by sentence id (the document's file name)."""
    by_sentence: dict[str, list[tuple[str, str, str]]] = {}
    with project.repositories() as repos:
        stems = {doc.id: Path(doc.path).stem for doc in repos.documents.list()}
        chunk_doc = {chunk_id: doc_id for chunk_id, doc_id, _, _ in repos.documents.current_chunk_index()}
        names = {e.id: e.name for e in repos.graph.entities()}
        for t in repos.graph.triples():
            if t.status == TripleStatus.REJECTED or t.origin not in ("extracted", "reflected"):
                continue
            chunk = next((p.chunk_id for p in repos.graph.provenance(t.id) if p.chunk_id is not None), None)
            sentence = stems.get(chunk_doc.get(chunk, -1)) if chunk is not None else None
            obj = names.get(t.object_id, "") if t.object_id is not None else (t.object_literal or "")
            if sentence is not None:
                by_sentence.setdefault(sentence, []).append((names.get(t.subject_id, ""), t.predicate, obj))
    return by_sentence


def bench_text2kgbench(name: str, limit: int, settings: ExtractionSettings, backend: Backend, model: str,
                       folder: Path) -> dict[str, Any]:
    """single, multi and reflect on ``limit`` sentences of one Text2KGBench ontology, scored against its gold."""
    tests, gold, meta = load_slice(name, limit)
    relations = [r["label"] for r in meta["relations"]]
    ontology = benchmark_ontology(load_ontology(DATA / f"{name}.ttl"), relations)
    label = {p.name: p.label or p.name for p in ontology.properties}
    concepts = [c["label"] for c in meta["concepts"]]
    sentences = folder / f"{name}-sentences"
    sentences.mkdir()
    for test in tests:
        (sentences / f"{test['id']}.txt").write_text(test["sent"] + "\n", encoding="utf-8")
    base = folder / f"{name}.kgs"
    runs: dict[str, dict[str, Any]] = {}
    with Project.create(base) as project:
        import_paths(project, [sentences])
        with project.transaction() as repos:
            repos.ontology.replace(ontology.classes, ontology.properties)
        started = time.perf_counter()
        extraction = run_extraction(project, settings, backend=backend, model=model)
        views = load_triples(project)
        runs["single"] = {"model_calls": extraction.model_calls, "extra_model_calls": 0,
                          "seconds": round(time.perf_counter() - started, 1),
                          "compliance": round(compliance(views, project_ontology(project)), 4)}
    for mode in ("multi", "reflect"):
        shutil.copy(base, folder / f"{name}-{mode}.kgs")
    result: dict[str, Any] = {"sentences": len(tests)}
    for mode in MODES:
        with Project.open(folder / (f"{name}.kgs" if mode == "single" else f"{name}-{mode}.kgs")) as project:
            if mode != "single":
                started = time.perf_counter()
                report = run_reflection(project, settings, mode=mode, steps=2, backend=backend, model=model)
                runs[mode] = {"extra_model_calls": report.model_calls, "fixed": report.fixed,
                              "dropped": report.dropped, "compliance": round(report.compliance_after, 4),
                              "seconds": round(time.perf_counter() - started, 1)}
            kept = graph_triples(project)
        per_sentence = []
        for test in tests:
            system = [(s, label.get(p, p), o) for s, p, o in kept.get(test["id"], [])]
            per_sentence.append(sentence_metrics(system, gold.get(test["id"], []), test["sent"], relations, concepts))
        result[mode] = {**runs[mode], "triples": sum(len(v) for v in kept.values()), **average(per_sentence),
                        "_per_sentence": per_sentence}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=6, help="chunks extracted per set (default 6)")
    parser.add_argument("--model", type=Path, help="a GGUF model (default: the embedded SmolLM2-135M)")
    parser.add_argument("--sets", default=",".join(SETS), help="shared-data sets, or none")
    parser.add_argument("--text2kgbench", type=int, default=5, metavar="N",
                        help="Text2KGBench test sentences per ontology (default 5; 0 skips it)")
    parser.add_argument("--ontology", nargs="+", default=list(ONTOLOGIES), choices=ONTOLOGIES)
    args = parser.parse_args()
    # Single pass means extraction as the model answers: contracts off, so all three modes judge the same
    # raw triples (with contracts on, extraction itself already rejects what breaks them).
    settings = ExtractionSettings(model_path=args.model, limit=args.limit, contracts=False)
    sets = [] if args.sets == "none" else args.sets.split(",")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        results = {name: bench_set(name, SETS[name], settings, Path(folder)) for name in sets}
        text2kg: dict[str, Any] = {}
        if args.text2kgbench > 0:
            t2kg_settings = ExtractionSettings(model_path=args.model, contracts=False)
            model = model_identity(t2kg_settings)
            backend = make_backend(t2kg_settings)  # one model for all slices and modes
            try:
                for name in args.ontology:
                    text2kg[name] = bench_text2kgbench(name, args.text2kgbench, t2kg_settings, backend, model,
                                                       Path(folder))
                    # The whole entry as soon as it is known: a run cut short still leaves its figures.
                    print(f"{name}: " + json.dumps({m: {k: v for k, v in text2kg[name][m].items()
                                                        if k != "_per_sentence"} for m in MODES}), file=sys.stderr)
            finally:
                backend.close()
    overall = {}
    if text2kg:
        for mode in MODES:
            rows = [row for entry in text2kg.values() for row in entry[mode]["_per_sentence"]]
            overall[mode] = {**average(rows), "extra_model_calls": sum(e[mode]["extra_model_calls"]
                                                                       for e in text2kg.values()),
                             "compliance": round(sum(e[mode]["compliance"] for e in text2kg.values())
                                                 / len(text2kg), 4)}
        for entry in text2kg.values():
            for mode in MODES:
                del entry[mode]["_per_sentence"]
    print(json.dumps({"model": str(args.model or "embedded SmolLM2-135M-Instruct Q4_1"), "limit": args.limit,
                      "extraction_contracts": False, "seconds": round(time.perf_counter() - began, 1),
                      "sets": results,
                      "text2kgbench": {"sentences_per_ontology": args.text2kgbench, "ontologies": text2kg,
                                       "overall": overall}}, indent=2))


if __name__ == "__main__":
    main()
