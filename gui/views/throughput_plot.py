"""ThroughputPlot: items/s over time, one curve per worker plus the total, smoothed."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from mpscope.gui.palette import style_plot_widget, total_color, worker_color
from mpscope.gui.run_model import RunModel
from mpscope.gui.views.idle_hint import IdleHint
from mpscope.gui.views.live_view import ModelWatch
from mpscope.gui.views.plot_helpers import (
    ClockFollower,
    CountAxis,
    RedrawBudget,
    add_title_rows,
    cache_axes,
    nice_ceiling,
    set_legend,
)
from mpscope.workers.spec import RunSpec

SMOOTH_WINDOW_S = 0.5  # the rate at t is the items done in (t - window, t] over the window
MIN_STEP_S = RunSpec.tick_s  # grid step of the curves: one probe tick
MAX_POINTS = 2_000  # longer runs get a coarser grid (and a window of at least two steps)
# Qt draws 1-px lines much faster than wider ones: workers get 1 px, the total 2 px
WORKER_PEN_WIDTH, TOTAL_PEN_WIDTH = 1.0, 2.0


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
    """Items/s over time: one curve per worker plus the total, smoothed over ~0.5 s."""

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
        self.lane_curves: dict[int, pg.PlotCurveItem] = {}
        self._follower = ClockFollower(plot)
        cache_axes(plot)
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
            elif self._budget.due(live):
                watch.drew()
                self._update_curves()
        self._follower.apply(model.clock(), model.live, model.expected_end())

    # -- drawing --------------------------------------------------------------------------------
    def _update_curves(self) -> None:
        model = self._model
        lanes = [model.lanes[i] for i in sorted(model.lanes)]
        t_end = max((lane.last_t for lane in lanes if len(lane.progress)), default=0.0)
        if t_end <= 0.0:
            for curve in (self.total_curve, *self.lane_curves.values()):
                curve.setData([], [])
            return
        grid, window = rate_grid(t_end)
        total = np.zeros_like(grid)
        for lane in lanes:
            done = lane.done_at(grid, model.worker_started_at(lane.index))
            rate = smoothed_rate(done, grid, window)
            total += rate
            self._curve_for(lane.index).setData(grid, rate, skipFiniteCheck=True)
        self.total_curve.setData(grid, total, skipFiniteCheck=True)
        self._update_legend()  # once, after any new worker got its curve
        top = nice_ceiling(1.05 * float(total.max())) if len(total) else 1.0
        if top > self._y_top or (not model.live and top != self._y_top):
            self._y_top = top
            self.plot.setYRange(0.0, top, padding=0.02)

    def _curve_for(self, index: int) -> pg.PlotCurveItem:
        curve = self.lane_curves.get(index)
        if curve is None:
            # a bare curve item: a PlotDataItem would also build a scatter item it never uses
            pen = pg.mkPen(worker_color(index), width=WORKER_PEN_WIDTH)
            curve = self.lane_curves[index] = pg.PlotCurveItem(name=f"w{index}", pen=pen)
            self.plot.addItem(curve)
        return curve

    def _update_legend(self) -> None:
        entries = [("total", total_color(self.palette()), False)]
        entries += [(f"w{i}", worker_color(i), False) for i in sorted(self.lane_curves)]
        set_legend(self.legend, entries)

    def _clear(self) -> None:
        self.idle_hint.dismiss()
        for curve in self.lane_curves.values():
            self.plot.removeItem(curve)
        self.lane_curves.clear()
        self.total_curve.setData([], [])
        self._y_top = 0.0
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self._update_legend()
        self._follower.follow()

    # -- looks ----------------------------------------------------------------------------------
    def _apply_palette(self) -> None:
        style_plot_widget(self.plot_widget, self.palette())
        self.total_curve.setPen(pg.mkPen(total_color(self.palette()), width=TOTAL_PEN_WIDTH))
        self._update_legend()

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system's light/dark palette when it changes."""
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)


__all__ = ["ThroughputPlot", "rate_grid", "smoothed_rate"]
