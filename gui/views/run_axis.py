"""RunAxis: the one time range a run's plots share (throughput, timeline, resources).

Each plot used to follow the run's clock on its own, stepping its range at its own moments and
rounding it to its own "nice" number: during a run the three showed 0-10 s, 0-18 s and 0-10 s,
and even at the end they differed a little. Now one ``RunAxis`` per ``RunModel``
(``RunAxis.of(model)``) decides the range from the model's state alone and sets it, the same,
on every plot attached to it:

- while the run is live, [0, a little past the expected end] (``RunModel.expected_end()``):
  the range moves only when the end estimate outgrows it or falls well inside it, so the axes
  are seldom re-rendered; before the estimate exists (the first 5 % of the items), it grows in
  steps ahead of the clock;
- once the run is over, exactly [0, its end].

When the range follows the run, the plot whose view asked moves at once and the others
``STAGGER_MS`` apart: each plot then repaints in an event-loop pass of its own (at 64 lanes a
plot's repaint takes 5-10 ms, and three in one pass made the window's longest stalls); the
plots differ for a few hundredths of a second, never while the user is reading a still run.

Panning or zooming any one of the plots moves the others with it and stops the following for
all: the three read as one picture of one run (zoom in on a gap in the timeline and the
throughput and CPU of that moment are beside it). pyqtgraph's auto-range button ("A") on any
of them, or a new run, follows the run again. ``setXLink`` is not used for this: between plots
that sit one above another it lines up screen pixels, not ranges, and would start a plot whose
axis is wider than its neighbour's after 0.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from shiboken6 import isValid

from mpscope.gui.run_model import RunModel

MIN_SPAN_S = 0.25  # the range a run shows before it has any time to show
HEADROOM = 1.08  # while live, the range reaches this far past the expected end
SHRINK_ABOVE = 1.35  # ... and comes back in when the expected end falls below 1/this of it
EARLY_GROWTH = 1.6  # before any expected end: the clock times this, whenever it is reached
STAGGER_MS = 20  # between the plots' moves when the range follows the run


def round_up(value: float) -> float:
    """``value`` rounded up to two significant digits (10.3 -> 11, 4.32 -> 4.4): an end that
    reads well on the axis and overshoots by 10 % at most (``nice_ceiling`` can double)."""
    if value <= 0 or not math.isfinite(value):
        return MIN_SPAN_S
    step = 10.0 ** math.floor(math.log10(value)) / 10
    return math.ceil(value / step * (1 - 1e-12)) * step


def next_right_end(shown: float | None, clock: float, expected_end: float | None) -> float:
    """The live range's right end, given the one ``shown`` now (None: none yet).

    With an expected end: kept while it reaches ``HEADROOM`` past it and is not far beyond
    (``SHRINK_ABOVE``), else that target rounded up (``round_up``). Before there is one: kept
    until the clock reaches it, then ``EARLY_GROWTH`` times the clock.
    """
    if expected_end is None:
        if shown is not None and clock <= shown:
            return shown
        return round_up(max(clock * EARLY_GROWTH, MIN_SPAN_S))
    target = max(clock, expected_end) * HEADROOM
    if shown is not None and target <= shown <= target * SHRINK_ABOVE:
        return shown
    return round_up(max(target, MIN_SPAN_S))


def final_right_end(clock: float) -> float:
    """The range's right end once the run is over (or before any): its end, exactly."""
    return clock if clock > 1e-3 else MIN_SPAN_S


