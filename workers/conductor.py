"""The conductor: the process that runs one strategy, times it and reports how it ended.

It is started from a spawn context by ``workers.runner.start_run``. It leads its own process
group, so the whole run can be stopped as a unit. A watchdog thread ends the run on cancel
and on a worker that dies badly (``Pool.map`` alone would hang forever: CPython gh-96062),
killing the run's tree before it reports. The death of whoever started it is answered by the
run's guardian (``supervision.start_guardian``), a forked process that needs nothing of this
one: a thread here can wait seconds for the GIL while the main thread is inside one long C
call (``list(zip(...))`` of millions of pairs), and the run must be gone before that.

Channels: worker events go through the shared ``events`` queue; the conductor's own events
(RunStarted, WorkerExited and the terminal one) go through ``control``, a pipe only it
writes, so a worker killed while holding the queue's write lock cannot silence the verdict.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing import util
from multiprocessing.connection import Connection, wait
from typing import Any, NoReturn

from mpscope.workers.context import CannotRun, RunContext, WatchingContext, worker_context
from mpscope.workers.events import (
    Event,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    WorkerExited,
    describe_exitcode,
)
from mpscope.workers.own_job import (
    IMPORT_LIMIT_S,
    Check,
    OwnJobRefused,
    check_results,
    loop_results,
    resolve_own_job,
    where_in_user_code,
)
from mpscope.workers.probe import ProbeConfig, finish_process
from mpscope.workers.spec import ResolvedSpec, available_start_methods
from mpscope.workers.strategy import Strategy
from mpscope.workers.supervision import (
    become_group_leader,
    kill_group,
    lower_priority,
    queue_semaphores,
    semaphore_prefix,
    start_guardian,
)

# the watchdog wakes at once on cancel and on any worker's exit (it waits on their
# sentinels); its timeout only paces the re-reading of the process list (new workers) and
# the exit-code grace after a death, so it is short only while a death is being examined:
# each wake-up of the conductor is CPU taken from the workers
WATCH_TICK_S = 0.05
IDLE_WATCH_TICK_S = 0.25
# a caller that hung up before the verdict: the time its guardian gets to act, if it died
GUARDIAN_GRACE_S = 1.0
EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_CANCELLED, EXIT_ORPHANED = 0, 1, 2, 4, 5


def _silence_stderr() -> None:
    """Point fd 2 at /dev/null: the verdict travels through the control pipe instead."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        pass
    threading.excepthook = lambda args: None


def _release_semaphores() -> None:
    """Unlink the named semaphores this process created (os._exit skips their finalizers)."""
    from multiprocessing import util

    registry = getattr(util, "_finalizer_registry", {})
    for finalizer in list(registry.values()):
        callback = getattr(finalizer, "_callback", None)
        # the stdlib's SemLock and loky's copy of it (joblib), each with its own tracker
        if getattr(callback, "__qualname__", "") == "SemLock._cleanup":
            with contextlib.suppress(Exception):  # the resource tracker is the backstop
                finalizer()


class Reporter:
    """Sends the conductor's events; the first terminal event wins and ends the process."""

    def __init__(
        self,
        run_id: str,
        control: Connection,
        events: Any,
        kill_workers: Callable[[], None] = lambda: None,
        release: Callable[[], None] = lambda: None,
    ) -> None:
        self.run_id = run_id
        self.kill_workers = kill_workers  # SIGKILL the run's known worker processes, quickly
        self.release = release  # what the strategy asked to clean up (os._exit skips atexit)
        self.control = control
        self.events = events
        self._lock = threading.Lock()
        self._ended = False

    @property
    def ended(self) -> bool:
        """True once a terminal event is on its way."""
        return self._ended

    def send(self, event: Event) -> None:
        """Send a non-terminal conductor event."""
        with self._lock:
            if not self._ended:
                self.control.send(event)

    def end(self, event: Event, exit_code: int, kill: bool) -> NoReturn:
        """Kill what is left (if ``kill``), flush the worker events, send ``event``, exit.

        Never returns: a second caller (the watchdog and the main thread can both end a
        run) waits here while the first one finishes and exits the process.
        """
        with self._lock:
            first = not self._ended
            self._ended = True
        if not first:
            time.sleep(30)
            os._exit(exit_code)
        # the main thread may be spinning in a pure-Python loop (sequential, threads): hand
        # the GIL over quickly so these last steps do not crawl at 5 ms per switch
        sys.setswitchinterval(0.0002)
        if kill:
            _silence_stderr()  # threads of a pool being killed under them complain; not news
            self.kill_workers()
        self.events.close()
        flusher = threading.Thread(target=self.events.join_thread, daemon=True)
        flusher.start()
        flusher.join(timeout=1.0)  # a killed worker may hold the queue's lock: do not hang
        _release_semaphores()
        self.release()
        try:
            self.control.send(event)
            self.control.close()
        except OSError:
            pass
        # what is left of the run's process group (forkserver, late replacements) the handle
        # kills on reading the verdict: no /proc scan here
        os._exit(exit_code)

    def fail(
        self, error: str, tb: str = "", pid: int | None = None, code: int | None = None
    ) -> NoReturn:
        """End the run as failed."""
        self.end(
            RunFailed(self.run_id, error, tb, pid, code, time.perf_counter()), EXIT_FAILED, True
        )

    def refuse(self, error: str, tb: str = "") -> NoReturn:
        """End the run before any worker started: the user's job cannot run (bad input)."""
        failed = RunFailed(self.run_id, error, tb, None, None, time.perf_counter(), refused=True)
        self.end(failed, EXIT_REFUSED, True)


