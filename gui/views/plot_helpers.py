"""Small pieces the plots share: a compact count axis, legends, titles and lines with a label
(the x range they share is ``run_axis``)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem

from mpscope.gui.palette import TITLE_POINT_SIZE

LEGEND_ENTRIES_PER_LINE = 9
LIVE_REDRAW_INTERVAL_S = 0.4  # while a run is live, a plot redraws its data at 2.5 Hz at most
LIVE_BARS_INTERVAL_S = 0.25  # progress bars and numbers: 4 Hz
_SCALES = ((1e9, "G"), (1e6, "M"), (1e3, "k"))


def compact_number(value: float, spacing: float) -> str:
    """``value`` written short (1.5k, 2M), with as many decimals as ``spacing`` needs."""
    if value == 0:
        return "0"
    for scale, suffix in _SCALES:
        if abs(value) >= scale or spacing >= scale:
            decimals = max(0, math.ceil(-math.log10(spacing / scale))) if spacing > 0 else 0
            return f"{value / scale:.{min(decimals, 3)}f}{suffix}"
    decimals = max(0, math.ceil(-math.log10(spacing))) if 0 < spacing < 1 else 0
    return f"{value:.{min(decimals, 3)}f}"


class CountAxis(pg.AxisItem):
    """An axis whose ticks read 0, 500, 1.5k, 2M, and whose label gets no SI prefix."""

    def __init__(self, orientation: str = "left", **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Compact tick labels (pyqtgraph calls this)."""
        return [compact_number(v * scale, spacing * scale) for v in values]


class ViewSizedLabel(pg.InfLineLabel):
    """An InfiniteLine's label that places itself only once its view has a size.

    Before a plot is laid out its view has no size, so the line's scene transform is
    singular, and pyqtgraph's TextItem would invert it through a NumPy fallback (which NumPy
    2.5 deprecates). Nothing can be placed in a view of no size anyway: the view's next
    transform change, when it gets one, places the label.
    """

    def updateTransform(self, force: bool = False) -> None:
        """Place the label as pyqtgraph does, unless the line's transform is singular."""
        line = self.parentItem()
        if line is not None and line.sceneTransform().determinant() == 0:
            return
        super().updateTransform(force)


def labelled_line(
    pos: float | None = None,
    *,
    angle: float,
    label: str,
    position: float,
    anchors: list[tuple[float, float]] | None = None,
) -> pg.InfiniteLine:
    """A fixed InfiniteLine with ``label`` (a format string of ``value`` allowed) at
    ``position`` along it, placed only once its view has a size (see ViewSizedLabel)."""
    line = pg.InfiniteLine(pos, angle=angle, movable=False)
    line.label = ViewSizedLabel(line, text=label, position=position, anchors=anchors)
    return line


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= ``value`` (a y range that rarely moves).

    An axis re-renders its ticks, labels and grid whenever its range changes; rounding the
    top of the range up to a "nice" number keeps it still while the data wobbles below it.
    """
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power * (1 + 1e-12):
            return step * power
    return 10.0 * power


def spread(values: Sequence[float], gap: float, top: float = math.inf) -> list[float]:
    """``values`` (ascending) moved apart where needed so that they stay ``gap`` apart and
    (room allowing) at most ``top``: where to put the labels of points that lie close."""
    placed: list[float] = []
    for value in values:
        placed.append(value if not placed else max(value, placed[-1] + gap))
    for i in reversed(range(len(placed))):
        ceiling = top if i == len(placed) - 1 else placed[i + 1] - gap
        placed[i] = min(placed[i], ceiling)
    return placed


class RedrawBudget:
    """At most one redraw per ``interval_s`` while a run is live; every time once it is over.

    The window calls each view's ``refresh()`` a few times a second (``gui.redraw_pacer``);
    new data arrives about as often. On a small machine every millisecond the window paints is
    taken from the workers it shows, so each plot redraws at a few hertz while live (still
    clearly live to the eye): the progress bars and numbers every ``LIVE_BARS_INTERVAL_S``,
    the plots every ``LIVE_REDRAW_INTERVAL_S``, the resources at the sampler's pace.
    """

    def __init__(self, interval_s: float = LIVE_REDRAW_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._last = -math.inf

    def due(self, live: bool) -> bool:
        """True if a redraw may happen now (and count it as done)."""
        now = time.monotonic()
        if live and now - self._last < self.interval_s:
            return False
        self._last = now
        return True


def legend_html(entries: Sequence[tuple[str, QColor, bool]]) -> str:
    """A one-line legend (wrapping every few entries): a coloured line (dashed) and a name each."""
    parts = [
        f"<span style='color:{color.name()}'>{'┅┅' if dashed else '━━'}</span>&nbsp;{name}"
        for name, color, dashed in entries
    ]
    step = LEGEND_ENTRIES_PER_LINE
    lines = ["&nbsp;&nbsp;&nbsp;".join(parts[i : i + step]) for i in range(0, len(parts), step)]
    return "<br>".join(lines) or "&nbsp;"


def set_legend(label: pg.LabelItem, entries: Sequence[tuple[str, QColor, bool]]) -> None:
    """Show ``entries`` in ``label``; untouched when unchanged (setText re-lays the plot out)."""
    html = legend_html(entries)
    if html != label.text:
        label.setText(html)


def add_title_rows(
    widget: pg.GraphicsLayoutWidget, title: str
) -> tuple[pg.LabelItem, pg.LabelItem]:
    """Put a title and, below it, a legend line in rows 0 and 1 of ``widget`` (plots go below).

    A legend above the plot never hides a curve, however many workers there are.
    """
    widget.ci.setContentsMargins(4, 4, 8, 4)
    widget.ci.setSpacing(0)
    title_item = widget.addLabel(title, row=0, col=0, size=f"{TITLE_POINT_SIZE}pt")
    legend = widget.addLabel("&nbsp;", row=1, col=0, size="8pt")
    return title_item, legend


def cache_axes(*plots: pg.PlotItem) -> None:
    """Render each axis (ticks, text and its grid lines) once into a pixmap, then blit it.

    A grid spans the whole plot, so every curve update would otherwise replay it; it is
    re-rendered only when the axis itself changes (a new range, a resize, a new style).
    """
    for plot in plots:
        for name in ("left", "bottom", "right", "top"):
            plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
