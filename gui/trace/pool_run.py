"""PoolRunModel: one traced pool as a run, so the Live page's four views draw it unchanged.

The views draw a ``RunModel``: a RunStarted, the workers' events, a terminal event. A traced
pool already holds mpscope's own worker events (``TraceModel`` makes them: WorkerStarted,
TaskSpan, Progress, WorkerExited per lane); this adds what a run of mpscope's has and a pool has
not. Its RunStarted is the pool's making (its size, its process, its items so far: the calls'
sizes as they become known); its terminal event is the pool's end: finished when it was closed,
failed when a worker died under it or the program ended with it still open.

The model's clock is the trace's: live, the system-wide ``perf_counter`` (the program's packets
carry it too); in a replay, frozen at the slider's time, with the views' time axis fixed to the
pool's whole life in the trace so that scrubbing fills a still frame. ``TraceSeries`` gives the
resources view the pool's ``sample`` packets (measured by the recorder) in place of its own
sampler, which would read whatever process holds that pid now.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject

from mpscope.gui.lane_series import GrowableArray
from mpscope.gui.run_model import RunModel
from mpscope.gui.views.resource_sampler import CONDUCTOR, MIB
from mpscope.workers.events import (
    Event,
    RunFailed,
    RunFinished,
    RunStarted,
    TaskSpan,
    TerminalEvent,
    describe_exitcode,
)
from mpscope.workers.spec import ResolvedSpec
from mpscope.workers.trace.model import PoolTrace, TraceModel

# the strategy of mpscope's that does what each kind of pool does (only the spec's word)
STRATEGY_OF_KIND = {
    "Pool": "pool-map",
    "ThreadPool": "thread-pool",
    "ProcessPoolExecutor": "executor",
    "ThreadPoolExecutor": "thread-pool",
}
STILL_OPEN = "the program ended with this pool still open"


def pool_spec(pool: PoolTrace) -> ResolvedSpec:
    """The spec a run of this pool would have had: the views only read that there is one.

    Never validated and never run (validation would refuse a pool larger than mpscope allows
    for its own runs, though the program made it).
    """
    return ResolvedSpec(
        strategy=STRATEGY_OF_KIND.get(pool.kind, "pool-map"),
        workload="",
        items=pool_units(pool),
        workers=pool.size,
    )


def pool_units(pool: PoolTrace) -> int:
    """The items the pool was given so far: each call's size, or what it did if unknown."""
    given = sum(c.items if c.items is not None else c.done for c in pool.calls.values())
    return max(given, pool.done)


def pool_end(
    pool: PoolTrace, program_end: float | None, latest: float = 0.0
) -> TerminalEvent | None:
    """How the pool ended, as a run's terminal event (None: it is still open).

    Closed: finished, at its close or at ``latest`` (its latest event) if that came later
    (``close()`` lets the queued tasks run on, ``terminate()`` has its workers exit after it);
    failed if a worker died before it was closed. Still open when the program ended
    (``program_end``): failed, then.
    """
    ended = pool.t_close
    if ended is None:
        if program_end is None:
            return None
        t = max(program_end, latest, pool.t_open)
        return RunFailed(pool.key, STILL_OPEN, "", pool.pid, None, t)
    t_end = max(ended, latest)
    for lane in pool.lanes.values():
        if lane.exitcode and lane.t_end is not None and lane.t_end < ended:
            error = f"worker {lane.pid} {describe_exitcode(lane.exitcode)}"
            return RunFailed(pool.key, error, "", lane.pid, lane.exitcode, t_end)
    wall_s = t_end - pool.t_open
    return RunFinished(pool.key, 0, None, None, wall_s, math.nan, 0.0, 0.0, 0.0, {}, t_end)


def event_time(event: Event) -> float:
    """When an event happened (a task: when it ended)."""
    return event.t1 if isinstance(event, TaskSpan) else float(getattr(event, "t", 0.0))


