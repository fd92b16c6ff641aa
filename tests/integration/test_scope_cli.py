"""`kgstudio cq`, `kgstudio ontology` and `kgstudio verify` as a user runs them, on the shared files.

The model-driven actions (cq propose/sparql, ontology derive) are tested with a scripted model in
tests/unit/pipeline/test_scope.py and with the real model in tests/integration/test_contracts_model.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kgstudio.edit import AddEntity, AddTriple, EditHistory
from kgstudio.store import Project


def kgstudio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kgstudio", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=180)


def ok(*args: str, cwd: Path) -> str:
    result = kgstudio(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ontology_import_show_export_and_a_refused_file(tmp_path: Path, shared_data: Path) -> None:
    ok("new", "space.kgs", cwd=tmp_path)
    space = shared_data / "bench" / "text2kgbench" / "wikidata_tekgen" / "ont_7_space.ttl"
    assert "Imported 15 classes and 7 properties" in ok("ontology", "space.kgs", "import", str(space), cwd=tmp_path)
    shown = ok("ontology", "space.kgs", "show", cwd=tmp_path)
    assert "siteOfAstronomicalDiscovery: Asteroid -> Observatory  [object]" in shown
    ok("ontology", "space.kgs", "export", "space-out.ttl", cwd=tmp_path)
    ok("new", "copy.kgs", cwd=tmp_path)
    ok("ontology", "copy.kgs", "import", "space-out.ttl", cwd=tmp_path)
    as_json = json.loads(ok("ontology", "copy.kgs", "--json", "show", cwd=tmp_path))
    assert {p["name"] for p in as_json["properties"]} == {
        "siteOfAstronomicalDiscovery", "minorPlanetGroup", "constellation", "astronautMission",
        "spacecraftDockingUndockingDate", "backupOrReserveTeamOrCrew", "locationOfLanding"}
    # FOAF refers to classes it does not define: refused unless the user insists
    foaf = shared_data / "ontologies" / "foaf-0.1.ttl"
    refused = kgstudio("ontology", "copy.kgs", "import", str(foaf), cwd=tmp_path)
    assert refused.returncode == 1 and "error(s) in the ontology" in refused.stderr
    assert "based_near: the domain SpatialThing is not a class" in refused.stdout
    assert "Imported 12 classes and 51 properties" in ok("ontology", "copy.kgs", "import", str(foaf), "--force",
                                                         cwd=tmp_path)
    assert kgstudio("ontology", "copy.kgs", "check", cwd=tmp_path).returncode == 1


def test_three_cv_questions_then_verify_says_which_are_answered_and_why(tmp_path: Path, shared_data: Path) -> None:
    ok("new", "cv.kgs", cwd=tmp_path)
    ok("import", "cv.kgs", str(shared_data / "pdf" / "cv" / "CV_Jane_Smith.pdf"), cwd=tmp_path)
    (tmp_path / "cqs.txt").write_text("# about the CVs\nWho works for which organisation?\n"
                                      "Who works for which organisation\nWhere does each person live?\n")
    imported = json.loads(ok("cq", "cv.kgs", "--json", "import", "cqs.txt", cwd=tmp_path))
    assert [q["text"] for q in imported] == ["Who works for which organisation?", "Where does each person live?"]
    ok("cq", "cv.kgs", "edit", "1", "--sparql",
       "SELECT ?person ?org WHERE { ?p kgs:worksFor ?o . ?p rdfs:label ?person . ?o rdfs:label ?org }", cwd=tmp_path)
    ok("cq", "cv.kgs", "edit", "2", "--sparql",
       "SELECT ?person ?place WHERE { ?p kgs:livesIn ?l . ?p rdfs:label ?person . ?l rdfs:label ?place }", cwd=tmp_path)
    ok("cq", "cv.kgs", "add", "Is anyone an author?", "--sparql", "ASK { ?d kgs:author ?a }", cwd=tmp_path)
    bad = kgstudio("cq", "cv.kgs", "add", "Who is employed?", "--sparql", "SELECT ?p WHERE { ?p kgs:employs ?o }",
                   cwd=tmp_path)
    assert bad.returncode == 1 and "kgs:employs is not a term of the ontology" in bad.stderr
    with Project.open(tmp_path / "cv.kgs") as project:  # what extraction would add: Jane works for XYZ Marketing
        history = EditHistory(project)
        jane = history.execute(AddEntity("Jane Smith", "Person")).changes.changes[0].key
        xyz = history.execute(AddEntity("XYZ Marketing", "Organization")).changes.changes[0].key
        history.execute(AddTriple(jane, "worksFor", object_id=xyz))
    report = json.loads(ok("verify", "cv.kgs", "--json", cwd=tmp_path))
    works, lives, author = report["questions"]
    assert works["answered"] and works["answers"] == [{"person": "Jane Smith", "org": "XYZ Marketing"}]
    assert [(t["subject"], t["predicate"], t["object"]) for t in works["triples"]] == [
        ("Jane Smith", "worksFor", "XYZ Marketing")]
    assert not lives["answered"] and not author["answered"]
    assert report["coverage"] == {"answered": 1, "questions": 3} and report["shacl"]["conforms"]
    human = ok("verify", "cv.kgs", cwd=tmp_path)
    assert "1 of 3 answered" in human and "UNANSWERED: Where does each person live?" in human
    assert "because: #1 Jane Smith worksFor XYZ Marketing" in human
    listed = json.loads(ok("cq", "cv.kgs", "--json", "list", cwd=tmp_path))
    assert listed[0]["last_answer"][0]["answered"] and listed[0]["last_answer"][0]["triples"] == [1]
    ok("cq", "cv.kgs", "reject", "3", cwd=tmp_path)
    ok("cq", "cv.kgs", "delete", "2", cwd=tmp_path)
    assert json.loads(ok("verify", "cv.kgs", "--json", "--no-shacl", cwd=tmp_path))["coverage"] == {
        "answered": 1, "questions": 1}
