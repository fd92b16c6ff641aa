"""Neo4j: the Cypher script (checked by Neo4j's own parser), the Bolt push at the driver boundary, the CSV bundle.

No Neo4j server can be installed here, so the push is tested against a
stand-in driver that records every query and its parameters and applies
the MERGEs to an in-memory graph: parameters carry all data, batches are
bounded, and pushing twice changes nothing.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kgstudio.export import export_project
from kgstudio.export.bolt import Neo4jTarget, push_to_neo4j
from kgstudio.export.cypher import cypher_string
from kgstudio.store.schema import AliasRow, EntityRow, TripleRow
from tests.unit.export.helpers import INJECTIONS, hostile_project, real_project

LINT_DIR = Path(__file__).resolve().parents[2] / "cypher_lint"
STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
NAME = re.compile(r"`(?:[^`]|``)*`")
# Cypher's lexical tokens that can hold arbitrary text, scanned left to right as the parser does.
TOKENS = re.compile(r'(?P<string>"(?:[^"\\]|\\.)*")|(?P<name>`(?:[^`]|``)*`)|(?P<comment>//[^\n]*)', re.S)
ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def unescape(literal: str) -> str:
    """A Cypher string literal's value, by the escapes of the Cypher manual."""
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\":
            if body[i + 1] == "u":
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(ESCAPES[body[i + 1]])
            i += 2
            continue
        out.append(body[i])
        i += 1
    return "".join(out)


def random_texts(rng: random.Random) -> list[str]:
    """A few strings of any Unicode (control characters, quotes, backslashes, astral planes; no surrogates)."""
    pools = [range(0, 0x80), range(0x80, 0x800), range(0x800, 0xD800), range(0xE000, 0x110000)]
    return ["".join(chr(rng.choice(pools[rng.randrange(4)] if rng.random() < 0.5 else pools[0]))
                    for _ in range(rng.randint(1, 30))) for _ in range(rng.randint(3, 6))]


def stored_texts(project) -> set[str]:
    with project.read() as s:
        return ({r for (r,) in s.query(EntityRow.name)} | {r for (r,) in s.query(AliasRow.text)}
                | {r for (r, d) in s.query(TripleRow.object_literal, TripleRow.datatype) if r is not None and not d})


def lint(files: list[Path]) -> dict[str, list[dict[str, Any]]]:
    node = shutil.which("node")
    installed = (LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support").is_dir()
    if not node or not installed:
        message = f"Neo4j's Cypher linter is not installed (cd {LINT_DIR} && npm ci)"
        if os.environ.get("KGSTUDIO_REQUIRE_CYPHER_LINT") == "1":
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run([node, str(LINT_DIR / "lint.mjs"), *map(str, files)], capture_output=True, text=True,
                            check=True, timeout=300)
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, set[str]]]:
    """Cypher scripts of the real graph, the injection strings and generated hostile text."""
    from tests.conftest import require_shared_data

    folder = tmp_path_factory.mktemp("cypher")
    made = []
    projects = [real_project(folder / "real.kgs", require_shared_data()),
                hostile_project(folder / "evil.kgs", INJECTIONS, predicate='x"}) DETACH DELETE n //',
                                class_name="Evil` DETACH DELETE n //")]
    for number in range(8):
        sample = random_texts(random.Random(number))
        projects.append(hostile_project(folder / f"gen{number}.kgs", sample, predicate=sample[0],
                                        class_name=sample[-1]))
    for number, project in enumerate(projects):
        out = folder / f"graph{number}.cypher"
        export_project(project, "cypher", out, status="all", provenance=True)
        made.append((out, stored_texts(project)))
        project.close()
    return made


def test_neo4j_parser_finds_no_error_in_any_script(scripts) -> None:
    results = lint([path for path, _ in scripts])
    assert {path: diagnostics for path, diagnostics in results.items() if diagnostics} == {}


def test_every_value_is_inside_a_string_literal_and_comes_back_exactly(scripts) -> None:
    for path, texts in scripts:
        script = path.read_text(encoding="utf-8")
        tokens = list(TOKENS.finditer(script))
        values = {unescape(m.group("string")) for m in tokens if m.group("string")}
        assert texts <= values, path.name
        # What is left outside literals, back-quoted names and comments is kgstudio's own Cypher, nothing else.
        code = TOKENS.sub(lambda m: '"S"' if m.group("string") else "`N`" if m.group("name") else "", script)
        words = set(re.findall(r"[A-Za-z_]+", code))
        assert words <= {"CREATE", "CONSTRAINT", "kgstudio_entity_iri", "IF", "NOT", "EXISTS", "FOR", "n", "REQUIRE",
                         "iri", "IS", "UNIQUE", "UNWIND", "AS", "row", "MERGE", "SET", "properties", "a", "b", "r",
                         "start", "end", "key", "N", "S", "true", "false", "date"}, path.name


def test_cypher_strings_escape_everything_that_could_end_them() -> None:
    for text in INJECTIONS:
        literal = cypher_string(text)
        assert STRING.fullmatch(literal) and unescape(literal) == text


