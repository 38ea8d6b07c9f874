"""CounterTimeline: a shared-counter run's CounterStep events, asked "what was true at time t?".

The counter view replays a run at any speed, so everything it shows is a function of one
playhead time ``t`` (seconds since the run's RunStarted): the counter's value then (the last
write before ``t``, which is not always the largest: without a lock a slow worker can write a
stale value), who held the lock, what each worker was doing and how many increments it had
made. Nothing here is Qt; the arrays grow as events arrive (``add``), and every question is a
few ``searchsorted`` calls, so a frame costs the same early and late in a long run.

Each worker's events arrive in the order it stamped them (one sender per worker), so every
worker's arrays are sorted by time; writes of all workers are merged only when asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from mpscope.gui.lane_series import GrowableArray
from mpscope.workers.events import CounterStep
from mpscope.workers.units import format_count, format_seconds

WAITING, HOLDING, READ, STEP, RELEASED, DONE = (
    "waiting",
    "holding",
    "read",
    "step",
    "released",
    "done",
)
PHASES = (WAITING, HOLDING, READ, STEP, RELEASED, DONE)
_CODE = {phase: float(i) for i, phase in enumerate(PHASES)}
_HOLDS = (_CODE[HOLDING], _CODE[STEP])  # with a lock, a worker whose last event is one of these
# holds it


@dataclass(frozen=True)
class LaneState:
    """One worker at the playhead."""

    phase: str | None  # its latest phase (None: it has not started counting)
    since: float  # when that phase began (run seconds)
    value: int  # the value its latest event carried
    made: int  # increments it had made
    writes: int  # its writes reported so far (its flash counter)
    read: int | None  # force-race: the value it read for the write it is about to make
    overwrote: bool = False  # no lock: its latest write did not raise the count (lost one)


@dataclass(frozen=True)
class CounterFrame:
    """Everything the counter view shows at one playhead time."""

    t: float
    value: int  # the counter's value: the last write so far
    writer: int | None  # the worker that wrote it
    written_t: float | None  # when it was written (None: nothing written yet)
    made: int  # increments made over all workers
    holder: int | None  # the worker holding the lock (None: free, or no lock at all)
    last_holder: int | None  # the worker that held it last (where a free token rests)
    lanes: tuple[LaneState, ...]


@dataclass(frozen=True)
class _WriteAnalysis:
    """Every worker's writes merged in time order, and which of them were overwrites."""

    merged: tuple[np.ndarray, np.ndarray, np.ndarray]  # times, values, workers
    lost: np.ndarray  # per merged write: it did not raise the count


class WorkerTrack:
    """One worker's events (t, value, phase code), its writes (t, value) and probe samples."""

    def __init__(self) -> None:
        self.events = GrowableArray(3)
        self.writes = GrowableArray(3)  # t, value, the largest value it has written so far
        self.holds = GrowableArray(1)  # times it took the lock
        self.progress = GrowableArray(2)  # t, increments done (the in-worker probe's samples)

    def last_before(self, t: float) -> int:
        """Index of the latest event at or before ``t`` (-1: none yet)."""
        times = self.events.view()[:, 0]
        return int(np.searchsorted(times, t, side="right")) - 1

    def writes_before(self, t: float) -> int:
        """How many of its writes happened at or before ``t``."""
        return int(np.searchsorted(self.writes.view()[:, 0], t, side="right"))

    def best_before(self, t: float) -> float:
        """The largest value it wrote strictly before ``t`` (-1: none)."""
        n = int(np.searchsorted(self.writes.view()[:, 0], t, side="left"))
        return float(self.writes.view()[n - 1, 2]) if n else -1.0

    def probe_count(self, t: float) -> int:
        """Increments done by ``t`` according to the probe (0 before its first sample)."""
        samples = self.progress.view()
        if not len(samples):
            return 0
        i = int(np.searchsorted(samples[:, 0], t, side="right")) - 1
        return int(samples[i, 1]) if i >= 0 else 0


