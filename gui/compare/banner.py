"""Banner: a one-line, non-modal message across the top of a page, until the user closes it.

For what must not be missed but must not block either: the history store was damaged and set
aside, an import file was refused, an export was written.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from mpscope.gui.naming import named


class Banner(QFrame):
    """A closable message line; ``show_message`` replaces whatever it said before."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            f"QFrame#{name} {{ border: 1px solid palette(mid); border-radius: 4px; "
            "background: palette(alternate-base); }"
        )
        self.label = named(QLabel(), f"{name}Text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = named(QToolButton(), f"{name}Close")
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss this message")
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 3, 3)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, text: str, error: bool = False) -> None:
        """Show ``text``; in the error colour if ``error``."""
        self.label.setText(text)
        self.label.setProperty("role", "error" if error else "")
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)
        self.show()

    @property
    def text(self) -> str:
        """What the banner says now ("" when hidden)."""
        return self.label.text() if not self.isHidden() else ""
