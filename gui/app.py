"""Application start-up: the QApplication, its look, the main window, the event loop."""

from __future__ import annotations

import gc
import os
import signal
import sys

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QImage, QPainter
from PySide6.QtWidgets import QApplication

from mpscope import resources
from mpscope.gui.main_window import MainWindow
from mpscope.gui.settings import APPLICATION, ORGANIZATION
from mpscope.gui.theme import apply_theme

MIN_POINT_SIZE = 10.0  # some platforms default to 9 pt, small for a tool read at a distance
# Qt's own switch: set, its raster engine fills and converts on the painting thread alone
SERIAL_FILLS_VARIABLE = "QT_NO_GUI_THREADPOOL"
POOLED_FILL_ROWS = 256  # a fill this many rows tall is one Qt would hand to its thread pool


def ensure_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created if there is none), with mpscope's names, style and look."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv)
        keep_fills_on_the_gui_thread()
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


def keep_fills_on_the_gui_thread() -> None:
    """Make Qt paint this window's fills on its own thread instead of its helper threads.

    Qt splits a fill of more than 96 rows (a plot's axis with its grid, a tall bar) over a pool
    of helper threads and waits for them. While a run's workers hold every core those helpers
    wait for a core too, and the window waits with them; handing the work over also costs more
    than a plot's fills (README, Performance). Qt reads its switch once, at the first fill it
    could split, so this sets the switch, makes such a fill, and takes the switch back: the
    processes mpscope starts (workers, a traced program) keep the environment they would have
    had. A switch the user set is left as it is. (The Qt of PySide6 6.8 has no such switch:
    there the fills stay pooled.)
    """
    if SERIAL_FILLS_VARIABLE in os.environ:
        return
    os.environ[SERIAL_FILLS_VARIABLE] = "1"
    try:
        image = QImage(8, POOLED_FILL_ROWS, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        painter = QPainter(image)
        painter.fillRect(image.rect(), QColor(0, 0, 0, 100))  # blended: one Qt would split
        painter.end()
    finally:
        del os.environ[SERIAL_FILLS_VARIABLE]


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
