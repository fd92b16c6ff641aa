"""Contracts with the real embedded model (SmolLM2-135M): a Text2KGBench sentence under the space ontology.

What a user relies on, whatever the small model answers: every proposal carries a verdict for every
rule, no triple in the graph breaks a rule, the contract retry (if any) is cached so a re-run asks the
model nothing, and `verify` reports the pass rates.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgstudio.ontology.owl import load_ontology
from kgstudio.pipeline import contracts
from kgstudio.pipeline.extract import ExtractionSettings, run_extraction
from kgstudio.pipeline.importing import import_paths
from kgstudio.pipeline.verify import verify_project
from kgstudio.store import Project

pytestmark = pytest.mark.model


def test_the_embedded_model_under_contracts(tmp_path: Path, shared_data: Path) -> None:
    bench = shared_data / "bench" / "text2kgbench" / "wikidata_tekgen"
    sentence = json.loads((bench / "ont_7_space_test.jsonl").read_text().splitlines()[1])["sent"]
    (tmp_path / "sentence.txt").write_text(sentence + "\n")
    ontology = load_ontology(bench / "ont_7_space.ttl")
    settings = ExtractionSettings(n_threads=2, max_tokens=200)
    with Project.create(tmp_path / "space.kgs") as project:
        import_paths(project, [tmp_path / "sentence.txt"])
        with project.transaction() as repos:
            repos.ontology.replace(ontology.classes, ontology.properties)
        report = run_extraction(project, settings)
        assert report.chunks == 1 and report.model_calls >= 1
        with project.repositories() as repos:
            candidates = [c for c in repos.extraction.candidates() if c.subject and c.object]
            triples = repos.graph.triples()
            entities = {e.id: e for e in repos.graph.entities()}
            rates = repos.contracts.pass_rates(report.run_id).get(report.run_id, {})
        if candidates:
            assert set(rates) == set(contracts.RULE_NAMES)
            assert sum(n for _, n in rates.values()) == len(candidates) * len(contracts.RULE_NAMES)
        passing = {(c.subject, c.predicate, c.object) for c in candidates if not c.error}
        failing = {(c.subject, c.predicate, c.object) for c in candidates if c.error} - passing
        in_graph = {(entities[t.subject_id].name, t.predicate,
                     entities[t.object_id].name if t.object_id else t.object_literal) for t in triples}
        assert in_graph == passing and not in_graph & failing  # what broke a rule stayed out
        again = run_extraction(project, settings)
        assert again.model_calls == 0
        verified = verify_project(project)
        assert verified.contracts.get(report.run_id, {}) == {
            rule: {"passed": p, "checked": n, "rate": round(p / n, 4)} for rule, (p, n) in rates.items()}
