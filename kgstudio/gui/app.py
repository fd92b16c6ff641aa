"""Entry point of the desktop application: ``kgstudio`` with no subcommand.

This module does not import Qt at import time. :func:`run_gui` first checks
that there is a display and only then loads Qt, so ``kgstudio`` on a headless
server fails with one readable line instead of a Qt abort ("could not connect
to display") or an ImportError for a missing system library.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from typing import Any

from kgstudio.errors import KgstudioError

# Any of these means Qt has somewhere to draw (QT_QPA_PLATFORM=offscreen in tests).
_DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")

NO_DISPLAY_MESSAGE = (
    "no display: the kgstudio window needs a graphical session (DISPLAY and WAYLAND_DISPLAY are not set); "
    "without one, use the headless subcommands (see `kgstudio --help`)"
)


def check_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> None:
    """Raise :class:`KgstudioError` when a Unix desktop session has no display to open a window on.

    Windows and macOS always have one; elsewhere Qt needs X11 or Wayland
    (or an explicit ``QT_QPA_PLATFORM``) and would otherwise abort the process.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform in ("win32", "cygwin", "darwin"):
        return
    if not any(environ.get(name) for name in _DISPLAY_VARIABLES):
        raise KgstudioError(NO_DISPLAY_MESSAGE)
    display = environ.get("DISPLAY")
    if display and not environ.get("WAYLAND_DISPLAY") and not environ.get("QT_QPA_PLATFORM"):
        if x_display_reachable(display) is False:
            raise KgstudioError(
                f"cannot connect to the display {display!r}: no X server answers there; "
                "start a graphical session or use the headless subcommands (see `kgstudio --help`)"
            )
        if platform.startswith("linux"):
            check_xcb_libraries()


# The system libraries Qt's X11 platform plugin (libqxcb / libQt6XcbQpa) links
# against, with the Debian/Ubuntu package of each. Qt aborts the process when
# one is missing; minimal installs often lack libxcb-cursor0, -icccm4, -keysyms1.
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1", "libX11-xcb.so.1": "libx11-xcb1", "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-shape.so.0": "libxcb-shape0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1", "libxcb-sync.so.1": "libxcb-sync1", "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-shm.so.0": "libxcb-shm0", "libxcb-render.so.0": "libxcb-render0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxkbcommon.so.0": "libxkbcommon0",
}


def missing_xcb_libraries(load: Callable[[str], object] = ctypes.CDLL) -> list[str]:
    """Sonames from :data:`XCB_LIBRARIES` that cannot be loaded."""
    missing = []
    for soname in XCB_LIBRARIES:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    return missing


def check_xcb_libraries(load: Callable[[str], object] = ctypes.CDLL) -> None:
    """Raise :class:`KgstudioError` naming the packages to install when Qt's X11 plugin could not load."""
    missing = missing_xcb_libraries(load)
    if missing:
        packages = " ".join(XCB_LIBRARIES[soname] for soname in missing)
        raise KgstudioError(
            f"the kgstudio window needs X11 libraries that are not installed ({', '.join(missing)}); "
            f"on Debian/Ubuntu: sudo apt-get install {packages}"
        )


_LOCAL_DISPLAY = re.compile(r"^(?:unix)?:(\d+)(?:\.\d+)?$")


def x_display_reachable(display: str) -> bool | None:
    """Whether a local X display (``:0``) accepts connections; None when it cannot be told (remote displays).

    Tries what libxcb tries: the abstract socket, then the socket file. Qt
    aborts the whole process when it cannot connect, so this is checked first.
    """
    match = _LOCAL_DISPLAY.match(display)
    if match is None or not hasattr(socket, "AF_UNIX"):
        return None
    path = f"/tmp/.X11-unix/X{match.group(1)}"
    for address in ("\0" + path, path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(address)
                return True
            except OSError:
                continue
    return False


def run_gui(project: str | None = None) -> int:
    """Open the main window (and ``project`` when given) and run the event loop; returns the exit code."""
    check_display()
    try:
        from PySide6.QtCore import QTimer

        from kgstudio.gui.application import create_application
        from kgstudio.gui.main_window import MainWindow
    except ImportError as exc:
        raise KgstudioError(
            f"cannot load Qt for the kgstudio window ({exc}); "
            "the headless subcommands still work (see `kgstudio --help`)"
        ) from None

    app = create_application()
    window = MainWindow()
    window.show()
    if project:
        # After the loop starts, so an error dialog sits on top of a visible window.
        QTimer.singleShot(0, lambda: window.open_project(project))

    # Qt's loop does not return to Python on its own, so Ctrl+C in the terminal
    # would be ignored; a periodic no-op timer lets Python run its signal handler.
    restore = close_on_interrupt(window)
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(250)
    try:
        return app.exec()
    finally:
        heartbeat.stop()
        restore()


def close_on_interrupt(window: Any) -> Callable[[], None]:
    """Make Ctrl+C (SIGINT) close ``window`` as its close button would; returns a function that undoes this.

    Python runs a signal handler between any two bytecodes of the main thread,
    which can be in the middle of a paint written in Python. Closing the window
    there tore the canvas down under its own painter (a segfault seen on CI), so
    the handler only asks the event loop to close the window once it is back at the top.
    """
    from PySide6.QtCore import QTimer

    previous = signal.signal(signal.SIGINT, lambda *_: QTimer.singleShot(0, window.close))
    return lambda: signal.signal(signal.SIGINT, previous)
