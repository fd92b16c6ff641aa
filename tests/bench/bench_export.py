"""Streaming N-Triples export vs. building an rdflib Graph and serialising it, side by side.

Run:  .venv/bin/python tests/bench/bench_export.py [TRIPLES [REPEAT]]   (default 1,000,000 and 2)

Builds one project of TRIPLES triples (a tenth as many entities; 70 % literal
objects, some typed, 30 % entity objects) with bulk inserts — a benchmark
fixture, not a user's edit — and a project a tenth that size. Each
measurement runs in its own process, so its peak memory (ru_maxrss) is its
own: streaming N-Triples and Turtle at both sizes (peak memory must not grow
with the graph), and the rdflib path at the large size: the same statements,
read from the store by the same code, added to an ``rdflib.Graph`` and
serialised as N-Triples. The large runs alternate and repeat (best of
REPEAT each). Prints one JSON object with times, rates, peaks and
ratios. The machine may be busy: compare the ratios, not the absolute times.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kgstudio.store import Project
from kgstudio.store.schema import EntityRow, TripleRow


def build(path: Path, triples: int) -> None:
    """A project of ``triples`` triples over ``triples // 10`` entities."""
    entities = max(triples // 10, 2)
    with Project.create(path) as project, project.transaction() as repos:
        connection = repos.session.connection()
        base = project.base_iri
        for start in range(0, entities, 50_000):
            connection.execute(EntityRow.__table__.insert(), [
                {"id": i, "name": f"Entity {i}", "class_name": ("Person", "Organization", "Topic")[i % 3],
                 "iri": f"{base}entity/entity-{i}-{i:08x}", "status": "active", "merged_into": None}
                for i in range(start + 1, min(start + 50_000, entities) + 1)])
        rows = []
        for t in range(1, triples + 1):
            subject = (t - 1) // 10 + 1
            kind = t % 10
            row = {"id": t, "subject_id": subject, "status": "accepted", "origin": "table", "confidence": 1.0,
                   "object_id": None, "object_literal": None, "datatype": None, "lang": None, "status_reason": None}
            if kind < 3:
                row.update(predicate=("knows", "worksFor", "relatedTo")[kind], object_id=(subject * 7 + kind) % entities + 1)
            elif kind < 5:
                row.update(predicate="amount", object_literal=str(t * 3), datatype="xsd:integer")
            elif kind == 5:
                row.update(predicate="date", object_literal=f"20{t % 25:02d}-0{t % 9 + 1}-1{t % 9}", datatype="xsd:date")
            else:
                row.update(predicate=f"Column {kind}", object_literal=f'value "{t}" of row {subject}\twith a tab')
            rows.append(row)
            if len(rows) == 50_000:
                connection.execute(TripleRow.__table__.insert(), rows)
                rows = []
        if rows:
            connection.execute(TripleRow.__table__.insert(), rows)


def child(mode: str, project_path: str, out: str) -> dict:
    """One measurement, in its own process."""
    from kgstudio.export import export_project

    with Project.open(project_path) as project:
        started = time.perf_counter()
        if mode in ("nt", "ttl"):
            report = export_project(project, mode, Path(out))
            statements = report.statements
        else:
            statements = rdflib_path(project, Path(out))
        seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 2), "statements": statements,
            "statements_per_s": round(statements / seconds), "peak_rss_mib": round(peak_mib, 1),
            "bytes": Path(out).stat().st_size}


def rdflib_path(project: Project, out: Path) -> int:
    """The same statements from the store, through an in-memory rdflib Graph."""
    from rdflib import Graph, Literal, URIRef

    from kgstudio.export.formats import ExportContext, ExportReport
    from kgstudio.export.source import GraphSource
    from kgstudio.export.statements import GraphStatements
    from kgstudio.progress import CancelToken, no_progress

    graph = Graph()
    add = graph.add
    with GraphSource.open(project, "accepted", False) as source:
        context = ExportContext(source, ExportReport("nt", str(out)), no_progress, CancelToken())
        for subject, pairs in GraphStatements(context).blocks():
            s = URIRef(subject)
            for predicate, obj in pairs:
                if type(obj) is str:
                    o = URIRef(obj)
                elif obj.lang:
                    o = Literal(obj.value, lang=obj.lang)
                else:
                    o = Literal(obj.value, datatype=URIRef(obj.datatype) if obj.datatype else None, normalize=False)
                add((s, URIRef(predicate), o))
    graph.serialize(destination=str(out), format="nt", encoding="utf-8")
    return len(graph)


def measure(mode: str, project: Path, out: Path) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", mode, str(project), str(out)],
                            capture_output=True, text=True, check=True)
    out.unlink(missing_ok=True)
    return json.loads(result.stdout)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(*sys.argv[2:5])))
        return
    triples = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        large, small = folder / "large.kgs", folder / "small.kgs"
        started = time.perf_counter()
        build(large, triples)
        build(small, triples // 10)
        built = time.perf_counter() - started
        figures = {"streaming_nt_small": measure("nt", small, folder / "small.nt")}
        # Interleaved and repeated, best run of each kept: noise from other work hits both paths alike.
        for _ in range(repeat):
            for key, mode in (("streaming_nt", "nt"), ("rdflib_graph_nt", "rdflib"), ("streaming_ttl", "ttl")):
                result = measure(mode, large, folder / f"large.{mode}")
                if key not in figures or result["seconds"] < figures[key]["seconds"]:
                    figures[key] = result
    stream, rdf = figures["streaming_nt"], figures["rdflib_graph_nt"]
    print(json.dumps({
        "triples": triples, "entities": max(triples // 10, 2), "repeat": repeat, "build_seconds": round(built, 1),
        **figures,
        "speedup_streaming_nt_vs_rdflib": round(rdf["seconds"] / stream["seconds"], 2),
        "memory_rdflib_vs_streaming": round(rdf["peak_rss_mib"] / stream["peak_rss_mib"], 2),
        "streaming_peak_growth_10x_graph": round(stream["peak_rss_mib"] / figures["streaming_nt_small"]["peak_rss_mib"], 2),
        "note": "each figure from its own process (ru_maxrss is that process's peak); the machine may be busy, "
                "compare ratios",
    }, indent=2))


if __name__ == "__main__":
    main()
