"""`kgstudio` opens a real window on a real X server (Xvfb), as on a user's desktop.

The other GUI tests run on Qt's offscreen platform; this one goes through the
X11 (xcb) platform plugin and its system libraries, which is where a fresh
install breaks (a missing libxcb-cursor0 makes Qt abort the process).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kgstudio.edit import AddEntity, EditHistory
from kgstudio.store import Project

pytestmark = pytest.mark.gui


@pytest.fixture
def xvfb_display():
    xvfb, xwininfo = shutil.which("Xvfb"), shutil.which("xwininfo")
    if not (xvfb and xwininfo):
        if os.environ.get("KGSTUDIO_REQUIRE_XVFB") == "1":
            pytest.fail("Xvfb and xwininfo are required (Debian: xvfb x11-utils)")
        pytest.skip("Xvfb or xwininfo not installed (Debian: xvfb x11-utils)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        number = reader.readline().strip()  # Xvfb writes its display number once it accepts connections
    try:
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def window_titles(display: str) -> str:
    return subprocess.run(["xwininfo", "-root", "-tree", "-display", display], capture_output=True, text=True).stdout


def test_kgstudio_opens_the_project_in_a_real_window_and_quits_on_ctrl_c(xvfb_display: str, tmp_path: Path) -> None:
    path = tmp_path / "field-notes.kgs"
    with Project.create(path) as project:
        EditHistory(project).execute(AddEntity("Ada Lovelace"))
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = xvfb_display
    app = subprocess.Popen([sys.executable, "-m", "kgstudio", "gui", str(path)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while "field-notes — kgstudio" not in window_titles(xvfb_display):
            assert app.poll() is None, f"kgstudio exited early: {app.communicate()[1]}"
            assert time.monotonic() < deadline, "no kgstudio window appeared within 60 s"
            time.sleep(0.3)
        app.send_signal(signal.SIGINT)  # Ctrl+C in the terminal that started it
        _, stderr = app.communicate(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, stderr
    assert "Traceback" not in stderr
