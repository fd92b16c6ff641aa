"""File ▸ Open Recent: the recent projects from the user's settings."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu, QWidget

from kgstudio.settings import Settings

log = logging.getLogger(__name__)


class RecentProjectsMenu(QMenu):
    """The recent projects, most recent first; a project file that no longer exists is shown disabled.

    The list is read from :class:`~kgstudio.settings.Settings` each time the
    menu opens, so a project opened by another kgstudio window or by the CLI
    shows up too. :attr:`project_chosen` carries the chosen project's path or URL.
    """

    project_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Open &Recent", parent)
        self.aboutToShow.connect(self.refresh)
        self.refresh()

    def projects(self) -> list[tuple[str, bool]]:
        """What the menu lists: (project, available) pairs, most recent first."""
        return [(action.data(), action.isEnabled()) for action in self.actions() if action.data()]

    def refresh(self) -> None:
        """Rebuild the menu from the settings file."""
        self.clear()
        recent = Settings.load().recent_projects
        for number, project in enumerate(recent, start=1):
            available = _is_available(project)
            label = project.replace("&", "&&") + ("" if available else "  (missing)")
            # Mnemonics 1-9 let the keyboard pick one of the first nine entries.
            action = self.addAction(f"&{number} {label}" if number < 10 else label)
            action.setData(project)
            action.setEnabled(available)
            action.setToolTip(project if available else f"{project} no longer exists")
            action.triggered.connect(lambda _checked=False, p=project: self.project_chosen.emit(p))
        if not recent:
            self.addAction("No Recent Projects").setEnabled(False)
            return
        self.addSeparator()
        self.addAction("&Clear Menu", self.clear_recent)

    def clear_recent(self) -> None:
        """Forget all recent projects."""
        settings = Settings.load()
        settings.recent_projects = []
        save_settings(settings)
        self.refresh()


def remember_project(project: str) -> None:
    """Put ``project`` (a path or URL) at the top of the recent projects."""
    settings = Settings.load()
    settings.add_recent(project)
    save_settings(settings)


def save_settings(settings: Settings) -> None:
    """Save settings; a failure costs only the recent list, so it is logged, not shown."""
    try:
        settings.save()
    except OSError as exc:
        log.warning("cannot save kgstudio settings: %s", exc)


def _is_available(project: str) -> bool:
    # A database URL cannot be checked without connecting; opening it will tell.
    return "://" in project or Path(project).is_file()
