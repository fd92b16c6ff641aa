"""Persistence: SQLAlchemy models, the project file, repositories and the row journal.

A project is one SQLite file (WAL mode) or any SQLAlchemy database; see
:class:`~kgstudio.store.project.Project`.
"""

from kgstudio.store.location import ProjectLocation
from kgstudio.store.project import PROJECT_SUFFIX, Project, default_project_path
from kgstudio.store.repositories import Repositories
from kgstudio.store.schema import SCHEMA_VERSION

__all__ = ["PROJECT_SUFFIX", "Project", "ProjectLocation", "Repositories", "SCHEMA_VERSION", "default_project_path"]
