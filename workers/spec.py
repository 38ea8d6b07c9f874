"""RunSpec: everything that defines a run, and its validation into one-line errors."""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import sys
from dataclasses import dataclass

from mpscope.workers.catalog import STRATEGIES, auto_chunksize, unfit_reason
from mpscope.workers.optional import unavailable_reason
from mpscope.workers.scheduler_address import parse_scheduler_address
from mpscope.workers.units import format_bytes, format_count
from mpscope.workers.workloads import DEFAULT_GRAIN, DEFAULT_SLEEP_MS, WORKLOADS

START_METHODS = ("fork", "forkserver", "spawn")
MAX_GRAIN = 10_000_000
MAX_SLEEP_MS = 60_000.0
# the probe's tick: each worker reports at most once per tick (README, Performance: its cost)
DEFAULT_TICK_S = 0.05
INJECT_KINDS = ("raise", "exit", "kill")
LOCK_MODES = ("whole", "step", "none")  # shared-counter: lock around the loop, per step, none
MAX_DELAY_S = 60.0
MAX_COUNTER = 2**31 - 1  # the shared Value is a C int ('i')
MEMORY_HEADROOM = 0.7  # share of available memory a full result list may take


class SpecError(ValueError):
    """A spec that cannot run; str() is one line naming the bad value and what is allowed."""


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


def max_workers() -> int:
    """The largest worker count accepted: 8 x cpu_count."""
    return 8 * cpu_count()


@dataclass(frozen=True)
class RunSpec:
    """What to run. ``None`` fields mean "the default"; validate_spec() resolves them."""

    strategy: str = "pool-map"
    workload: str = "square"
    items: int | None = None
    workers: int | None = None
    chunksize: int | None = None  # None: auto
    start_method: str | None = None
    grain: int = DEFAULT_GRAIN
    sleep_ms: float = DEFAULT_SLEEP_MS
    inject: str | None = None  # "raise@ITEM", "exit@ITEM" or "kill@ITEM"
    sample_interval_s: float = DEFAULT_TICK_S  # probe tick: <= 20 reports/s per worker
    # shared-counter only (ignored by the other strategies)
    lock: str = "whole"  # one of LOCK_MODES
    delay_s: float = 0.1  # sleep per increment, as the seed's time.sleep(0.1)
    force_race: bool = False  # lock none: a barrier between every read and write
    trace: bool = False  # report the ordered [worker, value] steps
    # dask only: the address of a running scheduler to use (None: start a LocalCluster)
    scheduler: str | None = None

    def replace(self, **changes: object) -> RunSpec:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def inject_kind(self) -> str | None:
        """The injected fault's kind, if any."""
        return self.inject.partition("@")[0] if self.inject else None

    @property
    def inject_at(self) -> int | None:
        """The item at which the injected fault fires, if any."""
        return int(self.inject.partition("@")[2]) if self.inject else None


def _available_memory() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001  # pragma: no cover - psutil is a dependency; be safe anyway
        return 2**34


def _check_memory(strategy: str, items: int) -> None:
    per_item = STRATEGIES[strategy].result_bytes_per_item
    if not per_item:
        return
    budget = int(_available_memory() * MEMORY_HEADROOM)
    need = items * per_item
    if need > budget:
        allowed = budget // per_item
        raise SpecError(
            f"items {format_count(items)} needs about {format_bytes(need)} for {strategy}'s full "
            f"result list and {format_bytes(budget)} can be spared: allowed up to "
            f"{format_count(allowed)} (pool-imap, process and sequential stream and have no limit)"
        )


def _check_inject(spec: RunSpec, items: int) -> None:
    if spec.inject is None:
        return
    kind, sep, at = spec.inject.partition("@")
    ok = sep == "@" and kind in INJECT_KINDS and at.isdigit() and int(at) < items
    if not ok:
        raise SpecError(
            f"inject {spec.inject!r} is invalid: allowed raise@ITEM, exit@ITEM or kill@ITEM "
            f"with 0 <= ITEM < {format_count(items)}"
        )


