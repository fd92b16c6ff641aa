"""Pipeline runs: one row per execution of a stage, so work can resume and be traced."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # The process running it stopped before it ended (killed, crashed); what it finished is kept.
    INTERRUPTED = "interrupted"


@dataclass
class Run:
    stage: str  # "import", "extract", "fuse", "reflect", ...
    model: str | None = None
    prompt_version: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    status: RunStatus = RunStatus.RUNNING
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    id: int | None = None
    owner: str | None = None  # the process that runs it (see kgstudio.store.owners)


@dataclass
class LlmCall:
    """A model's answer for one prompt, cached by ``key`` (see ``kgstudio.pipeline.extract``)."""

    key: str
    model: str
    prompt_version: str
    raw: str
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    params: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    created_at: datetime | None = None
    id: int | None = None
