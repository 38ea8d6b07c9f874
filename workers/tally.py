"""RunTally: folds a run's events into the figures a user reads (and the CLI's JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mpscope.workers.events import (
    Event,
    Progress,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    TaskSpan,
    WorkerExited,
    WorkerStarted,
)
from mpscope.workers.spec import ResolvedSpec
from mpscope.workers.strategies import get_strategy
from mpscope.workers.workloads import WORKLOADS


@dataclass
class WorkerFigures:
    """What one worker did, as its events told."""

    worker: int
    pid: int = 0
    items: int = 0
    busy_s: float = 0.0
    cpu_s: float | None = None
    exitcode: int | None = None
    progress_events: int = 0
    spans: int = 0
    exited: bool = False  # WorkerExited came: its figures are final


class RunTally:
    """Accumulates one run's events; summary() gives the record ``mpscope run --json`` prints."""

    def __init__(self, spec: ResolvedSpec) -> None:
        self.spec = spec
        self.started: RunStarted | None = None
        self.outcome: RunFinished | RunFailed | RunCancelled | None = None
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
            fig.progress_events += 1
        elif isinstance(event, TaskSpan):
            fig = self._worker(event.worker)
            if not fig.exited:  # the queue can deliver a last span after WorkerExited
                fig.busy_s += event.t1 - event.t0
            fig.spans += 1
        elif isinstance(event, WorkerStarted):
            self._worker(event.worker).pid = event.pid
        elif isinstance(event, WorkerExited):
            fig = self._worker(event.worker)
            fig.pid = event.pid or fig.pid
            fig.items = event.items
            fig.busy_s = event.busy_s
            fig.cpu_s = event.cpu_s
            fig.exitcode = event.exitcode
            fig.exited = True
        elif isinstance(event, RunStarted):
            self.started = event
            self.spec = event.spec
        elif isinstance(event, (RunFinished, RunFailed, RunCancelled)):
            self.outcome = event

    @property
    def done(self) -> int:
        """Work units done so far, over all workers."""
        return sum(f.items for f in self.workers.values())

    @property
    def status(self) -> str:
        """running, finished, failed or cancelled."""
        if isinstance(self.outcome, RunFinished):
            return "finished"
        if isinstance(self.outcome, RunFailed):
            return "failed"
        if isinstance(self.outcome, RunCancelled):
            return "cancelled"
        return "running"

    def summary(self) -> dict[str, Any]:
        """The run as one flat record (the CLI's JSON object)."""
        spec = self.spec
        record: dict[str, Any] = {
            "status": self.status,
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
        for name in WORKLOADS[spec.workload].params.values():
            record[name] = getattr(spec, name)
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
