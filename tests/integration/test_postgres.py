"""A kgstudio project in a real PostgreSQL database (Debian's server, started by the test; no mocks).

The store promises the same behaviour for an SQLite file and any SQLAlchemy
URL. These tests take the PostgreSQL path end to end: creating and opening
projects, every edit command with undo/redo across a reopen, the refusals a
user sees for wrong databases, and the ``kgstudio`` command line.

The server comes from ``postgres_server.py`` (skipped when PostgreSQL is not
installed, unless ``KGSTUDIO_REQUIRE_POSTGRES=1``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgstudio.domain import Chunk, Document, DocumentStatus, EmailLocator, Run, RunStatus, Segment, TripleStatus
from kgstudio.edit import (
    AcceptCandidate,
    AddEntity,
    AddTriple,
    DeleteEntity,
    EditHistory,
    ImportStructuralFacts,
    MergeEntities,
    RejectCandidate,
    RenameEntity,
    RepointTriple,
    RetractDocumentFacts,
    RetractTriple,
    SetEntityClass,
    SplitEntity,
    command_names,
)
from kgstudio.errors import EditError, ProjectError, SchemaTooNewError
from kgstudio.store import SCHEMA_VERSION, Project
from tests.integration.postgres_server import PostgresServer, free_port, pg_server, pg_url  # noqa: F401 (fixtures)
from tests.unit.edit.test_undo_redo import COMMANDS as UNDO_REDO_COMMANDS
from tests.unit.edit.test_undo_redo import build_graph, graph_snapshot

pytestmark = pytest.mark.postgres

GRAPH_TABLES = ("entity", "alias", "triple", "provenance", "merge")


# --- helpers -------------------------------------------------------------------


def database_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def nonzero_counts(counts: dict[str, Any], prefix: str = "") -> dict[str, int]:
    """Every number in ``Project.counts()`` that is not zero (schema version aside)."""
    found: dict[str, int] = {}
    for key, value in counts.items():
        if key in ("project", "schema_version") or (key == "problems" and value == []):
            continue
        if isinstance(value, dict):
            found.update(nonzero_counts(value, f"{prefix}{key}."))
        elif value != 0:
            found[f"{prefix}{key}"] = value
    return found


def table_rows(server: PostgresServer, url: str) -> dict[str, int]:
    """Row counts of the graph tables, asked of the server directly (not through kgstudio)."""
    with server.connect(database_of(url)) as connection:
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # type: ignore[index]
            for table in GRAPH_TABLES
        }


def public_tables(server: PostgresServer, database: str) -> set[str]:
    with server.connect(database) as connection:
        rows = connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {row[0] for row in rows}


def connections_to(server: PostgresServer, database: str) -> int:
    """Client sessions open on ``database`` (waits briefly: backends exit asynchronously)."""
    deadline = time.monotonic() + 5
    while True:
        with server.connect() as connection:
            count = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()[0]  # type: ignore[index]
        if count == 0 or time.monotonic() > deadline:
            return int(count)
        time.sleep(0.1)


def snapshot(project: Project) -> dict[str, Any]:
    """The whole graph, exactly: every entity, alias, triple, provenance and merge row with its id."""
    with project.repositories() as repos:
        graph = repos.graph
        entities = graph.entities(include_merged=True)
        triples = graph.triples()
        merges = {m.id: m for e in entities for m in graph.merges(e.id)}  # type: ignore[arg-type]
        return {
            "entities": [dataclasses.asdict(e) for e in entities],
            "aliases": sorted((dataclasses.asdict(a) for e in entities for a in graph.aliases(e.id)),  # type: ignore[arg-type]
                              key=lambda a: a["id"]),
            "triples": [dataclasses.asdict(t) for t in triples],
            "provenance": sorted((dataclasses.asdict(p) for t in triples for p in graph.provenance(t.id)),  # type: ignore[arg-type]
                                 key=lambda p: p["id"]),
            "merges": [dataclasses.asdict(merges[key]) for key in sorted(merges)],  # type: ignore[type-var]
        }


def names(project: Project) -> dict[int, tuple[str, str | None, str]]:
    """Entity id -> (name, class, status), merged entities included."""
    with project.repositories() as repos:
        return {e.id: (e.name, e.class_name, str(e.status)) for e in repos.graph.entities(include_merged=True)}  # type: ignore[misc]


def triples(project: Project) -> dict[int, tuple[int, str, int | str | None, str, str | None]]:
    """Triple id -> (subject id, predicate, object id or literal, status, status reason)."""
    with project.repositories() as repos:
        return {
            t.id: (t.subject_id, t.predicate, t.object_id if t.object_id is not None else t.object_literal,  # type: ignore[misc]
                   str(t.status), t.status_reason)
            for t in repos.graph.triples()
        }


def aliases(project: Project, entity_id: int) -> list[str]:
    with project.repositories() as repos:
        return [a.text for a in repos.graph.aliases(entity_id)]


@pytest.fixture
def project(pg_url: str) -> Iterator[Project]:
    with Project.create(pg_url) as created:
        yield created


# --- creating and opening ------------------------------------------------------


def test_create_makes_an_empty_project_in_the_database(pg_server: PostgresServer, pg_url: str) -> None:
    with Project.create(pg_url, base_iri="https://example.org/kg/") as project:
        counts = project.counts()
        assert nonzero_counts(counts) == {}
        assert counts["schema_version"] == SCHEMA_VERSION
        assert counts["project"] == pg_url
        assert counts["entities"]["by_status"] == {"active": 0, "merged": 0}
        assert counts["edits"] == {"undoable": 0, "redoable": 0}
        assert project.name == database_of(pg_url)
        assert project.base_iri == "https://example.org/kg/"
        assert project.location.path is None
    # The tables really are in PostgreSQL.
    assert {"kgstudio_meta", *GRAPH_TABLES, "edit_log", "document", "chunk", "run"} <= public_tables(
        pg_server, database_of(pg_url)
    )
    assert table_rows(pg_server, pg_url) == dict.fromkeys(GRAPH_TABLES, 0)
    assert connections_to(pg_server, database_of(pg_url)) == 0, "close() must release every connection"


def test_a_fresh_open_finds_the_same_project(pg_server: PostgresServer, pg_url: str) -> None:
    with Project.create(pg_url) as created:
        meta = dict(created.meta)
        EditHistory(created).execute(AddEntity("IBM", class_name="Organization", aliases=["Big Blue"]))
    with Project.open(pg_url) as reopened:
        assert reopened.meta == meta
        assert reopened.base_iri == meta["base_iri"] and meta["base_iri"].startswith("urn:kgstudio:")
        assert names(reopened) == {1: ("IBM", "Organization", "active")}
        assert aliases(reopened, 1) == ["Big Blue"]
        counts = reopened.counts()
        assert nonzero_counts(counts) == {
            "entities.total": 1, "entities.by_status.active": 1, "edits.undoable": 1,
        }
        log = EditHistory(reopened).log()
        assert [r.description for r in log] == ["add entity 'IBM' (Organization)"]
        assert log[0].created_at is not None and log[0].created_at.tzinfo is None
    assert connections_to(pg_server, database_of(pg_url)) == 0


def test_text_beyond_ascii_survives(project: Project) -> None:
    history = EditHistory(project)
    history.execute(AddEntity("Zürich Versicherungs-Gesellschaft AG", aliases=["東京海上", "Ζυρίχη"]))
    long_literal = "¶ " * 20_000
    history.execute(AddTriple(1, "description", object_literal=long_literal, lang="de-CH"))
    with Project.open(project.location.url.render_as_string(hide_password=False)) as again:
        assert names(again)[1][0] == "Zürich Versicherungs-Gesellschaft AG"
        assert aliases(again, 1) == ["東京海上", "Ζυρίχη"]
        assert triples(again)[1][2] == long_literal
        with again.repositories() as repos:
            assert [e.id for e in repos.graph.find_entities("東京海上")] == [1]
            assert [e.id for e in repos.graph.find_entities("zürich versicherungs-gesellschaft ag")] == [1]


def test_the_password_never_shows(pg_url: str) -> None:
    # trust authentication ignores the password, so the URL works as typed.
    url = pg_url.replace("postgres@", "postgres:s3cret-pw@")
    with Project.create(url) as project:
        assert "s3cret-pw" not in project.counts()["project"]
        assert "s3cret-pw" not in str(project.location)
        assert "***" in str(project.location)


# --- every edit command, undo, redo, reopen ------------------------------------


def test_every_edit_command_undoes_and_redoes_across_a_reopen(pg_server: PostgresServer, pg_url: str) -> None:
    project = Project.create(pg_url)
    try:
        # Evidence for an extracted triple: a document, a chunk and a run (not journaled).
        with project.transaction() as repos:
            document = repos.documents.add(Document("/docs/ibm.pdf", "pdf", "ab" * 32, DocumentStatus.IMPORTED))
            chunk = Chunk(document.id, 0, 0, "IBM is headquartered in Armonk.", 7, "cd" * 32)  # type: ignore[arg-type]
            repos.documents.add_chunks([chunk])
            run = repos.runs.start(Run("extract", "smollm2", "v1", {"temperature": 0.0}, RunStatus.DONE))

        history = EditHistory(project)
        states = [snapshot(project)]
        done: list[str] = []

        def edit(command: Any) -> None:
            history.execute(command)
            states.append(snapshot(project))
            done.append(command.op)

        edit(AddEntity("IBM", aliases=["Big Blue"]))
        edit(AddEntity("Armonk"))
        assert names(project) == {1: ("IBM", None, "active"), 2: ("Armonk", None, "active")}

        edit(AddTriple(1, "headquarteredIn", object_id=2, status=str(TripleStatus.CANDIDATE), origin="extracted",
                       confidence=0.87, chunk_id=chunk.id, span=(0, 31), run_id=run.id))
        edit(AddTriple(1, "founded", object_literal="1911", datatype="xsd:gYear"))  # provenance left None
        assert triples(project) == {1: (1, "headquarteredIn", 2, "candidate", None),
                                    2: (1, "founded", "1911", "accepted", None)}
        with project.repositories() as repos:
            [evidence] = repos.graph.provenance(1)
            assert (evidence.chunk_id, evidence.span_start, evidence.span_end, evidence.run_id) == (
                chunk.id, 0, 31, run.id)
            assert repos.graph.provenance(2) == []
            assert repos.graph.triple(1).confidence == 0.87  # type: ignore[union-attr]
            assert repos.graph.triple(2).datatype == "xsd:gYear"  # type: ignore[union-attr]

        edit(RenameEntity(1, "International Business Machines"))
        edit(SetEntityClass(1, "Organization"))
        assert names(project)[1] == ("International Business Machines", "Organization", "active")
        assert aliases(project, 1) == ["Big Blue", "IBM"]

        edit(AcceptCandidate(1))
        edit(RejectCandidate(2, reason="wrong year"))
        assert triples(project) == {1: (1, "headquarteredIn", 2, "accepted", None),
                                    2: (1, "founded", "1911", "rejected", "wrong year")}

        edit(AddEntity("Armonk, New York", class_name="Place"))
        edit(RepointTriple(1, object_id=3, predicate="basedIn"))
        assert triples(project)[1] == (1, "basedIn", 3, "accepted", None)

        edit(MergeEntities(3, [2], reason="same town", score=0.93))
        assert names(project)[2] == ("Armonk", None, "merged")
        assert aliases(project, 3) == ["Armonk"]
        with project.repositories() as repos:
            assert repos.graph.entity(2).merged_into == 3  # type: ignore[union-attr]
            [merge] = repos.graph.merges(3)
            assert (merge.from_id, merge.into_id, merge.actor, merge.reason, merge.score) == (
                2, 3, "user", "same town", 0.93)
            assert [e.id for e in repos.graph.find_entities("armonk")] == [3]

        edit(SplitEntity(1, "IBM Research", triple_ids=[2], alias_ids=[1]))
        assert names(project)[4] == ("IBM Research", "Organization", "active")
        assert triples(project)[2][0] == 4
        assert aliases(project, 4) == ["Big Blue"] and aliases(project, 1) == ["IBM"]

        edit(DeleteEntity(3))  # takes triple 1, its provenance, the alias and the merge; Armonk is active again
        assert names(project) == {1: ("International Business Machines", "Organization", "active"),
                                  2: ("Armonk", None, "active"),
                                  4: ("IBM Research", "Organization", "active")}
        assert triples(project) == {2: (4, "founded", "1911", "rejected", "wrong year")}

        edit(RetractTriple(2))
        assert triples(project) == {}
        assert table_rows(pg_server, pg_url) == {"entity": 3, "alias": 2, "triple": 0, "provenance": 0, "merge": 0}

        # Structural facts of an import (e-mail headers), then their retraction when the file changes.
        with project.transaction() as repos:
            message = repos.documents.add(Document("inbox.eml", "email", "e" * 64))
            repos.documents.add_segments([header := Segment(message.id, 0, "From: Ada <ADA@example.com>",
                                                            EmailLocator("<1@x>", "headers", 1, 1), "header")])
        ada = {"key": "mailto:ada@example.com", "name": "Ada", "class": "Person"}
        edit(ImportStructuralFacts(message.id, [
            {"subject": {"key": "message:<1@x>", "name": "Hi", "class": "EmailMessage"}, "predicate": "sender",
             "object": ada, "origin": "header", "segment_id": header.id},
            {"subject": ada, "predicate": "email", "object": {"literal": "ada@example.com"}, "origin": "header",
             "segment_id": header.id},
        ]))
        assert sorted(v[1] for v in triples(project).values()) == ["email", "sender"]
        edit(RetractDocumentFacts(message.id, [header.id], []))
        assert triples(project) == {}
        assert table_rows(pg_server, pg_url) == {"entity": 3, "alias": 2, "triple": 0, "provenance": 0, "merge": 0}

        # The core commands in one long story; every command (extraction, fusion, reflection, RDF import
        # included) also runs on its own below, in test_each_edit_command_round_trips.
        assert set(done) <= set(command_names())
        final = states[-1]
        edits = len(done)
        assert project.counts()["edits"] == {"undoable": edits, "redoable": 0}

        # Undo everything, newest first: each step gives back the exact earlier graph.
        for expected in reversed(states[:-1]):
            history.undo()
            assert snapshot(project) == expected
        assert nonzero_counts(project.counts()) == {"documents.total": 2, "documents.by_status.imported": 1,
                                                    "documents.by_status.pending": 1, "segments": 1,
                                                    "chunks": 1, "runs.total": 1, "runs.by_status.done": 1,
                                                    "edits.redoable": edits}
        assert table_rows(pg_server, pg_url) == dict.fromkeys(GRAPH_TABLES, 0)
        with pytest.raises(EditError, match="nothing to undo"):
            history.undo()

        # Redo everything, oldest first.
        for expected in states[1:]:
            history.redo()
            assert snapshot(project) == expected
        with pytest.raises(EditError, match="nothing to redo"):
            history.redo()
        assert project.counts()["edits"] == {"undoable": edits, "redoable": 0}
    finally:
        project.close()

    # The history lives in the database: a new session undoes it all again.
    with Project.open(pg_url) as project:
        history = EditHistory(project)
        assert snapshot(project) == final
        assert history.undo_entry().command["op"] == "retract_document_facts"  # type: ignore[union-attr]
        for expected in reversed(states[:-1]):
            history.undo()
            assert snapshot(project) == expected
        counts = project.counts()
        assert counts["entities"]["total"] == 0 and counts["triples"]["total"] == 0
        assert counts["edits"] == {"undoable": 0, "redoable": edits}
    assert connections_to(pg_server, database_of(pg_url)) == 0


def test_ids_are_never_handed_out_twice(project: Project) -> None:
    history = EditHistory(project)
    history.execute(AddEntity("IBM"))
    history.undo()
    history.execute(AddEntity("Oracle"))  # ends the redo branch
    assert names(project) == {2: ("Oracle", None, "active")}
    with pytest.raises(EditError, match="nothing to redo"):
        history.redo()
    assert [r.state for r in history.log()] == ["done", "discarded"]


def test_a_failed_edit_changes_nothing(project: Project) -> None:
    history = EditHistory(project)
    history.execute(AddEntity("IBM"))
    before = snapshot(project)
    with pytest.raises(EditError):
        history.execute(AddTriple(1, "knows", object_id=99))
    with pytest.raises(EditError):
        history.execute(MergeEntities(1, [1]))
    assert snapshot(project) == before
    assert project.counts()["edits"] == {"undoable": 1, "redoable": 0}


def test_two_sessions_share_one_project(pg_url: str) -> None:
    """What a team gets from a server: each user's edits (and history) are visible to the other."""
    with Project.create(pg_url) as alice, Project.open(pg_url) as bob:
        EditHistory(alice).execute(AddEntity("IBM"))
        assert names(bob) == {1: ("IBM", None, "active")}
        EditHistory(bob).execute(RenameEntity(1, "IBM Corp."))
        assert names(alice)[1][0] == "IBM Corp."
        EditHistory(alice).undo()  # the newest edit, bob's
        assert names(bob)[1][0] == "IBM"
        assert bob.counts()["edits"] == {"undoable": 1, "redoable": 1}


