"""Steps the window's tests share: open it, find a control, pick and type as a user would."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from mpscope.gui.app import create_window
from mpscope.gui.main_window import MainWindow


def open_window(qtbot: Any) -> MainWindow:
    """A new main window, shown and exposed, closed with the test."""
    w = create_window()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def child(w: QWidget, name: str) -> Any:
    """The widget named ``name`` (its objectName) inside ``w``; fails if there is none."""
    found = w.findChild(QWidget, name)
    assert found is not None, f"no widget named {name}"
    return found


def choose(combo: QComboBox, data: object) -> None:
    """Pick the item whose data is ``data``, as a user would from the list."""
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def retype(qtbot: Any, edit: QLineEdit, text: str) -> None:
    """Select what the field holds and type ``text`` over it (an empty text clears it)."""
    edit.selectAll()
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Delete)