def _resolve_own_job(ctx: RunContext, strategy: Strategy, reporter: Reporter) -> None:
    """Import and check the user's job and inputs here (refusing what cannot run, in one
    line), then fix the run's size: N is the inputs' length, auto chunksize follows it."""
    spec = ctx.spec
    assert spec.job is not None
    too_long = threading.Timer(
        IMPORT_LIMIT_S,
        reporter.refuse,
        (
            f"job {spec.job}: loading it took longer than {IMPORT_LIMIT_S:.0f} s (does the "
            "module wait for something when imported?): stopped",
        ),
    )
    too_long.daemon = True
    too_long.start()
    try:
        own = resolve_own_job(
            spec.job,
            spec.inputs,
            spec.items,
            spread=strategy.unpacks_items,
            strategy=strategy.id,
            by_process=strategy.starts_processes and not strategy.threads,
        )
    except OwnJobRefused as exc:
        reporter.refuse(str(exc), exc.detail)
    finally:
        too_long.cancel()
    items = len(own.inputs)
    chunksize = spec.chunksize
    if strategy.chunked and chunksize is None:
        chunksize = strategy.auto_chunksize(items, spec.workers)
    ctx.spec = dataclasses.replace(spec, items=items, chunksize=chunksize)
    ctx.own = own
    # set before any worker starts (each gets the probe's settings as it starts)
    ctx.probe.items_are_indices = spec.inputs is None
    ctx.probe.chunksize = chunksize or 0


def _own_check(ctx: RunContext, strategy: Strategy) -> Check | None:
    """The user's results against the plain loop's (computed here, after the clock)."""
    if ctx.own is None:
        return None
    if not ctx.spec.check:
        return Check(None, "not checked (--no-check)")
    if strategy.baseline:
        return Check(True, "the loop itself: what the other strategies are checked against")
    assert ctx.results is not None
    try:
        reference = loop_results(ctx.own)
    except Exception as exc:  # noqa: BLE001 - the user's function, run once more
        return Check(None, f"the loop raised {type(exc).__name__} when run again: not compared")
    return check_results(ctx.results, reference, ordered=not strategy.unordered_results)


def _fail_dead_worker(ctx: RunContext, reporter: Reporter, proc: Any, code: int) -> NoReturn:
    index = ctx.probe.pid_to_worker().get(proc.pid)
    who = f"worker {index}" if index is not None else "a worker"
    message = f"{who} (pid {proc.pid}) {describe_exitcode(code)}; the run was stopped"
    reporter.fail(message, pid=proc.pid, code=code)


class Watchdog(threading.Thread):
    """Ends the run on cancel, on a worker's bad death, or when the caller hangs up.

    ``guarded``: a guardian process answers the caller's death (at once, which this thread
    cannot promise); this thread then acts only for a caller that lives and hung up.
    """

    def __init__(
        self,
        ctx: RunContext,
        reporter: Reporter,
        cancel: Connection,
        tempdir: str,
        guarded: bool,
    ) -> None:
        super().__init__(name="mpscope-watchdog", daemon=True)
        self.ctx = ctx
        self.reporter = reporter
        self.cancel = cancel
        self.tempdir = tempdir
        self.guarded = guarded

    def run(self) -> None:
        """Wait on the cancel pipe and every worker's sentinel."""
        while True:
            live = self.ctx.live_sentinels()
            tick = WATCH_TICK_S if self.ctx.ends_seen else IDLE_WATCH_TICK_S
            ready = wait([self.cancel, *live], timeout=tick)
            for sentinel in ready:
                if sentinel in live:
                    self.ctx.saw_end(live[sentinel])
            if self.cancel in ready and not self._on_cancel_pipe():
                return
            dead = self.ctx.dead_worker()
            if dead is not None:
                _fail_dead_worker(self.ctx, self.reporter, *dead)

    def _on_cancel_pipe(self) -> bool:
        """Act on the cancel pipe; False when there is nothing left to watch."""
        try:
            self.cancel.recv()
        except (EOFError, OSError):
            if self.reporter.ended:
                return False  # the caller read our verdict and hung up: end() is finishing
            if self.guarded:
                time.sleep(GUARDIAN_GRACE_S)  # a dead caller's guardian kills us meanwhile
            self._abandon()
        self.reporter.end(
            RunCancelled(self.reporter.run_id, time.perf_counter()), EXIT_CANCELLED, True
        )

    def _abandon(self) -> NoReturn:
        """Nobody will read a verdict: take the whole group down, ourselves included, and
        release what the run holds (os._exit skips the finalizers that would)."""
        _silence_stderr()
        self.reporter.kill_workers()
        _release_semaphores()
        shutil.rmtree(self.tempdir, ignore_errors=True)
        kill_group(os.getpgrp())
        os._exit(EXIT_ORPHANED)


