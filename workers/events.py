"""The event protocol between workers, the conductor and whoever watches a run.

Events are small, immutable and picklable (NamedTuples pickle as a class reference plus a
tuple). Workers put them on the run's queue in *packets* (a tuple of events per flush), so
the queue carries a bounded number of messages per second whatever the run's size.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, NamedTuple, Union  # Union: these aliases are evaluated at runtime on 3.10


class RunStatus(str, Enum):
    """Where a run is in its life: the one word the window, the tally and a run's record use.

    str-valued (Python 3.10 has no StrEnum), so a member equals its word (``status ==
    "finished"``), formats as it, and goes into JSON as it: records keep the plain word.
    """

    IDLE = "idle"  # no run yet (the window before its first Run)
    STARTING = "starting"  # Run was pressed, the conductor is not up yet
    RUNNING = "running"
    STOPPING = "stopping"  # Stop was pressed, the verdict is not in yet
    FINISHED = "finished"  # the strategy returned a result (right or wrong)
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value

    @property
    def ended(self) -> bool:
        """True for the three ways a run ends: finished, failed, cancelled."""
        return self in ENDED_STATUSES


class RunStarted(NamedTuple):
    """The conductor is up and about to start the strategy's workers."""

    run_id: str
    spec: Any  # workers.spec.RunSpec (kept untyped here to avoid an import cycle)
    units: int  # total work units the progress counts add up to
    chunksize: int | None  # the chunksize in effect (None: the strategy does not chunk)
    workers: int  # number of worker lanes the strategy runs
    conductor_pid: int
    startup_s: float  # from start_run() to the conductor being ready
    t: float


class WorkerStarted(NamedTuple):
    """A worker (process, or thread for thread-pool) is ready to take work."""

    worker: int
    pid: int
    t: float
    thread: int | None = None  # native thread id for thread lanes


class Progress(NamedTuple):
    """Cumulative items a worker has processed, sampled from inside the worker."""

    worker: int
    done: int
    t: float
    open_t0: float | None = None  # start of the chunk still running, for the timeline


class TaskSpan(NamedTuple):
    """One task (chunk) a worker computed, for the timeline; ``tasks`` > 1 if merged."""

    worker: int
    first: int
    items: int
    t0: float
    t1: float
    tasks: int = 1


class CounterStep(NamedTuple):
    """One step of the shared-counter strategy: who did what to the lock and the value."""

    worker: int
    value: int
    t: float
    phase: str  # "waiting", "holding", "step", "released", "done"


class WorkerExited(NamedTuple):
    """A worker is gone; its final figures as it recorded them itself."""

    worker: int
    pid: int
    exitcode: int | None
    items: int
    busy_s: float
    cpu_s: float
    t: float


class RunFinished(NamedTuple):
    """The strategy returned a result; it is checked against the closed form."""

    run_id: str
    result: int
    expected: int | None  # None: nothing to check against (never called correct)
    correct: bool | None
    wall_s: float  # from just before the workers start to the result in hand
    cpu_s: float  # conductor + workers, user + system
    startup_s: float  # conductor start-up, reported apart from wall_s
    teardown_s: float  # closing and joining the workers after the result was in hand
    probe_cpu_s: float  # CPU the in-worker probes' ticks used (reading, pickling, writing)
    extra: dict[str, Any]  # strategy-specific figures (e.g. the counter's lost updates)
    t: float


class RunFailed(NamedTuple):
    """The run ended without a result: a job raised, or a worker died."""

    run_id: str
    error: str  # one line
    traceback: str
    pid: int | None
    exitcode: int | None
    t: float
    # refused before any worker started: the user's job or inputs cannot run (bad input)
    refused: bool = False


class RunCancelled(NamedTuple):
    """The run was stopped on request."""

    run_id: str
    t: float


Event = Union[  # noqa: UP007
    RunStarted,
    WorkerStarted,
    Progress,
    TaskSpan,
    CounterStep,
    WorkerExited,
    RunFinished,
    RunFailed,
    RunCancelled,
]
TerminalEvent = Union[RunFinished, RunFailed, RunCancelled]  # noqa: UP007
TERMINAL_TYPES = (RunFinished, RunFailed, RunCancelled)
# how a run can end, in the order a record's status is listed (the outcome's RunStatus)
ENDED_STATUSES = (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.CANCELLED)


def ended_status(outcome: TerminalEvent) -> RunStatus:
    """The status a run's terminal event gives it: finished, failed or cancelled."""
    if isinstance(outcome, RunFinished):
        return RunStatus.FINISHED
    if isinstance(outcome, RunFailed):
        return RunStatus.FAILED
    return RunStatus.CANCELLED


# The probes' events travel as plain tuples, (tag, *fields): a plain tuple of numbers pickles
# and unpickles several times faster than a NamedTuple (no class to look up by name), and a
# worker pays for it on every tick. RunHandle turns them back into events with from_wire().
WIRE_TYPES: tuple[type[Any], ...] = (Progress, TaskSpan, WorkerStarted)
_WIRE_TAG = {cls: tag for tag, cls in enumerate(WIRE_TYPES)}
PROGRESS_TAG = _WIRE_TAG[Progress]  # (PROGRESS_TAG, worker, done, t, open_t0)


def to_wire(event: Event) -> tuple[Any, ...]:
    """A probe event as the plain tuple a worker sends (events of other types go as they are)."""
    tag = _WIRE_TAG.get(type(event))
    return event if tag is None else (tag, *event)


def from_wire(item: Any) -> Event:
    """The event a queued item stands for: a plain tuple is decoded, an event is itself."""
    if type(item) is tuple:
        return WIRE_TYPES[item[0]](*item[1:])  # type: ignore[no-any-return]
    return item  # type: ignore[no-any-return]


def describe_exitcode(exitcode: int | None) -> str:
    """Human words for a process exit code (negative: killed by that signal)."""
    import signal

    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name} (exit code {exitcode})"
    return f"exited with code {exitcode}"
