"""ProgressStrip: every worker's progress as one thin column each, for runs with many workers.

Sixty-four progress bars do not fit beside the other views, and scrolled they hide most of
the run. A strip of one column per worker, filled from the bottom to the worker's progress in
its colour, shows all of them at once: a worker that lags is a short column among tall ones.
Columns wrap onto more rows when they would get narrower than ``MIN_COLUMN_PX``, and grow
taller with the room the view gives (up to ``MAX_ROW_HEIGHT_PX``); names under the columns
are thinned to every 2nd, 4th, 8th... worker so they never overlap; hovering a column gives
its worker, items and share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from mpscope.gui.naming import named
from mpscope.gui.palette import blend, scaled_font, worker_color

MIN_COLUMN_PX = 3  # narrower columns wrap onto another row
COLUMN_GAP_PX = 1
MIN_ROW_HEIGHT_PX = 44  # a row of columns, at least (its names below it come on top)
MAX_ROW_HEIGHT_PX = 140
LABEL_GAP_PX = 6  # between two worker names under the columns
MAX_ROWS_SHOWN = 4  # the strip asks for at most this many rows' height (a scroll area holds it)


@dataclass(frozen=True)
class StripColumn:
    """One worker's column: its index, how full (0..1), and the text its tooltip gives."""

    index: int
    fraction: float
    tip: str


class ProgressStrip(QWidget):
    """One column per worker, filled to its progress; names thinned, details on hover."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "workerProgressStrip")
        self.setFont(scaled_font(self.font(), -1.5))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.columns: list[StripColumn] = []

    # -- what it shows --------------------------------------------------------------------------
    def set_columns(self, columns: Sequence[StripColumn]) -> None:
        """Show ``columns`` (one per worker, in order); repaints only if anything changed."""
        columns = list(columns)
        if columns == self.columns:
            return
        rows_before = self.rows()
        self.columns = columns
        if self.rows() != rows_before:
            self.updateGeometry()
        self.update()

    def per_row(self) -> int:
        """How many columns a row holds at the strip's width."""
        step = MIN_COLUMN_PX + COLUMN_GAP_PX
        return max(1, min(len(self.columns), (self.width() + COLUMN_GAP_PX) // step) or 1)

    def rows(self) -> int:
        """How many rows of columns the strip has at its width."""
        per_row = self.per_row()
        return -(-len(self.columns) // per_row) if self.columns else 0

    def column_rect(self, position: int) -> QRect:
        """Where the ``position``-th column is drawn (its whole track, empty part included)."""
        per_row = self.per_row()
        row, col = divmod(position, per_row)
        width = (self.width() + COLUMN_GAP_PX) / per_row
        left = round(col * width)
        right = round((col + 1) * width) - COLUMN_GAP_PX
        pitch = self._row_pitch()
        return QRect(left, row * pitch, max(right - left, 1), pitch - self._label_px())

    def column_at(self, pos: QPoint) -> StripColumn | None:
        """The column under ``pos`` (widget coordinates), if any."""
        if not self.columns or self.width() <= 0:
            return None
        per_row = self.per_row()
        row = pos.y() // self._row_pitch()
        col = int(pos.x() * per_row / (self.width() + COLUMN_GAP_PX))
        position = row * per_row + min(max(col, 0), per_row - 1)
        if pos.y() >= 0 and 0 <= position < len(self.columns):
            return self.columns[position]
        return None

    def label_step(self) -> int:
        """Name every n-th worker (n a power of two) so that names never overlap."""
        if not self.columns:
            return 1
        widest = QFontMetrics(self.font()).horizontalAdvance(f"w{self.columns[-1].index}")
        pitch = (self.width() + COLUMN_GAP_PX) / self.per_row()
        step = 1
        while step * pitch < widest + LABEL_GAP_PX and step < len(self.columns):
            step *= 2
        return step

    # -- Qt ---------------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        """Room for the rows of columns (up to ``MAX_ROWS_SHOWN``) and their names."""
        rows = min(max(self.rows(), 1), MAX_ROWS_SHOWN)
        return QSize(64 * (MIN_COLUMN_PX + COLUMN_GAP_PX), rows * self._min_pitch())

    def minimumSizeHint(self) -> QSize:
        """At least one row."""
        return QSize(8 * (MIN_COLUMN_PX + COLUMN_GAP_PX), self._min_pitch())

    def heightForWidth(self, width: int) -> int:
        """The height all rows need at ``width``, at their shortest."""
        step = MIN_COLUMN_PX + COLUMN_GAP_PX
        per_row = max(1, min(len(self.columns), (width + COLUMN_GAP_PX) // step) or 1)
        rows = -(-len(self.columns) // per_row) if self.columns else 1
        return rows * self._min_pitch()

    def hasHeightForWidth(self) -> bool:
        """The rows wrap with the width."""
        return True

    def paintEvent(self, event: QPaintEvent) -> None:
        """Each column's empty track, its filled part, and the thinned names under them."""
        painter = QPainter(self)
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        track = blend(text, base, 0.9)
        painter.setPen(Qt.PenStyle.NoPen)
        step = self.label_step()
        metrics = QFontMetrics(self.font())
        for position, column in enumerate(self.columns):
            rect = self.column_rect(position)
            painter.fillRect(rect, track)
            filled = round(rect.height() * min(max(column.fraction, 0.0), 1.0))
            if filled:
                top = rect.bottom() - filled + 1
                painter.fillRect(
                    QRect(rect.left(), top, rect.width(), filled), worker_color(column.index)
                )
        painter.setPen(blend(text, base, 0.3))
        per_row = self.per_row()
        for position, column in enumerate(self.columns):
            if (position % per_row) % step:
                continue
            rect = self.column_rect(position)
            painter.drawText(rect.left(), rect.bottom() + 1 + metrics.ascent(), f"w{column.index}")
        painter.end()

    def event(self, event: QEvent) -> bool:
        """Hovering a column shows its worker's figures."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            column = self.column_at(event.pos())
            if column is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), column.tip, self)
            return True
        return super().event(event)

    def changeEvent(self, event: QEvent) -> None:
        """Repaint in a new palette (the track and names follow it)."""
        if event.type() == QEvent.Type.PaletteChange:
            self.update()
        super().changeEvent(event)

    def _label_px(self) -> int:
        return QFontMetrics(self.font()).height() + 2

    def _min_pitch(self) -> int:
        return MIN_ROW_HEIGHT_PX + self._label_px()

    def _row_pitch(self) -> int:
        """A row's height with its names: the strip's height shared by its rows, within bounds."""
        label = self._label_px()
        share = self.height() // max(self.rows(), 1) - label
        return min(max(share, MIN_ROW_HEIGHT_PX), MAX_ROW_HEIGHT_PX) + label


__all__ = ["ProgressStrip", "StripColumn"]