def run_together(*actions: Any) -> list[Any]:
    """Run the actions in parallel threads, released at the same moment; results (or exceptions) in order."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = actions[index]()
        except Exception as exc:  # reported to the test, not lost in the thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_writers_take_turns(pg_url: str) -> None:
    """Two users (each with an own connection, as two processes would be) never undo the same edit
    twice, and never record an edit against a row that the other one has just changed."""
    with Project.create(pg_url) as setup:
        history = EditHistory(setup)
        for number in range(6):
            history.execute(AddEntity(f"E{number}"))
    alice, bob = Project.open(pg_url), Project.open(pg_url)
    try:
        for _ in range(3):
            records = run_together(EditHistory(alice).undo, EditHistory(bob).undo)
            assert not [r for r in records if isinstance(r, Exception)], records
            assert records[0].id != records[1].id, "both users undid the same edit"
        counts = alice.counts()
        assert counts["entities"]["total"] == 0
        assert counts["edits"] == {"undoable": 0, "redoable": 6}

        EditHistory(alice).execute(AddEntity("IBM"))
        [entity_id] = [key for key, value in names(alice).items() if value[0] == "IBM"]
        renamed = run_together(lambda: EditHistory(alice).execute(RenameEntity(entity_id, "IBM (Alice)")),
                               lambda: EditHistory(bob).execute(RenameEntity(entity_id, "IBM (Bob)")))
        assert not [r for r in renamed if isinstance(r, Exception)], renamed
        # Each rename recorded the name it really replaced, so both undo cleanly back to the start.
        EditHistory(bob).undo()
        EditHistory(alice).undo()
        assert names(alice)[entity_id] == ("IBM", None, "active")
        assert aliases(alice, entity_id) == []
    finally:
        alice.close()
        bob.close()


# --- what a user sees for the wrong database -----------------------------------


def test_opening_an_empty_database_is_refused(pg_server: PostgresServer, pg_url: str) -> None:
    with pytest.raises(ProjectError, match="not a kgstudio project") as caught:
        Project.open(pg_url)
    assert database_of(pg_url) in str(caught.value)
    assert public_tables(pg_server, database_of(pg_url)) == set(), "opening must not create anything"
    assert connections_to(pg_server, database_of(pg_url)) == 0


def test_opening_another_applications_database_is_refused(pg_server: PostgresServer, pg_url: str) -> None:
    database = database_of(pg_url)
    with pg_server.connect(database) as connection:
        connection.execute("CREATE TABLE customers (id serial PRIMARY KEY, name text)")
        connection.execute("INSERT INTO customers (name) VALUES ('ACME')")
    with pytest.raises(ProjectError, match="not a kgstudio project"):
        Project.open(pg_url)
    with pytest.raises(ProjectError, match="not empty"):
        Project.create(pg_url)
    assert public_tables(pg_server, database) == {"customers"}
    with pg_server.connect(database) as connection:
        assert connection.execute("SELECT name FROM customers").fetchall() == [("ACME",)]
    assert connections_to(pg_server, database) == 0


def test_creating_over_an_existing_project_is_refused(pg_server: PostgresServer, pg_url: str) -> None:
    with Project.create(pg_url) as project:
        EditHistory(project).execute(AddEntity("IBM"))
        project_id = project.meta["project_id"]
    with pytest.raises(ProjectError, match="not empty"):
        Project.create(pg_url)
    with Project.open(pg_url) as project:
        assert project.meta["project_id"] == project_id
        assert names(project) == {1: ("IBM", None, "active")}
    assert connections_to(pg_server, database_of(pg_url)) == 0


def test_a_project_from_a_newer_kgstudio_is_refused(pg_server: PostgresServer, pg_url: str) -> None:
    Project.create(pg_url).close()
    with pg_server.connect(database_of(pg_url)) as connection:
        connection.execute("UPDATE kgstudio_meta SET value = %s WHERE key = 'schema_version'",
                           (str(SCHEMA_VERSION + 1),))
    with pytest.raises(SchemaTooNewError, match="newer kgstudio"):
        Project.open(pg_url)
    with pg_server.connect(database_of(pg_url)) as connection:
        [(version,)] = connection.execute("SELECT value FROM kgstudio_meta WHERE key = 'schema_version'").fetchall()
    assert version == str(SCHEMA_VERSION + 1)


def test_a_missing_database_is_a_project_error(pg_server: PostgresServer) -> None:
    url = pg_server.url("no_such_database")
    with pytest.raises(ProjectError, match='database "no_such_database" does not exist'):
        Project.open(url)
    with pytest.raises(ProjectError, match="cannot create the project"):
        Project.create(url)


def test_an_unreachable_server_is_a_project_error(pg_server: PostgresServer) -> None:
    """(``pg_server`` only for its skip rules: this needs psycopg, not a server.)"""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/kg"  # nothing listens there
    with pytest.raises(ProjectError, match="cannot open the project.*(refused|failed)") as caught:
        Project.open(url)
    assert str(caught.value).startswith(url)
    assert "\n" not in str(caught.value)


def test_a_role_without_rights_gets_a_project_error_and_an_owner_works(pg_server: PostgresServer) -> None:
    """PostgreSQL 15+ lets only a database's owner create tables in ``public`` (a typical team setup)."""
    with pg_server.connect() as connection:
        connection.execute("DROP ROLE IF EXISTS kg_alice")
        connection.execute("CREATE ROLE kg_alice LOGIN")
    foreign = pg_server.create_database()
    owned = pg_server.create_database()
    with pg_server.connect() as connection:
        connection.execute(f'ALTER DATABASE "{owned}" OWNER TO kg_alice')
    try:
        as_alice = pg_server.url(foreign).replace("//postgres@", "//kg_alice@")
        if pg_server.version_num() >= 150000:
            with pytest.raises(ProjectError, match="cannot create the project.*permission denied"):
                Project.create(as_alice)
            assert public_tables(pg_server, foreign) == set()

        as_owner = pg_server.url(owned).replace("//postgres@", "//kg_alice@")
        with Project.create(as_owner) as project:
            history = EditHistory(project)
            history.execute(AddEntity("IBM"))
            history.execute(AddTriple(1, "founded", object_literal="1911"))
            history.undo()
            history.redo()
            assert project.counts()["triples"]["total"] == 1
    finally:
        pg_server.drop_database(foreign)
        pg_server.drop_database(owned)
        with pg_server.connect() as connection:
            connection.execute("DROP ROLE kg_alice")


