"""What the comparison charts share: a colour per strategy, labels that tell cells apart, axes.

A strategy keeps its colour in every chart and every comparison (its place in the registry
picks it from the palette the live views use); the sequential loop, the baseline, is drawn in
the neutral text colour. Labels say only what differs: "pool-map K=2", plus the chunksize, the
start method, the job or the machine when the cells shown differ in them (history selections,
runs imported from another machine).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QPen, QTextOption

from mpscope.gui.palette import blend, current_palette, total_color, worker_color
from mpscope.gui.views.plot_helpers import compact_number
from mpscope.workers.compare import CellSummary, is_baseline
from mpscope.workers.strategies import STRATEGIES
from mpscope.workers.units import format_count, format_seconds

WRAP_SLACK = 8  # pixels kept free beside a wrapped heading (the scene's own rounding)
LIGHTER_PER_VARIANT = 0.3  # a strategy's 2nd, 3rd... series (another machine): paler, dashed
_COLOURED = [s for s in STRATEGIES if not is_baseline(s)]


def strategy_color(strategy: str) -> QColor:
    """The colour of ``strategy`` in every chart (the loop: the neutral text colour)."""
    if is_baseline(strategy):
        return total_color()
    if strategy in _COLOURED:
        return worker_color(_COLOURED.index(strategy))
    return worker_color(len(_COLOURED) + sum(map(ord, strategy)) % 7)  # from a newer mpscope


def variant_color(strategy: str, variant: int) -> QColor:
    """``strategy``'s colour for its ``variant``-th series (0: the plain colour)."""
    color = strategy_color(strategy)
    if not variant:
        return color
    base = current_palette().color(current_palette().ColorRole.Base)
    return blend(color, base, min(LIGHTER_PER_VARIANT * variant, 0.6))


def series_pen(strategy: str, variant: int, width: float = 2.0) -> QPen:
    """The pen of a series line: solid for the first series of a strategy, dashed after."""
    pen = pg.mkPen(variant_color(strategy, variant), width=width)
    if variant:
        pen.setStyle(Qt.PenStyle.DashLine)
    return pen


def legend_markup(entries: Sequence[tuple[str, QColor, bool]]) -> str:
    """A legend for a heading that wraps (``wrap_to_width``): a coloured line (dashed) and a
    name each, breaking only between entries."""
    parts = [
        f"<span style='color:{color.name()}'>{'┅┅' if dashed else '━━'}</span>&nbsp;"
        + html.escape(name).replace(" ", "&nbsp;")
        for name, color, dashed in entries
    ]
    return "&nbsp;&nbsp; ".join(parts) or "&nbsp;"


class _WrapToWidth(QObject):
    """Keeps a heading's text as wide as its chart area, whenever the area is resized."""

    def __init__(self, label: pg.LabelItem, area: pg.GraphicsLayoutWidget) -> None:
        super().__init__(area)
        self.label = label
        self.area = area
        option = QTextOption(Qt.AlignmentFlag.AlignHCenter)
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        label.item.document().setDefaultTextOption(option)
        area.installEventFilter(self)
        self.fit(area.width())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Before the area lays its charts out at a new width, narrow (or widen) the text."""
        if watched is self.area and event.type() == QEvent.Type.Resize:
            self.fit(event.size().width())  # type: ignore[attr-defined]
        return False

    def fit(self, area_width: int) -> None:
        """Wrap the text at ``area_width`` less the layout's margins."""
        left, _, right, _ = self.area.ci.layout.getContentsMargins()
        frame = 2 * self.area.frameWidth()
        width = max(40.0, area_width - frame - left - right - WRAP_SLACK)
        if self.label.item.textWidth() != width:
            self.label.item.setTextWidth(width)
            self.label.resizeEvent(None)  # re-placed, its minimum size the new width


def wrap_to_width(label: pg.LabelItem, area: pg.GraphicsLayoutWidget) -> None:
    """Let ``label``, a hint or legend across the top of ``area``, wrap at spaces to the
    area's width, now and after every resize: a long line never makes the charts wider than
    the page (pyqtgraph's layout would keep them at the text's width and cut them off)."""
    _WrapToWidth(label, area)


