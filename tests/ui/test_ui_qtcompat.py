"""The Qt binding in use does not leak references (the PySide6 6.12.0 / CPython 3.11 defect)."""

from __future__ import annotations

import sys

from conftest import view_point
from PySide6.QtCore import QObject, QPointF, Signal
from PySide6.QtTest import QTest

from inpaintstudio.ui import qtcompat


class Source(QObject):
    fired = Signal(int)


def test_the_installed_binding_is_not_the_defective_one():
    assert not qtcompat.binding_drops_references(), qtcompat.binding_problem()


def test_many_void_calls_and_emits_keep_reference_counts():
    source, point = Source(), QPointF()
    got = []
    source.fired.connect(got.append)
    before = sys.getrefcount(None)
    for i in range(20000):
        point.setX(float(i))
        source.fired.emit(i)
    assert len(got) == 20000
    assert sys.getrefcount(None) >= before - 100


def test_the_app_refuses_a_defective_binding_with_a_message(monkeypatch, capsys):
    from inpaintstudio.cli import main

    monkeypatch.setattr(qtcompat, "binding_drops_references", lambda: True)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main([]) == 1
    assert "PySide6-Essentials<6.12" in capsys.readouterr().err


def test_painting_for_a_while_keeps_running(window, small_doc):
    for i in range(1500):
        QTest.mouseMove(window.canvas, view_point(window, 10 + i % 100, 50))
    assert window.isVisible()
