"""Application start-up: the QApplication, the main window, the event loop."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


def create_window() -> QMainWindow:
    """Build the main window without entering the event loop (tests use this)."""
    window = QMainWindow()
    window.setObjectName("mainWindow")
    window.setWindowTitle("mpscope")
    window.setCentralWidget(QLabel("mpscope: the live window arrives with the GUI issue"))
    window.resize(1280, 800)
    return window


def run_app() -> int:
    """Create the application and the window, and run the event loop."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("mpscope")
    app.setOrganizationName("mpscope")
    window = create_window()
    window.show()
    return int(app.exec())