# --- Bolt, at the driver boundary ----------------------------------------------------


class FakeGraph:
    """Applies kgstudio's MERGE statements the way Neo4j would, to count what a push changes."""

    def __init__(self) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, set[str]] = {}
        self.rels: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.changes = 0

    def run(self, query: str, **parameters: Any) -> "FakeResult":
        self.calls.append((query, parameters))
        if query.startswith("CREATE CONSTRAINT"):
            return FakeResult()
        names = [n[1:-1].replace("``", "`") for n in NAME.findall(query)]
        for row in parameters["rows"]:
            if "MERGE (a:" in query:
                rel_type = names[-1]
                for end in (row["start"], row["end"]):
                    if end not in self.nodes:
                        self.nodes[end], self.labels[end] = {"iri": end}, {"Entity"}
                        self.changes += 1
                key = (row["start"], rel_type, row["key"], row["end"])
                before = dict(self.rels.get(key, {}))
                self.rels.setdefault(key, {"key": row["key"]}).update(row["properties"])
                self.changes += self.rels[key] != before
            else:
                before = (dict(self.nodes.get(row["iri"], {})), set(self.labels.get(row["iri"], set())))
                self.nodes.setdefault(row["iri"], {"iri": row["iri"]}).update(row["properties"])
                self.labels.setdefault(row["iri"], {"Entity"}).update(names)
                self.changes += (self.nodes[row["iri"]], self.labels[row["iri"]]) != before
        return FakeResult()


class FakeResult:
    def consume(self) -> None:
        return None


class FakeSession:
    def __init__(self, graph: FakeGraph) -> None:
        self.graph = graph

    def __enter__(self) -> "FakeSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def run(self, query: str, **parameters: Any) -> FakeResult:
        return self.graph.run(query, **parameters)

    def execute_write(self, work: Any, *args: Any) -> Any:
        return work(self.graph, *args)


class FakeDriver:
    def __init__(self) -> None:
        self.graph = FakeGraph()
        self.databases: list[str | None] = []

    def session(self, database: str | None = None) -> FakeSession:
        self.databases.append(database)
        return FakeSession(self.graph)


def test_push_sends_data_only_as_parameters_in_bounded_batches_and_twice_changes_nothing(tmp_path: Path) -> None:
    texts = INJECTIONS + [f"person {i}" for i in range(40)]
    project = hostile_project(tmp_path / "p.kgs", texts, predicate='x"}) DETACH DELETE n //')
    driver = FakeDriver()
    target = Neo4jTarget("bolt://localhost:7687", database="kg")
    report = push_to_neo4j(project, target, status="all", provenance=True, batch_rows=7, driver=driver)
    graph = driver.graph
    assert driver.databases == ["kg"]
    assert report.entities == len(graph.nodes) == len(texts)
    assert len(graph.rels) == len(texts) - 1
    for query, parameters in graph.calls[1:]:
        assert "$rows" in query and set(parameters) == {"rows"} and 0 < len(parameters["rows"]) <= 7
        code = NAME.sub("`N`", query)
        assert '"' not in code and "DELETE" not in code  # no data in the query text
    names = {n["name"] for n in graph.nodes.values()}
    assert names == stored_texts(project) & names and {n["kgstudio_id"] for n in graph.nodes.values()}
    first = graph.changes
    push_to_neo4j(project, target, status="all", provenance=True, batch_rows=7, driver=driver)
    assert graph.changes == first  # idempotent: the second push changed nothing
    project.close()


def test_push_reports_an_unreachable_server_in_one_line(tmp_path: Path) -> None:
    from kgstudio.errors import KgstudioError
    from kgstudio.store import Project

    with Project.create(tmp_path / "p.kgs") as project, pytest.raises(KgstudioError, match="cannot connect"):
        push_to_neo4j(project, Neo4jTarget("bolt://127.0.0.1:1", "neo4j", "x"))
    with Project.open(tmp_path / "p.kgs") as project, pytest.raises(KgstudioError, match="cannot connect"):
        push_to_neo4j(project, Neo4jTarget("nonsense://where"))


def test_neo4j_admin_bundle_has_the_documented_headers(tmp_path: Path) -> None:
    import csv

    project = hostile_project(tmp_path / "p.kgs", ["Ada", "Bob"], predicate="knows", class_name="Person")
    report = export_project(project, "neo4j-csv", tmp_path / "bundle")
    assert sorted(report.files) == ["import.sh", "nodes.csv", "relationships.csv"]
    with (tmp_path / "bundle" / "nodes.csv").open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header[:5] == ["iri:ID(Entity)", ":LABEL", "name", "kgstudio_id:long", "aliases:string[]"]
    with (tmp_path / "bundle" / "relationships.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == [":START_ID(Entity)", ":END_ID(Entity)", ":TYPE"] and rows[1][2] == "knows"
    assert "--array-delimiter=U+001F" in (tmp_path / "bundle" / "import.sh").read_text()
    project.close()
