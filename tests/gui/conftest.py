"""Fixtures for the Qt tests: offscreen platform, isolated settings, no process left behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # tests never need a screen...
os.environ.setdefault("MPSCOPE_NO_CALIBRATION", "1")

from leftovers import leftovers, tag_session, tagged_processes

tag_session()


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Fail any test that leaves a process running (children or re-parented orphans)."""
    before = set(tagged_processes())
    yield
    left = leftovers(before)
    assert not left, "processes left behind:\n" + "\n".join(left)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test gets its own QSettings and data directory, never the user's."""
    from PySide6.QtCore import QSettings

    root = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(root))
    old = os.environ.get("MPSCOPE_DATA_DIR")
    os.environ["MPSCOPE_DATA_DIR"] = str(root / "data")
    yield root
    if old is None:
        os.environ.pop("MPSCOPE_DATA_DIR", None)
    else:
        os.environ["MPSCOPE_DATA_DIR"] = old


@pytest.fixture(autouse=True)
def restore_application_look(qapp: object) -> Iterator[None]:
    """A test that builds a window themes the whole application: undo it afterwards."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    sheet, palette, dark = app.styleSheet(), app.palette(), app.property("mpscopeDark")
    yield
    app.setStyleSheet(sheet)
    app.setPalette(palette)
    app.setProperty("mpscopeDark", dark)


@pytest.fixture
def window(qtbot: object) -> object:
    """The main window, shown and exposed, closed with the test."""
    from ui_steps import open_window

    return open_window(qtbot)
