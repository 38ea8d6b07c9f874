"""Application start-up: the QApplication, its look, the main window, the event loop."""

from __future__ import annotations

import gc
import signal
import sys

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QFont, QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from mpscope import resources
from mpscope.gui.main_window import MainWindow
from mpscope.gui.settings import APPLICATION, ORGANIZATION
from mpscope.gui.theme import apply_theme

MIN_POINT_SIZE = 10.0  # some platforms default to 9 pt, small for a tool read at a distance


def ensure_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created if there is none), with mpscope's names, style and look."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv)
    assert isinstance(app, QApplication)
    if app.property("mpscopeLook"):
        return app
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QGuiApplication.setApplicationDisplayName("mpscope")
    QGuiApplication.setDesktopFileName("mpscope")
    app.setStyle("Fusion")  # the same widgets everywhere; follows the system colour scheme
    font = QFont(app.font())
    if 0 < font.pointSizeF() < MIN_POINT_SIZE:
        font.setPointSizeF(MIN_POINT_SIZE)
        app.setFont(font)
    app.setWindowIcon(QIcon(resources.path_of("icons/mpscope.svg")))
    apply_theme(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme())
    app.setProperty("mpscopeLook", True)
    return app


def create_window() -> MainWindow:
    """Build the main window without entering the event loop (tests use this)."""
    ensure_application()
    return MainWindow()


def settle_heap() -> None:
    """Keep what start-up built out of the garbage collector's sight, once the window is up.

    It lives as long as the window (Qt wrappers, pyqtgraph, numpy), and a full collection
    walking it stalled the window's thread for up to 224 ms with 64 workers' views (README,
    Performance): frozen, later collections walk only what runs add.
    """
    gc.collect()
    gc.freeze()


def run_app() -> int:
    """Create the application and the window, and run the event loop."""
    app = ensure_application(sys.argv)
    window = create_window()
    window.show()
    settle_heap()
    # Ctrl+C in the terminal closes the window like the close button (stopping any run);
    # a timer lets the interpreter run its signal handlers while Qt waits for events
    signal.signal(signal.SIGINT, lambda *_: window.close())
    wake = QTimer(window)
    wake.timeout.connect(lambda: None)
    wake.start(200)
    return int(app.exec())
