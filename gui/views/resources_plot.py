"""ResourcesPlot: CPU % per worker and memory (RSS) of the conductor and workers over time."""

from __future__ import annotations

from typing import Protocol

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QVBoxLayout, QWidget

from mpscope.gui.lane_series import GrowableArray
from mpscope.gui.naming import named
from mpscope.gui.palette import style_plot_widget, total_color, worker_color
from mpscope.gui.run_model import RunModel
from mpscope.gui.views.idle_hint import IdleHint, PlotNote
from mpscope.gui.views.lane_choice import condensed, extremes
from mpscope.gui.views.live_view import ModelWatch
from mpscope.gui.views.plot_helpers import (
    LIVE_REDRAW_INTERVAL_S,
    RedrawBudget,
    add_title_rows,
    cache_axes,
    nice_ceiling,
    set_legend,
)
from mpscope.gui.views.resource_sampler import (
    ALL_WORKERS,
    CONDUCTOR,
    START_INTERVAL_MS,
    ResourceSampler,
)
from mpscope.gui.views.run_axis import RunAxis
from mpscope.workers.units import format_seconds


class SampleSeries(Protocol):
    """What the plot draws: series keyed by lane (``CONDUCTOR``: the process that runs the
    lanes), rows of (seconds since the start, value), and a count that moves with every new
    sample. A ResourceSampler samples a live run itself; a traced pool's come from its trace."""

    cpu: dict[int, GrowableArray]  # % of one core
    memory: dict[int, GrowableArray]  # RSS, MiB
    samples: int


