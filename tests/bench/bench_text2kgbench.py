"""Benchmark: kgstudio extraction on Text2KGBench slices, without and with contracts, same model.

Prints one JSON object with Text2KGBench's own metrics (Mihindukulasooriya et al., 2023; computed as
its ``src/evaluation/run_eval.py`` does): precision, recall and F1 per sentence against the ground
truth (subject, relation and object compared lower-cased without spaces or underscores; system
triples whose relation is not among the sentence's gold relations are left out of P/R/F1),
ontology conformance (share of system triples whose relation is in the ontology; 1 for a sentence
without triples), relation hallucination (1 - conformance), subject and object hallucination (share
of triples whose subject/object does not occur in the sentence plus the ontology's concept labels).
All are averaged over every sentence of the slice. Difference: no Porter stemming (NLTK is not a
kgstudio dependency), so the hallucination figures are, if anything, stricter.

For each ontology (the Wikidata-TekGen slices in ``../shared/data/bench/text2kgbench``), the first
``--limit`` test sentences are imported as text documents into two fresh projects, the ontology
file is imported (relation names from the labels), and ``run_extraction`` runs once with
``contracts=False`` and once with contracts and one retry. Three rows per ontology and overall:

- ``model_proposals``: every triple the model proposed in the run without contracts (also those
  kgstudio then refused): what the model alone gives, grammar-constrained where the backend can;
- ``without_contracts``: the triples that run kept (parse_answer's checks only);
- ``with_contracts``: the triples kept under contracts (after the retry).

Also the model calls, retries, seconds and the contracts' pass rates per rule. Published baselines
(Vicuna-13B, the paper's Table 4/5) are printed alongside for reference.

    .venv/bin/python tests/bench/bench_text2kgbench.py [--limit 10] [--ontology ont_7_space ...]
        [--model FILE.gguf | --server URL --server-model NAME] [--threads N] [--ungrounded]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kgstudio.domain import Ontology  # noqa: E402
from kgstudio.ontology.owl import load_ontology  # noqa: E402
from kgstudio.pipeline.extract import (  # noqa: E402
    ExtractionSettings,
    make_backend,
    model_identity,
    run_extraction,
)
from kgstudio.pipeline.importing import import_paths  # noqa: E402
from kgstudio.store import Project  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "bench" / "text2kgbench" / "wikidata_tekgen"
ONTOLOGIES = ("ont_6_computer", "ont_7_space", "ont_10_culture")
METRICS = ("precision", "recall", "f1", "onto_conformance", "rel_hallucination", "sub_hallucination",
           "obj_hallucination")
BASELINES = {"Vicuna-13B TekGen (paper)": {"f1": 0.35, "onto_conformance": 0.84},
             "Vicuna-13B WebNLG (paper)": {"f1": 0.30, "onto_conformance": 0.93}}
ROWS = ("model_proposals", "without_contracts", "with_contracts")


# --- Text2KGBench's metrics ------------------------------------------------------------------


def squash(text: str) -> str:
    return re.sub(r"(_|\s+)", "", text).lower()


def sentence_metrics(system: list[tuple[str, str, str]], gold: list[tuple[str, str, str]], sentence: str,
                     relations: list[str], concepts: list[str]) -> dict[str, float]:
    """One sentence's figures, as Text2KGBench computes them (module docstring)."""
    gold_relations = {squash(r) for _, r, _ in gold}
    kept = {squash(s) + squash(r) + squash(o) for s, r, o in system if squash(r) in gold_relations}
    truth = {squash(s) + squash(r) + squash(o) for s, r, o in gold}
    if kept:
        hits = len(kept & truth)
        precision, recall = hits / len(kept), hits / len(truth) if truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    else:
        precision = recall = f1 = 0.0
    if not system:
        return {"precision": precision, "recall": recall, "f1": f1, "onto_conformance": 1.0,
                "rel_hallucination": 0.0, "sub_hallucination": 0.0, "obj_hallucination": 0.0}
    ontology_relations = {squash(r) for r in relations}
    conformance = sum(squash(r) in ontology_relations for _, r, _ in system) / len(system)
    context = squash(sentence + " ".join(concepts))
    return {"precision": precision, "recall": recall, "f1": f1, "onto_conformance": conformance,
            "rel_hallucination": 1 - conformance,
            "sub_hallucination": sum(squash(s) not in context for s, _, _ in system) / len(system),
            "obj_hallucination": sum(squash(o) not in context for _, _, o in system) / len(system)}


def average(rows: list[dict[str, float]]) -> dict[str, float]:
    return {m: round(sum(r[m] for r in rows) / len(rows), 3) if rows else 0.0 for m in METRICS}


# --- running kgstudio on a slice -----------------------------------------------------------------


def benchmark_ontology(ontology: Ontology, relations: list[str]) -> Ontology:
    """The OWL file's classes with only the benchmark's relations: Text2KGBench scores against its JSON ontology,
    and the OWL file of ont_6_computer has 12 properties where the JSON has 4 (the other 8 would count as
    hallucinated relations)."""
    wanted = {squash(r) for r in relations}
    return Ontology(ontology.classes, [p for p in ontology.properties if squash(p.label or p.name) in wanted])


