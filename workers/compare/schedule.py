"""MatrixSchedule: a comparison's bookkeeping, without running anything.

Which run comes next, which runs ended with what record, how long the rest will take, and
the result so far. ``MatrixRun`` (workers.compare.matrix) drives it with ``start_run``; a GUI
that starts and stops runs its own way (off the GUI thread, with its own live model) drives
it directly:

>>> schedule = MatrixSchedule(plan)
>>> planned = schedule.next_run()         # PlannedRun (spec, repeat, index) or None: all done
>>> ...start planned.spec, watch it live, and when it ends:
>>> schedule.run_ended(tally.summary())   # the mpscope run --json record; adds "repeat"
>>> schedule.status().text()              # 'run 2 of 10 · pool-map K=2 · repeat 1 · about 9 s left'
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mpscope.workers.compare.plan import MatrixPlan, PlannedRun, Skipped
from mpscope.workers.compare.summary import CellSummary, is_baseline, summarize
from mpscope.workers.compare.verdict import verdict
from mpscope.workers.events import RunStatus
from mpscope.workers.units import format_seconds


@dataclass(frozen=True)
class MatrixStatus:
    """Where a comparison stands, for a progress line."""

    done: int  # runs ended
    total: int
    running: PlannedRun | None  # the run in progress
    eta_s: float | None  # estimated time left; None until one run has ended
    elapsed_s: float

    def text(self) -> str:
        """'run 3 of 10 · pool-map K=2 · repeat 1 · about 12.0 s left'."""
        if self.running is None:
            head = f"{self.done} of {self.total} runs done"
        else:
            run = self.running
            spec = run.spec
            who = str(spec.strategy)
            if not is_baseline(who):
                who += f" K={spec.workers}"
            head = f"run {run.index + 1} of {self.total} · {who} · repeat {run.repeat}"
        if self.done == self.total:
            return head
        if self.eta_s is None:
            return f"{head} · time left unknown yet"
        return f"{head} · about {format_seconds(self.eta_s)} left"


@dataclass
class MatrixResult:
    """The records of a comparison (run order), what was skipped, and whether it was cut short."""

    records: list[dict[str, Any]]
    skipped: Sequence[Skipped] = ()
    cancelled: bool = False
    _summaries: list[CellSummary] | None = field(default=None, repr=False)

    def summary(self) -> list[CellSummary]:
        """Per setting: median / min / max wall, speed-up, efficiency."""
        if self._summaries is None:
            self._summaries = summarize(self.records)
        return self._summaries

    def verdict(self, cores: int | None = None) -> list[str]:
        """The comparison in words, one sentence per item."""
        return verdict(self.summary(), cores=cores)

    @property
    def all_good(self) -> bool:
        """True if every run finished with the correct result and nothing was cancelled."""
        return not self.cancelled and all(
            r.get("status") == RunStatus.FINISHED and r.get("correct") is True for r in self.records
        )


class MatrixSchedule:
    """The order of a plan's runs, the records of those that ended, the time left."""

    def __init__(self, plan: MatrixPlan) -> None:
        self.plan = plan
        self._order = plan.order()
        self._next = 0
        self._running: PlannedRun | None = None
        self._run_t0 = 0.0
        self._t0 = time.monotonic()
        self._durations: dict[int, list[float]] = {}
        self.records: list[dict[str, Any]] = []
        self.cancelled = False

    @property
    def total(self) -> int:
        """How many runs the plan makes."""
        return len(self._order)

    @property
    def running(self) -> PlannedRun | None:
        """The run handed out by next_run() and not yet ended."""
        return self._running

    @property
    def finished(self) -> bool:
        """True once every run has ended, or the comparison was cancelled."""
        return self.cancelled or (self._running is None and self._next >= len(self._order))

    def next_run(self) -> PlannedRun | None:
        """The next run to make (now counted as running), or None when there is none left.

        Raises RuntimeError if the previous run has not ended: runs go one at a time.
        """
        if self._running is not None:
            raise RuntimeError(f"run {self._running.index + 1} has not ended yet")
        if self.finished:
            return None
        self._running = self._order[self._next]
        self._next += 1
        self._run_t0 = time.monotonic()
        return self._running

    def run_ended(self, record: dict[str, Any], duration_s: float | None = None) -> dict[str, Any]:
        """Record how the running run ended; returns ``record`` with its "repeat" (1-based).

        ``record`` is the run's ``mpscope run --json`` record (``RunTally.summary()``);
        ``duration_s`` (default: since next_run()) feeds the time-left estimate.
        """
        planned = self._running
        if planned is None:
            raise RuntimeError("no run is in progress")
        duration = time.monotonic() - self._run_t0 if duration_s is None else duration_s
        self._durations.setdefault(planned.cell, []).append(duration)
        record = {**record, "repeat": planned.repeat}
        self.records.append(record)
        self._running = None
        return record

    def cancel(self) -> None:
        """End the comparison here; the run in progress (the caller stops it) leaves no record."""
        self._running = None
        self.cancelled = True

    def status(self) -> MatrixStatus:
        """Runs done, the run in progress and the estimated time left."""
        return MatrixStatus(
            done=len(self.records),
            total=len(self._order),
            running=self._running,
            eta_s=self._eta(),
            elapsed_s=time.monotonic() - self._t0,
        )

    def _estimate(self, cell: int) -> float | None:
        own = self._durations.get(cell)
        if own:
            return statistics.fmean(own)
        every = [d for ds in self._durations.values() for d in ds]
        return statistics.fmean(every) if every else None

    def _eta(self) -> float | None:
        """Each remaining run costs what its setting took so far (or the average run)."""
        if self.finished:
            return 0.0
        total = 0.0
        for planned in self._order[self._next :]:
            estimate = self._estimate(planned.cell)
            if estimate is None:
                return None
            total += estimate
        if self._running is not None:
            estimate = self._estimate(self._running.cell)
            if estimate is None:
                return None
            total += max(0.0, estimate - (time.monotonic() - self._run_t0))
        return total

    def result(self) -> MatrixResult:
        """The records so far (all of them once finished), the skipped settings, cancelled?"""
        return MatrixResult(list(self.records), self.plan.skipped, self.cancelled)
