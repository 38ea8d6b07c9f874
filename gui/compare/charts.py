"""MatrixCharts: one comparison in four charts, drawn from its CellSummary list.

* wall time per setting: horizontal bars at the median, whiskers from the fastest to the
  slowest repeat;
* speed-up against the sequential loop (its median / the setting's median), a line at 1x;
* speed-up against the number of workers, one line per strategy, the ideal (K x with K
  workers) dashed and the machine's core count marked;
* parallel efficiency (speed-up / workers), 100 % being the ideal.

Every plot item is created once and updated with setData / setOpts; a strategy's lines are
created the first time it appears and reused after. Colours come from ``chart_style``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from mpscope.gui.compare.chart_style import (
    cell_names,
    legend_markup,
    neutral_pen,
    series_pen,
    title_over_whole_plot,
    variant_color,
    variants_of,
    whisker_item,
    wrap_to_width,
)
from mpscope.gui.palette import current_palette, style_plot_widget
from mpscope.gui.views.plot_helpers import labelled_line
from mpscope.workers.compare import CellSummary, is_baseline

BAR_THICKNESS = 0.6
EMPTY_HINT = (
    "Press <b>Compare</b> to run the matrix: the charts fill in as its runs end. "
    "Whiskers span the fastest to the slowest repeat."
)


@dataclass
class SeriesItems:
    """The plot items of one strategy's line in the two against-workers charts."""

    scaling: pg.PlotDataItem
    scaling_whiskers: pg.ErrorBarItem
    efficiency: pg.PlotDataItem