class CounterTimeline:
    """The CounterStep events of one shared-counter run, queried by playhead time."""

    def __init__(self, workers: int, increments: int, lock: str, force_race: bool) -> None:
        self.workers = workers
        self.increments = increments
        self.lock = lock
        self.force_race = force_race
        self.tracks = [WorkerTrack() for _ in range(workers)]
        self.first_t: float | None = None  # the first counter event
        self.last_t = 0.0  # the latest event of any worker
        self._writes: _WriteAnalysis | None = None  # cached until the next add()

    @property
    def expected(self) -> int:
        """K x M: every increment asked for."""
        return self.workers * self.increments

    @property
    def events(self) -> int:
        """Counter events received so far."""
        return sum(len(track.events) for track in self.tracks)

    def track(self, worker: int) -> WorkerTrack:
        """The track of ``worker`` (a lane beyond the spec's count is added, not dropped)."""
        while worker >= len(self.tracks):
            self.tracks.append(WorkerTrack())
            self.workers = len(self.tracks)
        return self.tracks[worker]

    # -- filling -----------------------------------------------------------------------------------
    def add(self, steps: Iterable[CounterStep], t0: float) -> None:
        """Add events; their times become run seconds by subtracting ``t0`` (RunStarted.t)."""
        added = False
        for step in steps:
            t = step.t - t0
            track = self.track(step.worker)
            code = _CODE.get(step.phase)
            if code is None:
                continue
            if len(track.events) and t < track.events.view()[-1, 0]:
                t = float(track.events.view()[-1, 0])  # keep the track sorted whatever arrives
            track.events.append((t, step.value, code))
            if step.phase == STEP:
                best = track.writes.view()[-1, 2] if len(track.writes) else step.value
                track.writes.append((t, step.value, max(best, step.value)))
            elif step.phase == HOLDING:
                track.holds.append((t,))
            self.first_t = t if self.first_t is None else min(self.first_t, t)
            self.last_t = max(self.last_t, t)
            added = True
        if added:
            self._writes = None

    def add_progress(self, worker: int, samples: np.ndarray) -> None:
        """Add probe samples (rows of run seconds, increments done) for ``worker``."""
        track = self.track(worker)
        for t, done in samples:
            track.progress.append((t, done))

    # -- asking ------------------------------------------------------------------------------------
    def frame(self, t: float) -> CounterFrame:
        """What was true at run time ``t``."""
        lanes: list[LaneState] = []
        value, writer, last_write_t = 0, None, -np.inf
        holder: int | None = None
        last_holder: int | None = None
        last_hold_t = -np.inf
        for worker, track in enumerate(self.tracks):
            i = track.last_before(t)
            n_writes = track.writes_before(t)
            if n_writes:
                wt, wv = track.writes.view()[n_writes - 1, :2]
                if wt >= last_write_t:
                    value, writer, last_write_t = int(wv), worker, wt
            if i < 0:
                lanes.append(LaneState(None, 0.0, 0, 0, 0, None))
                continue
            events = track.events.view()
            since, ev_value, code = events[i]
            phase = PHASES[int(code)]
            made = self.increments if phase == DONE else max(n_writes, track.probe_count(t))
            read = int(ev_value) if phase == READ else None
            overwrote = self.lock == "none" and phase == STEP and self._overwrote(worker, n_writes)
            lanes.append(
                LaneState(phase, float(since), int(ev_value), made, n_writes, read, overwrote)
            )
            if self.lock == "none":
                continue
            holds = track.holds.view()[:, 0]
            n_holds = int(np.searchsorted(holds, t, side="right"))
            if n_holds and holds[n_holds - 1] >= last_hold_t:
                last_hold_t, last_holder = holds[n_holds - 1], worker
            if code in _HOLDS:
                holder = worker
        made_total = sum(lane.made for lane in lanes)
        written_t = None if writer is None else float(last_write_t)
        return CounterFrame(
            float(t), value, writer, written_t, made_total, holder, last_holder, tuple(lanes)
        )

    def writes_until(self, worker: int, t: float) -> tuple[np.ndarray, np.ndarray]:
        """``worker``'s writes at or before ``t``: (times, values)."""
        track = self.tracks[worker]
        n = track.writes_before(t)
        data = track.writes.view()[:n]
        return data[:, 0], data[:, 1]

    def merged_writes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every write of every worker in time order: (times, values, workers)."""
        return self._analysis().merged

    def overwrites(self) -> tuple[np.ndarray, np.ndarray]:
        """Writes that did not raise the count past every earlier write: the visible lost
        updates (an unguarded worker wrote a value another had already written, or less)."""
        analysis = self._analysis()
        times, values, _ = analysis.merged
        return times[analysis.lost], values[analysis.lost]

    def _overwrote(self, worker: int, n_writes: int) -> bool:
        """True if ``worker``'s write number ``n_writes`` (counting from 1) did not raise the
        count past what another worker had already written (see overwrites)."""
        if not n_writes:
            return False
        t, value, _ = self.tracks[worker].writes.view()[n_writes - 1]
        return any(
            other.best_before(t) >= value
            for index, other in enumerate(self.tracks)
            if index != worker
        )

    def _analysis(self) -> _WriteAnalysis:
        if self._writes is None:
            parts = [
                np.column_stack((track.writes.view()[:, :2], np.full(len(track.writes), worker)))
                for worker, track in enumerate(self.tracks)
            ]
            rows = np.concatenate(parts) if parts else np.empty((0, 3))
            order = np.argsort(rows[:, 0], kind="stable")
            rows = rows[order]
            values = rows[:, 1]
            lost = np.zeros(len(values), dtype=bool)
            if len(values) > 1:
                lost[1:] = values[1:] <= np.maximum.accumulate(values)[:-1]
            self._writes = _WriteAnalysis((rows[:, 0], values, rows[:, 2].astype(int)), lost)
        return self._writes

    def count_before(self, times: np.ndarray, t: float) -> int:
        """How many of the sorted ``times`` are at or before ``t``."""
        return int(np.searchsorted(times, t, side="right"))


def lane_text(lane: LaneState, lock: str, now: float | None = None) -> str:
    """What one worker is doing, in a few words (``now``: the playhead, to say how long it
    has been waiting)."""
    phase = lane.phase
    value = format_count(lane.value)
    if phase is None:
        return "starting"
    if phase == WAITING:
        if now is None:
            return "waiting for the lock"
        return f"waiting for the lock ({format_seconds(max(now - lane.since, 0.0))})"
    if phase == HOLDING:
        return "holding the lock"
    if phase == READ:
        return f"read {format_count(lane.read or 0)}, at the barrier"
    if phase == STEP and lock != "none":
        return f"holding the lock, wrote {value}"
    if phase == STEP:
        return f"wrote {value}: an update lost" if lane.overwrote else f"wrote {value}"
    if phase == RELEASED:
        return f"working (wrote {value})"
    return f"done (last wrote {value})"
