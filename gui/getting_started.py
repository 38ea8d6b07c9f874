"""The Help menu's getting-started page: what the controls do and what to try first."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from mpscope import resources
from mpscope.gui.naming import named


class GettingStarted(QDialog):
    """A short, non-modal guide for a first-time user (F1)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gettingStarted")
        self.setWindowTitle("Getting started with mpscope")
        self.text = named(QTextBrowser(), "gettingStartedText")
        self.text.setOpenExternalLinks(True)
        self.text.setMarkdown(resources.read_text("getting_started.md"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(560, 520)
