"""RunContext: what a strategy gets from the conductor to run one spec."""

from __future__ import annotations

import contextlib
import functools
import itertools
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

from mpscope.workers import jobs
from mpscope.workers.own_job import OwnJob
from mpscope.workers.probe import ProbeConfig
from mpscope.workers.spec import ResolvedSpec
from mpscope.workers.workloads import Workload, find_workload

ProcessSource = Callable[[], Iterable[BaseProcess]]
EXITCODE_GRACE_S = 0.15  # let the pool's handler thread read a dead worker's exit code


class CannotRun(RuntimeError):
    """The run cannot go on for a reason its message states in full (reported, no traceback).

    For conditions of the user's setup, not bugs: say an unreachable Dask scheduler.
    """


@dataclass
class RunContext:
    """One run as a strategy sees it: the validated spec, the job, the probe and the clock."""

    spec: ResolvedSpec
    probe: ProbeConfig
    worker_context: Any  # the multiprocessing context of the chosen start method
    wall_t0: float = 0.0
    wall_t1: float = 0.0
    teardown_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    _sources: list[ProcessSource] = field(default_factory=list)
    _created: list[BaseProcess] = field(default_factory=list)
    _seen: dict[int, BaseProcess] = field(default_factory=dict)
    _ended_at: dict[int, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _releases: list[Callable[[], None]] = field(default_factory=list)
    _collateral: set[int] = field(default_factory=set)
    tearing_down: bool = False
    # pools and executors: workers only exit at teardown, so any exit before it (even with
    # code 0) loses tasks and would hang map() forever
    any_exit_is_death: bool = False
    # the user's own function and items (a run with --job), resolved by the conductor
    own: OwnJob | None = None
    # the user's function's results, kept for the check against the loop (``gather``)
    results: list[Any] | None = None

    @property
    def workload(self) -> Workload:
        """The workload being run."""
        workload = find_workload(self.spec.workload)
        assert workload is not None, self.spec.workload  # validated
        return workload

    def inputs(self) -> Sequence[Any]:
        """The items the job maps over: the user's inputs, else ``range(N)``."""
        return self.own.inputs if self.own is not None else range(self.items)

    def argument_tuples(self) -> Iterable[tuple[Any, ...]]:
        """The items as argument tuples (starmap): the user's, else ``zip(range(N), range(N))``."""
        if self.own is not None:
            return self.own.inputs
        return zip(range(self.items), range(self.items))

    def gather_parts(self, parts: dict[int, Any]) -> int:
        """Reduce results that came back in parts keyed by their first item: partial sums,
        or (the user's function) partial result lists, joined in item order."""
        ordered = [parts[first] for first in sorted(parts)]
        if self.own is None:
            return sum(ordered)
        return self.gather(itertools.chain.from_iterable(ordered))

    def gather(self, results: Iterable[Any]) -> int:
        """Reduce the job's results: the built-in workloads' sum, or (the user's function)
        the results kept in order for the check, and their count."""
        if self.own is None:
            return sum(results)
        self.results = list(results)
        return len(self.results)

    @property
    def items(self) -> int:
        """N, the number of items."""
        return self.spec.items

    @property
    def workers(self) -> int:
        """K, the number of workers."""
        return self.spec.workers

    @property
    def chunksize(self) -> int:
        """The chunksize in effect (validated specs always have one for chunked strategies)."""
        assert self.spec.chunksize is not None
        return self.spec.chunksize

    def job(self, base: Callable[..., int] | None = None) -> Callable[..., int]:
        """The per-item callable (``base`` or the workload's), with an injected fault if asked."""
        if self.own is not None:
            return self.own.function  # as it is: nothing added per item
        job = base or self.workload.job(**self.workload.arguments(self.spec))
        kind, at = self.spec.inject_kind, self.spec.inject_at
        if kind is None or at is None:
            return job
        return functools.partial(jobs.faulty, job=job, at=at, kind=kind)

    def expected(self) -> int | None:
        """The closed-form result (None: the workload has none)."""
        return self.workload.expected(self.items, **self.workload.arguments(self.spec))

    # -- the clock ------------------------------------------------------------------------
    def start_clock(self) -> None:
        """Call just before the strategy starts its workers."""
        self.wall_t0 = time.perf_counter()

    def stop_clock(self) -> None:
        """Call the moment the result is in hand."""
        self.wall_t1 = time.perf_counter()

    @property
    def wall_s(self) -> float:
        """Wall time between start_clock() and stop_clock()."""
        return self.wall_t1 - self.wall_t0

    def teardown(self, *steps: Callable[[], object]) -> None:
        """Close and join the workers after the result is in hand, timing it apart."""
        self.tearing_down = True
        t0 = time.perf_counter()
        for step in steps:
            step()
        self.teardown_s = time.perf_counter() - t0

    # -- processes the watchdog keeps an eye on -------------------------------------------------
    def watch(self, source: ProcessSource) -> None:
        """Have the watchdog fail the run if any process ``source`` yields dies badly."""
        with self._lock:
            self._sources.append(source)

    def register(self, proc: BaseProcess) -> None:
        """Watch ``proc`` from its creation (before it starts: no death can slip by)."""
        with self._lock:
            self._created.append(proc)

    def watched(self) -> list[BaseProcess]:
        """Every started process seen so far (dead ones stay, so no exit code is missed)."""
        with self._lock:
            sources = list(self._sources)
            created = list(self._created)
        for proc in created:
            if proc.pid is not None:
                self._seen.setdefault(proc.pid, proc)
        for source in sources:
            try:
                procs = list(source())
            except Exception:  # noqa: BLE001 - a pool being torn down mutates its list
                continue
            for proc in procs:
                if proc.pid is not None:
                    self._seen.setdefault(proc.pid, proc)
        return list(self._seen.values())

    def live_sentinels(self) -> dict[int, BaseProcess]:
        """Sentinel -> process, for watched processes not yet seen to end."""
        out = {}
        for proc in self.watched():
            popen = getattr(proc, "_popen", None)
            if popen is not None and popen.returncode is None and proc.pid not in self._ended_at:
                out[proc.sentinel] = proc
        return out

    @property
    def ends_seen(self) -> bool:
        """True once the watchdog has seen any watched process end."""
        return bool(self._ended_at)

    def saw_end(self, proc: BaseProcess) -> None:
        """The watchdog saw ``proc``'s sentinel fire."""
        self._ended_at.setdefault(proc.pid or 0, time.monotonic())

    def dead_worker(self) -> tuple[BaseProcess, int] | None:
        """The first watched worker to end with a non-zero exit code, and that code.

        The exit code is read without racing the pool's own handler thread, which reaps
        the same processes (under forkserver the code can be read from the pipe only once):
        whoever polled first stored it in ``returncode``; we poll ourselves only after a grace.
        The earliest death wins: an executor terminates the siblings of a worker that died.
        """
        if self.tearing_down:
            return None
        now = time.monotonic()
        candidates = []
        for proc in self.watched():
            popen = getattr(proc, "_popen", None)
            if popen is None or proc.pid is None:
                continue
            code = popen.returncode
            ended = self._ended_at.get(proc.pid)
            if ended is None:
                if code is None and not wait([proc.sentinel], 0):
                    continue
                ended = self._ended_at.setdefault(proc.pid, now)
            if now - ended < EXITCODE_GRACE_S:
                continue  # give every death the same grace, so the first one is named
            if proc.pid in self._collateral:
                continue  # its library killed it because another worker had died
            if code is None:
                code = proc.exitcode
            if code is not None and (code != 0 or self.any_exit_is_death):
                # SIGTERM last: an executor terminates the siblings of a worker that died
                candidates.append((code == -signal.SIGTERM, ended, proc, code))
        if not candidates:
            return None
        _, _, proc, code = min(candidates, key=lambda c: (c[0], c[1]))
        return proc, code

    def mark_survivors_collateral(self) -> None:
        """Say that a library is about to kill every worker still running, because one died.

        loky SIGKILLs the survivors of a broken executor, with the same signal an outside
        kill sends, often before the watchdog has looked: those deaths are the library's
        reaction, never the one to name. Call it while the dead worker's sentinel has fired
        and the survivors' have not (loky's done-callbacks run just before its kill).
        """
        for proc in self.watched():
            if getattr(proc, "_popen", None) is not None and not wait([proc.sentinel], 0):
                self._collateral.add(proc.pid or 0)

    def on_release(self, release: Callable[[], None]) -> None:
        """Have ``release`` run as the conductor leaves, however the run ends: it exits with
        os._exit, which skips the atexit hooks libraries rely on to clean up."""
        self._releases.append(release)

    def release_resources(self) -> None:
        """Run every ``on_release`` callable (best effort: each failure is ignored)."""
        for release in self._releases:
            with contextlib.suppress(Exception):
                release()

    def kill_workers(self) -> None:
        """SIGKILL every watched worker process still running (no /proc scan: quick).

        The forkserver goes first: a pool whose workers die starts new ones through it, and
        those would inherit its (unsilenced) stderr while this process is tearing down.
        """
        from multiprocessing import forkserver

        server_pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
        if server_pid:
            with contextlib.suppress(OSError):
                os.kill(server_pid, signal.SIGKILL)
        for proc in self.watched():
            if getattr(proc, "_popen", None) is not None and proc.exitcode is None:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    proc.kill()

    def any_worker_ended(self) -> bool:
        """True if any watched process has ended (or its sentinel says it is ending)."""
        if self._ended_at:
            return True
        return any(
            getattr(p, "_popen", None) is not None and wait([p.sentinel], 0) for p in self.watched()
        )


class WatchingContext:
    """A multiprocessing context whose every Process is handed to ``on_process`` at creation.

    Pools and executors take it as their context, so the watchdog knows each worker from
    birth, including the replacements a Pool forks within milliseconds of a death.
    """

    def __init__(self, base: Any, on_process: Callable[[BaseProcess], None]) -> None:
        self._base = base
        self._on_process = on_process

    def Process(self, *args: Any, **kwargs: Any) -> BaseProcess:
        """Create a process of the base context and register it."""
        proc: BaseProcess = self._base.Process(*args, **kwargs)
        self._on_process(proc)
        return proc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._base, name)


def worker_context(start_method: str) -> Any:
    """The multiprocessing context for workers, with forkserver preloading mpscope's modules."""
    ctx = mp.get_context(start_method)
    if start_method == "forkserver":
        ctx.set_forkserver_preload(
            ["mpscope.workers.jobs", "mpscope.workers.probe", "mpscope.workers.strategies"]
        )
    return ctx