class PoolRunModel(RunModel):
    """A RunModel that shows one traced pool: ``show()`` folds in what is new since last time.

    ``moving`` says whether time runs on (a live program): while it does, the views follow the
    clock as they do for a live run; frozen (a replay, an ended program), ``now_t`` is the
    moment shown and ``extent_t`` (replay) where the views' time axis ends.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool_key: str | None = None
        self.moving = True
        self.now_t: float | None = None  # a frozen "now", on the packets' clock
        self.extent_t: float | None = None  # replay: the views' time axis reaches this
        self._source: PoolTrace | None = None  # the PoolTrace whose events were folded
        self._folded = 0  # how many of its events
        self._units = -1
        self._latest = 0.0  # time of the latest event folded
        self._end: tuple[str, float] | None = None  # the terminal event folded: (type, t)

    # -- the clock ------------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        """True while the pool is open and time runs on (never in a replay)."""
        return super().live and self.moving

    def now(self) -> float:
        """Seconds since the pool was made: now, or at the frozen moment (never below 0)."""
        t = time.perf_counter() if self.now_t is None else self.now_t
        return max(t - self.t0, 0.0)

    def clock(self) -> float:
        """Where the views draw to: the pool's whole life in a replay, else as a run's."""
        if self.extent_t is not None and self.tally is not None:
            return max(self.extent_t - self.t0, 0.0)
        return super().clock()

    # -- following a pool -----------------------------------------------------------------------
    def show(
        self, pool: PoolTrace, current: PoolTrace | None = None, program_end: float | None = None
    ) -> None:
        """Show ``pool`` as ``current`` holds it now (``None``: not made yet at this moment).

        ``pool`` names it and says when it was made (in a replay, from the whole trace);
        ``current`` is its state at the moment shown, whose events are folded in from where
        the last call left off (from the start if it is another object: another pool, or a
        replay that went back in time). ``program_end``: when the program ended, if it has.
        """
        if pool.key != self.pool_key or (current is not self._source and self._folded):
            self.pool_key = pool.key
            self._folded, self._units, self._latest, self._end = 0, -1, 0.0, None
            self.reset(pool_spec(pool))
        self._source = current
        shown = current or pool
        batch: list[Event] = []
        units = pool_units(current) if current is not None else 0
        if units != self._units:  # the first, then whenever a call's size became known
            self._units = units
            workers = max(pool.size, len(shown.lanes))
            batch.append(
                RunStarted(pool.key, self.spec, units, None, workers, pool.pid, 0.0, pool.t_open)
            )
        if current is not None:
            new = current.events[self._folded :]
            self._folded = len(current.events)
            self._latest = max([self._latest, *(event_time(e) for e in new)])
            batch.extend(new)
            end = pool_end(current, program_end, self._latest)
            if end is not None and (type(end).__name__, end.t) != self._end:
                self._end = (type(end).__name__, end.t)
                batch.append(end)
        self.fold(batch)


class TraceSeries:
    """The resources view's series for one traced pool, from the trace's ``sample`` packets.

    Keys as the view expects: each process worker's lane index, and ``CONDUCTOR`` for the pool's
    own process (the one that made it; a thread pool's workers are threads of it, so that is
    all there is to draw for them). Times are seconds since the pool was made; samples from
    before it are left out. ``update()`` adds what is new since the last call.
    """

    def __init__(self) -> None:
        self.cpu: dict[int, GrowableArray] = {}
        self.memory: dict[int, GrowableArray] = {}
        self.samples = 0  # moves with every sample added (the view redraws when it moves)
        self._trace: TraceModel | None = None  # the model read last (kept: compared by identity)
        self._pool: str | None = None
        self._taken: dict[int, int] = {}  # pid -> how many of its samples are in

    def update(self, trace: TraceModel, pool: PoolTrace) -> None:
        """Take in ``pool``'s new samples from ``trace`` (from the start for another pool)."""
        if trace is not self._trace or pool.key != self._pool:
            self._trace, self._pool = trace, pool.key
            self.cpu, self.memory, self._taken = {}, {}, {}
            self.samples += 1
        keys = {CONDUCTOR: pool.pid}
        if not pool.threads:
            keys.update({index: lane.pid for index, lane in pool.lanes.items()})
        for key, pid in keys.items():
            proc = trace.processes.get(pid)
            if proc is None:
                continue
            taken = self._taken.get(pid, 0)
            for t, cpu, rss in proc.samples[taken:]:
                if t >= pool.t_open:
                    self._add(self.cpu, key, (t - pool.t_open, cpu))
                    self._add(self.memory, key, (t - pool.t_open, rss / MIB))
                    self.samples += 1
            self._taken[pid] = len(proc.samples)

    @staticmethod
    def _add(series: dict[int, GrowableArray], key: int, row: tuple[float, float]) -> None:
        array = series.get(key)
        if array is None:
            array = series[key] = GrowableArray(2, capacity=64)
        array.append(row)
