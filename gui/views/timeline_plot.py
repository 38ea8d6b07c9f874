"""TimelinePlot: one lane per worker with its chunks as bars (like Dask's task stream, live)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QCursor, QPalette
from PySide6.QtWidgets import QLabel, QToolTip, QVBoxLayout, QWidget

from mpscope.gui.lane_series import LaneSeries
from mpscope.gui.naming import named
from mpscope.gui.palette import blend, scaled_font, style_plot_widget, total_color, worker_color
from mpscope.gui.run_model import RunModel
from mpscope.gui.views.idle_hint import IdleHint
from mpscope.gui.views.live_view import ModelWatch
from mpscope.gui.views.plot_helpers import (
    LIVE_REDRAW_INTERVAL_S,
    ClockFollower,
    RedrawBudget,
    cache_axes,
    labelled_line,
)
from mpscope.workers.units import format_count, format_seconds

BAR_HEIGHT = 0.8  # of a lane
STARTUP_HEIGHT = 0.25
HOVER_TOLERANCE_PX = 3.0
REDRAW_INTERVAL_S = LIVE_REDRAW_INTERVAL_S  # while live: thousands of bars to draw
LEGEND_TEXT = (
    "a bar per chunk, shades alternating · gap: waiting for a task or sending results · "
    "hatched: chunks merged · grey: start-up · outlined: running"
)
LEGEND_TIP = (
    "Each bar is one chunk (task) a worker ran, from its first item to its last; next chunks "
    "alternate between two shades of the worker's colour so that they can be told apart.\n"
    "A gap between bars is time the worker was not running your job: waiting for its next "
    "task, or sending the last results back (many small chunks make many gaps).\n"
    "Hatched: several chunks too close together to draw one by one, merged into one bar.\n"
    "Grey, at the start: the worker process starting (importing, unpickling its job).\n"
    "Outlined: the chunk still running. Hover a bar for its items and times."
)


class LaneSpans:
    """The bars of one lane: two BarGraphItems in alternating shades, one hatching overlay.

    Consecutive chunks alternate between the worker's colour and a lighter shade, so chunk
    boundaries show at any zoom; spans the probe merged (several short chunks back to back)
    are hatched. The items are rebuilt from the lane's span buffer only when new spans came
    in: thousands of chunks cost three items and one numpy pass per change, not an item each.
    """

    def __init__(self, plot: pg.PlotItem, index: int, palette: QPalette) -> None:
        self.index = index
        self.drawn = 0
        self.items = [pg.BarGraphItem(x0=[], x1=[], y=[], height=BAR_HEIGHT) for _ in range(3)]
        for item in self.items:
            plot.addItem(item)
        self.apply_palette(palette)

    def apply_palette(self, palette: QPalette) -> None:
        """Colour the bars for ``palette``'s background."""
        color = worker_color(self.index)
        base = palette.color(QPalette.ColorRole.Base)
        even, odd, hatch = self.items
        even.setOpts(brush=color, pen=None)
        odd.setOpts(brush=blend(color, base, 0.4), pen=None)
        hatch.setOpts(brush=QBrush(base, Qt.BrushStyle.BDiagPattern), pen=None)

    def update(self, lane: LaneSeries) -> None:
        """Redraw if the lane has spans this item has not drawn yet."""
        spans = lane.spans.view()
        if len(spans) == self.drawn:
            return
        self.drawn = len(spans)
        alternate = (np.arange(len(spans)) % 2).astype(bool)
        groups = (~alternate, alternate, spans[:, 4] > 1)
        for item, mask in zip(self.items, groups):
            chosen = spans[mask]
            item.setOpts(x0=chosen[:, 0], x1=chosen[:, 1], y=np.full(len(chosen), self.index))

    def finished_spans(self) -> np.ndarray:
        """(x0, x1) of every span drawn, sorted by start."""
        parts = [np.column_stack([i.opts["x0"], i.opts["x1"]]) for i in self.items[:2]]
        both = np.concatenate(parts)
        return both[np.argsort(both[:, 0], kind="stable")]

    def merged_count(self) -> int:
        """How many of the drawn spans are hatched as merged."""
        return len(np.atleast_1d(self.items[2].opts["x0"]))

    def remove(self, plot: pg.PlotItem) -> None:
        """Take the lane's items off the plot."""
        for item in self.items:
            plot.removeItem(item)


