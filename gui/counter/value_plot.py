"""CounterPlot: the counter's value over time, each write a dot in its worker's colour.

A thin step line joins the writes in time order (the counter's value), a red ring marks every
write that did not raise the count (an update lost to the race), a dashed line shows the
value every increment would reach, and a vertical line is the playhead. Curves are made
once and fed with ``setData`` only when the writes up to the playhead changed. Repainting a
plot costs several times a frame of the rest of the page, so the plot follows the playhead
at ``PLOT_HZ`` (``LIVE_PLOT_HZ`` while a run is live, when its workers need the CPU) while
the value and the lock token move at the view's full frame rate; a large run's dots are
refreshed at most every ``HEAVY_REFRESH_S``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from mpscope.gui.counter.timeline import CounterFrame, CounterTimeline
from mpscope.gui.palette import is_dark, style_plot_widget, total_color, worker_color
from mpscope.gui.views.plot_helpers import CountAxis, labelled_line

PLOT_HZ = 20.0  # the plot's own refresh rate, below the view's frame rate
LIVE_PLOT_HZ = 10.0
HEAVY_POINTS = 3000  # above this many dots, refresh them at most every HEAVY_REFRESH_S
HEAVY_REFRESH_S = 0.1
HEADROOM = 1.22  # the y range's top, as a multiple of the expected value
X_GROWTH = 1.25  # while live, the x range jumps to this multiple when the playhead reaches it
LOST_COLORS = ("#b3261e", "#ff8a80")  # light, dark
DOT_SIZE = 6  # px, the last worker's dots (drawn on top)
DOT_STEP = 4  # px larger for each worker drawn under it
MAX_RINGS = 3  # beyond three workers the sizes stop growing (the lost-update ring is 15 px)


def dot_size(worker: int, workers: int) -> int:
    """The dot size of a worker's writes: the first worker's largest, each next one smaller and
    drawn over it, so two writes of the same value at the same moment (a race) show as a dot
    inside a ring, never one dot hiding the other."""
    return DOT_SIZE + DOT_STEP * (min(workers, MAX_RINGS) - 1 - min(worker, MAX_RINGS - 1))


class CounterPlot(pg.PlotWidget):
    """Value over time, coloured by which worker wrote, up to the playhead."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self._ready = False  # Qt sends palette changes while the base class is being built
        super().__init__(parent, axisItems={"left": CountAxis("left")})
        self.setObjectName("counterPlot")
        self.setToolTip(
            "The counter's value over time: each dot is a write, in the colour of the worker "
            "that made it.\nA red ring marks a write that did not raise the count: an update lost "
            "to the race."
        )
        plot = self.getPlotItem()
        plot.setTitle("Counter value over time")
        plot.setLabel("bottom", "time since the run started", units="s")
        plot.setLabel("left", "counter value")
        # no grid: its lines are replayed on every repaint, a large share of a paint's cost
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        # one row at the top left, in the headroom above the expected value (which no count passes)
        self.legend = plot.addLegend(offset=(6, 2), colCount=8, labelTextSize="8pt")
        self.value_line = plot.plot([], [], name="value", skipFiniteCheck=True)
        self.value_tail = plot.plot([], [], skipFiniteCheck=True)
        # the label at the left, under the line: the count is still low there, so no write's
        # dot sits under it (at the right end the last write reaches the expected value)
        self.expected_line = labelled_line(
            angle=0, label="expected {value:,.0f}", position=0.015, anchors=[(0, 0), (0, 0)]
        )
        plot.addItem(self.expected_line)
        self.playhead = pg.InfiniteLine(angle=90, movable=False)
        plot.addItem(self.playhead)
        self.lost_dots: pg.PlotDataItem | None = None
        self.worker_dots: list[pg.PlotDataItem] = []
        self._drawn: tuple[int, ...] = ()
        self._last_refresh = -np.inf
        self._last_paint = -np.inf
        self._x_end = 1.0
        self._ready = True
        self._apply_palette()

    def set_run(self, workers: int, expected: int, lock: str) -> None:
        """A new run: one dot series per worker, the expected value, an empty plot."""
        plot = self.getPlotItem()
        for item in self.worker_dots:
            plot.removeItem(item)
        if self.lost_dots is not None:
            plot.removeItem(self.lost_dots)
        self.legend.clear()
        self.legend.addItem(self.value_line, "value")
        self.worker_dots = []
        for worker in range(workers):
            size = dot_size(worker, workers)
            item = plot.plot(
                [],
                [],
                pen=None,
                symbol="o",
                symbolSize=size,
                symbolPen=None,
                symbolBrush=worker_color(worker),
                name=f"worker {worker}",
                skipFiniteCheck=True,
            )
            # the legend draws its sample from the scatter's own options, set only with data
            item.scatter.setBrush(worker_color(worker))
            item.scatter.setPen(pg.mkPen(None))
            item.scatter.setSize(size)
            self.worker_dots.append(item)
        self.lost_dots = None
        if lock == "none":
            self.lost_dots = plot.plot(
                [],
                [],
                pen=None,
                symbol="o",
                symbolSize=15,
                name="lost update",
                skipFiniteCheck=True,
            )
        self.expected_line.setValue(expected)
        plot.setYRange(0, max(expected, 1) * HEADROOM, padding=0)
        self._drawn = ()
        self._last_refresh = -np.inf
        self._last_paint = -np.inf
        self._x_end = 1.0
        self.value_line.setData([], [])
        self.value_tail.setData([], [])
        self._apply_palette()

    def show_until(
        self,
        timeline: CounterTimeline,
        frame: CounterFrame,
        live: bool,
        wall: float,
        force: bool = False,
    ) -> None:
        """Draw the writes made by the frame's time; the playhead there. At most PLOT_HZ times a
        second of wall time, unless ``force`` (the last frame of an animation, a seek)."""
        if not force and wall - self._last_paint < 1.0 / (LIVE_PLOT_HZ if live else PLOT_HZ):
            return
        self._last_paint = wall
        t = frame.t
        self.playhead.setValue(t)
        self._follow(timeline, t, live)
        counts = tuple(track.writes_before(t) for track in timeline.tracks)
        heavy = (
            not force and sum(counts) > HEAVY_POINTS and wall - self._last_refresh < HEAVY_REFRESH_S
        )
        if counts != self._drawn and not heavy:
            self._drawn = counts
            self._last_refresh = wall
            for worker, item in enumerate(self.worker_dots):
                if worker < len(timeline.tracks):
                    item.setData(*timeline.writes_until(worker, t))
            times, values, _ = timeline.merged_writes()
            n = timeline.count_before(times, t)
            x = np.repeat(times[:n], 2)[1:]
            y = np.repeat(values[:n], 2)[:-1]
            self.value_line.setData(x, y)
            if self.lost_dots is not None:
                lost_t, lost_v = timeline.overwrites()
                k = timeline.count_before(lost_t, t)
                self.lost_dots.setData(lost_t[:k], lost_v[:k])
        if frame.written_t is not None:
            self.value_tail.setData([frame.written_t, t], [frame.value, frame.value])
        else:
            self.value_tail.setData([], [])

    def _follow(self, timeline: CounterTimeline, t: float, live: bool) -> None:
        """x from just before the first write to the run's end (growing in steps while live)."""
        start = max((timeline.first_t or 0.0) - 0.05, 0.0)
        if live:
            if t <= self._x_end and self._x_end > start:
                return
            end = max(t * X_GROWTH, start + 0.5)
        else:
            end = max(timeline.last_t, start + 0.1)
            end += 0.03 * (end - start)
            if end == self._x_end:
                return
        self._x_end = end
        self.getPlotItem().setXRange(start, end, padding=0)

    # -- looks ---------------------------------------------------------------------------------
    def _apply_palette(self) -> None:
        palette = self.palette()
        style_plot_widget(self, palette)
        neutral = total_color(palette)
        self.value_line.setPen(pg.mkPen(neutral, width=1))
        self.value_tail.setPen(pg.mkPen(neutral, width=1, style=Qt.PenStyle.DotLine))
        self.expected_line.setPen(pg.mkPen(neutral, width=1, style=Qt.PenStyle.DashLine))
        self.expected_line.label.setColor(neutral)
        self.playhead.setPen(pg.mkPen(neutral, width=1))
        if self.lost_dots is not None:
            lost = QColor(LOST_COLORS[1] if is_dark(palette) else LOST_COLORS[0])
            self.lost_dots.setSymbolPen(pg.mkPen(lost, width=2))
            self.lost_dots.setSymbolBrush(None)
            self.lost_dots.scatter.setPen(pg.mkPen(lost, width=2))
            self.lost_dots.scatter.setBrush(pg.mkBrush(None))
            self.lost_dots.scatter.setSize(15)

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system's light/dark palette when it changes."""
        if event.type() == QEvent.Type.PaletteChange and self._ready:
            self._apply_palette()
        super().changeEvent(event)