def load_slice(name: str, limit: int) -> tuple[list[dict[str, Any]], dict[str, list[tuple[str, str, str]]], dict]:
    with open(DATA / f"{name}_test.jsonl") as lines:
        tests = [json.loads(line) for line in lines if line.strip()][:limit]
    gold: dict[str, list[tuple[str, str, str]]] = {}
    with open(DATA / f"{name}_ground_truth.jsonl") as lines:
        for line in lines:
            if line.strip():
                item = json.loads(line)
                gold[item["id"]] = [(t["sub"], t["rel"], t["obj"]) for t in item["triples"]]
    meta = json.loads((DATA / f"{name.removeprefix('ont_')}_ontology.json").read_text())
    return tests, gold, meta


def extract(folder: Path, tests: list[dict[str, Any]], ontology: Ontology, settings: ExtractionSettings,
            backend: Any, model: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Run one extraction over the sentences; the candidates per sentence id, and the run's figures."""
    project = Project.create(folder / "bench.kgs")
    docs = folder / "sentences"
    docs.mkdir()
    for test in tests:
        (docs / f"{test['id']}.txt").write_text(test["sent"] + "\n", encoding="utf-8")
    with project:
        import_paths(project, [docs])
        with project.transaction() as repos:
            repos.ontology.replace(ontology.classes, ontology.properties)
        began = time.perf_counter()
        report = run_extraction(project, settings, backend=backend, model=model)
        seconds = time.perf_counter() - began
        by_id: dict[str, list[dict[str, Any]]] = {test["id"]: [] for test in tests}
        with project.repositories() as repos:
            paths = {doc.id: Path(doc.path).stem for doc in repos.documents.list()}
            chunk_doc = {chunk_id: doc_id for chunk_id, doc_id, _, _ in repos.documents.current_chunk_index()}
            for candidate in repos.extraction.candidates():
                sentence_id = paths.get(chunk_doc.get(candidate.chunk_id, -1))
                if sentence_id in by_id:
                    by_id[sentence_id].append({"subject": candidate.subject, "predicate": candidate.predicate,
                                               "object": candidate.object, "error": candidate.error})
    figures = {"model_calls": report.model_calls, "contract_retries": report.contract_retries,
               "seconds": round(seconds, 1), "tokens_per_second": round(report.tokens_per_second, 1),
               "contract_pass_rates": {rule: round(p / n, 3) for rule, (p, n) in report.contract_checks.items() if n}}
    return by_id, figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = ExtractionSettings(model_path=args.model, server_url=args.server, server_model=args.server_model,
                                  n_threads=args.threads, grounded=not args.ungrounded, max_tokens=args.max_tokens)
    model = model_identity(settings)
    backend = make_backend(settings)
    result: dict[str, Any] = {"model": model, "limit": args.limit, "grounded_decoding": not args.ungrounded,
                              "ontologies": {}, "overall": {}, "baselines": BASELINES}
    overall: dict[str, list[dict[str, float]]] = {row: [] for row in ROWS}
    try:
        for name in args.ontology:
            tests, gold, meta = load_slice(name, args.limit)
            relations = [r["label"] for r in meta["relations"]]
            ontology = benchmark_ontology(load_ontology(DATA / f"{name}.ttl"), relations)
            label = {p.name: p.label or p.name for p in ontology.properties}
            concepts = [c["label"] for c in meta["concepts"]]
            runs = {}
            for contracts_on in (False, True):
                with tempfile.TemporaryDirectory(prefix="kgs-t2kg-") as tmp:
                    runs[contracts_on] = extract(Path(tmp), tests, ontology, ExtractionSettings(
                        **{**settings.__dict__, "contracts": contracts_on}), backend, model)
            views = {
                "model_proposals": lambda c: bool(c["subject"] and c["object"]),
                "without_contracts": lambda c: not c["error"],
                "with_contracts": lambda c: not c["error"],
            }
            source = {"model_proposals": False, "without_contracts": False, "with_contracts": True}
            entry: dict[str, Any] = {"sentences": len(tests)}
            for row in ROWS:
                per_sentence = []
                triples = 0
                for test in tests:
                    chosen = [c for c in runs[source[row]][0][test["id"]] if views[row](c)]
                    system = [(c["subject"] or "", label.get(c["predicate"] or "", c["predicate"] or ""),
                               c["object"] or "") for c in chosen]
                    triples += len(system)
                    per_sentence.append(sentence_metrics(system, gold.get(test["id"], []), test["sent"],
                                                         relations, concepts))
                overall[row] += per_sentence
                entry[row] = {**average(per_sentence), "triples": triples}
            entry["run_without_contracts"] = runs[False][1]
            entry["run_with_contracts"] = runs[True][1]
            result["ontologies"][name] = entry
            print(f"{name}: " + json.dumps({row: entry[row] for row in ROWS}), file=sys.stderr)
    finally:
        backend.close()
    result["overall"] = {row: average(rows) for row, rows in overall.items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=10, help="test sentences per ontology (default 10)")
    parser.add_argument("--ontology", nargs="+", default=list(ONTOLOGIES), choices=ONTOLOGIES)
    parser.add_argument("--model", type=Path, help="a GGUF file (default: the embedded SmolLM2-135M)")
    parser.add_argument("--server", help="an OpenAI-compatible server URL instead")
    parser.add_argument("--server-model")
    parser.add_argument("--threads", type=int, help="llama.cpp threads")
    parser.add_argument("--max-tokens", type=int, default=384)
    parser.add_argument("--ungrounded", action="store_true", help="no grounded decoding (JSON schema only)")
    args = parser.parse_args()
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