class RunAxis:
    """The shared x range of one RunModel's plots (get it with ``RunAxis.of(model)``).

    A view attaches its plot once (``attach``) and calls ``apply()`` from its ``refresh()``;
    whichever view asks first after the range should move moves it on every plot attached.
    """

    def __init__(self, model: RunModel) -> None:
        self._model = weakref.ref(model)
        self._boxes: list[weakref.ref[pg.ViewBox]] = []  # one per attached view, the first plot
        self.following = True
        self.range: tuple[float, float] | None = None  # the x range set last
        self._generation = model.generation
        self._setting = False  # True while this object moves the plots itself

    @classmethod
    def of(cls, model: RunModel) -> RunAxis:
        """The model's RunAxis (made on first use; it lives as long as the model)."""
        axis = _AXES.get(model)
        if axis is None:
            axis = _AXES[model] = cls(model)
        return axis

    # -- the plots ---------------------------------------------------------------------------------
    def attach(self, plot: pg.PlotItem, *linked: pg.PlotItem) -> None:
        """Give ``plot`` the run's range; ``linked``: plots x-linked to it (pyqtgraph's
        ``setXLink``) that follow it already, whose panning and zooming counts as the view's."""
        box = plot.getViewBox()
        self._boxes.append(weakref.ref(box))
        for item in (plot, *linked):
            watched = item.getViewBox()
            if item is not plot:  # it follows ``plot``; only the "A" button turns it on again
                watched.enableAutoRange(x=False)
            watched.sigRangeChangedManually.connect(self._manual_handler(watched))
            watched.sigStateChanged.connect(self._auto_handler(watched))
        if self.range is not None:
            self._set(box, self.range)
        self.apply()

    def view_boxes(self) -> list[pg.ViewBox]:
        """The attached views' boxes that still exist."""
        self._boxes = [ref for ref in self._boxes if _alive(ref)]
        return [box for ref in self._boxes if (box := ref()) is not None]

    # -- following the run -------------------------------------------------------------------------
    def apply(self, plot: pg.PlotItem | None = None) -> None:
        """Set the range the model's state calls for on every attached plot (if it moved and
        the user has not taken over): on ``plot`` (the asking view's) at once, on the others
        staggered (``STAGGER_MS``); without ``plot`` (the user asked), on all at once."""
        model = self._model()
        if model is None:
            return
        if model.generation != self._generation:  # a new run: follow it
            self._generation = model.generation
            self.following = True
            self.range = None
        if not self.following:
            return
        clock = model.clock()
        if model.live:
            shown = self.range[1] if self.range is not None else None
            right = next_right_end(shown, clock, model.expected_end())
        else:
            right = final_right_end(clock)
        first = plot.getViewBox() if plot is not None else None
        x_range = (0.0, right)
        if x_range != self.range:
            self.show(x_range, first=first, stagger=first is not None)
        elif first is not None:
            self._set(first, x_range)  # where its turn is still to come: now

    def show(
        self,
        x_range: tuple[float, float],
        first: pg.ViewBox | None = None,
        stagger: bool = False,
    ) -> None:
        """Put every attached plot on ``x_range`` (where it is not there already): all at
        once, or ``stagger``ed (``first`` at once, the others ``STAGGER_MS`` apart)."""
        self.range = x_range
        boxes = self.view_boxes()
        if not stagger:
            for box in boxes:
                self._set(box, x_range)
            return
        boxes.sort(key=lambda box: box is not first)  # ``first`` (or any) first
        for turn, box in enumerate(boxes):
            if turn == 0:
                self._set(box, x_range)
            else:
                ref = weakref.ref(box)
                QTimer.singleShot(turn * STAGGER_MS, lambda ref=ref: self._catch_up(ref, x_range))

    def _catch_up(self, ref: weakref.ref[pg.ViewBox], x_range: tuple[float, float]) -> None:
        """A staggered plot's turn: onto ``x_range`` if it is still the range followed."""
        if self.following and self.range == x_range and _alive(ref):
            box = ref()
            if box is not None:
                self._set(box, x_range)

    def follow(self) -> None:
        """Follow the run again (the user asked for it): its range on every plot, now."""
        self.following = True
        self.range = None
        self.apply()

    def _set(self, box: pg.ViewBox, x_range: tuple[float, float]) -> None:
        low, high = box.viewRange()[0]
        if (low, high) == x_range and not box.autoRangeEnabled()[0]:
            return
        self._setting = True
        try:
            box.setXRange(*x_range, padding=0)
        finally:
            self._setting = False

    # -- the user's hand ---------------------------------------------------------------------------
    def _manual_handler(self, box: pg.ViewBox) -> Callable[..., None]:
        """A slot for ``box``'s manual pan or zoom (holding the box weakly)."""
        ref = weakref.ref(box)
        return lambda *_: self._on_manual(ref)

    def _auto_handler(self, box: pg.ViewBox) -> Callable[..., None]:
        """A slot for ``box``'s state changes: the "A" button turns its auto-range on."""
        ref = weakref.ref(box)
        return lambda *_: self._on_state(ref)

    def _on_manual(self, ref: weakref.ref[pg.ViewBox]) -> None:
        """The user panned or zoomed a plot: every plot shows what it shows, none follows."""
        box = ref()
        if box is None or self._setting or not isValid(box):
            return
        self.following = False
        low, high = box.viewRange()[0]
        self.show((float(low), float(high)))

    def _on_state(self, ref: weakref.ref[pg.ViewBox]) -> None:
        box = ref()
        if box is None or self._setting or not isValid(box):
            return
        if box.autoRangeEnabled()[0] and box.scene() is not None:
            self.follow()


_AXES: weakref.WeakKeyDictionary[RunModel, RunAxis] = weakref.WeakKeyDictionary()


def _alive(ref: weakref.ref[pg.ViewBox]) -> bool:
    box = ref()
    return box is not None and isValid(box)


__all__ = ["RunAxis", "final_right_end", "next_right_end", "round_up"]
