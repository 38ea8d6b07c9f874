"""IdleHint: before the first run, a view says what it will show and how to get there.

An empty plot would otherwise show placeholder axes (0.2 to 0.8 items/s, 0 to 1 MiB) that mean
nothing. The hint is a line of text over the plot, its axes' numbers hidden until a run
begins; the view calls ``dismiss()`` when it clears for a run.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QWidget

from mpscope.gui.naming import named

MARGIN_PX = 24  # the hint keeps clear of the plot's edges


class PlotNote(QLabel):
    """A few centred lines of text in a box over ``host`` (a view's plot widget), following
    its size: the box (the base colour, a thin border) keeps the text readable where it
    crosses the plot's axes and grid."""

    def __init__(self, host: QWidget, text: str = "") -> None:
        super().__init__(text, host)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setProperty("role", "plotNote")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        host.installEventFilter(self)
        self._fit()

    def setText(self, text: str) -> None:
        """Show ``text``; the box takes the height its lines need."""
        super().setText(text)
        self._fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the host's size."""
        if event.type() == QEvent.Type.Resize:
            self._fit()
        return False

    def changeEvent(self, event: QEvent) -> None:
        """The style sheet's padding or a new font change the height the lines need."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._fit()

    def _fit(self) -> None:
        host = self.parentWidget()
        if host is None:
            return
        room = host.rect().adjusted(MARGIN_PX, MARGIN_PX, -MARGIN_PX, -MARGIN_PX)
        height = min(max(self.heightForWidth(room.width()), 0), room.height())
        top = room.top() + (room.height() - height) // 2
        self.setGeometry(room.left(), top, room.width(), height)


class IdleHint(PlotNote):
    """A note over ``host`` until ``dismiss()``: what the plot will show once a run begins."""

    def __init__(self, host: QWidget, plots: Sequence[pg.PlotItem], text: str) -> None:
        super().__init__(host, text)
        named(self, "idleHint")
        # the axes whose numbers are placeholders until a run: restored as they were
        self.axes = [
            axis
            for plot in plots
            for axis in (plot.getAxis("left"), plot.getAxis("bottom"))
            if axis.style.get("showValues", True)
        ]
        for axis in self.axes:
            axis.setStyle(showValues=False)

    @property
    def shown(self) -> bool:
        """True until a run began."""
        return not self.isHidden()

    def dismiss(self) -> None:
        """A run begins: the hint goes and the axes show their numbers."""
        if self.isHidden():
            return
        self.hide()
        for axis in self.axes:
            axis.setStyle(showValues=True)
