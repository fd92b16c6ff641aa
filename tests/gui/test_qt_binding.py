"""Guards against a Qt binding that corrupts the interpreter.

PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` on every call
of a wrapped method that returns nothing (``void`` in C++). After enough
calls the count reaches zero and CPython aborts with "none_dealloc" — in the
GUI that is every paint. 6.11.3 is fine; pyproject pins ``<6.12``.
"""

from __future__ import annotations

import sys

import pytest
import PySide6
from PySide6.QtGui import QPainterPath

pytestmark = pytest.mark.gui


def test_void_methods_keep_the_reference_count_of_none() -> None:
    path = QPainterPath()
    move_to = path.moveTo
    before = sys.getrefcount(None)
    for _ in range(10_000):
        move_to(1.0, 2.0)
    after = sys.getrefcount(None)
    assert after == before, f"PySide6 {PySide6.__version__} leaked {before - after} references to None"


def test_pyside6_is_not_the_release_that_leaks_none() -> None:
    assert PySide6.__version__ != "6.12.0", (
        "PySide6 6.12.0 drops a reference to None on every call of a method that returns nothing, "
        "so the interpreter aborts (none_dealloc) after a few thousand calls; install 6.11.x (pyproject pins <6.12)"
    )
