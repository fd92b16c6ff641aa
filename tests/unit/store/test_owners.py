"""A run's owner: this process is alive; a process that ended (or a stranger on our pid) is gone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import psutil

from kgstudio.store import owners


def test_this_process_is_alive() -> None:
    assert not owners.is_gone(owners.this_process())
    assert owners.this_process().split()[1] == str(os.getpid())


def test_a_process_that_ended_is_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        owner = owners._owner(child.pid)
        assert not owners.is_gone(owner)
        child.kill()
        child.wait()
        assert owners.is_gone(owner)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_killed_process_its_parent_has_not_reaped_yet_is_gone() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    owner = owners._owner(child.pid)
    child.kill()  # and not waited for: it stays a zombie until child.wait()
    try:
        deadline = time.monotonic() + 10
        while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the killed child never became a zombie"
            time.sleep(0.01)
        assert owners.is_gone(owner)
    finally:
        child.wait()


def test_another_process_on_the_same_pid_does_not_count() -> None:
    host, pid, start = owners.this_process().split()
    assert owners.is_gone(f"{host} {pid} {float(start) - 3600:.2f}")  # our pid, but a start an hour earlier


def test_an_owner_on_another_host_or_unknown_is_never_gone() -> None:
    assert not owners.is_gone(None)
    assert not owners.is_gone("")
    assert not owners.is_gone("garbage")
    other_host = socket.gethostname() + "-elsewhere"
    assert not owners.is_gone(f"{other_host} 999999 12.00")