def _wait_for_dead_worker(ctx: RunContext) -> tuple[Any, int] | None:
    """After an exception: a worker that died badly (BrokenProcessPool names none), if any."""
    deadline = time.monotonic() + 0.5
    while True:
        dead = ctx.dead_worker()
        if dead is not None:
            return dead
        if not ctx.any_worker_ended() or time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def _format_failure(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, CannotRun):
        return str(exc).splitlines()[0], ""  # the message says it all
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    remote = getattr(exc, "remote_traceback", "")
    if remote:
        tb = f"{remote}\nRaised in the conductor as:\n{tb}"
    line = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return line + where_in_user_code(tb), tb


def conduct(
    spec: ResolvedSpec,
    run_id: str,
    events: Any,
    control: Connection,
    cancel: Connection,
    t_request: float,
    niceness: int = 0,
) -> None:
    """Conductor process entry point: run ``spec`` and report how it went."""
    t_ready = time.perf_counter()
    # name this run's semaphores after it, so a caller can remove them if we are killed
    me: Any = multiprocessing.current_process()
    me._config["semprefix"] = semaphore_prefix(run_id)
    become_group_leader()
    lower_priority(niceness)
    # what the run prints (a user's function may) goes to stderr: stdout is the caller's
    # (``mpscope run --json`` writes its record there); the workers inherit it
    with contextlib.suppress(OSError):
        os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller decides what Ctrl-C means
    # multiprocessing's folder for this process (a forkserver's socket), made now so that the
    # guardian knows it: a killed run leaves nothing in /tmp either
    tempdir = util.get_temp_dir()
    guardian = start_guardian(run_id, queue_semaphores(events), tempdir)
    from mpscope.workers.strategies import get_strategy

    strategy = get_strategy(spec.strategy, spec.strategy_module)
    # strategies whose workers start their own way (joblib's loky) get spawn-safe probe objects
    method = spec.start_method if spec.start_method in available_start_methods() else "spawn"
    wctx = worker_context(method or "spawn")
    max_lanes = 2 * spec.workers + 8  # room for pool workers that replace dead ones
    probe = ProbeConfig.create(wctx, events, max_lanes, spec.tick_s)
    ctx = RunContext(spec=spec, probe=probe, worker_context=wctx)
    ctx.worker_context = WatchingContext(wctx, ctx.register)
    ctx.on_release(lambda: shutil.rmtree(tempdir, ignore_errors=True))  # os._exit skips it
    reporter = Reporter(run_id, control, events, ctx.kill_workers, ctx.release_resources)
    Watchdog(ctx, reporter, cancel, tempdir, guarded=guardian is not None).start()
    if spec.job is not None:
        _resolve_own_job(ctx, strategy, reporter)
        spec = ctx.spec
    reporter.send(
        RunStarted(
            run_id,
            spec,
            strategy.units(ctx),
            spec.chunksize,
            strategy.lanes(ctx),
            os.getpid(),
            t_ready - t_request,
            time.perf_counter(),
        )
    )
    cpu0 = time.process_time()
    try:
        result = strategy.run(ctx)
    except BaseException as exc:  # noqa: BLE001 - everything a job can raise is reported
        dead = _wait_for_dead_worker(ctx)
        if dead is not None:
            _fail_dead_worker(ctx, reporter, *dead)
        line, tb = _format_failure(exc)
        reporter.fail(line, tb)
    finish_process()  # final flush of lanes that ran in this process (sequential, threads)
    conductor_cpu = time.process_time() - cpu0
    me = os.getpid()
    exitcodes = {p.pid: p.exitcode for p in ctx.watched()}
    rows = probe.lane_stats()
    worker_cpu = sum(row["cpu_s"] for row in rows if row["pid"] != me)
    for row in rows:
        reporter.send(
            WorkerExited(
                int(row["worker"]),
                int(row["pid"]),
                exitcodes.get(int(row["pid"])),
                int(row["items"]),
                row["busy_s"],
                row["cpu_s"],
                time.perf_counter(),
            )
        )
    own_check = _own_check(ctx, strategy)
    if own_check is not None:
        expected = None
        correct = own_check.correct
        ctx.extra.update(check="sequential" if spec.check else "unchecked")
        ctx.extra.update(check_line=own_check.line)
    else:
        expected = ctx.expected() if strategy.checks_closed_form else int(ctx.extra["expected"])
        correct = None if expected is None else result == expected
        ctx.extra.setdefault("check", "unchecked" if expected is None else "closed form")
    finished = RunFinished(
        run_id,
        result,
        expected,
        correct,
        ctx.wall_s,
        conductor_cpu + worker_cpu,
        t_ready - t_request,
        ctx.teardown_s,
        sum(row["probe_cpu_s"] for row in rows),
        dict(ctx.extra),
        time.perf_counter(),
    )
    reporter.end(finished, EXIT_OK, kill=True)
