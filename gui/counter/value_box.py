"""ValueBox: the counter's value, big, in the colour of the worker that wrote it.

Below it: the value every increment would reach, and the increments made so far (without a
lock, how many of them the race lost). Its labels have fixed sizes, so a value changing 40
times a second repaints only itself, not the page around it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from mpscope.gui.naming import named
from mpscope.gui.palette import worker_color
from mpscope.workers.units import format_count

VALUE_POINT_SIZE = 44
BOX_W = 210
MIN_POINT_SIZE = 12


class ValueBox(QFrame):
    """The big number."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("counterValueBox")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(BOX_W)
        caption = named(QLabel("counter value"), "counterCaption")
        caption.setProperty("role", "note")
        self.value_label = named(QLabel("0"), "counterValue")
        self.value_label.setToolTip(
            "The counter's value (v.value) now, in the colour of the worker that wrote it"
        )
        self.expected_label = named(QLabel(), "counterExpected")
        self.expected_label.setProperty("role", "note")
        self.expected_label.setToolTip("K workers × M increments: what every update would reach")
        self.made_label = named(QLabel(), "counterMade")
        self.made_label.setWordWrap(True)
        self.made_label.setToolTip(
            "Increments the workers made so far; without a lock, how many of them the race lost"
        )
        self.made_label.setFixedSize(BOX_W - 20, 2 * self.fontMetrics().lineSpacing() + 4)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for label in (caption, self.value_label, self.expected_label, self.made_label):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        layout.addStretch(1)
        self.value: int | None = None
        self.writer: int | None = None
        self._point_size = VALUE_POINT_SIZE
        self.fit("20")

    def fit(self, widest: str) -> None:
        """The largest value size (up to VALUE_POINT_SIZE) at which ``widest`` fits."""
        font = QFont(self.font())
        font.setBold(True)
        size = VALUE_POINT_SIZE
        font.setPointSize(size)
        while size > MIN_POINT_SIZE and (QFontMetrics(font).horizontalAdvance(widest) > BOX_W - 20):
            size -= 2
            font.setPointSize(size)
        self._point_size = size
        self.value_label.setFont(font)
        self.value_label.setFixedSize(BOX_W - 20, QFontMetrics(font).height() + 4)
        self._color()

    def set_expected(self, expected: int) -> None:
        """A new run: what every increment would reach (also sizes the number to fit it)."""
        self.expected_label.setText(f"of {format_count(expected)} expected")
        self.fit(format_count(expected))

    def show_value(self, value: int, writer: int | None) -> bool:
        """Show ``value``, written by ``writer``; True if what is shown changed."""
        if (value, writer) == (self.value, self.writer):
            return False
        self.value, self.writer = value, writer
        self.value_label.setText(format_count(value))
        self._color()
        return True

    def show_made(self, text: str) -> None:
        """The line under the number."""
        self.made_label.setText(text)

    def _color(self) -> None:
        writer = self.writer
        color = (
            worker_color(writer)
            if writer is not None
            else self.palette().color(QPalette.ColorRole.Text)
        )
        # the size goes into the style sheet too: with an application style sheet in force, a
        # widget's own sheet would otherwise bring back the font it inherits
        self.value_label.setStyleSheet(
            f"color: {color.name()}; font-size: {self._point_size}pt; font-weight: bold;"
        )

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system's light/dark palette (the colour of "nobody wrote yet")."""
        if event.type() == QEvent.Type.PaletteChange:
            self._color()
        super().changeEvent(event)
