"""TimelinePlot: one lane per worker with its chunks as bars (like Dask's task stream, live).

Past ``lane_choice.MANY_LANES`` workers the lanes condense: every lane stays in the view, a few
pixels high, drawn by one shared item (``lane_bars``); the axis names as many lanes as fit, and
hovering anywhere in a lane names its worker.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QCursor, QPalette, QPen
from PySide6.QtWidgets import QLabel, QToolTip, QVBoxLayout, QWidget

from mpscope.gui.naming import named
from mpscope.gui.palette import blend, scaled_font, style_plot_widget, total_color, worker_color
from mpscope.gui.run_model import RunModel
from mpscope.gui.views.idle_hint import IdleHint
from mpscope.gui.views.lane_bars import (
    BAR_HEIGHT,
    CondensedLane,
    LaneAxis,
    LaneBars,
    LaneSpans,
)
from mpscope.gui.views.lane_choice import condensed, lane_count
from mpscope.gui.views.lane_marks import DEATH_SIZE_PX, LaneMarks
from mpscope.gui.views.live_view import ModelWatch
from mpscope.gui.views.plot_helpers import (
    LIVE_REDRAW_INTERVAL_S,
    RedrawBudget,
    cache_axes,
    labelled_line,
)
from mpscope.gui.views.run_axis import RunAxis
from mpscope.workers.units import format_count, format_seconds

STARTUP_HEIGHT = 0.25
HOVER_TOLERANCE_PX = 3.0
MARK_HOVER_PX = DEATH_SIZE_PX / 2  # a mark's tooltip shows anywhere over the mark
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
    "Outlined: the chunk still running. Hover a bar for its items and times.\n"
    "A red cross: a worker died there (killed, or exited with an error); a triangle: the "
    "worker its pool started in its place, from the moment it was ready."
)


class TimelinePlot(QWidget):
    """Who computed which chunk when: start-up delay, idle gaps and imbalance at a glance.

    Each worker is a lane (w0 on top); each chunk a bar from its start to its end; the chunk
    running now grows live; a grey bar shows each worker's start-up (RunStarted to its
    WorkerStarted). Hovering a bar tells its first item, items, duration and tasks. Past
    ``MANY_LANES`` workers (``condensed``) every lane still fits in the view, a few pixels each.
    """

    def __init__(self, model: RunModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelinePlot")
        self._model = model
        self._budget = RedrawBudget(REDRAW_INTERVAL_S)
        self._watch = ModelWatch(model)
        self.lane_axis = LaneAxis("left")
        self.plot_widget = pg.PlotWidget(self, axisItems={"left": self.lane_axis})
        self.plot_widget.setObjectName("timelinePlotArea")
        plot = self.plot_widget.getPlotItem()
        plot.setTitle("Timeline")
        plot.setLabel("bottom", "time since start", units="s")
        plot.setLabel("left", "worker")
        plot.showGrid(x=False, y=False)  # a vertical grid would be re-rendered at every x step
        view_box = plot.getViewBox()
        view_box.invertY(True)
        view_box.setMouseEnabled(y=False)
        view_box.enableAutoRange(y=False)
        self.startup_bars = pg.BarGraphItem(x0=[], x1=[], y=[], height=STARTUP_HEIGHT, pen=None)
        self.open_bars = pg.BarGraphItem(x0=[], x1=[], y=[], height=BAR_HEIGHT)
        self.end_line = labelled_line(angle=90, label="end", position=0.97)
        self.end_line.setVisible(False)
        self.bars = LaneBars()  # condensed: every lane's bars (empty otherwise)
        for item in (self.bars, self.startup_bars, self.open_bars, self.end_line):
            plot.addItem(item)
        self.marks = LaneMarks(plot)  # where a worker died, where its replacement began
        self.condensed = False  # True: many lanes, drawn by ``bars``
        self.lanes: dict[int, LaneSpans | CondensedLane] = {}
        self.rows = 0  # lanes the y range holds
        self._open_looks: dict[int, tuple[QColor, QPen]] = {}  # a running chunk's fill, outline
        self.run_axis = RunAxis.of(model)  # one time range with the run's other plots
        self.run_axis.attach(plot)
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
        self.run_axis.apply(self.plot_widget.getPlotItem())

    # -- what the plot holds (read by tests and the tooltip) -----------------------------------
    def drawn_spans(self, index: int) -> np.ndarray:
        """(x0, x1) of every finished span drawn in lane ``index``, sorted by start."""
        lane = self.lanes.get(index)
        return np.empty((0, 2)) if lane is None else lane.finished_spans()

    def open_spans(self) -> dict[int, tuple[float, float]]:
        """Lane index -> (start, now) of the chunk each lane is running, as drawn."""
        x0, x1, y = (np.atleast_1d(self.open_bars.opts[k]) for k in ("x0", "x1", "y"))
        return {int(i): (float(a), float(b)) for a, b, i in zip(x0, x1, y)}

    def describe_at(
        self, x: float, y: float, tolerance: float = 0.0, mark_tolerance: float | None = None
    ) -> str | None:
        """The tooltip for the point (x seconds, y lane): a worker's death or replacement
        marked within ``mark_tolerance`` (default ``tolerance``) seconds, else the chunk there.

        Condensed, a lane is a few pixels high: anywhere in its row names its worker, with its
        items done when no chunk is under the point.
        """
        near = tolerance if mark_tolerance is None else mark_tolerance
        marked = self.marks.describe_at(x, y, near)
        if marked is not None:
            return marked
        index = round(y)
        lane = self._model.lanes.get(index)
        if lane is None or abs(y - index) > (0.5 if self.condensed else BAR_HEIGHT / 2):
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
        replacement = index in self.marks.replacements  # it did not start with the run
        if started_t is not None and 0.0 <= x <= started_t and not replacement:
            pid = model.workers[index].pid
            return f"w{index} · start-up: {format_seconds(started_t)} (pid {pid})"
        if self.condensed:
            fig = model.workers.get(index)
            return f"w{index} · {format_count(fig.done if fig else 0)} items done"
        return None

    # -- drawing --------------------------------------------------------------------------------
    def _update_lanes(self) -> None:
        model = self._model
        plot = self.plot_widget.getPlotItem()
        if condensed(model) != self.condensed:  # set at the run's start, or a replacement
            self._drop_lanes()  # worker made one lane too many: draw them anew
            self.condensed = not self.condensed
        for index in sorted(model.lanes):
            record = self.lanes.get(index)
            if record is None:
                record = self.lanes[index] = (
                    CondensedLane(self.bars, index, self.palette())
                    if self.condensed
                    else LaneSpans(plot, index, self.palette())
                )
            record.update(model.lanes[index])
        self.bars.commit()
        # condensed, the run's K lanes have their rows from the start (no range step per lane)
        rows = max(self.lanes, default=-1) + 1
        self._set_lane_range(max(rows, lane_count(model)) if self.condensed else rows)
        self.marks.update(model)
        # a replacement's lane begins where it started (its triangle): no start-up bar from 0
        started = [
            (i, t)
            for i in model.lanes
            if (t := model.worker_started_at(i)) is not None and i not in self.marks.replacements
        ]
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
            brushes=[self._open_look(i)[0] for i, _ in lanes],
            pens=[self._open_look(i)[1] for i, _ in lanes],
        )

    def _open_look(self, index: int) -> tuple[QColor, QPen]:
        """A running chunk's fill and outline in lane ``index`` (kept: 64 lanes, 2.5 Hz)."""
        look = self._open_looks.get(index)
        if look is None:
            color = worker_color(index)
            base = self.palette().color(QPalette.ColorRole.Base)
            look = self._open_looks[index] = (blend(color, base, 0.2), pg.mkPen(color, width=1))
        return look

    def _set_lane_range(self, lanes: int) -> None:
        """Rows for ``lanes`` lanes; names on each, or (condensed) on as many as fit."""
        if lanes == self.rows and lanes:
            return
        self.rows = lanes
        plot = self.plot_widget.getPlotItem()
        plot.getViewBox().setYRange(-0.6, max(lanes, 1) - 0.4, padding=0)
        self.lane_axis.lanes = lanes
        if self.condensed:
            self.lane_axis.setTicks(None)  # LaneAxis thins them to the rows' height
        else:
            self.lane_axis.setTicks([[(i, f"w{i}") for i in range(lanes)], []])

    def row_height_px(self) -> float:
        """How many pixels high a lane's row is now."""
        view_box = self.plot_widget.getPlotItem().getViewBox()
        return float(view_box.height()) / max(self.rows, 1)

    def _drop_lanes(self) -> None:
        plot = self.plot_widget.getPlotItem()
        for record in self.lanes.values():
            record.remove(plot)
        self.lanes.clear()
        self.bars.clear()

    def _clear(self) -> None:
        self.idle_hint.dismiss()
        self._drop_lanes()
        self.condensed = False
        empty: dict[str, list[float]] = {"x0": [], "x1": [], "y": []}
        self.startup_bars.setOpts(**empty)
        self.open_bars.setOpts(**empty, brushes=None, pens=None)
        self.end_line.setVisible(False)
        self.marks.clear()
        self._set_lane_range(0)

    # -- hover ----------------------------------------------------------------------------------
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        view_box = self.plot_widget.getPlotItem().getViewBox()
        if not view_box.sceneBoundingRect().contains(scene_pos):
            return
        point = view_box.mapSceneToView(scene_pos)
        pixel = view_box.viewPixelSize()[0]
        text = self.describe_at(
            point.x(), point.y(), HOVER_TOLERANCE_PX * pixel, MARK_HOVER_PX * pixel
        )
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
        self._open_looks.clear()
        self.marks.apply_palette(palette)
        for record in self.lanes.values():
            record.apply_palette(palette)
        self.bars.commit()

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system's light/dark palette when it changes."""
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)


__all__ = ["LaneSpans", "TimelinePlot"]