def _check_counter(spec: RunSpec, items: int, workers: int) -> None:
    if spec.lock not in LOCK_MODES:
        raise SpecError(f"lock {spec.lock!r} is unknown: allowed {', '.join(LOCK_MODES)}")
    if not 0 <= spec.delay_s <= MAX_DELAY_S:
        raise SpecError(f"delay {spec.delay_s} s is out of range: allowed 0..{MAX_DELAY_S:g} s")
    if spec.strategy != "shared-counter":
        return
    if spec.force_race and spec.lock != "none":
        raise SpecError(
            f"force-race with lock {spec.lock!r} is not allowed: a lock rules the race out; "
            "allowed only with lock none"
        )
    if spec.force_race and workers < 2:
        raise SpecError(
            f"force-race with workers {workers} cannot lose an update: allowed with 2 or more "
            "workers"
        )
    if items * workers > MAX_COUNTER:
        raise SpecError(
            f"workers {workers} x items {format_count(items)} = "
            f"{format_count(items * workers)} increments overflow the shared C int: allowed up "
            f"to {format_count(MAX_COUNTER)} in all"
        )


def _check_tasks_and_scheduler(spec: RunSpec, items: int, chunksize: int | None) -> str | None:
    """Bound the task count where the strategy needs it; return the normalized scheduler."""
    info = STRATEGIES[spec.strategy]
    if info.max_tasks is not None and chunksize is not None:
        tasks = -(-items // chunksize)
        if tasks > info.max_tasks:
            raise SpecError(
                f"chunksize {format_count(chunksize)} makes {format_count(tasks)} {spec.strategy} "
                f"tasks: allowed up to {format_count(info.max_tasks)} tasks, i.e. chunksize >= "
                f"{format_count(-(-items // info.max_tasks))} for {format_count(items)} items"
            )
    if spec.scheduler is None or spec.strategy != "dask":
        return None  # like chunksize for unchunked strategies: others ignore it
    try:
        return str(parse_scheduler_address(spec.scheduler))
    except ValueError as exc:
        raise SpecError(str(exc)) from None


def validate_spec(spec: RunSpec) -> RunSpec:
    """Check ``spec`` and return it with every default resolved.

    Raises SpecError with one line naming the bad value and what is allowed.
    """
    if spec.strategy not in STRATEGIES:
        raise SpecError(f"unknown strategy {spec.strategy!r}: allowed {', '.join(STRATEGIES)}")
    missing = unavailable_reason(spec.strategy)
    if missing:
        raise SpecError(missing)
    if spec.workload not in WORKLOADS:
        raise SpecError(f"unknown workload {spec.workload!r}: allowed {', '.join(WORKLOADS)}")
    reason = unfit_reason(spec.strategy, spec.workload)
    if reason:
        raise SpecError(reason)
    info = STRATEGIES[spec.strategy]
    workload = WORKLOADS[spec.workload]

    items = workload.default_items if spec.items is None else spec.items
    if not isinstance(items, int) or items < 1:
        raise SpecError(f"items {items} is too small: allowed 1 or more")
    _check_memory(spec.strategy, items)

    workers = (info.default_workers or cpu_count()) if spec.workers is None else spec.workers
    if not isinstance(workers, int) or not 1 <= workers <= max_workers():
        raise SpecError(
            f"workers {workers} is out of range: allowed 1..{max_workers()} "
            f"(8 x {cpu_count()} cores)"
        )
    if not info.multi_worker:
        workers = 1

    chunksize = spec.chunksize
    if chunksize is not None and (not isinstance(chunksize, int) or chunksize < 1):
        raise SpecError(f"chunksize {chunksize} is invalid: allowed 1 or more, or auto")
    if not info.chunked:
        chunksize = None
    elif chunksize is None:
        chunksize = auto_chunksize(items, workers)

    start_method = spec.start_method or default_start_method()
    # a spec validated before already names what really starts its workers (joblib: loky)
    if start_method != info.own_start_method and start_method not in available_start_methods():
        raise SpecError(
            f"start method {start_method!r} is not available: allowed "
            f"{', '.join(available_start_methods())}"
        )
    if info.own_start_method:
        start_method = info.own_start_method  # what really starts its workers, reported as such
    if not 0 <= spec.grain <= MAX_GRAIN:
        raise SpecError(
            f"grain {spec.grain} is out of range: allowed 0..{format_count(MAX_GRAIN)} "
            "iterations per item"
        )
    if not 0 <= spec.sleep_ms <= MAX_SLEEP_MS:
        raise SpecError(f"sleep {spec.sleep_ms} ms is out of range: allowed 0..{MAX_SLEEP_MS:g} ms")
    if not 0.005 <= spec.sample_interval_s <= 1.0:
        raise SpecError(f"tick {spec.sample_interval_s} s is out of range: allowed 0.005..1 s")
    _check_inject(spec, items)
    _check_counter(spec, items, workers)
    scheduler = _check_tasks_and_scheduler(spec, items, chunksize)
    return spec.replace(
        items=items,
        workers=workers,
        chunksize=chunksize,
        start_method=start_method,
        scheduler=scheduler,
    )
