"""RunTally: a run's events folded, once, into its state: status, outcome, per-worker figures.

Whoever watches a run reads its one tally: the CLI (progress bar, ``mpscope run --json``'s
record), a comparison (each run's record), the GUI's model (counts, figures, outcome, status,
next to the series it draws). ``RunHandle.drain()`` folds every event into the handle's tally as
it hands it out; a watcher that keeps the run's state itself gives the handle that tally
(``start_run(..., tally=)``), so no event is folded twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mpscope.workers.events import (
    TERMINAL_TYPES,
    Event,
    Progress,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStatus,
    TaskSpan,
    TerminalEvent,
    WorkerExited,
    WorkerStarted,
    ended_status,
)
from mpscope.workers.spec import ResolvedSpec
from mpscope.workers.strategies import get_strategy
from mpscope.workers.workloads import find_workload


@dataclass
class WorkerFigures:
    """What one worker did, as its events told: the run's one record of that worker.

    Times are ``time.perf_counter`` seconds, the events' own clock (one clock for every
    process of the run); the GUI draws them relative to the run's start.
    """

    worker: int
    pid: int = 0
    thread: int | None = None  # native thread id of a thread lane (None: a process of its own)
    started_t: float | None = None  # when it announced itself (WorkerStarted)
    # the highest count it reported (Progress, or its own count at exit): never goes back, so
    # a live count or plot never shrinks
    done: int = 0
    # the record's count: as reported while it runs, its own final count once it exited
    items: int = 0
    running_since: float | None = None  # start of the chunk it is computing now (None: none)
    busy_s: float = 0.0
    cpu_s: float | None = None
    exitcode: int | None = None
    exited_t: float | None = None  # when it exited (WorkerExited): a death's time, for the timeline
    progress_events: int = 0
    spans: int = 0
    exited: bool = False  # WorkerExited came: its figures are final


class RunTally:
    """One run's state, its events folded in once each: what started it, its status and
    outcome, each worker's figures; summary() gives the record ``mpscope run --json`` prints."""

    def __init__(self, spec: ResolvedSpec) -> None:
        self.spec = spec
        self.started: RunStarted | None = None
        self.outcome: TerminalEvent | None = None
        self.workers: dict[int, WorkerFigures] = {}
        self.events = 0

    def _worker(self, index: int) -> WorkerFigures:
        fig = self.workers.get(index)
        if fig is None:
            fig = self.workers[index] = WorkerFigures(index)
        return fig

    def add(self, event: Event) -> None:
        """Fold one event in."""
        self.events += 1
        if isinstance(event, Progress):
            fig = self._worker(event.worker)
            fig.items = max(fig.items, event.done)
            fig.done = max(fig.done, event.done)
            fig.running_since = event.open_t0
            fig.progress_events += 1
        elif isinstance(event, TaskSpan):
            fig = self._worker(event.worker)
            if not fig.exited:  # the queue can deliver a last span after WorkerExited
                fig.busy_s += event.t1 - event.t0
            fig.spans += 1
        elif isinstance(event, WorkerStarted):
            fig = self._worker(event.worker)
            fig.pid, fig.thread, fig.started_t = event.pid, event.thread, event.t
        elif isinstance(event, WorkerExited):
            fig = self._worker(event.worker)
            fig.pid = event.pid or fig.pid
            fig.items = event.items
            fig.done = max(fig.done, event.items)
            fig.running_since = None
            fig.busy_s = event.busy_s
            fig.cpu_s = event.cpu_s
            fig.exitcode = event.exitcode
            fig.exited_t = event.t
            fig.exited = True
        elif isinstance(event, RunStarted):
            self.started = event
            self.spec = event.spec
        elif isinstance(event, TERMINAL_TYPES):
            self.outcome = event
            for fig in self.workers.values():
                fig.running_since = None  # the run is over: no chunk runs any more

    @property
    def done(self) -> int:
        """Work units done so far, over all workers, as the record counts them (``items``)."""
        return sum(f.items for f in self.workers.values())

    @property
    def done_reported(self) -> int:
        """Work units done so far, over all workers, as their highest reported counts
        (``done``): what a live view shows, never going back."""
        return sum(f.done for f in self.workers.values())

    @property
    def status(self) -> RunStatus:
        """Running until the terminal event, then finished, failed or cancelled."""
        return RunStatus.RUNNING if self.outcome is None else ended_status(self.outcome)

    def summary(self) -> dict[str, Any]:
        """The run as one flat record (the CLI's JSON object)."""
        spec = self.spec
        record: dict[str, Any] = {
            "status": self.status.value,  # the plain word: a record is data
            "strategy": spec.strategy,
            "workload": spec.workload,
            "items": spec.items,
            "workers": spec.workers,
            "chunksize": spec.chunksize,
            "start_method": spec.start_method,
            "tick_s": spec.tick_s,
        }
        # the workload's own arguments (heavy's grain, sleep's sleep_ms) and the strategy's
        # own options (shared-counter's lock, delay, force-race), as their RunSpec fields
        workload = find_workload(spec.workload)
        for name in workload.params.values() if workload is not None else ():
            record[name] = getattr(spec, name)
        if spec.job is not None:  # the user's own function and where its items came from
            record.update(job=spec.job, inputs=spec.inputs)
        for option in get_strategy(spec.strategy, spec.strategy_module).options:
            if option.recorded:
                record[option.field] = getattr(spec, option.field)
        out = self.outcome
        if isinstance(out, RunFinished):
            items = spec.items or 0
            record.update(
                result=out.result,
                expected=out.expected,
                correct=out.correct,
                wall_s=round(out.wall_s, 6),
                cpu_s=round(out.cpu_s, 6),
                startup_s=round(out.startup_s, 6),
                teardown_s=round(out.teardown_s, 6),
                items_per_s=round(items / out.wall_s, 1) if out.wall_s > 0 else None,
                probe_cpu_s=round(out.probe_cpu_s, 6),
            )
            # a strategy's own figures; they never override the conductor's verdict fields
            record.update({k: v for k, v in out.extra.items() if k not in record})
        elif isinstance(out, RunFailed):
            record.update(
                error=out.error, traceback=out.traceback, pid=out.pid, exitcode=out.exitcode
            )
            if out.refused:
                record["refused"] = True
        record["events"] = self.events
        record["per_worker"] = [
            {
                "worker": f.worker,
                "pid": f.pid,
                "items": f.items,
                "busy_s": round(f.busy_s, 6),
                "cpu_s": None if f.cpu_s is None else round(f.cpu_s, 6),
            }
            for f in sorted(self.workers.values(), key=lambda f: f.worker)
        ]
        return record