def title_over_whole_plot(plot: pg.PlotItem) -> None:
    """Centre ``plot``'s title over the whole plot, its axes' columns included (pyqtgraph puts
    it over the data area alone): a long title then no longer adds the left axis's width to
    the plot's minimum, and two charts side by side fit a 960-pixel window."""
    grid = plot.layout
    grid.removeItem(plot.titleLabel)
    grid.addItem(plot.titleLabel, 0, 0, 1, grid.columnCount())


def per_item_text(seconds: float) -> str:
    """A per-item cost down to nanoseconds: '80 ns', '12.5 µs', '1.0 ms'."""
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    return format_seconds(seconds)


def job_text(cell: CellSummary) -> str:
    """'heavy N=10,000 grain 1,000' / 'sleep N=200 5 ms'."""
    text = f"{cell.workload} N={format_count(cell.items)}"
    if cell.grain is not None:
        text += f" grain {format_count(cell.grain)}"
    if cell.sleep_ms is not None:
        text += f" {cell.sleep_ms:g} ms"
    return text


@dataclass(frozen=True)
class CellNames:
    """How charts name cells: ``labels`` (one per cell), ``series`` (per cell, without K)."""

    labels: list[str]
    series: list[str]


def cell_names(cells: Sequence[CellSummary]) -> CellNames:
    """Labels that tell the cells apart, adding only what differs among them."""
    jobs = {job_text(c) for c in cells}
    hosts = {c.hostname for c in cells}
    same_setting: dict[tuple[object, ...], set[tuple[object, object]]] = {}
    for c in cells:
        key = (c.strategy, c.workers, job_text(c), c.hostname)
        same_setting.setdefault(key, set()).add((c.chunksize, c.start_method))
    crowded = {key for key, variants in same_setting.items() if len(variants) > 1}
    labels, series = [], []
    for c in cells:
        extras = []
        if (c.strategy, c.workers, job_text(c), c.hostname) in crowded:
            if c.chunksize is not None:
                extras.append(f"cs {format_count(c.chunksize)}")
            if c.start_method:
                extras.append(str(c.start_method))
        if len(jobs) > 1:
            extras.append(job_text(c))
        if len(hosts) > 1:
            extras.append(f"@ {c.hostname or 'this machine'}")
        tail = "".join(f" · {e}" for e in extras)
        series.append(c.strategy + tail)
        labels.append(c.label + tail)
    return CellNames(labels, series)


def variants_of(series: Sequence[str], strategies: Sequence[str]) -> dict[str, int]:
    """Per series name, its place among the series of the same strategy (0, 1, ...)."""
    seen: dict[str, int] = {}
    out: dict[str, int] = {}
    for name, strategy in zip(series, strategies):
        if name not in out:
            out[name] = seen.get(strategy, 0)
            seen[strategy] = out[name] + 1
    return out


class LogAxis(pg.AxisItem):
    """A log-scale axis labelled at whole decades only: '1k', '10k' or '1 µs', '1 ms'."""

    def __init__(self, orientation: str, seconds: bool = False, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.seconds = seconds
        self.enableAutoSIPrefix(False)

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Text at each decade, none in between (pyqtgraph calls this in log mode)."""
        out = []
        for v in values:
            decade = round(v)
            if abs(v - decade) > 1e-6:
                out.append("")
            elif self.seconds:
                out.append(per_item_text(10.0**decade))
            else:
                out.append(compact_number(10.0**decade, 10.0**decade))
        return out


def whisker_item() -> pg.ErrorBarItem:
    """An empty ErrorBarItem for min-max whiskers (filled with setData later)."""
    return pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), beam=0.0)


def neutral_pen(width: float = 1.0, dashed: bool = True) -> QPen:
    """A pen in the softened text colour, for reference lines (ideal, cores, the loop)."""
    pal = current_palette()
    pen = pg.mkPen(
        blend(pal.color(pal.ColorRole.Text), pal.color(pal.ColorRole.Base), 0.35), width=width
    )
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    return pen
