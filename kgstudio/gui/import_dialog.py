"""File ▸ Import…: which files and folders, and how (recursive, include/exclude patterns, password)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kgstudio.ingest.reader import ReadOptions
from kgstudio.pipeline.importing import ImportOptions


@dataclass(frozen=True)
class ImportRequest:
    """What to import and how: the arguments of :func:`kgstudio.pipeline.importing.import_paths`."""

    paths: tuple[Path, ...]
    options: ImportOptions = ImportOptions()


def split_patterns(text: str) -> tuple[str, ...]:
    """``"*.pdf, *.mbox; drafts/*"`` → ``("*.pdf", "*.mbox", "drafts/*")``."""
    return tuple(part.strip() for part in text.replace(";", ",").split(",") if part.strip())


class ImportDialog(QDialog):
    """Choose files and folders and the import options; :meth:`request` is what was chosen."""

    def __init__(self, parent: QWidget | None = None, paths: list[Path] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import documents")
        self.paths = QListWidget()
        self.paths.setObjectName("importPaths")
        add_files = QPushButton("Add Files…")
        add_folder = QPushButton("Add Folder…")
        remove = QPushButton("Remove")
        add_files.clicked.connect(self._ask_files)
        add_folder.clicked.connect(self._ask_folder)
        remove.clicked.connect(lambda: [self.paths.takeItem(self.paths.row(i)) for i in self.paths.selectedItems()])
        buttons_row = QHBoxLayout()
        for button in (add_files, add_folder, remove):
            buttons_row.addWidget(button)
        buttons_row.addStretch(1)

        self.recursive = QCheckBox("Go into sub-folders")
        self.recursive.setChecked(True)
        self.include = QLineEdit()
        self.include.setPlaceholderText("e.g. *.pdf, *.mbox (empty: every file kgstudio can read)")
        self.exclude = QLineEdit()
        self.exclude.setPlaceholderText("e.g. drafts/*")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("for encrypted PDFs and workbooks")
        self.ocr = QCheckBox("Read scanned pages with OCR (when Tesseract is installed)")
        self.ocr.setChecked(True)
        form = QFormLayout()
        form.addRow("", self.recursive)
        form.addRow("Only files matching:", self.include)
        form.addRow("Skip files matching:", self.exclude)
        form.addRow("Password:", self.password)
        form.addRow("", self.ocr)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.paths)
        layout.addLayout(buttons_row)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.paths.model().rowsInserted.connect(self._update_ok)
        self.paths.model().rowsRemoved.connect(self._update_ok)
        for path in paths or []:
            self.add_path(path)
        self._update_ok()
        self.resize(560, 420)

    def add_path(self, path: str | Path) -> None:
        """Add a file or folder to the list (once)."""
        text = str(Path(path))
        if not self.paths.findItems(text, Qt.MatchFlag.MatchExactly):
            self.paths.addItem(text)

    def request(self) -> ImportRequest:
        """The chosen paths and options."""
        paths = tuple(Path(self.paths.item(i).text()) for i in range(self.paths.count()))
        return ImportRequest(paths, ImportOptions(
            recursive=self.recursive.isChecked(),
            include=split_patterns(self.include.text()),
            exclude=split_patterns(self.exclude.text()),
            read=ReadOptions(password=self.password.text() or None, ocr=self.ocr.isChecked()),
        ))

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self.paths.count() > 0)

    def _ask_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add Files", str(Path.home()))
        for file in files:
            self.add_path(file)

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add Folder", str(Path.home()))
        if folder:
            self.add_path(folder)
