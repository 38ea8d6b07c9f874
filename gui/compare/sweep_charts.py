"""SweepCharts: the chunksize sweep and the grain sweep, and what each shows, in words.

* chunksize sweep: items/s against chunksize (log axis), one line per pool strategy, whiskers
  from the slowest to the fastest repeat: where IPC overhead stops dominating;
* grain sweep: speed-up against the work per item (the loop's median wall / items, log axis),
  the loop at 1x and the ideal K x marked: where parallelism starts to pay on this machine.

Lines are created the first time a series appears and updated with setData after.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from mpscope.gui.compare.chart_style import (
    LogAxis,
    legend_markup,
    neutral_pen,
    per_item_text,
    series_pen,
    strategy_color,
    whisker_item,
    wrap_to_width,
)
from mpscope.gui.naming import named
from mpscope.gui.palette import current_palette, style_plot_widget
from mpscope.gui.views.plot_helpers import CountAxis, labelled_line
from mpscope.workers.compare import SweepSeries
from mpscope.workers.units import format_count, format_rate

PAYS = 1.0  # a speed-up at or above this beats the loop
HINT = (
    "<b>Chunksize sweep</b>: items/s of the pool strategies at chunksizes from small to "
    "N/K. <b>Grain sweep</b>: the heavy workload from well under a microsecond to about a "
    "millisecond of work per item. Each runs from its own button above."
)


def sentence_list(sentences: Sequence[str]) -> str:
    """Sentences as a compact HTML bullet list ("" for none)."""
    if not sentences:
        return ""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return f"<ul style='margin-left:-20px; margin-top:0px'>{items}</ul>"


@dataclass
class SweepItems:
    """One series' line and whiskers."""

    curve: pg.PlotDataItem
    whiskers: pg.ErrorBarItem


def chunksize_findings(series: Sequence[SweepSeries]) -> list[str]:
    """Per series: the fastest chunksize, and how much slower the smallest one was."""
    out = []
    for s in series:
        if not s.points:
            continue
        best = max(s.points, key=lambda p: p.y)
        text = (
            f"{s.label}: fastest at chunksize {format_count(int(best.x))} ({format_rate(best.y)})"
        )
        smallest = s.points[0]
        if smallest is not best and smallest.y > 0:
            text += (
                f"; chunksize {format_count(int(smallest.x))} is {best.y / smallest.y:.1f}x slower"
            )
        out.append(text + ".")
    return out


def grain_findings(series: Sequence[SweepSeries]) -> list[str]:
    """Per series: from which work per item on it beats the loop, and its best speed-up."""
    out = []
    for s in series:
        points = list(s.points)
        if not points:
            continue
        best = max(points, key=lambda p: p.y)
        best_text = f"best {best.y:.2f}x at {per_item_text(best.x)} per item"
        paying = [p for p in points if p.y >= PAYS]
        if not paying:
            out.append(f"{s.label} never beats the loop here ({best_text}).")
        elif len(paying) == len(points):
            out.append(
                f"{s.label} beats the loop at every grain tried, even at "
                f"{per_item_text(points[0].x)} per item ({best_text})."
            )
        else:
            out.append(
                f"{s.label} beats the loop from about {per_item_text(paying[0].x)} of work "
                f"per item ({best_text})."
            )
    return out