class ResourcesPlot(QWidget):
    """Two stacked plots sharing the time axis: CPU (% of one core) and memory (RSS, MiB).

    One curve per worker in the worker's colour, and the conductor's dashed in the neutral
    colour. A thread-pool's lanes are threads of the conductor: their CPU is per thread,
    their memory the conductor's. Sampling (``self.sampler``) runs only while a run is live.
    """

    def __init__(
        self,
        model: RunModel,
        parent: QWidget | None = None,
        *,
        series: SampleSeries | None = None,
        owner_name: str = "conductor",
    ) -> None:
        """``series``: where the samples come from (default: a ResourceSampler of the model's
        run); ``owner_name``: the legend's word for the ``CONDUCTOR`` series."""
        super().__init__(parent)
        self.setObjectName("resourcesPlot")
        self._owner_name = owner_name
        self._model = model
        self._drawn = (-1, -1)  # (model version, sampler samples) last drawn
        self._y_tops: dict[int, float] = {}  # id(plot) -> the top of its y range
        self._budget = RedrawBudget(LIVE_REDRAW_INTERVAL_S)
        self._watch = ModelWatch(model)
        self.sampler: SampleSeries = (
            series if series is not None else ResourceSampler(model, parent=self)
        )
        self.plot_widget = pg.GraphicsLayoutWidget(self)
        self.plot_widget.setObjectName("resourcesPlotArea")
        self.title, self.legend = add_title_rows(self.plot_widget, "Resources")
        self.cpu_plot = self.plot_widget.addPlot(row=2, col=0)
        self.memory_plot = self.plot_widget.addPlot(row=3, col=0)
        self.cpu_plot.setLabel("left", "CPU (%)")
        self.memory_plot.setLabel("left", "RSS (MiB)")
        self.memory_plot.setLabel("bottom", "time since start", units="s")
        self.cpu_plot.getAxis("bottom").setStyle(showValues=False)  # shared with the plot below
        self.cpu_plot.getAxis("bottom").setHeight(2)
        self.memory_plot.setXLink(self.cpu_plot)
        for plot in (self.cpu_plot, self.memory_plot):
            plot.showGrid(x=False, y=True, alpha=0.15)  # x steps while live: no x grid to redo
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.getViewBox().setMouseEnabled(y=False)
            plot.enableAutoRange(y=False)
            plot.getAxis("left").setWidth(52)  # the two plots' time axes line up
        self._set_y_range(self.cpu_plot, 100.0)
        self._set_y_range(self.memory_plot, 100.0)
        self._lanes: list[int] = []  # the lanes drawn one by one when condensed
        self.cpu_curves: dict[int, pg.PlotCurveItem] = {}
        self.memory_curves: dict[int, pg.PlotCurveItem] = {}
        self.run_axis = RunAxis.of(model)  # one time range with the run's other plots
        self.run_axis.attach(self.cpu_plot, self.memory_plot)
        cache_axes(self.cpu_plot, self.memory_plot)
        self.idle_hint = IdleHint(
            self.plot_widget,
            [self.cpu_plot, self.memory_plot],
            "Press Run (Ctrl+R): CPU and memory of every process of the run",
        )
        self.short_note = named(PlotNote(self.plot_widget), "resourcesShortRunNote")
        self.short_note.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)
        self._apply_palette()

    # -- the contract with the window ---------------------------------------------------------
    def refresh(self) -> None:
        """Draw the samples taken since the last refresh; follow the clock while live."""
        model = self._model
        self._watch.begin(self._clear)  # its own record of what it drew: the samples
        state = (model.version, self.sampler.samples)
        if state == self._drawn and not model.live:
            return
        if state[1] == self._drawn[1]:
            self._drawn = state
        elif self._budget.due(model.live):  # new samples: drawn at the live pace
            self._update_curves()
            self._drawn = state
        self.run_axis.apply(self.cpu_plot)
        self._say_if_too_short()

    def _say_if_too_short(self) -> None:
        """A run over before two CPU samples of any process: say so, not an empty plot."""
        model = self._model
        ended = not model.live and model.outcome is not None and model.started is not None
        lines = any(len(series) >= 2 for series in self.sampler.cpu.values())
        if ended and not lines:
            self.short_note.setText(
                f"This run took {format_seconds(model.clock())}: too short to sample its CPU "
                f"(every {START_INTERVAL_MS} ms). Run more items to see it."
            )
            self.short_note.show()
        else:
            self.short_note.hide()

    # -- drawing --------------------------------------------------------------------------------
    def _update_curves(self) -> None:
        cpu_top = self._draw(self.cpu_plot, self.cpu_curves, self.sampler.cpu)
        memory_top = self._draw(self.memory_plot, self.memory_curves, self.sampler.memory)
        # from 0: a share of a core and a size read true; 100 % (one core) always in view
        self._set_y_range(self.cpu_plot, max(100.0, cpu_top))
        self._set_y_range(self.memory_plot, max(memory_top, 1.0))
        self._update_legend()  # once, after any new process got its curves

    def _shown(self, series: dict[int, GrowableArray]) -> list[int]:
        """The series drawn: every lane's and the conductor's; past ``MANY_LANES`` workers the
        conductor's, every worker's together, and the slowest and fastest lanes only (as the
        throughput plot picks them), never 128 curves and a 65-entry legend."""
        if not condensed(self._model):
            return sorted(key for key in series if key != ALL_WORKERS)
        done = {index: float(fig.done) for index, fig in self._model.workers.items()}
        lanes = extremes(done, keep=self._lanes)
        self._lanes = lanes
        return sorted(key for key in series if key < 0 or key in lanes)

    def _draw(
        self,
        plot: pg.PlotItem,
        curves: dict[int, pg.PlotCurveItem],
        series: dict[int, GrowableArray],
    ) -> float:
        """Put each shown series on its curve (dropping the others); the largest value drawn."""
        top = 0.0
        shown = self._shown(series)
        for key in [key for key in curves if key not in shown]:
            plot.removeItem(curves.pop(key))
        for key in shown:
            rows = series[key].view()
            curve = curves.get(key)
            if curve is None:  # a bare curve item (a PlotDataItem adds an unused scatter item)
                curve = curves[key] = pg.PlotCurveItem(pen=self._pen(key))
                plot.addItem(curve)
            curve.setData(rows[:, 0], rows[:, 1], skipFiniteCheck=True)
            if len(rows):
                top = max(top, float(rows[:, 1].max()))
        return top

    def _set_y_range(self, plot: pg.PlotItem, top: float) -> None:
        """0 to a nice ceiling of ``top`` (moves only in steps: the axis re-renders rarely)."""
        top = nice_ceiling(top)
        if self._y_tops.get(id(plot)) == top:
            return
        self._y_tops[id(plot)] = top
        plot.setYRange(-0.12 * top, 1.15 * top, padding=0)

    def _pen(self, key: int) -> QPen:
        if key == CONDUCTOR:
            return pg.mkPen(total_color(self.palette()), width=1, style=Qt.PenStyle.DashLine)
        if key == ALL_WORKERS:
            return pg.mkPen(total_color(self.palette()), width=1)
        return pg.mkPen(worker_color(key), width=1)  # 1-px lines draw several times faster

    def _update_legend(self) -> None:
        keys = sorted(set(self.cpu_curves) | set(self.memory_curves))
        names = {CONDUCTOR: self._owner_name, ALL_WORKERS: "all workers"}
        entries = [
            (
                names.get(k, f"w{k}"),
                total_color(self.palette()) if k < 0 else worker_color(k),
                k == CONDUCTOR,
            )
            for k in keys
        ]
        set_legend(self.legend, entries)

    def _clear(self) -> None:
        self.idle_hint.dismiss()
        self.short_note.hide()
        for plot, curves in (
            (self.cpu_plot, self.cpu_curves),
            (self.memory_plot, self.memory_curves),
        ):
            for curve in curves.values():
                plot.removeItem(curve)
            curves.clear()
        self._lanes = []
        self._update_legend()  # the sampler forgets the last run by itself, on reset()
        self._drawn = (-1, -1)
        self._y_tops.clear()

    # -- looks ----------------------------------------------------------------------------------
    def _apply_palette(self) -> None:
        style_plot_widget(self.plot_widget, self.palette())
        for curves in (self.cpu_curves, self.memory_curves):
            for key, curve in curves.items():
                curve.setPen(self._pen(key))
        self._update_legend()

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system's light/dark palette when it changes."""
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)


__all__ = ["ResourcesPlot"]
