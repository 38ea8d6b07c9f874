"""The timeline's bars: a lane per worker, a bar per chunk, for a few workers or for many.

A few lanes (up to ``lane_choice.MANY_LANES``) get three BarGraphItems each (``LaneSpans``):
two alternating shades and a hatching overlay. Past that, three items per lane cost more to
paint than the bars themselves (Qt asks every item for its bounds on every paint: about 60 µs
an item, 11 ms a frame for 64 lanes), so all lanes share one item (``LaneBars``) that fills
each lane's rectangles with one call per shade, and each lane keeps only a record of what it
drew (``CondensedLane``). Both records answer the same questions (``finished_spans``,
``merged_count``). ``LaneAxis`` names as many lanes as fit: every lane when rows are tall, w0,
w8, w16, ... when 64 rows share a small plot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt.internals import PrimitiveArray  # QRectFs in a numpy buffer, as BarGraphItem
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPalette

from mpscope.gui.lane_series import LaneSeries
from mpscope.gui.palette import blend, worker_color

BAR_HEIGHT = 0.8  # of a lane
ODD_SHADE = 0.4  # every other chunk: the worker's colour this far towards the background
MIN_LABEL_PX = 20.0  # lane names keep this far apart (pyqtgraph hides names filling > 80 %)


def _shades(index: int, palette: QPalette) -> tuple[QColor, QColor, QBrush]:
    """A lane's two alternating shades and the hatching of merged chunks, for ``palette``."""
    color = worker_color(index)
    base = palette.color(QPalette.ColorRole.Base)
    return color, blend(color, base, ODD_SHADE), QBrush(base, Qt.BrushStyle.BDiagPattern)


