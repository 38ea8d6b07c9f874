"""``multiprocessing.Pool`` and ``ThreadPool``: a pool, its workers, its calls, tasks and end.

Every call of a Pool, whatever the method (map, imap, imap_unordered, starmap, apply, their
``_async`` forms), puts one ``(tasks, set_length)`` on the pool's task queue in the calling
thread. The hooked pool's task queue (``TaskQueue``) sees that put: it finds the program's line
on the caller's stack and tells the ``call``, and it wraps the tasks, lazily (in the pool's task
handler thread, as the stdlib itself generates them), each function in a ``TracedTask``. Calls
of ``apply`` / ``apply_async`` from one line are one call (a loop of them is one entry, not
thousands).

Workers: ``Pool._repopulate_pool_static`` starts them (at the start, and again to replace a
worker that ended: ``maxtasksperchild``, or one that was killed); the hook hands them wrapped
result queue (and a thread worker its task queue: ``hook_tasks``) and marks them as this
pool's (``hook_process``). Thread workers are
told here, as the stdlib gives them no process to watch. The pool ends (``pool_end``) when the
program has closed and joined it, or when its finalizer runs (``terminate()``, the context
manager, the garbage collector, the interpreter's exit) before that finalizer stops its workers,
so a worker stopped by ``terminate`` is not mistaken for one that died under the pool.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from .hook_callsite import program_frame, trim_own_frame
from .hook_process import WorkerOwner
from .hook_registry import BY_WORKERS, Func, PoolTrace, local, wrap
from .hook_tasks import PoolResultQueue, PoolTaskQueue, TracedTask

_STD: dict[str, Any] = {}  # what the hooks compare with, from multiprocessing.pool
_REPOPULATE_ARGS = 10  # _repopulate_pool_static(ctx, Process, processes, pool, inqueue, ...)


def patch(module: Any) -> None:
    """Hook ``multiprocessing.pool`` (just imported)."""
    _STD["mapstar"] = module.mapstar
    _STD["starmapstar"] = module.starmapstar
    _STD["reraise"] = module._helper_reraises_exception
    _STD["ThreadPool"] = module.ThreadPool
    _STD["util"] = module.util
    pool = module.Pool
    wrap(pool, "__init__", _hook_init)
    wrap(pool, "_repopulate_pool_static", _hook_repopulate)
    wrap(pool, "_terminate_pool", _hook_terminate_pool)
    wrap(pool, "close", _hook_close)
    wrap(pool, "terminate", _hook_terminate)
    wrap(pool, "join", _hook_join)


def _hook_init(original: Func) -> Func:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        trace: PoolTrace | None = None
        with contextlib.suppress(Exception):
            threads = isinstance(self, _STD["ThreadPool"])
            trace = PoolTrace("ThreadPool" if threads else "Pool", threads)
        previous = getattr(local, "constructing", None)
        local.constructing = trace
        try:
            original(self, *args, **kwargs)
        except BaseException as exc:
            if trace is not None:
                trace.forget()
            trim_own_frame(exc)
            raise
        finally:
            local.constructing = previous
        if trace is not None:
            with contextlib.suppress(Exception):
                self._taskqueue = TaskQueue(self._taskqueue, trace)
                trace.open(int(self._processes))

    return __init__


def _hook_repopulate(original: Func) -> Func:
    def _repopulate_pool_static(*args: Any, **kwargs: Any) -> Any:
        trace = _trace_starting(args, kwargs)
        if trace is None:
            try:
                return original(*args, **kwargs)
            except BaseException as exc:
                trim_own_frame(exc)
                raise
        workers = args[3]
        given = list(args)
        if trace.threads:  # a process worker unwraps its tasks as it unpickles them
            given[4] = PoolTaskQueue(args[4], trace.key, trace.threads)
        given[5] = PoolResultQueue(args[5], trace.key, trace.threads)
        before = {id(worker) for worker in workers} if trace.threads else None
        previous = getattr(local, "owner", None)
        local.owner = WorkerOwner(trace)
        try:
            return original(*given)
        except BaseException as exc:
            trim_own_frame(exc)
            raise
        finally:
            local.owner = previous
            if before is not None:
                with contextlib.suppress(Exception):
                    for worker in workers:
                        if id(worker) not in before:
                            trace.worker_started(os.getpid(), worker.native_id)

    return _repopulate_pool_static


def _trace_starting(args: tuple[Any, ...], kwargs: dict[str, Any]) -> PoolTrace | None:
    """The trace of the pool whose workers these are (found by its list of workers; the pool
    being made in this thread claims the list it starts with)."""
    if len(args) != _REPOPULATE_ARGS or kwargs:
        return None
    workers = args[3]
    trace = BY_WORKERS.get(id(workers))
    if trace is None:
        constructing: PoolTrace | None = getattr(local, "constructing", None)
        if constructing is None or constructing.workers is not None:
            return None
        trace = constructing
        trace.workers = workers
        BY_WORKERS[id(workers)] = trace
    return None if trace.ended else trace


def _hook_terminate_pool(original: Func) -> Func:
    def _terminate_pool(cls: Any, *args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(Exception):
            workers = args[3] if len(args) > 3 else kwargs.get("pool")
            trace = BY_WORKERS.get(id(workers))
            if trace is not None:
                trace.end(_how(trace))
        try:
            return original(cls, *args, **kwargs)
        except BaseException as exc:
            trim_own_frame(exc)
            raise

    return _terminate_pool


def _how(trace: PoolTrace) -> str:
    if trace.terminated:
        return "terminate"
    if trace.closed:
        return "close"
    return "exit" if getattr(_STD["util"], "_exiting", False) else "gc"


def _trace_of(pool: Any) -> PoolTrace | None:
    queue = getattr(pool, "__dict__", {}).get("_taskqueue")
    return queue.trace if isinstance(queue, TaskQueue) else None


def _hook_close(original: Func) -> Func:
    def close(self: Any) -> Any:
        trace = _trace_of(self)
        if trace is not None:
            trace.closed = True
        try:
            return original(self)
        except BaseException as exc:
            trim_own_frame(exc)
            raise

    return close


def _hook_terminate(original: Func) -> Func:
    def terminate(self: Any) -> Any:
        trace = _trace_of(self)
        if trace is not None:
            trace.terminated = True
        try:
            return original(self)
        except BaseException as exc:
            trim_own_frame(exc)
            raise

    return terminate


def _hook_join(original: Func) -> Func:
    def join(self: Any) -> Any:
        try:
            result = original(self)
        except BaseException as exc:
            trim_own_frame(exc)
            raise
        trace = _trace_of(self)
        if trace is not None and trace.closed and not trace.terminated:
            trace.end("close")
        return result

    return join


class TaskQueue:
    """A Pool's task queue as the program's calls fill it: each call told, each task wrapped.

    The pool's own threads were handed the queue itself before this replaced it, so only the
    program's calls come through here; anything but ``put`` goes to the queue."""

    __slots__ = ("_queue", "trace")

    def __init__(self, queue: Any, trace: PoolTrace) -> None:
        self._queue = queue
        self.trace = trace

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._queue, name)

    def put(self, item: Any) -> None:
        """Put one call's ``(tasks, set_length)``, its call told and its tasks wrapped."""
        with contextlib.suppress(Exception):
            if not self.trace.ended:
                item = _traced_call(self.trace, item, sys._getframe(1))
        self._queue.put(item)


