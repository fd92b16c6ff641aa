"""Starting the application: the display check, the QApplication and the event loop."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kgstudio import __version__
from kgstudio.errors import KgstudioError
from kgstudio.gui.app import check_display, check_xcb_libraries, run_gui, x_display_reachable
from kgstudio.gui.application import application_icon, create_application
from kgstudio.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


def test_no_display_on_linux_is_a_one_line_error() -> None:
    with pytest.raises(KgstudioError) as raised:
        check_display(environ={}, platform="linux")
    message = str(raised.value)
    assert "\n" not in message
    assert "no display" in message and "kgstudio --help" in message


@pytest.mark.parametrize("variable, value", [("DISPLAY", "remote-host:10.0"), ("WAYLAND_DISPLAY", "wayland-0"),
                                             ("QT_QPA_PLATFORM", "offscreen")])
def test_any_display_variable_is_enough(variable: str, value: str) -> None:
    check_display(environ={variable: value}, platform="linux")


def test_a_local_display_nobody_listens_on_is_a_one_line_error() -> None:
    with pytest.raises(KgstudioError, match="cannot connect to the display ':917'") as raised:
        check_display(environ={"DISPLAY": ":917"}, platform="linux")
    assert "\n" not in str(raised.value)


def test_missing_x11_libraries_are_named_with_their_packages() -> None:
    absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}

    def load(soname: str) -> None:
        if soname in absent:
            raise OSError(f"{soname}: cannot open shared object file")

    with pytest.raises(KgstudioError) as raised:
        check_xcb_libraries(load)
    message = str(raised.value)
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert message.endswith("sudo apt-get install libxcb-icccm4 libxcb-keysyms1")


def test_a_listening_local_display_is_reachable() -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind("\0/tmp/.X11-unix/X918")  # abstract socket, as X servers on Linux offer
        server.listen(1)
        assert x_display_reachable(":918.0") is True
        check_display(environ={"DISPLAY": ":918"}, platform="linux")
    assert x_display_reachable(":918") is False
    assert x_display_reachable("remote-host:0") is None


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_windows_and_macos_always_have_a_display(platform: str) -> None:
    check_display(environ={}, platform=platform)


def test_run_gui_without_display_raises_before_qt_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(KgstudioError, match="no display"):
        run_gui()


def test_application_has_kgstudio_names_and_icon(qapp: QApplication) -> None:
    saved = qapp.applicationName(), qapp.organizationName()
    try:
        app = create_application()
        assert app is qapp  # the existing application is reused, never a second one
        assert (app.applicationName(), app.organizationName()) == ("kgstudio", "kgstudio")
        assert app.applicationVersion() == __version__
        assert not app.windowIcon().isNull()
    finally:
        qapp.setApplicationName(saved[0])
        qapp.setOrganizationName(saved[1])


def test_icon_comes_from_the_resources(qapp: QApplication) -> None:
    icon = application_icon()
    assert icon is not None
    assert not icon.pixmap(64, 64).isNull()


def test_no_icon_file_means_no_icon(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("kgstudio.gui.application.files", lambda _package: tmp_path)
    assert application_icon() is None


def test_run_gui_opens_the_project_and_returns_when_the_window_closes(qapp: QApplication, tmp_path: Path) -> None:
    from kgstudio.store import Project

    Project.create(tmp_path / "started.kgs").close()
    seen: dict[str, object] = {}

    def look() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].project is not None:
            seen["title"] = windows[0].windowTitle()
            # Closing the last window ends the loop, as File ▸ Quit does. (A second
            # quit() would post a Quit event that stops every later event loop.)
            windows[0].close()

    poll = QTimer()
    poll.timeout.connect(look)
    poll.start(10)
    deadline = QTimer()  # never hang the test run
    deadline.setSingleShot(True)
    deadline.timeout.connect(qapp.quit)
    deadline.start(5000)
    try:
        assert run_gui(str(tmp_path / "started.kgs")) == 0
    finally:
        poll.stop()
        deadline.stop()
    assert seen == {"title": "started — kgstudio"}
