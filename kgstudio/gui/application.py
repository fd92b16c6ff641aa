"""The QApplication: names, version and the window icon."""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication

from kgstudio import __version__

APP_NAME = "kgstudio"
_ICON_NAMES = ("kgstudio.svg", "kgstudio.png")


def create_application() -> QApplication:
    """Return the QApplication (made here unless one exists), named and with kgstudio's icon."""
    app = QApplication.instance() or QApplication(sys.argv[:1] or [APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    # Wayland shells find the icon and name through the .desktop file of this id.
    app.setDesktopFileName(APP_NAME)
    icon = application_icon()
    if icon is not None:
        app.setWindowIcon(icon)
    return app


def application_icon() -> QIcon | None:
    """kgstudio's icon from ``kgstudio.resources/icons``, or None when none is installed."""
    folder = files("kgstudio.resources") / "icons"
    for name in _ICON_NAMES:
        resource = folder / name
        if not resource.is_file():
            continue
        if isinstance(resource, Path):
            icon = QIcon(str(resource))  # from a file, an SVG stays sharp at every size
        else:  # inside a zip: no file name to hand to Qt
            pixmap = QPixmap()
            pixmap.loadFromData(resource.read_bytes())
            icon = QIcon(pixmap)
        if not icon.isNull():
            return icon
    return None