def _traced_call(trace: PoolTrace, item: Any, caller: Any) -> Any:
    """``item`` with its tasks wrapped, once the call is told. ``caller``: the stdlib's frame
    that put it (``_map_async``, ``imap``, ``apply_async``...)."""
    tasks, set_length = item
    frame, entry = program_frame()
    method = entry.f_code.co_name if entry is not None else caller.f_code.co_name
    if isinstance(tasks, list):  # apply / apply_async: one task
        call, index = trace.site_call(method, frame, "pool")
        wrapped = [
            (job, i, TracedTask(func, trace.key, call, index, 1), args, kwds)
            for job, i, func, args, kwds in tasks
        ]
        return (wrapped, set_length)
    call = trace.new_call(method, frame, _items(caller), "pool")
    return (_traced_tasks(tasks, trace.key, call), set_length)


def _items(caller: Any) -> int | None:
    """How many items the call was given, if its input has a length."""
    iterable = caller.f_locals.get("iterable")
    if iterable is None or not hasattr(iterable, "__len__"):
        return None
    return len(iterable)


def _traced_tasks(tasks: Any, pool: str, call: str) -> Iterator[Any]:
    """The call's tasks as the task handler takes them, each function in a ``TracedTask``
    (a chunk's items counted from the chunk: never one wrapper per item)."""
    mapstar, starmapstar, reraise = _STD["mapstar"], _STD["starmapstar"], _STD["reraise"]
    for task in tasks:
        traced = task
        try:
            job, i, func, args, kwds = task
            if func is not reraise:  # the input raised: the stdlib's own re-raiser goes as is
                chunked = func is mapstar or func is starmapstar
                items = len(args[0][1]) if chunked else 1
                traced = (job, i, TracedTask(func, pool, call, i, items), args, kwds)
        except Exception:  # noqa: BLE001 - "iterating taskseq cannot fail" (the task handler)
            traced = task
        yield traced