def _groups(spans: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks of a lane's spans: even chunks, odd chunks, chunks the probe merged."""
    odd = (np.arange(len(spans)) % 2).astype(bool)
    return ~odd, odd, spans[:, 4] > 1


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
        even, odd, hatch = self.items
        even_color, odd_color, hatch_brush = _shades(self.index, palette)
        even.setOpts(brush=even_color, pen=None)
        odd.setOpts(brush=odd_color, pen=None)
        hatch.setOpts(brush=hatch_brush, pen=None)

    def update(self, lane: LaneSeries) -> None:
        """Redraw if the lane has spans this item has not drawn yet."""
        spans = lane.spans.view()
        if len(spans) == self.drawn:
            return
        self.drawn = len(spans)
        for item, mask in zip(self.items, _groups(spans)):
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


class _Rects:
    """One shade of one lane: its rectangles in a buffer QPainter reads directly."""

    def __init__(self) -> None:
        self.array = PrimitiveArray(QRectF, 4)
        self.count = 0

    def set(self, x0: np.ndarray, x1: np.ndarray, y: float, height: float) -> None:
        self.count = len(x0)
        self.array.resize(self.count)
        if self.count:
            memory = self.array.ndarray()
            memory[:, 0] = x0
            memory[:, 1] = y - height / 2
            memory[:, 2] = x1 - x0
            memory[:, 3] = height


class LaneBars(pg.GraphicsObject):
    """Every lane's chunk bars in one graphics item: for the many lanes of a big run.

    ``set_lane`` replaces a lane's bars (spans are the lane buffer's rows: t0, t1, items,
    first, tasks); ``commit`` then tells the plot once, however many lanes changed.
    """

    def __init__(self, height: float = BAR_HEIGHT) -> None:
        super().__init__()
        self.height = height
        self._rects: dict[int, tuple[_Rects, _Rects, _Rects]] = {}
        self._brushes: dict[int, tuple[QBrush, QBrush, QBrush]] = {}
        self._extent: dict[int, tuple[float, float]] = {}  # lane -> (first start, last end)
        self._bounds = QRectF()
        self._dirty = False

    def set_looks(self, index: int, even: QColor, odd: QColor, hatch: QBrush) -> None:
        """Lane ``index``'s two shades and its hatching."""
        self._brushes[index] = (QBrush(even), QBrush(odd), QBrush(hatch))
        self._dirty = True

    def set_lane(self, index: int, spans: np.ndarray) -> None:
        """Draw ``spans`` as lane ``index``'s bars (in place of those it had)."""
        rects = self._rects.get(index)
        if rects is None:
            rects = self._rects[index] = (_Rects(), _Rects(), _Rects())
        for part, mask in zip(rects, _groups(spans)):
            chosen = spans[mask]
            part.set(chosen[:, 0], chosen[:, 1], float(index), self.height)
        if len(spans):
            self._extent[index] = (float(spans[:, 0].min()), float(spans[:, 1].max()))
        self._dirty = True

    def commit(self) -> None:
        """Show what ``set_lane`` and ``set_looks`` changed (one repaint, new bounds)."""
        if not self._dirty:
            return
        self._dirty = False
        if self._extent:
            x0 = min(lo for lo, _ in self._extent.values())
            x1 = max(hi for _, hi in self._extent.values())
            y0, y1 = min(self._extent), max(self._extent)
            half = self.height / 2
            bounds = QRectF(x0, y0 - half, x1 - x0, y1 - y0 + 2 * half)
        else:
            bounds = QRectF()
        if bounds != self._bounds:
            self.prepareGeometryChange()
            self._bounds = bounds
            self.informViewBoundsChanged()
        self.update()

    def clear(self) -> None:
        """No lanes."""
        self._rects.clear()
        self._brushes.clear()
        self._extent.clear()
        self._dirty = True
        self.commit()

    def lane_spans(self, index: int) -> np.ndarray:
        """(x0, x1) of lane ``index``'s chunk bars, sorted by start."""
        rects = self._rects.get(index)
        if rects is None:
            return np.empty((0, 2))
        parts = [r.array.ndarray()[: r.count] for r in rects[:2]]
        both = np.concatenate(parts) if parts else np.empty((0, 4))
        spans = np.column_stack([both[:, 0], both[:, 0] + both[:, 2]])
        return spans[np.argsort(spans[:, 0], kind="stable")]

    def merged_count(self, index: int) -> int:
        """How many of lane ``index``'s bars are hatched as merged."""
        rects = self._rects.get(index)
        return 0 if rects is None else rects[2].count

    # -- what pyqtgraph asks of an item ---------------------------------------------------------
    def paint(self, painter: QPainter, *args: object) -> None:
        """Fill each lane's rectangles: one call per shade and lane."""
        painter.setPen(Qt.PenStyle.NoPen)
        for index, rects in self._rects.items():
            brushes = self._brushes.get(index)
            if brushes is None:
                continue
            for part, brush in zip(rects, brushes):
                if part.count:
                    painter.setBrush(brush)
                    painter.drawRects(*part.array.drawargs())

    def boundingRect(self) -> QRectF:
        """Every bar's extent."""
        return QRectF(self._bounds)

    def dataBounds(
        self, ax: int, frac: float = 1.0, orthoRange: Sequence[float] | None = None
    ) -> tuple[float | None, float | None]:
        """The bars' extent along ``ax`` (0: time, 1: lanes), for the plot's auto-range."""
        if self._bounds.isNull():
            return None, None
        if ax == 0:
            return self._bounds.left(), self._bounds.right()
        return self._bounds.top(), self._bounds.bottom()


class CondensedLane:
    """One lane drawn by the shared ``LaneBars``: what it drew, read as a ``LaneSpans``."""

    def __init__(self, bars: LaneBars, index: int, palette: QPalette) -> None:
        self.index = index
        self.drawn = 0
        self._bars = bars
        self.apply_palette(palette)

    def apply_palette(self, palette: QPalette) -> None:
        """Colour the lane's bars for ``palette``'s background."""
        self._bars.set_looks(self.index, *_shades(self.index, palette))

    def update(self, lane: LaneSeries) -> None:
        """Redraw if the lane has spans not drawn yet (the bars' ``commit`` shows it)."""
        spans = lane.spans.view()
        if len(spans) != self.drawn:
            self.drawn = len(spans)
            self._bars.set_lane(self.index, spans)

    def finished_spans(self) -> np.ndarray:
        """(x0, x1) of every span drawn, sorted by start."""
        return self._bars.lane_spans(self.index)

    def merged_count(self) -> int:
        """How many of the drawn spans are hatched as merged."""
        return self._bars.merged_count(self.index)

    def remove(self, plot: pg.PlotItem) -> None:
        """Nothing of its own on the plot: the view clears the shared bars."""


class LaneAxis(pg.AxisItem):
    """The lanes' axis: each lane's worker name, as many as fit ``MIN_LABEL_PX`` apart.

    With few lanes the view sets every name itself (``setTicks``); with many it leaves the
    choice here: every 2nd, 4th, 8th... lane from w0, by the pixels a lane gets now.
    """

    def __init__(self, orientation: str = "left", **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)
        self.lanes = 0

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list]]:
        """The lanes to name within [minVal, maxVal] (pyqtgraph calls this; the range comes
        reversed when the lanes run downwards, w0 on top)."""
        low, high = sorted((minVal, maxVal))
        first, last = max(math.ceil(low), 0), min(math.floor(high), self.lanes - 1)
        if last < first or size <= 0 or high <= low:
            return []
        step = label_step(size / (high - low))
        return [(float(step), [float(i) for i in range(0, last + 1, step) if i >= first])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """'w8' for lane 8 (pyqtgraph calls this)."""
        return [f"w{round(v)}" for v in values]


def label_step(lane_px: float) -> int:
    """Name every n-th lane (n a power of two) so names stay ``MIN_LABEL_PX`` apart."""
    step = 1
    while step * lane_px < MIN_LABEL_PX and step < 1 << 20:
        step *= 2
    return step


__all__ = [
    "BAR_HEIGHT",
    "CondensedLane",
    "LaneAxis",
    "LaneBars",
    "LaneSpans",
    "label_step",
]
