"""File ▸ Export…: one of the installed exporters, to a file or folder, with the status and provenance options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

try:  # the exporters are built alongside the window; without them the dialog says so
    from kgstudio.export import export_formats, export_project

    EXPORT_ERROR: str | None = None
except ImportError as exc:  # pragma: no cover - only while the exporters are incomplete
    export_formats = export_project = None  # type: ignore[assignment]
    EXPORT_ERROR = f"export not available ({exc})"


@dataclass(frozen=True)
class ExportRequest:
    """The arguments of :func:`kgstudio.export.export_project` the user chose."""

    format: str
    path: Path
    status: str = "accepted"
    provenance: bool = False


class ExportDialog(QDialog):
    def __init__(self, default_stem: str, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export the graph")
        self._stem, self._folder = default_stem, folder
        self.formats: list[Any] = list(export_formats()) if EXPORT_ERROR is None else []
        self.format = QComboBox()
        for fmt in self.formats:
            self.format.addItem(f"{fmt.label} ({fmt.suffix or 'folder'})", fmt.name)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._ask_path)
        self.candidates = QCheckBox("Include candidates (not yet reviewed)")
        self.provenance = QCheckBox("Include where each fact came from (provenance)")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Format:", self.format)
        form.addRow("", self.description)
        form.addRow("Save to:", path_row)
        form.addRow("", self.candidates)
        form.addRow("", self.provenance)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if EXPORT_ERROR is not None:
            layout.addWidget(QLabel(EXPORT_ERROR))
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.format.currentIndexChanged.connect(self._on_format)
        self.path.textChanged.connect(self._update_ok)
        ttl = self.format.findData("ttl")
        self.format.setCurrentIndex(ttl if ttl >= 0 else 0)
        self._on_format()
        self.resize(560, 240)

    def choose(self, name: str) -> None:
        """Select a format by name (and suggest a file name for it)."""
        index = self.format.findData(name)
        if index < 0:
            raise ValueError(f"no exporter for {name!r}")
        self.format.setCurrentIndex(index)

    def request(self) -> ExportRequest:
        return ExportRequest(self.format.currentData(), Path(self.path.text()).expanduser(),
                             "all" if self.candidates.isChecked() else "accepted", self.provenance.isChecked())

    def _current(self) -> Any:
        name = self.format.currentData()
        return next((f for f in self.formats if f.name == name), None)

    def _on_format(self) -> None:
        fmt = self._current()
        if fmt is None:
            self._update_ok()
            return
        self.description.setText(fmt.description)
        self.path.setText(str(self._folder / f"{self._stem}{fmt.suffix}"))
        self._update_ok()

    def _update_ok(self) -> None:
        ok = self._current() is not None and bool(self.path.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def _ask_path(self) -> None:
        fmt = self._current()
        if fmt is None:
            return
        if fmt.folder:
            path = QFileDialog.getExistingDirectory(self, "Export to folder", str(self._folder))
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(), f"{fmt.label} (*{fmt.suffix})")
        if path:
            self.path.setText(path)
