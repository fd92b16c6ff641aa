"""Make the README's screenshot of the Questions panel from a real kgstudio window on an X server (Xvfb).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python docs/screenshots/make_scope_screenshot.py

(KGSTUDIO_SHOT_GGUF=FILE uses that model instead of the embedded one.)

It creates a project in a temporary folder, imports Jane Smith's CV, types
three competency questions with their SPARQL over kgstudio's default
ontology, runs extraction under contracts with the model (as Run ▸ Extraction
does), adds by hand three facts a small model misses (Edit ▸ Add Triple), verifies, clicks the first question (its supporting triples are
highlighted on the canvas) and saves ``questions.png`` and ``contracts.png``
next to this file. Needs ../shared/data.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO.parent / "shared" / "data"
QUESTIONS = [
    ("Who works for which organisation?",
     "SELECT ?person ?org WHERE { ?p kgs:worksFor ?o . ?p rdfs:label ?person . ?o rdfs:label ?org }"),
    ("Where is each organisation located?",
     "SELECT ?org ?place WHERE { ?o kgs:locatedIn ?l . ?o rdfs:label ?org . ?l rdfs:label ?place }"),
    ("Which organisations has a person been a member of?",
     "SELECT ?person ?org WHERE { ?p kgs:memberOf ?o . ?p rdfs:label ?person . ?o rdfs:label ?org }"),
]

HAND_MADE = [
    (("Jane Smith", "Person"), "worksFor", ("XYZ Marketing", "Organization")),
    (("XYZ Marketing", "Organization"), "locatedIn", ("New York", "Place")),
    (("John Doe", "Person"), "worksFor", ("ABC Corp", "Organization")),
]


def main() -> int:
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" or not os.environ.get("DISPLAY"):
        print("run this under an X server (xvfb-run), not offscreen", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("KGSTUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="kgstudio-shots-config-"))
    from PySide6.QtCore import QElapsedTimer
    from PySide6.QtWidgets import QApplication

    from kgstudio.gui.application import create_application
    from kgstudio.gui.main_window import MainWindow

    app = create_application()
    window = MainWindow()
    window.resize(1360, 860)
    window.show()

    def settle(ms: int = 300) -> None:
        clock = QElapsedTimer()
        clock.start()
        while clock.elapsed() < ms or window.tasks or window.run_panel.running:
            app.processEvents()

    folder = Path(tempfile.mkdtemp(prefix="kgstudio-shots-"))
    window.new_project(folder / "cv-scope.kgs")
    window.import_files([DATA / "pdf" / "cv" / "CV_Jane_Smith.pdf", DATA / "pdf" / "cv" / "CV_John_Doe.pdf"])
    settle()
    panel = window.scope.questions
    for text, sparql in QUESTIONS:
        panel.add_question(text, sparql)
    run = window.run_panel
    if os.environ.get("KGSTUDIO_SHOT_GGUF"):
        run.gguf_path.setText(os.environ["KGSTUDIO_SHOT_GGUF"])
        run.gguf.setChecked(True)
    run.run()
    settle(1000)
    print(f"extraction: {run.status.text()}")
    # What a small model misses, the user adds by hand (Edit ▸ Add Entity / Add Triple), as edits of the history.
    for subject, predicate, obj in HAND_MADE:
        ids = [entity(window, name, cls) for name, cls in (subject, obj)]
        window.editor.add_triple(ids[0], predicate, ids[1])
    settle()
    window.lay_out("spring")
    settle()
    panel.verify()
    settle()
    window.show_panel("questions")
    answered = [r for r in panel.rows() if r["answered"].startswith("✓")]
    panel.select_question((answered or panel.rows())[0]["id"])
    print("questions:", [(r["text"], r["answered"]) for r in panel.rows()])
    settle()
    shoot(window, "questions.png")
    window.show_panel("contracts")
    settle()
    print("contracts:", window.scope.contracts.rates())
    shoot(window, "contracts.png")
    window.close()
    QApplication.processEvents()
    return 0


def entity(window, name: str, class_name: str) -> int:  # type: ignore[no-untyped-def]
    """The id of the entity called ``name``, added first when the graph has none."""
    graph = window.graph
    if graph is not None and name in graph.names:
        return int(graph.node_ids[graph.names.index(name)])
    record = window.editor.add_entity(name, class_name)
    return next(iter(record.changes.entity_ids))


def shoot(window, name: str) -> None:  # type: ignore[no-untyped-def]
    image = window.grab().toImage()
    path = HERE / name
    image.save(str(path), "PNG", 0)  # highest compression
    print(f"{path} {image.width()}x{image.height()} {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    raise SystemExit(main())
