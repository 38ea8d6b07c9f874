"""CounterView: the shared counter, animated: its value, who waits, who holds the lock, the race.

The page the window shows for ``shared-counter`` runs (the seed's In [20]). Everything on it is
one frame of the run's recorded CounterStep timeline at a playhead time: the value big, a
lane per process with the lock token, the value over time coloured by writer, and when the
run is over the verdict in words. In the window, a row above it all (``CounterRunBar``) runs
the counter from here and shows its lock mode and race switch: the left panel's own settings.

Animation runs on the view's own QTimer (``FRAME_MS``, over 30 frames/s) that ticks only
while the page is visible *and* something moves (a live counter run, a replay, the token
still gliding); it never reacts per event. The model's events are folded in on each tick and
on the model's (per-batch) ``changed``. The speed control replays the recorded timeline at
1x, 0.5x, 0.25x or 0.1x, so a race that takes a millisecond can be watched.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedLayout, QVBoxLayout, QWidget

from mpscope.gui.counter.lock_lanes import LockLanes
from mpscope.gui.counter.playhead import Playhead
from mpscope.gui.counter.replay_bar import ReplayBar
from mpscope.gui.counter.run_bar import CounterRunBar
from mpscope.gui.counter.timeline import CounterFrame, CounterTimeline
from mpscope.gui.counter.value_box import ValueBox
from mpscope.gui.counter.value_plot import CounterPlot
from mpscope.gui.counter.verdict import CounterVerdict
from mpscope.gui.naming import named
from mpscope.gui.run_model import RunModel
from mpscope.workers.events import RunFinished, TerminalEvent
from mpscope.workers.spec import RunSpec
from mpscope.workers.strategies.shared_counter import SHARED_COUNTER
from mpscope.workers.units import format_count

if TYPE_CHECKING:
    from mpscope.gui.controls import ControlsPanel

COUNTER = SHARED_COUNTER.id  # the strategy this page animates
FRAME_MS = 25  # 40 frames/s asked for; timers slip a little, so this keeps us above 30
LIVE_LAG_S = 0.05  # a live playhead trails "now" by this much: that moment's events are in
LOCK_WORDS = {
    "whole": "lock around the whole loop",
    "step": "lock around each increment",
    "none": "no lock",
}
EMPTY_TEXT = (
    "<h3>The shared counter</h3>"
    "<p>Press <b>Run the counter</b> above (it chooses <b>shared-counter</b> under Strategy): "
    "processes add 1 to one shared <code>multiprocessing.Value</code>, guarded by an "
    "<code>mp.Lock</code> (or not: pick the lock mode above or on the left).</p>"
    "<p>This page then shows the counter live, which process "
    "waits and which holds the lock, and, without a lock, the updates the race loses. "
    "Slow the replay down to watch it happen.</p>"
)


def describe_counter(spec: RunSpec) -> str:
    """'2 processes × 10 increments · 0.1 s each · lock around the whole loop'."""
    parts = [
        f"{spec.workers} processes × {format_count(spec.items or 0)} increments",
        f"{spec.delay_s:g} s each" if spec.delay_s else "no delay",
        LOCK_WORDS.get(spec.lock, spec.lock),
    ]
    if spec.force_race:
        parts.append("race forced (a barrier between read and write)")
    return " · ".join(parts)


class CounterView(QWidget):
    """The Counter page: the shared counter's value, lanes and lock token, plot and verdict."""

    # fires when the value on display changes (the new value); at most once per frame
    value_shown = Signal(int)
    # fires when Run started a shared-counter run: the window brings this page forward
    focus_requested = Signal()

    def __init__(
        self,
        model: RunModel,
        clock: Callable[[], float] = time.perf_counter,
        parent: QWidget | None = None,
        controls: ControlsPanel | None = None,
    ) -> None:
        """``controls``: the window's left panel, for the page's own Run and lock row."""
        super().__init__(parent)
        self.run_bar = CounterRunBar(controls) if controls is not None else None
        self.setObjectName("counterView")
        self.model = model
        self.clock = clock
        self.playhead = Playhead(clock)
        self.timeline: CounterTimeline | None = None
        self.spec: RunSpec | None = None
        self.outcome: TerminalEvent | None = None
        self.pids: dict[int, int] = {}
        self.frame: CounterFrame | None = None
        self._generation = -1
        self._consumed = 0
        self._progress_seen: dict[int, int] = {}
        self._live = False
        self._following = True  # a live run at 1x: the playhead rides the live edge
        self._reached_end = False  # the playhead reached the end of the finished run once
        self._verdict_for: TerminalEvent | None = None
        self._jumped = False  # the playhead jumped (replay, seek): redraw the plot at once
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.advance)
        self._build()
        model.changed.connect(self._on_model_changed)

    # -- construction ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.empty = named(QLabel(EMPTY_TEXT), "counterEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setMargin(40)
        self.mode = named(QLabel(), "counterMode")
        self.mode.setProperty("role", "heading")
        self.mode.setWordWrap(True)
        self.mode.setToolTip("What this run does (set on the left; the lock also in the row above)")
        self.bar = ReplayBar()
        self.value_box = ValueBox()
        self.lanes = LockLanes()
        self.plot = CounterPlot()
        self.verdict = CounterVerdict()

        top = QHBoxLayout()
        top.addWidget(self.value_box)
        top.addWidget(self.lanes, 1)
        content = named(QWidget(), "counterContent")
        layout = QVBoxLayout(content)
        layout.setContentsMargins(4, 8, 8, 4)
        layout.addWidget(self.mode)
        layout.addWidget(self.bar)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.verdict)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        if self.run_bar is not None:  # above both states: there from the empty page on
            outer.addWidget(self.run_bar)
        self.stack = QStackedLayout()
        outer.addLayout(self.stack, 1)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(content)

        self.bar.play_clicked.connect(self._toggle_play)
        self.bar.replay_clicked.connect(self.replay)
        self.bar.speed_chosen.connect(self._on_speed)
        self.bar.seeked.connect(self._on_seek)

    # -- what tests and the window use ------------------------------------------------------------
    @property
    def displayed_value(self) -> int:
        """The value on display now."""
        return self.value_box.value or 0

    @property
    def animating(self) -> bool:
        """True while the frame timer runs."""
        return self.timer.isActive()

    def set_speed(self, speed: float) -> None:
        """Choose a replay speed, as the speed box does."""
        self.bar.set_speed(speed)

    def replay(self) -> None:
        """Play the recorded run again from its first event, at the chosen speed."""
        if self.timeline is None or not self.timeline.events:
            return
        self._following = False
        self.playhead.playing = True
        self.playhead.seek(self._start())
        self._jumped = True
        self._wake()

    def on_run_pressed(self) -> None:
        """Run was pressed: if it started a shared-counter run, ask to be shown."""
        spec = self.model.spec
        if self.model.live and spec is not None and spec.strategy == COUNTER:
            self.focus_requested.emit()

    # -- following the model -----------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        spec = self.model.spec
        if spec is None or spec.strategy != COUNTER:
            return
        self._sync()
        self._wake()

    def _sync(self) -> None:
        """Take in what the model received since the last call."""
        model = self.model
        spec = model.spec
        if model.generation != self._generation:
            if spec is None or spec.strategy != COUNTER:
                return  # another strategy's run: keep showing the last counter run
            self._begin(spec, model.generation)
        timeline = self.timeline
        if timeline is None:
            return
        steps = model.counter_steps
        if len(steps) > self._consumed:
            timeline.add(steps[self._consumed :], model.t0)
            self._consumed = len(steps)
        for index, lane in model.lanes.items():
            seen = self._progress_seen.get(index, 0)
            if len(lane.progress) > seen:
                timeline.add_progress(index, lane.progress.view()[seen:])
                self._progress_seen[index] = len(lane.progress)
        self._live = model.live
        self.pids = model.worker_pids()
        if model.outcome is not None and self.outcome is None:
            self.outcome = model.outcome

    def _begin(self, spec: RunSpec, generation: int) -> None:
        """A new counter run: empty timeline, lanes and plot for its K workers."""
        self._generation = generation
        workers, items = spec.workers or 1, spec.items or 1
        self.spec = spec
        self.timeline = CounterTimeline(workers, items, spec.lock, spec.force_race)
        self._consumed = 0
        self._progress_seen = {}
        self.outcome = None
        self.pids = {}
        self.frame = None
        self._reached_end = False
        self._verdict_for = None
        self._following = self.playhead.speed == 1.0
        self.playhead.playing = True
        self.playhead.seek(0.0)
        self.lanes.set_run(workers, items, spec.lock)
        self.plot.set_run(workers, workers * items, spec.lock)
        self.mode.setText(describe_counter(spec))
        self.value_box.set_expected(workers * items)
        self.verdict.clear("Counting… the verdict appears when the run ends.")
        self._show_value(0, None)
        self.stack.setCurrentIndex(1)
        self._update_controls()

    # -- the frame loop ----------------------------------------------------------------------------
    def _start(self) -> float:
        """Where a replay begins: just before the first increment."""
        first = self.timeline.first_t if self.timeline is not None else None
        return max((first or 0.0) - 0.05, 0.0)

    def _end(self) -> float:
        """Where the known timeline ends: the live edge, or the run's last event."""
        if self._live:
            return max(self.model.now() - LIVE_LAG_S, 0.0)
        return self.timeline.last_t if self.timeline is not None else 0.0

    def advance(self) -> None:
        """One frame: fold in new events, move the playhead, redraw what moved."""
        self._sync()
        timeline = self.timeline
        if timeline is None:
            self.timer.stop()
            return
        end = self._end()
        if self._following and self.playhead.playing and (self._live or self.outcome):
            # live at 1x: ride the live edge; the run just ended: show its end at once, as the
            # status bar does, rather than count the last increments up a moment later
            self.playhead.seek(end)
        t = self.playhead.settle(end)
        if not self._live and t >= end and self.outcome is not None:
            self._reached_end = True
        frame = timeline.frame(t)
        if isinstance(self.outcome, RunFinished) and not self._live and t >= end:
            # the end of a finished run: the exact figures (the events are a sample when
            # increments come faster than STEP_EVENTS_PER_S)
            frame = dataclasses.replace(
                frame, value=int(self.outcome.result), made=timeline.expected
            )
        self.frame = frame
        wall = self.clock()
        self._show_value(frame.value, frame.writer)
        ended = not self._live and self.outcome is not None and t >= end  # the final count
        self.value_box.show_made(self._made_text(frame, timeline.lock, ended))
        self.lanes.show_frame(frame, wall, self.pids)
        force = self._jumped or not self._needs_frames(t)
        self._jumped = False
        self.plot.show_until(timeline, frame, self._live, wall, force=force)
        self.bar.show_position(t, self._start(), end)
        if self.outcome is not None and self._verdict_for is not self.outcome:
            # the verdict is the run's, whatever the replay shows: say it once the run is over
            self._verdict_for = self.outcome
            final = timeline.frame(timeline.last_t).value
            self.verdict.show_outcome(self.outcome, final, timeline.expected, timeline.lock)
        self._update_controls()
        if not self._needs_frames(t):
            self.timer.stop()

    def _needs_frames(self, t: float) -> bool:
        if not self.isVisible() or self.timeline is None:
            return False
        if self._live:
            return True
        moving = self.playhead.playing and t < self._end()
        return moving or self.lanes.animating()

    def _wake(self) -> None:
        """Start the frame timer if the page is visible and something is to be animated."""
        if self.timer.isActive() or not self.isVisible() or self.timeline is None:
            return
        self.timer.start()
        self.advance()

    # -- showing -----------------------------------------------------------------------------------
    def _show_value(self, value: int, writer: int | None) -> None:
        if self.value_box.show_value(value, writer):
            self.value_shown.emit(value)

    @staticmethod
    def _made_text(frame: CounterFrame, lock: str, ended: bool) -> str:
        made = f"{format_count(frame.made)} increments made"
        if lock == "none":
            lost = format_count(max(frame.made - frame.value, 0))
            made += f" · {lost} lost" + ("" if ended else " so far")
        return made

    def _update_controls(self) -> None:
        at_end = not self._live and self.frame is not None and self.frame.t >= self._end()
        self.bar.set_controls(
            has_run=self.timeline is not None,
            has_events=self.timeline is not None and self.timeline.events > 0,
            live=self._live,
            pause=self.playhead.playing and not at_end,
        )

    # -- user actions ------------------------------------------------------------------------------
    def _toggle_play(self) -> None:
        end = self._end()
        playing = not self.playhead.playing
        self.playhead.set_playing(playing, end)
        self._following = False
        if playing and not self._live and self.playhead.position(end) >= end:
            self.replay()  # at the end, Play means from the start
            return
        self._update_controls()
        self._wake()

    def _on_speed(self, speed: float) -> None:
        self.playhead.set_speed(speed, self._end())
        if self._live:
            self._following = speed == 1.0 and self.playhead.playing
        elif self._reached_end and self.playhead.position(self._end()) >= self._end():
            self.replay()  # a new speed after the run: watch it again at that speed
            return
        self._wake()

    def _on_seek(self, share: float) -> None:
        if self.timeline is None:
            return
        start, end = self._start(), self._end()
        self._following = False
        self.playhead.seek(start + (end - start) * share)
        self._jumped = True
        self._wake()

    # -- Qt events ---------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        """The page is on screen: catch up, and animate if something moves."""
        super().showEvent(event)
        self._sync()
        if self.timeline is not None and not self._live and self._following:
            self.playhead.seek(self._end())  # the run ended unseen: show its end, not a replay
        self._wake()
        if self.timeline is not None and not self.timer.isActive():
            self.advance()

    def hideEvent(self, event: QHideEvent) -> None:
        """Off screen: no frames."""
        self.timer.stop()
        super().hideEvent(event)