def _array(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _spread(mid: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whisker lengths below and above ``mid`` (0 where a value is missing)."""
    below = np.nan_to_num(mid - low, nan=0.0).clip(min=0.0)
    above = np.nan_to_num(high - mid, nan=0.0).clip(min=0.0)
    return below, above


MINIMUM_HEIGHT = 280  # pixels: the four charts readable, axis titles whole


class MatrixCharts(QWidget):
    """Wall time, speed-up, speed-up against workers and efficiency of one comparison."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareCharts")
        self.area = pg.GraphicsLayoutWidget(self)
        self.area.setObjectName("compareChartsArea")
        self.area.setToolTip(
            "Right-click a chart for pyqtgraph's menu (export one chart, axis options); "
            "drag to pan, wheel to zoom, the A button to fit again"
        )
        # two rows of charts with their titles and axes: below this the page scrolls instead
        self.area.setMinimumHeight(MINIMUM_HEIGHT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.area)
        self.area.ci.setContentsMargins(4, 2, 8, 2)
        self.legend = self.area.addLabel(EMPTY_HINT, row=0, col=0, colspan=2, size="9pt")
        wrap_to_width(self.legend, self.area)
        self.wall_plot = self.area.addPlot(row=1, col=0, title="Wall time (median, min–max)")
        self.speedup_plot = self.area.addPlot(row=1, col=1, title="Speed-up against the loop")
        self.scaling_plot = self.area.addPlot(row=2, col=0, title="Speed-up against workers")
        self.efficiency_plot = self.area.addPlot(row=2, col=1, title="Parallel efficiency")
        self.plots = (self.wall_plot, self.speedup_plot, self.scaling_plot, self.efficiency_plot)
        for plot in self.plots:
            title_over_whole_plot(plot)
        self.cells: list[CellSummary] = []
        self.labels: list[str] = []
        self.cores = 1
        self._build_bars()
        self._build_against_workers()
        self.series: dict[str, SeriesItems] = {}
        self.apply_style()
        # empty, the charts still show their real scales (0 s on, 1x, 100 %, this machine's
        # cores) rather than pyqtgraph's default -0.5..0.5
        self.show_cells([], os.cpu_count() or 1)

    # -- construction --------------------------------------------------------------------------
    def _build_bars(self) -> None:
        for plot, unit in ((self.wall_plot, "s"), (self.speedup_plot, "×")):
            plot.getViewBox().invertY(True)  # the first setting (the loop) at the top
            plot.setMouseEnabled(x=True, y=False)
            plot.showGrid(x=True, y=False, alpha=0.25)
            plot.setLabel("bottom", "wall time" if unit == "s" else "speed-up", units=unit)
            plot.getAxis("left").setStyle(autoExpandTextSpace=True)
        self.wall_bars = pg.BarGraphItem(
            x0=0.0, y=np.zeros(0), height=BAR_THICKNESS, width=np.zeros(0)
        )
        self.wall_whiskers = whisker_item()
        self.speedup_bars = pg.BarGraphItem(
            x0=0.0, y=np.zeros(0), height=BAR_THICKNESS, width=np.zeros(0)
        )
        self.speedup_whiskers = whisker_item()
        self.loop_line = pg.InfiniteLine(1.0, angle=90, movable=False)
        self.wall_plot.addItem(self.wall_bars)
        self.wall_plot.addItem(self.wall_whiskers)
        self.speedup_plot.addItem(self.speedup_bars)
        self.speedup_plot.addItem(self.speedup_whiskers)
        self.speedup_plot.addItem(self.loop_line)

    def _build_against_workers(self) -> None:
        self.scaling_plot.setLabel("left", "speed-up", units="×")
        self.efficiency_plot.setLabel("left", "speed-up / workers", units="%")
        self.ideal_scaling = pg.PlotDataItem()
        self.scaling_plot.addItem(self.ideal_scaling)
        self.ideal_efficiency = pg.InfiniteLine(100.0, angle=0, movable=False)
        self.efficiency_plot.addItem(self.ideal_efficiency)
        self.core_lines = []
        for plot in (self.scaling_plot, self.efficiency_plot):
            plot.setLabel("bottom", "workers (K)")
            plot.showGrid(x=False, y=True, alpha=0.25)
            plot.getAxis("left").enableAutoSIPrefix(False)
            line = labelled_line(1.0, angle=90, label="", position=0.92)
            plot.addItem(line)
            self.core_lines.append(line)

    def _series_items(self, name: str) -> SeriesItems:
        items = self.series.get(name)
        if items is None:
            items = SeriesItems(
                pg.PlotDataItem(symbol="o", symbolSize=7), whisker_item(), pg.PlotDataItem()
            )
            items.efficiency.setSymbol("o")
            items.efficiency.setSymbolSize(7)
            self.scaling_plot.addItem(items.scaling)
            self.scaling_plot.addItem(items.scaling_whiskers)
            self.efficiency_plot.addItem(items.efficiency)
            self.series[name] = items
        return items

    # -- data ----------------------------------------------------------------------------------
    def show_cells(self, cells: Sequence[CellSummary], cores: int) -> None:
        """Draw ``cells`` (one comparison's summaries); ``cores``: the machine's core count."""
        self.cells = list(cells)
        self.cores = max(1, cores)
        names = cell_names(self.cells)
        self.labels = names.labels
        variants = variants_of(names.series, [c.strategy for c in self.cells])
        self._draw_bars(names.labels, names.series, variants)
        self._draw_against_workers(names.series, variants)
        self._draw_legend(names.series, variants)

    def _draw_bars(self, labels: list[str], series: list[str], variants: dict[str, int]) -> None:
        cells = self.cells
        y = np.arange(len(cells), dtype=float)
        colors = [variant_color(c.strategy, variants[s]) for c, s in zip(cells, series)]
        # pyqtgraph 0.14 fails on an empty ``brushes`` list and sizes bars by the last of
        # ``pens`` only: one shared outline, a brush per bar (None when there are no bars)
        brushes = [pg.mkBrush(c) for c in colors] or None
        pen = neutral_pen(dashed=False)
        ticks = [[(float(i), text) for i, text in enumerate(labels)]]
        for plot, bars, whiskers, values in (
            (
                self.wall_plot,
                self.wall_bars,
                self.wall_whiskers,
                [(c.median_wall_s, c.min_wall_s, c.max_wall_s) for c in cells],
            ),
            (
                self.speedup_plot,
                self.speedup_bars,
                self.speedup_whiskers,
                [(c.speedup, c.speedup_min, c.speedup_max) for c in cells],
            ),
        ):
            mid, low, high = (_array([v[i] for v in values]) for i in range(3))
            width = np.nan_to_num(mid, nan=0.0)
            bars.setOpts(x0=0.0, y=y, width=width, height=BAR_THICKNESS, brushes=brushes, pen=pen)
            below, above = _spread(width, low, high)
            whiskers.setData(x=width, y=y, left=below, right=above, beam=BAR_THICKNESS / 2)
            plot.getAxis("left").setTicks(ticks)
            plot.setYRange(-0.6, max(len(cells), 1) - 0.4, padding=0.0)
            right = float(np.nanmax(high)) if np.isfinite(high).any() else 1.0
            plot.setXRange(0.0, max(right, 1.0 if plot is self.speedup_plot else 0.0) * 1.05)

    def _draw_against_workers(self, series: list[str], variants: dict[str, int]) -> None:
        groups: dict[str, list[CellSummary]] = {}
        for cell, name in zip(self.cells, series):
            if not is_baseline(cell.strategy) and cell.speedup is not None:
                groups.setdefault(name, []).append(cell)
        for name, items in self.series.items():
            if name not in groups:
                items.scaling.setData([], [])
                items.scaling_whiskers.setData(x=np.zeros(0), y=np.zeros(0))
                items.efficiency.setData([], [])
        top_k = max([self.cores, 2] + [c.workers for c in self.cells])
        top_speedup, top_efficiency = 1.0, 100.0
        for name, cells in groups.items():
            cells.sort(key=lambda c: c.workers)
            strategy = cells[0].strategy
            items = self._series_items(name)
            pen = series_pen(strategy, variants[name])
            color = pen.color()
            k = np.array([c.workers for c in cells], dtype=float)
            speedup = _array([c.speedup for c in cells])
            low = _array([c.speedup_min for c in cells])
            high = _array([c.speedup_max for c in cells])
            items.scaling.setData(k, speedup, pen=pen, symbolBrush=color, symbolPen=color)
            below, above = _spread(speedup, low, high)
            items.scaling_whiskers.setData(
                x=k, y=speedup, top=above, bottom=below, beam=0.06, pen=pg.mkPen(color)
            )
            efficiency = speedup / k * 100.0
            items.efficiency.setData(k, efficiency, pen=pen, symbolBrush=color, symbolPen=color)
            top_speedup = max(top_speedup, float(np.nanmax(high)))
            top_efficiency = max(top_efficiency, float(np.nanmax(efficiency)))
        self.ideal_scaling.setData([1.0, float(top_k)], [1.0, float(top_k)])
        worker_ticks = sorted({c.workers for c in self.cells} | {1, self.cores})
        for plot, line in zip((self.scaling_plot, self.efficiency_plot), self.core_lines):
            line.setValue(float(self.cores))
            line.label.setFormat(f"{self.cores} cores")
            plot.getAxis("bottom").setTicks([[(float(k), str(k)) for k in worker_ticks]])
            plot.setXRange(0.5, top_k + 0.5, padding=0.0)
        self.scaling_plot.setYRange(0.0, max(top_speedup, float(top_k)) * 1.08, padding=0.0)
        self.efficiency_plot.setYRange(0.0, top_efficiency * 1.1, padding=0.0)

    def _draw_legend(self, series: list[str], variants: dict[str, int]) -> None:
        if not self.cells:
            self.legend.setText(EMPTY_HINT)
            return
        entries = []
        seen = set()
        for cell, name in zip(self.cells, series):
            if name not in seen:
                seen.add(name)
                color = variant_color(cell.strategy, variants[name])
                entries.append((name, color, variants[name] > 0))
        pal = current_palette()
        entries.append(("ideal: K× with K workers", neutral_pen().color(), True))
        self.legend.setText(legend_markup(entries), color=pal.color(pal.ColorRole.Text).name())

    # -- look ----------------------------------------------------------------------------------
    def apply_style(self) -> None:
        """Colours from the current palette (light or dark)."""
        style_plot_widget(self.area)
        pen = neutral_pen()
        text = current_palette().color(current_palette().ColorRole.Text)
        self.ideal_scaling.setPen(pen)
        for line in (self.loop_line, self.ideal_efficiency, *self.core_lines):
            line.setPen(pen)
            label = getattr(line, "label", None)  # pyqtgraph sets it only for labelled lines
            if label is not None:
                label.setColor(text)
        for whiskers in (self.wall_whiskers, self.speedup_whiskers):
            whiskers.setData(pen=pg.mkPen(text, width=1.5))
        if self.cells:
            self.show_cells(self.cells, self.cores)

    def changeEvent(self, event: QEvent) -> None:
        """Follow a light / dark switch."""
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_style()
        super().changeEvent(event)
