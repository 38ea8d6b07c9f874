"""RunSpec: everything that defines a run; ResolvedSpec: one that was validated.

``mpscope.workers.validation.validate_spec`` turns a RunSpec into a ResolvedSpec, every default
resolved; the runner and the conductor take only that type, so a run is validated once.
"""

from __future__ import annotations

import dataclasses
import difflib
import multiprocessing as mp
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from mpscope.workers.units import format_count
from mpscope.workers.workloads import DEFAULT_GRAIN, DEFAULT_SLEEP_MS, find_workload

START_METHODS = ("fork", "forkserver", "spawn")
MAX_GRAIN = 10_000_000
MAX_SLEEP_MS = 60_000.0
# the probe's tick: each worker reports at most once per tick (README, Performance: its cost)
DEFAULT_TICK_S = 0.05
INJECT_KINDS = ("raise", "exit", "kill")


class SpecError(ValueError):
    """A spec that cannot run; str() is one line naming the bad value and what is allowed."""


def did_you_mean(value: str, allowed: Iterable[str]) -> str:
    """`` (did you mean pool-map?)`` when ``value`` is a near miss of an allowed one, else ""."""
    close = difflib.get_close_matches(value, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def cpu_count() -> int:
    """Cores this process may use (affinity-aware where the OS tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def default_start_method() -> str:
    """forkserver on Linux (safe beside threads, cheap per worker), spawn elsewhere."""
    return "forkserver" if sys.platform.startswith("linux") else "spawn"


def available_start_methods() -> list[str]:
    """The start methods this platform offers, in mpscope's order."""
    offered = set(mp.get_all_start_methods())
    return [m for m in START_METHODS if m in offered]


WORKER_FLOOR = 64  # a 64-core machine's lanes can be shown on any machine, oversubscribed


def max_workers() -> int:
    """The largest worker count accepted: max(64, 8 x cpu_count), more than cores allowed."""
    return max(WORKER_FLOOR, 8 * cpu_count())


@dataclass(frozen=True)
class RunSpec:
    """What to run. ``None`` fields mean "the default"; validate_spec() resolves them."""

    strategy: str | None = None  # None: the registry's default strategy
    workload: str | None = "square"  # None: the strategy's own default workload
    items: int | None = None
    workers: int | None = None
    chunksize: int | None = None  # None: auto
    start_method: str | None = None
    grain: int = DEFAULT_GRAIN
    sleep_ms: float = DEFAULT_SLEEP_MS
    inject: str | None = None  # "raise@ITEM", "exit@ITEM" or "kill@ITEM"
    # the user's own job instead of a workload: "module:function" or "file.py:function"; its
    # inputs ("module:name" or "file.py:name"; None: range(N)); compare with the loop or not
    job: str | None = None
    inputs: str | None = None
    check: bool = True
    tick_s: float = DEFAULT_TICK_S  # the probe's tick: <= 20 reports/s per worker
    # the strategies' own options (Strategy.options says whose; the others ignore them):
    # shared-counter's
    lock: str = "whole"  # whole, step or none
    delay_s: float = 0.1  # sleep per increment, as the seed's time.sleep(0.1)
    force_race: bool = False  # lock none: a barrier between every read and write
    trace: bool = False  # report the ordered [worker, value] steps
    # dask only: the address of a running scheduler to use (None: start a LocalCluster)
    scheduler: str | None = None

    def replace(self, **changes: object) -> RunSpec:
        """A copy with some fields changed: a RunSpec to validate again, even from a
        ResolvedSpec (what was resolved may not hold for the changed spec)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(RunSpec)}
        return RunSpec(**{**values, **changes})

    @property
    def inject_kind(self) -> str | None:
        """The injected fault's kind, if any."""
        return self.inject.partition("@")[0] if self.inject else None

    @property
    def inject_at(self) -> int | None:
        """The item at which the injected fault fires, if any."""
        return int(self.inject.partition("@")[2]) if self.inject else None


def problem_of(spec: RunSpec) -> dict[str, object]:
    """What two runs must share to have computed the same thing (and so be compared): the
    workload and N, the job's own parameters (heavy's grain, sleep's sleep_ms) and, for the
    user's own function, the job and its inputs. The keys are the run records' (``--json``)."""
    problem: dict[str, object] = {"workload": spec.workload, "items": spec.items}
    workload = find_workload(str(spec.workload))
    for name in workload.params.values() if workload is not None else ():
        problem[name] = getattr(spec, name)
    if spec.job is not None:
        problem.update(job=spec.job, inputs=spec.inputs)
    return problem


def job_label(spec: RunSpec) -> str:
    """What a run computes, for people: the workload (``square``), or the user's function and
    its inputs (``parse_row over rows``; ``slow`` alone over range(N))."""
    if spec.job is None:
        return str(spec.workload)
    function = spec.job.rpartition(":")[2]
    return f"{function} over {spec.inputs.rpartition(':')[2]}" if spec.inputs else function


def size_label(spec: RunSpec) -> str:
    """N for people: ``20,000``, or ``all the inputs`` while only the conductor (which
    imports the user's inputs) has counted them."""
    return format_count(spec.items) if spec.items else "all the inputs"


@dataclass(frozen=True)
class ResolvedSpec(RunSpec):
    """A RunSpec that passed validation, every default resolved: made only by
    ``validate_spec``, the one type the runner and the conductor take."""

    strategy: str = ""
    workload: str = ""
    items: int = 0
    workers: int = 0
    start_method: str = ""
    strategy_module: str = ""  # the module that declares the strategy (the conductor imports it)