class SweepCharts(QWidget):
    """Items/s against chunksize and speed-up against per-item cost."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepCharts")
        self.area = pg.GraphicsLayoutWidget(self)
        self.area.setObjectName("sweepChartsArea")
        self.area.ci.setContentsMargins(4, 2, 8, 2)
        self.legend = self.area.addLabel(HINT, row=0, col=0, colspan=2, size="9pt")
        wrap_to_width(self.legend, self.area)
        self.chunk_plot = self.area.addPlot(
            row=1,
            col=0,
            title="Chunksize sweep: items/s",
            axisItems={"bottom": LogAxis("bottom"), "left": CountAxis("left")},
        )
        self.grain_plot = self.area.addPlot(
            row=1,
            col=1,
            title="Grain sweep: speed-up",
            axisItems={"bottom": LogAxis("bottom", seconds=True)},
        )
        for plot in (self.chunk_plot, self.grain_plot):
            plot.setLogMode(x=True, y=False)
            plot.showGrid(x=True, y=True, alpha=0.25)
        self.chunk_plot.setLabel("bottom", "chunksize (items per task)")
        self.chunk_plot.setLabel("left", "items/s")
        self.grain_plot.setLabel("bottom", "work per item (the loop's time / N)")
        self.grain_plot.setLabel("left", "speed-up", units="×")
        self.loop_line = pg.InfiniteLine(1.0, angle=0, movable=False)
        self.ideal_line = labelled_line(2.0, angle=0, label="ideal", position=0.08)
        self.grain_plot.addItem(self.loop_line)
        self.grain_plot.addItem(self.ideal_line)
        self.findings = named(QLabel(), "sweepFindings")
        self.findings.setWordWrap(True)
        self.findings.setTextFormat(Qt.TextFormat.RichText)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.area, 1)
        layout.addWidget(self.findings)
        self.chunk_items: dict[str, SweepItems] = {}
        self.grain_items: dict[str, SweepItems] = {}
        self.chunk_series: list[SweepSeries] = []
        self.grain_series: list[SweepSeries] = []
        self.apply_style()

    def _items(self, pool: dict[str, SweepItems], plot: pg.PlotItem, label: str) -> SweepItems:
        items = pool.get(label)
        if items is None:
            items = SweepItems(pg.PlotDataItem(symbol="o", symbolSize=7), whisker_item())
            plot.addItem(items.curve)
            plot.addItem(items.whiskers)
            pool[label] = items
        return items

    def _draw(
        self, pool: dict[str, SweepItems], plot: pg.PlotItem, series: Sequence[SweepSeries]
    ) -> None:
        shown = {s.label for s in series}
        for label, items in pool.items():
            if label not in shown:
                items.curve.setData([], [])
                items.whiskers.setData(x=np.zeros(0), y=np.zeros(0))
        for s in series:
            items = self._items(pool, plot, s.label)
            x = np.array([p.x for p in s.points], dtype=float)
            y = np.array([p.y for p in s.points], dtype=float)
            low = np.array([p.y_min for p in s.points], dtype=float)
            high = np.array([p.y_max for p in s.points], dtype=float)
            color = strategy_color(s.strategy)
            items.curve.setData(x, y, pen=series_pen(s.strategy, 0), symbolBrush=color)
            items.whiskers.setData(
                x=np.log10(x),  # the plot is in log-x mode; ErrorBarItem does not follow it
                y=y,
                top=(high - y).clip(min=0.0),
                bottom=(y - low).clip(min=0.0),
                beam=0.05,
                pen=pg.mkPen(color),
            )
        plot.enableAutoRange()

    def show_chunksize(self, series: Sequence[SweepSeries]) -> None:
        """Draw a chunksize sweep's series."""
        self.chunk_series = list(series)
        self._draw(self.chunk_items, self.chunk_plot, self.chunk_series)
        self._update_text()

    def show_grain(self, series: Sequence[SweepSeries]) -> None:
        """Draw a grain sweep's series (the ideal line at their worker count)."""
        self.grain_series = list(series)
        self._draw(self.grain_items, self.grain_plot, self.grain_series)
        workers = max((s.workers for s in series), default=2)
        self.ideal_line.setValue(float(workers))
        self.ideal_line.label.setFormat(f"ideal {workers}×")
        self._update_text()

    def _update_text(self) -> None:
        everything = {s.label: s for s in (*self.chunk_series, *self.grain_series)}
        if everything:
            entries = [
                (label, strategy_color(s.strategy), False) for label, s in everything.items()
            ]
            pal = current_palette()
            self.legend.setText(legend_markup(entries), color=pal.color(pal.ColorRole.Text).name())
        sentences = chunksize_findings(self.chunk_series) + grain_findings(self.grain_series)
        self.findings.setText(sentence_list(sentences))

    def apply_style(self) -> None:
        """Colours from the current palette (light or dark)."""
        style_plot_widget(self.area)
        text = current_palette().color(current_palette().ColorRole.Text)
        self.loop_line.setPen(neutral_pen())
        self.ideal_line.setPen(neutral_pen())
        self.ideal_line.label.setColor(text)
        if self.chunk_series or self.grain_series:
            self.show_chunksize(self.chunk_series)
            self.show_grain(self.grain_series)

    def changeEvent(self, event: QEvent) -> None:
        """Follow a light / dark switch."""
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_style()
        super().changeEvent(event)
