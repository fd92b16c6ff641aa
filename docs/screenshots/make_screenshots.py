"""Make the README's screenshots from a real kgstudio window on an X server (Xvfb).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python docs/screenshots/make_screenshots.py

(KGSTUDIO_SHOT_CHUNKS=N sets how many chunks are extracted, KGSTUDIO_SHOT_GGUF=FILE uses that model.)

It creates a project in a temporary folder, imports the shared CV PDFs and
an mbox, runs extraction with the embedded model on the first chunks (as
Run ▸ Extraction does), lays the graph out, selects a fact, jumps to its
source, and saves PNGs next to this file. Needs ../shared/data.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = REPO.parent / "shared" / "data"


def main() -> int:
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen" or not os.environ.get("DISPLAY"):
        print("run this under an X server (xvfb-run), not offscreen", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("KGSTUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="kgstudio-shots-config-"))
    from PySide6.QtCore import QElapsedTimer
    from PySide6.QtWidgets import QApplication

    from kgstudio.gui.application import create_application
    from kgstudio.gui.import_dialog import ImportRequest
    from kgstudio.gui.main_window import MainWindow
    from kgstudio.pipeline.importing import ImportOptions

    app = create_application()
    window = MainWindow()
    window.resize(1360, 860)
    window.show()

    def settle(ms: int = 300) -> None:
        clock = QElapsedTimer()
        clock.start()
        while clock.elapsed() < ms or window.tasks:
            app.processEvents()

    folder = Path(tempfile.mkdtemp(prefix="kgstudio-shots-"))
    window.new_project(folder / "career-notes.kgs")
    window.import_files(ImportRequest((DATA / "pdf" / "cv", DATA / "email" / "mbox" / "complex.mbox"),
                                      ImportOptions(include=tuple(os.environ.get(
                                          "KGSTUDIO_SHOT_INCLUDE", "*.pdf,*.txt,*.mbox").split(",")))))
    settle()
    panel = window.run_panel
    panel.limit.setValue(int(os.environ.get("KGSTUDIO_SHOT_CHUNKS", "4")))
    if os.environ.get("KGSTUDIO_SHOT_GGUF"):  # e.g. Gemma 3 270M, which finds more than the embedded model
        panel.gguf_path.setText(os.environ["KGSTUDIO_SHOT_GGUF"])
        panel.gguf.setChecked(True)
    panel.estimate()
    window.show_panel("run")
    panel.run()
    settle(1500)
    shoot(window, "run.png")
    while panel.running:
        app.processEvents()
    settle()
    print(f"extraction: {panel.status.text()}")
    window.lay_out("spring")
    settle()
    window.show_panel("review")
    review = window.review
    graph = window.graph
    # A candidate read from a CV (its source is a PDF page), selected on the canvas.
    for row in range(review.list.topLevelItemCount()):
        review.list.setCurrentItem(review.list.topLevelItem(row))
        if review._evidence and review._evidence[0].document_path.endswith(".pdf"):
            break
    triple = review.current_triple_id()
    if triple is None and graph is not None and graph.edge_count:  # no candidates: an e-mail header fact
        triple = int(graph.edge_ids[graph.edge_alive.nonzero()[0][0]])
    if triple is not None and graph is not None and graph.edge_index(triple) is not None:
        window.canvas.select_edge(graph.edge_index(triple))
    settle()
    shoot(window, "workbench.png")
    window.inspector.show_source()
    settle()
    shoot(window, "source.png")
    window.close()
    QApplication.processEvents()
    return 0


def shoot(window, name: str) -> None:  # type: ignore[no-untyped-def]
    image = window.grab().toImage()
    path = HERE / name
    image.save(str(path), "PNG", 0)  # highest compression
    print(f"{path} {image.width()}x{image.height()} {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    raise SystemExit(main())
