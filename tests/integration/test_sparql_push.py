"""``kgstudio push --sparql`` into a real triple store (Virtuoso, started on loopback by the fixture).

What lands in the store is compared with the N-Triples export of the same
project, statement by statement; pushing again replaces the graph instead of
adding a copy; other graphs in the store are left alone; hostile text goes
through SPARQL Update as data, never as query text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph
import pytest

from kgstudio.cli.main import main
from tests.integration.sparql_server import PASSWORD, USER, SparqlServer, sparql_server  # noqa: F401 (fixture)
from tests.unit.export.helpers import INJECTIONS, hostile_project, real_project

GRAPH = "https://example.org/kgstudio-test/"


DURATION = "http://www.w3.org/2001/XMLSchema#duration"


class Export:
    """The N-Triples export's statements as (subject, predicate, object value).

    Virtuoso keeps an ``xsd:duration`` as seconds ("P10DT15H10M10S" reads back
    as "918610.0"): those statements are compared by subject and predicate only.
    """

    def __init__(self, project: Path, tmp_path: Path, *options: str) -> None:
        out = tmp_path / "export.nt"
        assert main(["export", str(project), "-f", "nt", "-o", str(out), *options]) == 0
        triples = [q.triple for q in pyoxigraph.parse(path=str(out), format=pyoxigraph.RdfFormat.N_TRIPLES)]
        self.count = len({str(t) for t in triples})
        self.durations = {(t.subject.value, t.predicate.value) for t in triples
                          if isinstance(t.object, pyoxigraph.Literal) and t.object.datatype.value == DURATION}
        self.exact = {(t.subject.value, t.predicate.value, t.object.value) for t in triples
                      if (t.subject.value, t.predicate.value) not in self.durations}

    def matches(self, statements: list[tuple[str, str, str]]) -> bool:
        exact = {s for s in statements if s[:2] not in self.durations}
        return len(statements) == self.count and exact == self.exact and \
            {s[:2] for s in statements if s[:2] in self.durations} == self.durations


def stored(server: SparqlServer, graph: str) -> list[tuple[str, str, str]]:
    rows = server.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return [(row["s"], row["p"], row["o"]) for row in rows]


def count(server: SparqlServer, graph: str) -> int:
    return int(server.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")[0]["n"])




@pytest.fixture
def shared_project(tmp_path: Path, shared_data: Path) -> Path:
    path = tmp_path / "real.kgs"
    real_project(path, shared_data).close()
    return path


def test_graph_store_push_holds_exactly_the_export_and_a_second_push_does_not_duplicate(
        shared_project: Path, tmp_path: Path, sparql_server: SparqlServer,  # noqa: F811
        capsys: pytest.CaptureFixture) -> None:
    graph = GRAPH + "gsp"
    expected = Export(shared_project, tmp_path, "--status", "all", "--provenance")
    assert expected.count > 500  # e-mail headers and spreadsheet rows: a real graph, several batches below
    capsys.readouterr()  # the export's summary
    options = ("--graph", graph, "--gsp", "--status", "all", "--provenance", "--batch", "400")
    assert main(["push", str(shared_project), "--sparql", sparql_server.graph_store_url, "--json", *options]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "sparql-gsp" and report["statements"] == expected.count
    assert graph in report["target"]
    first = stored(sparql_server, graph)
    assert len(first) == expected.count  # no statement lost, none doubled
    assert expected.matches(first)  # and each one the same, literals included
    # pushed again (in one big request this time): the graph is replaced, not appended to
    assert main(["push", str(shared_project), "--sparql", sparql_server.graph_store_url, "--graph", graph,
                 "--status", "all", "--provenance"]) == 0
    assert "pushed" in capsys.readouterr().out
    assert count(sparql_server, graph) == expected.count


def test_sparql_update_push_replaces_the_graph_and_keeps_hostile_text_as_data(
        tmp_path: Path, sparql_server: SparqlServer) -> None:  # noqa: F811
    graph, other = GRAPH + "update", GRAPH + "someone-elses"
    project = tmp_path / "hostile.kgs"
    hostile_project(project, INJECTIONS).close()
    expected = Export(project, tmp_path, "--status", "all")
    # someone else's graph in the same store, and an old version of ours with a statement that must go
    sentinel = f"<{GRAPH}s> <{GRAPH}p> \"kept\""
    import httpx

    for target in (other, graph):
        httpx.post(sparql_server.query_url, data={"update": f"INSERT DATA {{ GRAPH <{target}> {{ {sentinel} }} }}"},
                   timeout=30).raise_for_status()
    for _ in range(2):  # twice: still one copy
        assert main(["push", str(project), "--sparql", sparql_server.query_url, "--graph", graph, "--update",
                     "--status", "all", "--batch", "7"]) == 0
        assert expected.matches(stored(sparql_server, graph)) and count(sparql_server, graph) == expected.count
    assert stored(sparql_server, other) == [(f"{GRAPH}s", f"{GRAPH}p", "kept")]
    literals = {value for _, _, value in stored(sparql_server, graph)}
    assert {'x"}) DETACH DELETE n //', "back\\slash \\n not a newline", "line\nbreak\r\nCRLF",
            "emoji 🧪🚀 and 𝕏", "ends with backslash\\"} <= literals


@pytest.mark.parametrize("protocol", ["--gsp", "--update"])
def test_push_to_a_store_that_asks_for_a_password(tmp_path: Path, sparql_server: SparqlServer,  # noqa: F811
                                                  capsys: pytest.CaptureFixture, protocol: str) -> None:
    graph = GRAPH + "auth" + protocol
    project = tmp_path / "p.kgs"
    hostile_project(project, ["Ada", "Bob"]).close()
    url = sparql_server.auth_graph_store_url if protocol == "--gsp" else sparql_server.auth_query_url
    argv = ["push", str(project), "--sparql", url, "--graph", graph, protocol]
    assert main([*argv, "--user", USER, "--password", "wrong-password"]) == 1
    err = capsys.readouterr().err
    assert f"not authorised (HTTP 401) with user '{USER}'" in err and "wrong-password" not in err
    assert err.count("\n") == 1 and count(sparql_server, graph) == 0
    assert main([*argv, "--user", USER, "--password", PASSWORD]) == 0
    assert expected_count(project, tmp_path) == count(sparql_server, graph) > 0
    assert main(argv) == 1  # no user at all
    assert "with no user (give --user and --password)" in capsys.readouterr().err


def expected_count(project: Path, tmp_path: Path) -> int:
    return Export(project, tmp_path).count


@pytest.mark.parametrize(("argv", "message"), [
    (["--sparql", "localhost:8890/sparql"], "not an http(s) URL"),
    (["--sparql", "{url}", "--graph", "not an iri"], "not an absolute IRI"),
    (["--sparql", "{url}-nothing-here", "--update"], "the store refused the SPARQL update (HTTP 404"),
])
def test_push_mistakes_are_one_line(tmp_path: Path, sparql_server: SparqlServer,  # noqa: F811
                                    capsys: pytest.CaptureFixture, argv: list[str], message: str) -> None:
    project = tmp_path / "p.kgs"
    hostile_project(project, ["Ada", "Bob"]).close()
    argv = [a.format(url=sparql_server.query_url) for a in argv]
    assert main(["push", str(project), *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("kgstudio: error:")
