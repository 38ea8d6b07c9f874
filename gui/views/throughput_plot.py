"""ThroughputPlot: items/s over time, one curve per worker plus the total, smoothed.

With more workers than views show one by one (``lane_choice.MANY_LANES``), it draws the total
and, in a plot of their own below it (each lane is then a 64th of the total: on the total's
scale it would be a flat line), a chosen few lanes, each named at its end: by default the
slowest and the fastest, or those the user picks from the lane menu at the plot's top right.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from mpscope.gui.palette import style_plot_item, style_plot_widget, total_color, worker_color
from mpscope.gui.run_model import RunModel
from mpscope.gui.views.idle_hint import IdleHint
from mpscope.gui.views.lane_choice import (
    EXTREMES_EACH,
    LaneChoice,
    LaneChoiceButton,
    condensed,
    lane_count,
)
from mpscope.gui.views.live_view import ModelWatch
from mpscope.gui.views.plot_helpers import (
    CountAxis,
    RedrawBudget,
    add_title_rows,
    cache_axes,
    nice_ceiling,
    set_legend,
    spread,
)
from mpscope.gui.views.run_axis import RunAxis
from mpscope.workers.spec import RunSpec

SMOOTH_WINDOW_S = 0.5  # the rate at t is the items done in (t - window, t] over the window
MIN_STEP_S = RunSpec.tick_s  # grid step of the curves: one probe tick
MAX_POINTS = 2_000  # longer runs get a coarser grid (and a window of at least two steps)
# Qt draws 1-px lines much faster than wider ones: workers get 1 px, the total 2 px
WORKER_PEN_WIDTH, TOTAL_PEN_WIDTH = 1.0, 2.0
BUTTON_MARGIN_PX = 4  # the lane menu's button keeps this far from the plot's top right
LABEL_GAP_PX = 13.0  # lane names at the curves' ends stay this far apart vertically
STACKED_AXIS_PX = 52  # stacked plots share a left axis width, so that their times line up
LAYOUT_THEN_DRAW_MS = 20  # a new layout's first curves wait this long: other events go between


def rate_grid(t_end: float) -> tuple[np.ndarray, float]:
    """The uniform time grid [0, t_end] the curves are drawn on, and the smoothing window."""
    step = max(MIN_STEP_S, t_end / MAX_POINTS)
    grid = np.arange(0.0, t_end + step, step)
    return grid, max(SMOOTH_WINDOW_S, 2 * step)


def smoothed_rate(cumulative: np.ndarray, grid: np.ndarray, window: float) -> np.ndarray:
    """Items/s over a trailing ``window`` at every grid time (a shorter window at the start)."""
    if len(grid) < 2:
        return np.zeros_like(grid)
    step = grid[1] - grid[0]
    k = max(1, round(window / step))
    lag = np.empty_like(cumulative)
    lag[k:] = cumulative[:-k]
    lag[:k] = 0.0
    span = np.minimum(np.arange(len(grid)), k) * step
    span[0] = step
    return (cumulative - lag) / span


class ThroughputPlot(QWidget):
    """Items/s over time: one curve per worker plus the total, smoothed over ~0.5 s.

    Past ``MANY_LANES`` workers: the total, and below it (``lanes_plot``, on its own scale)
    the lanes ``lane_choice`` picks (the slowest and fastest by default), each named at its
    end; a button at the top right says which and picks others.
    """

    def __init__(self, model: RunModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("throughputPlot")
        self._model = model
        self._budget = RedrawBudget()
        self._watch = ModelWatch(model)
        self.plot_widget = pg.GraphicsLayoutWidget(self)
        self.plot_widget.setObjectName("throughputPlotArea")
        self.title, self.legend = add_title_rows(self.plot_widget, "Throughput")
        self.plot = plot = self.plot_widget.addPlot(
            row=2, col=0, axisItems={"left": CountAxis("left")}
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        plot.setLabel("left", "items/s")
        plot.setLabel("bottom", "time since start", units="s")
        plot.showGrid(x=False, y=True, alpha=0.15)  # x steps while live: no x grid to redo
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        plot.getViewBox().setMouseEnabled(y=False)
        plot.enableAutoRange(y=False)  # a stepped y range: the axis re-renders only on a step
        self._y_top = 0.0
        self.total_curve = plot.plot(name="total")
        self.total_curve.setZValue(10)
        self.lanes_plot = self._build_lanes_plot()  # in the layout only while condensed
        self.stacked = False  # True: lanes in ``lanes_plot``, below the total
        self._lanes_top = 0.0
        self.lane_curves: dict[int, pg.PlotCurveItem] = {}  # the lanes drawn, by worker
        self.lane_labels: dict[int, pg.TextItem] = {}  # condensed: each drawn lane's name
        self._spare_curves: list[pg.PlotCurveItem] = []  # hidden, for the next lanes shown
        self._spare_labels: list[pg.TextItem] = []
        self.lane_choice = LaneChoice(self)
        self.lane_choice.changed.connect(self._on_choice_changed)
        self.choice_button = LaneChoiceButton(model, self.lane_choice, self.plot_widget)
        self.choice_button.hide()
        self.plot_widget.installEventFilter(self)
        self.run_axis = RunAxis.of(model)  # one time range with the run's other plots
        self.run_axis.attach(plot, self.lanes_plot)
        cache_axes(plot, self.lanes_plot)
        self.idle_hint = IdleHint(
            self.plot_widget, [plot], "Press Run (Ctrl+R): items per second, in all and per worker"
        )
        self._apply_palette()

    # -- the contract with the window ---------------------------------------------------------
    def refresh(self) -> None:
        """Redraw from the model if it changed (and follow the clock while the run is live)."""
        model, watch = self._model, self._watch
        if not watch.begin(self._clear):
            return
        live = model.live
        if watch.changed:
            if not model.reported:  # keep the budget: the first progress is drawn at once
                watch.drew()
                self._stack(self.condensed)  # laid out while the workers start, not mid-stream
            elif self.condensed != self.stacked:
                # laid out now, the curves drawn a moment later: both in one pass of the event
                # loop (a new layout, new items, their first paint) stalled the window most
                self._stack(self.condensed)
                QTimer.singleShot(LAYOUT_THEN_DRAW_MS, self, self.refresh)
            elif self._budget.due(live):
                watch.drew()
                self._update_curves()
        self.run_axis.apply(self.plot)

    @property
    def condensed(self) -> bool:
        """True if the run has too many lanes to draw them all: a chosen few are drawn."""
        return condensed(self._model)

    # -- the lanes' own plot, while condensed -----------------------------------------------------
    def _build_lanes_plot(self) -> pg.PlotItem:
        lanes = pg.PlotItem(axisItems={"left": CountAxis("left")})
        lanes.setLabel("left", "items/s, each")
        lanes.setLabel("bottom", "time since start", units="s")
        lanes.showGrid(x=False, y=True, alpha=0.15)
        lanes.setDownsampling(auto=True, mode="peak")
        lanes.setClipToView(True)
        lanes.getViewBox().setMouseEnabled(y=False)
        lanes.enableAutoRange(y=False)
        lanes.setXLink(self.plot)
        return lanes

    def _stack(self, stacked: bool) -> None:
        """Lanes below the total on their own scale (condensed), or with it (as before)."""
        if stacked == self.stacked:
            return
        self._drop_curves(keep=set(), discard=True)  # drawn again on the plot they now join
        self.stacked = stacked
        plot, lanes = self.plot, self.lanes_plot
        if stacked:
            self.plot_widget.ci.addItem(lanes, row=3, col=0)
            plot.hideAxis("bottom")
            plot.setLabel("left", "items/s, all")
            width: int | None = STACKED_AXIS_PX
            self._lanes_top = 0.0
            lanes.setYRange(0.0, 1.0, padding=0.02)
        else:
            self.plot_widget.ci.removeItem(lanes)
            plot.showAxis("bottom")
            plot.setLabel("left", "items/s")
            width = None
        plot.getAxis("left").setWidth(width)
        lanes.getAxis("left").setWidth(width)
        if stacked:  # the lanes shown by default get items now, not at the first redraw
            for index in range(2 * EXTREMES_EACH):
                self._curve_for(index)
                self._label_for(index)
            self._drop_curves(keep=set())  # hidden, spare

    # -- drawing --------------------------------------------------------------------------------
    def _update_curves(self) -> None:
        model = self._model
        lanes = [model.lanes[i] for i in sorted(model.lanes)]
        t_end = max((lane.last_t for lane in lanes if len(lane.progress)), default=0.0)
        self._stack(self.condensed)
        shown = self._lanes_to_show()
        self._drop_curves(keep=shown)
        if t_end <= 0.0:
            for curve in (self.total_curve, *self.lane_curves.values()):
                curve.setData([], [])
            self._update_legend()
            return
        grid, window = rate_grid(t_end)
        total_done = np.zeros_like(grid)
        ends: dict[int, float] = {}  # shown lane -> its latest rate
        lanes_max = 0.0
        for lane in lanes:
            done = lane.done_at(grid, model.worker_started_at(lane.index))
            total_done += done  # the rate is linear in the count: one rate for the total
            if lane.index in shown:
                rate = smoothed_rate(done, grid, window)
                self._curve_for(lane.index).setData(grid, rate, skipFiniteCheck=True)
                ends[lane.index] = float(rate[-1])
                lanes_max = max(lanes_max, float(rate.max()))
        total = smoothed_rate(total_done, grid, window)
        self.total_curve.setData(grid, total, skipFiniteCheck=True)
        self._update_legend()  # once, after any new worker got its curve
        self._y_top = self._step_y_range(self.plot, self._y_top, float(total.max()))
        if self.stacked:
            self._lanes_top = self._step_y_range(self.lanes_plot, self._lanes_top, lanes_max)
            self._place_labels(float(grid[-1]), ends)

    def _step_y_range(self, plot: pg.PlotItem, shown_top: float, data_max: float) -> float:
        """Raise ``plot``'s y range to a nice number above ``data_max`` (fit it once over)."""
        top = nice_ceiling(1.05 * data_max)
        if top > shown_top or (not self._model.live and top != shown_top):
            plot.setYRange(0.0, top, padding=0.02)
            return top
        return shown_top

    def _lanes_to_show(self) -> set[int]:
        """Every lane, or (condensed) the chosen few; the lane button says which."""
        model = self._model
        if not self.condensed:
            self.choice_button.hide()
            return set(model.lanes)
        workers = model.workers
        done = {i: float(workers[i].done) if i in workers else 0.0 for i in model.lanes}
        shown = self.lane_choice.shown(done)
        button = self.choice_button
        button.showing = shown
        text = button.text()
        button.show_count(len(shown), lane_count(model), self._button_room())
        if button.isHidden() or button.text() != text:
            button.show()
            self._place_button()
        return set(shown)

    def _curve_for(self, index: int) -> pg.PlotCurveItem:
        curve = self.lane_curves.get(index)
        if curve is None:
            pen = pg.mkPen(worker_color(index), width=WORKER_PEN_WIDTH)
            if self._spare_curves:  # a lane no longer shown left it: no item made or added
                curve = self._spare_curves.pop()
                curve.setPen(pen)
                curve.opts["name"] = f"w{index}"
                curve.show()
            else:
                # a bare curve item: a PlotDataItem would also build a scatter item it never uses
                curve = pg.PlotCurveItem(name=f"w{index}", pen=pen)
                self._lane_host().addItem(curve)
            self.lane_curves[index] = curve
        return curve

    def _lane_host(self) -> pg.PlotItem:
        return self.lanes_plot if self.stacked else self.plot

    def _place_labels(self, t: float, ends: dict[int, float]) -> None:
        """Name each shown lane at its curve's end (colours repeat past 13 workers), the names
        moved apart where lanes end close together."""
        height_px = self.lanes_plot.getViewBox().height()
        gap = LABEL_GAP_PX * self._lanes_top / height_px if height_px > 0 else 0.0
        order = sorted(ends, key=lambda i: (ends[i], i))
        top = self._lanes_top - 1.4 * gap  # a name sits above its point: keep the top one in
        for index, y in zip(order, spread([ends[i] for i in order], gap, top)):
            self._label_for(index).setPos(t, y)

    def _label_for(self, index: int) -> pg.TextItem:
        label = self.lane_labels.get(index)
        if label is None and self._spare_labels:
            label = self.lane_labels[index] = self._spare_labels.pop()
            label.setText(f"w{index}", color=worker_color(index))
            label.show()
        elif label is None:
            label = self.lane_labels[index] = pg.TextItem(
                f"w{index}", color=worker_color(index), anchor=(1.0, 1.0)
            )
            label.setZValue(11)
            self.lanes_plot.addItem(label)
        return label

    def _drop_curves(self, keep: set[int], discard: bool = False) -> None:
        """Hide the lanes no longer shown (the slowest and fastest change from one redraw to
        the next at 64 workers): their items wait, empty, for the next lanes shown, since
        making and adding items cost more than the drawing. ``discard``: take every one off
        the plot (a new run, or the lanes move to the other plot)."""
        for index in [i for i in self.lane_curves if i not in keep]:
            curve = self.lane_curves.pop(index)
            curve.setData([], [])
            curve.hide()
            self._spare_curves.append(curve)
        for index in [i for i in self.lane_labels if i not in keep]:
            label = self.lane_labels.pop(index)
            label.hide()
            self._spare_labels.append(label)
        if discard:
            host = self._lane_host()
            for curve in self._spare_curves:
                host.removeItem(curve)
            for label in self._spare_labels:
                self.lanes_plot.removeItem(label)
            self._spare_curves.clear()
            self._spare_labels.clear()

    def _update_legend(self) -> None:
        entries = [("total", total_color(self.palette()), False)]
        entries += [(f"w{i}", worker_color(i), False) for i in sorted(self.lane_curves)]
        set_legend(self.legend, entries)

    def _on_choice_changed(self) -> None:
        """The user picked lanes: draw them now, whatever the redraw budget says."""
        if self._model.reported:
            self._update_curves()
        else:
            self._lanes_to_show()

    def _clear(self) -> None:
        self.idle_hint.dismiss()
        self.lane_choice.reset()
        self._drop_curves(keep=set(), discard=True)
        self._stack(False)
        self.choice_button.hide()
        self.total_curve.setData([], [])
        self._y_top = 0.0
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self._update_legend()

    # -- the lane button's place ------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keep the lane button at the plot's top right when the plot is resized."""
        if watched is self.plot_widget and event.type() == QEvent.Type.Resize:
            self._place_button()
        return False

    def _button_room(self) -> int:
        """Pixels from the title's right end to the plot's right edge, less the margins."""
        title_px = self.title.item.boundingRect().width()
        return int(self.plot_widget.width() / 2 - title_px / 2 - 3 * BUTTON_MARGIN_PX)

    def _place_button(self) -> None:
        button = self.choice_button
        if self.condensed:
            button.show_count(len(button.showing), lane_count(self._model), self._button_room())
        button.adjustSize()
        x = self.plot_widget.width() - button.width() - BUTTON_MARGIN_PX
        button.move(max(x, 0), BUTTON_MARGIN_PX)

    # -- looks ----------------------------------------------------------------------------------
    def _apply_palette(self) -> None:
        style_plot_widget(self.plot_widget, self.palette())
        if not self.stacked:  # out of the layout: not styled with it
            style_plot_item(self.lanes_plot, self.palette(), self.plot_widget.font())
        self.total_curve.setPen(pg.mkPen(total_color(self.palette()), width=TOTAL_PEN_WIDTH))
        self._update_legend()

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system's light/dark palette when it changes."""
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)


__all__ = ["ThroughputPlot", "rate_grid", "smoothed_rate"]
