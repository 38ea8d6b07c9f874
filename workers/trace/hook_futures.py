"""``concurrent.futures``: ``ProcessPoolExecutor`` and ``ThreadPoolExecutor``.

Both: the executor is told when made (``pool``) and when shut down (``pool_end``: ``shutdown``,
also through the context manager; ``gc`` if it was collected without one; ``exit`` if it was
still open at exit). Every task goes through ``submit``, which wraps its function in a
``TracedTask``: a ``submit`` from the program belongs to the call of that line (one call for a
loop of them), a task that ``map`` submits to ``map``'s own call (``ProcessPoolExecutor.map``
submits ``partial(_process_chunk, fn)`` per chunk: the chunk's length is its items).

``ProcessPoolExecutor``: its worker processes are started by ``_adjust_process_count``,
``_launch_processes`` or ``_spawn_process`` (which exist depends on the Python version); while
they run, a process started is the executor's worker, given its result queue wrapped.
``ThreadPoolExecutor``: its threads are told from inside (its ``_worker`` function), and each
task is timed around ``_WorkItem.run``, which catches everything the task raises.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import threading
import time
import weakref
from typing import Any

from .hook_callsite import program_frame, trim_own_frame
from .hook_process import WorkerOwner
from .hook_registry import BY_OWNER, MARK, Func, PoolTrace, local, wrap
from .hook_tasks import ExecutorResultQueue, TracedTask, finished, record_span, start

perf_counter = time.perf_counter
_STD: dict[str, Any] = {}  # what the hooks compare with, from concurrent.futures.process


def patch_process_executor(module: Any) -> None:
    """Hook ``concurrent.futures.process`` (just imported)."""
    _STD["process_chunk"] = module._process_chunk
    _STD["process_worker"] = module._process_worker
    cls = module.ProcessPoolExecutor
    wrap(cls, "__init__", _hook_init("ProcessPoolExecutor", threads=False))
    wrap(cls, "submit", _hook_submit)
    wrap(cls, "map", _hook_map)
    wrap(cls, "shutdown", _hook_shutdown)
    for name in ("_adjust_process_count", "_launch_processes", "_spawn_process"):
        if name in cls.__dict__:
            wrap(cls, name, _hook_spawning)


def patch_thread_executor(module: Any) -> None:
    """Hook ``concurrent.futures.thread`` (just imported)."""
    cls = module.ThreadPoolExecutor
    wrap(cls, "__init__", _hook_init("ThreadPoolExecutor", threads=True))
    wrap(cls, "submit", _hook_submit)
    wrap(cls, "map", _hook_map)
    wrap(cls, "shutdown", _hook_shutdown)
    wrap(module._WorkItem, "run", _hook_run)
    worker = getattr(module, "_worker", None)
    if callable(worker) and getattr(worker, MARK, None) is None:
        module._worker = _hook_thread_worker(worker)


def _hook_init(kind: str, threads: bool) -> Any:
    def make(original: Func) -> Func:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            trace: PoolTrace | None = None
            with contextlib.suppress(Exception):
                trace = PoolTrace(kind, threads)
            try:
                original(self, *args, **kwargs)
            except BaseException as exc:
                trim_own_frame(exc)
                raise
            if trace is not None:
                with contextlib.suppress(Exception):
                    BY_OWNER[id(self)] = trace
                    weakref.finalize(self, trace.end, "gc").atexit = False
                    trace.open(int(self._max_workers))

        return __init__

    return make


def _trace_of(executor: Any) -> PoolTrace | None:
    trace = BY_OWNER.get(id(executor))
    return None if trace is None or trace.ended else trace


def _hook_submit(original: Func) -> Func:
    def submit(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        trace = _trace_of(self)
        if trace is not None:
            with contextlib.suppress(Exception):
                fn = _task(trace, fn, args)
        try:
            return original(self, fn, *args, **kwargs)
        except BaseException as exc:
            trim_own_frame(exc)
            raise

    return submit


def _task(trace: PoolTrace, fn: Any, args: tuple[Any, ...]) -> TracedTask:
    """``fn`` wrapped for one submit: a task of ``map``'s call, or of the submit's line."""
    mapping = getattr(local, "map_call", None)
    if mapping is not None and mapping[0] is trace:
        call, index = mapping[1], next(mapping[2])
        chunk = isinstance(fn, functools.partial) and fn.func is _STD.get("process_chunk")
        items = len(args[0]) if chunk else 1
    else:
        frame, _ = program_frame()
        call, index = trace.site_call("submit", frame, "executor")
        items = 1
    return TracedTask(fn, trace.key, call, index, items)


def _hook_map(original: Func) -> Func:
    def map(self: Any, fn: Any, *iterables: Any, **kwargs: Any) -> Any:
        trace = _trace_of(self)
        previous = getattr(local, "map_call", None)
        if trace is not None:
            with contextlib.suppress(Exception):
                frame, _ = program_frame()
                call = trace.new_call("map", frame, _common_length(iterables), "executor")
                local.map_call = (trace, call, itertools.count())
        try:
            return original(self, fn, *iterables, **kwargs)
        except BaseException as exc:
            trim_own_frame(exc)
            raise
        finally:
            local.map_call = previous

    return map


def _common_length(iterables: tuple[Any, ...]) -> int | None:
    """How many items ``map`` will make of ``iterables`` (zip's: the shortest), if known."""
    if not iterables or not all(hasattr(it, "__len__") for it in iterables):
        return None
    return min(len(it) for it in iterables)


def _hook_shutdown(original: Func) -> Func:
    def shutdown(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            trim_own_frame(exc)
            raise
        trace = _trace_of(self)
        if trace is not None:
            trace.end("shutdown")
        return result

    return shutdown


def _hook_spawning(original: Func) -> Func:
    def spawning(self: Any, *args: Any, **kwargs: Any) -> Any:
        trace = BY_OWNER.get(id(self))
        previous = getattr(local, "owner", None)
        if trace is not None:
            local.owner = WorkerOwner(trace, _queues_for(trace))
        try:
            return original(self, *args, **kwargs)
        except BaseException as exc:
            trim_own_frame(exc)
            raise
        finally:
            local.owner = previous

    return spawning


def _queues_for(trace: PoolTrace) -> Any:
    def prepare(process: Any) -> None:
        """Hand a starting worker its result queue wrapped."""
        args: tuple[Any, ...] = getattr(process, "_args", ())
        if getattr(process, "_target", None) is _STD.get("process_worker") and len(args) >= 2:
            result_queue = ExecutorResultQueue(args[1], trace.key, False)
            process._args = (args[0], result_queue, *args[2:])

    return prepare


def _hook_run(original: Func) -> Func:
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        carrier = getattr(self, "fn", None)
        if type(carrier) is not TracedTask:
            return original(self, *args, **kwargs)
        self.fn = start(carrier)
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            trim_own_frame(exc)
            raise
        t1 = perf_counter()
        with contextlib.suppress(Exception):
            running = finished()
            future = self.future
            if running is not None and not future.cancelled():
                ok = getattr(future, "_exception", None) is None
                record_span(running[0], running[1], t1, ok, threading.get_native_id())
        return result

    return run


def _hook_thread_worker(original: Func) -> Func:
    """``concurrent.futures.thread._worker``, the body of every executor thread: tells the
    thread's start and end (it catches everything itself, so its tracebacks stay its own)."""

    @functools.wraps(original)
    def _worker(executor_reference: Any, *args: Any, **kwargs: Any) -> Any:
        trace = None
        with contextlib.suppress(Exception):
            executor = executor_reference()
            trace = BY_OWNER.get(id(executor)) if executor is not None else None
            del executor
            if trace is not None:
                trace.worker_started(os.getpid(), threading.get_native_id())
        try:
            return original(executor_reference, *args, **kwargs)
        finally:
            if trace is not None:
                trace.worker_exited(os.getpid(), threading.get_native_id(), None)

    setattr(_worker, MARK, original)
    return _worker