class TimelinePlot(QWidget):
    """Who computed which chunk when: start-up delay, idle gaps and imbalance at a glance.

    Each worker is a lane (w0 on top); each chunk a bar from its start to its end; the chunk
    running now grows live; a grey bar shows each worker's start-up (RunStarted to its
    WorkerStarted). Hovering a bar tells its first item, items, duration and tasks.
    """

    def __init__(self, model: RunModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelinePlot")
        self._model = model
        self._budget = RedrawBudget(REDRAW_INTERVAL_S)
        self._watch = ModelWatch(model)
        self.plot_widget = pg.PlotWidget(self)
        self.plot_widget.setObjectName("timelinePlotArea")
        plot = self.plot_widget.getPlotItem()
        plot.setTitle("Timeline")
        plot.setLabel("bottom", "time since start", units="s")
        plot.setLabel("left", "worker")
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.showGrid(x=False, y=False)  # a vertical grid would be re-rendered at every x step
        view_box = plot.getViewBox()
        view_box.invertY(True)
        view_box.setMouseEnabled(y=False)
        view_box.enableAutoRange(y=False)
        self.startup_bars = pg.BarGraphItem(x0=[], x1=[], y=[], height=STARTUP_HEIGHT, pen=None)
        self.open_bars = pg.BarGraphItem(x0=[], x1=[], y=[], height=BAR_HEIGHT)
        self.end_line = labelled_line(angle=90, label="end", position=0.97)
        self.end_line.setVisible(False)
        for item in (self.startup_bars, self.open_bars, self.end_line):
            plot.addItem(item)
        self.lanes: dict[int, LaneSpans] = {}
        self._follower = ClockFollower(plot)
        cache_axes(plot)
        self.idle_hint = IdleHint(
            self.plot_widget, [plot], "Press Run (Ctrl+R): a bar for every chunk each worker ran"
        )
        self.caption = named(QLabel(LEGEND_TEXT), "timelineCaption")
        self.caption.setToolTip(LEGEND_TIP)
        self.caption.setWordWrap(True)
        self.caption.setFont(scaled_font(self.font(), -1.5))
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.setBackgroundRole(QPalette.ColorRole.Base)  # the caption sits on the plot's colour
        self.setAutoFillBackground(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(0)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.caption)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._set_lane_range(0)
        self._apply_palette()

    # -- the contract with the window ---------------------------------------------------------
    def refresh(self) -> None:
        """Redraw lanes that got new spans; grow running chunks and follow the clock if live."""
        model, watch = self._model, self._watch
        if not watch.begin(self._clear):
            return
        live = model.live
        clock = model.clock()
        # while live, before any progress there is nothing to draw: keep the budget for it
        if (model.reported or not live) and self._budget.due(live):
            if watch.changed:
                watch.drew()
                self._update_lanes()
            self._update_open_chunks(clock)
        self._follower.apply(clock, live, model.expected_end())

    # -- what the plot holds (read by tests and the tooltip) -----------------------------------
    def drawn_spans(self, index: int) -> np.ndarray:
        """(x0, x1) of every finished span drawn in lane ``index``, sorted by start."""
        lane = self.lanes.get(index)
        return np.empty((0, 2)) if lane is None else lane.finished_spans()

    def open_spans(self) -> dict[int, tuple[float, float]]:
        """Lane index -> (start, now) of the chunk each lane is running, as drawn."""
        x0, x1, y = (np.atleast_1d(self.open_bars.opts[k]) for k in ("x0", "x1", "y"))
        return {int(i): (float(a), float(b)) for a, b, i in zip(x0, x1, y)}

    def describe_at(self, x: float, y: float, tolerance: float = 0.0) -> str | None:
        """The tooltip for the point (x seconds, y lane): the chunk there, if any."""
        index = round(y)
        lane = self._model.lanes.get(index)
        if lane is None or abs(y - index) > BAR_HEIGHT / 2:
            return None
        spans = lane.spans.view()
        if len(spans):
            i = int(np.searchsorted(spans[:, 0], x + tolerance, side="right")) - 1
            if i >= 0 and spans[i, 1] >= x - tolerance:
                t0, t1, items, first, tasks = spans[i]
                text = (
                    f"w{index} · chunk from item {format_count(int(first))} · "
                    f"{format_count(int(items))} items · {format_seconds(t1 - t0)}"
                )
                if tasks > 1:
                    text += f" · {int(tasks)} tasks merged"
                return text
        model = self._model
        running_since = model.running_since(index)
        if running_since is not None and x >= running_since - tolerance:
            return f"w{index} · chunk running for {format_seconds(model.clock() - running_since)}"
        started_t = model.worker_started_at(index)
        if started_t is not None and 0.0 <= x <= started_t:
            pid = model.workers[index].pid
            return f"w{index} · start-up: {format_seconds(started_t)} (pid {pid})"
        return None

    # -- drawing --------------------------------------------------------------------------------
    def _update_lanes(self) -> None:
        model = self._model
        plot = self.plot_widget.getPlotItem()
        for index in sorted(model.lanes):
            spans = self.lanes.get(index)
            if spans is None:
                spans = self.lanes[index] = LaneSpans(plot, index, self.palette())
                self._set_lane_range(max(self.lanes) + 1)
            spans.update(model.lanes[index])
        started = [(i, t) for i in model.lanes if (t := model.worker_started_at(i)) is not None]
        self.startup_bars.setOpts(
            x0=np.zeros(len(started)),
            x1=np.array([t for _, t in started], dtype=float),
            y=np.array([i for i, _ in started], dtype=float),
        )
        if model.outcome is not None:
            self.end_line.setPos(model.clock())
            self.end_line.setVisible(True)

    def _update_open_chunks(self, clock: float) -> None:
        model = self._model
        lanes = [(i, t) for i in model.lanes if (t := model.running_since(i)) is not None]
        if not lanes:
            if len(np.atleast_1d(self.open_bars.opts["x0"])):
                self.open_bars.setOpts(x0=[], x1=[], y=[], brushes=None, pens=None)
            return
        self.open_bars.setOpts(
            x0=np.array([t for _, t in lanes], dtype=float),
            x1=np.full(len(lanes), clock),
            y=np.array([i for i, _ in lanes], dtype=float),
            brushes=[self._open_brush(i) for i, _ in lanes],
            pens=[pg.mkPen(worker_color(i), width=1) for i, _ in lanes],
        )

    def _open_brush(self, index: int) -> QColor:
        return blend(worker_color(index), self.palette().color(QPalette.ColorRole.Base), 0.2)

    def _set_lane_range(self, lanes: int) -> None:
        plot = self.plot_widget.getPlotItem()
        count = max(lanes, 1)
        plot.getViewBox().setYRange(-0.6, count - 0.4, padding=0)
        plot.getAxis("left").setTicks([[(i, f"w{i}") for i in range(lanes)], []])

    def _clear(self) -> None:
        self.idle_hint.dismiss()
        plot = self.plot_widget.getPlotItem()
        for spans in self.lanes.values():
            spans.remove(plot)
        self.lanes.clear()
        empty: dict[str, list[float]] = {"x0": [], "x1": [], "y": []}
        self.startup_bars.setOpts(**empty)
        self.open_bars.setOpts(**empty, brushes=None, pens=None)
        self.end_line.setVisible(False)
        self._set_lane_range(0)
        self._follower.follow()

    # -- hover ----------------------------------------------------------------------------------
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        view_box = self.plot_widget.getPlotItem().getViewBox()
        if not view_box.sceneBoundingRect().contains(scene_pos):
            return
        point = view_box.mapSceneToView(scene_pos)
        pixel = view_box.viewPixelSize()[0]
        text = self.describe_at(point.x(), point.y(), HOVER_TOLERANCE_PX * pixel)
        if text:
            QToolTip.showText(QCursor.pos(), text, self.plot_widget)
        else:
            QToolTip.hideText()

    # -- looks ----------------------------------------------------------------------------------
    def _apply_palette(self) -> None:
        palette = self.palette()
        style_plot_widget(self.plot_widget, palette)
        neutral = total_color(palette)
        self.startup_bars.setOpts(
            brush=blend(neutral, palette.color(QPalette.ColorRole.Base), 0.65)
        )
        self.end_line.setPen(pg.mkPen(neutral, width=1, style=Qt.PenStyle.DashLine))
        self.end_line.label.setColor(neutral)
        for spans in self.lanes.values():
            spans.apply_palette(palette)

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system's light/dark palette when it changes."""
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)


__all__ = ["LaneSpans", "TimelinePlot"]