# --- the command line ------------------------------------------------------------


def kgstudio(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed ``kgstudio`` command (or ``python -m kgstudio.cli.main``) in a fresh process."""
    script = Path(sys.executable).with_name("kgstudio")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "kgstudio.cli.main"]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, env=env)


def test_the_command_line_works_on_a_database_url(pg_server: PostgresServer, pg_url: str) -> None:
    created = kgstudio("new", pg_url)
    assert created.returncode == 0, created.stderr
    added = kgstudio("edit", pg_url, "add-entity", "IBM", "--alias", "Big Blue")
    assert added.returncode == 0, added.stderr
    added = kgstudio("edit", pg_url, "add-triple", "1", "founded", "--literal", "1911")
    assert added.returncode == 0, added.stderr

    status = kgstudio("status", pg_url, "--json")
    assert status.returncode == 0, status.stderr
    counts = json.loads(status.stdout)
    assert counts["project"] == pg_url
    assert counts["entities"]["total"] == 1 and counts["triples"]["total"] == 1
    assert counts["edits"] == {"undoable": 2, "redoable": 0}

    undone = kgstudio("undo", pg_url)
    assert undone.returncode == 0 and "add triple" in undone.stdout, undone.stderr
    with Project.open(pg_url) as project:
        assert project.counts()["triples"]["total"] == 0
        assert names(project) == {1: ("IBM", None, "active")}
    assert connections_to(pg_server, database_of(pg_url)) == 0


def test_the_command_line_explains_a_wrong_database_in_one_line(pg_url: str) -> None:
    empty = kgstudio("status", pg_url, "--json")
    assert empty.returncode == 1
    assert empty.stderr.startswith("kgstudio: error: ") and "not a kgstudio project" in empty.stderr
    assert "Traceback" not in empty.stderr and empty.stdout == ""

    unreachable = kgstudio("status", f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/kg", "--json")
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("kgstudio: error: ") and "Traceback" not in unreachable.stderr
    assert len(unreachable.stderr.strip().splitlines()) == 1


def test_text_with_nul_characters_imports_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    from tests.unit.pipeline.test_importing import import_nul_file

    with Project.create(pg_url) as project:
        import_nul_file(project, tmp_path)


@pytest.mark.parametrize("op", sorted(UNDO_REDO_COMMANDS))
def test_each_edit_command_round_trips(pg_url: str, op: str) -> None:
    """The same catalogue as tests/unit/edit/test_undo_redo.py, on PostgreSQL: do, undo, redo, reopen."""
    with Project.create(pg_url) as project:
        ids = build_graph(project)
        history = EditHistory(project)
        before = graph_snapshot(project)
        history.execute(UNDO_REDO_COMMANDS[op](ids))
        after = graph_snapshot(project)
        assert after != before, f"{op} changed nothing"
        history.undo()
        assert graph_snapshot(project) == before
        history.redo()
    with Project.open(pg_url) as reopened:
        assert graph_snapshot(reopened) == after
        EditHistory(reopened).undo()
        assert graph_snapshot(reopened) == before
