"""Which process a run belongs to, and whether that process is gone.

A run is written as ``running`` when it starts and finished by the process
that started it. A process killed with SIGKILL (or a crash, or a power cut)
never finishes its run, so the row would say ``running`` for ever. Each run
therefore records its owner: host name, process id and the process's start
time (the start time tells a dead process from a new one that got its pid).
A run whose owner is known to be gone was interrupted. On another host (a
team's shared PostgreSQL project) kgstudio cannot tell, and says nothing.
"""

from __future__ import annotations

import os
import socket
from functools import cache

import psutil

# Start times are floats from /proc or the OS; the same process reads back the same value,
# but one rounded to centiseconds is what is stored.
_START_TOLERANCE = 0.05


@cache
def this_process() -> str:
    """This process as a run's owner: ``"HOST PID START"``."""
    return _owner(os.getpid())


def _owner(pid: int) -> str:
    return f"{socket.gethostname()} {pid} {psutil.Process(pid).create_time():.2f}"


def is_gone(owner: str | None) -> bool:
    """True only when ``owner`` is a process on this host that no longer runs; unknown owners are not gone."""
    if not owner:
        return False
    try:
        host, pid_text, start_text = owner.rsplit(" ", 2)
        pid, start = int(pid_text), float(start_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False
    try:
        process = psutil.Process(pid)
        if abs(process.create_time() - start) > _START_TOLERANCE:
            return True  # the pid now belongs to another process
        return process.status() == psutil.STATUS_ZOMBIE  # ended, not yet reaped by its parent
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:  # e.g. another user's process: it exists
        return False
