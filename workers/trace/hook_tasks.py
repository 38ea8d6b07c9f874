"""A traced pool's tasks: what a task carries to its worker, and how the worker times it.

The program's side wraps each task's function, once per task and never per item, in a
``TracedTask``: the function plus the keys of its pool and call, its index in the call and how
many items it holds.

The worker never calls the user's function through mpscope, so its exceptions, tracebacks
and results are exactly the program's own:

* A process worker (``Pool``, ``ProcessPoolExecutor``) unpickles a ``TracedTask`` as the user's
  function itself: unpickling it (``_arrive``) notes the task's start and hands back the
  function, which the worker then calls as it always does.
* A thread worker (``ThreadPool``) gets tasks without pickling: its task queue is handed to it
  wrapped (``PoolTaskQueue``), which unwraps each function as the worker takes it.
  ``ThreadPoolExecutor`` unwraps around ``_WorkItem.run`` (``hook_futures``).
* The worker's result queue, wrapped (``PoolResultQueue``, ``ExecutorResultQueue``), ends the
  task's ``span`` as the worker hands its result back.

A ``TracedTask`` that reaches a worker none of this watches still runs, timing itself.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from . import hook_sender
from .hook_callsite import trim_own_frame

perf_counter = time.perf_counter
# per worker thread: ``task``, the task it runs: ((pool, call, index, items), its start)
_running = threading.local()
if hasattr(os, "register_at_fork"):  # a forked child runs none of its parent's tasks
    os.register_at_fork(after_in_child=_running.__dict__.clear)


class TracedTask:
    """A task's function and the call it belongs to (see the module's docstring)."""

    __slots__ = ("call", "func", "index", "items", "pool")

    def __init__(self, func: Any, pool: str, call: str, index: int, items: int) -> None:
        self.func = func
        self.pool = pool
        self.call = call
        self.index = index
        self.items = items

    def __reduce__(self) -> tuple[Any, ...]:
        return (_arrive, (self.func, self.pool, self.call, self.index, self.items))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the function where nothing unwrapped it: timed here instead."""
        t0 = perf_counter()
        tid = _thread_tid()
        try:
            result = self.func(*args, **kwargs)
        except BaseException as exc:
            record_span(self.about(), t0, perf_counter(), False, tid)
            trim_own_frame(exc)
            raise
        record_span(self.about(), t0, perf_counter(), True, tid)
        return result

    def about(self) -> tuple[str, str, int, int]:
        """(pool, call, index, items): what its span says."""
        return (self.pool, self.call, self.index, self.items)


def _arrive(func: Any, pool: str, call: str, index: int, items: int) -> Any:
    """A task arrives in a process worker (this is how a ``TracedTask`` unpickles): note its
    start, and be the user's own function."""
    _running.task = ((pool, call, index, items), perf_counter())
    sender = hook_sender.SENDER
    if sender is not None:
        sender.worker = True
    return func


def start(task: TracedTask) -> Any:
    """A thread worker takes ``task``: note its start; the user's own function."""
    _running.task = (task.about(), perf_counter())
    return task.func


def finished() -> tuple[tuple[str, str, int, int], float] | None:
    """The task this thread was running (what its span says, its start), now over."""
    running: tuple[tuple[str, str, int, int], float] | None = getattr(_running, "task", None)
    _running.task = None
    return running


def record_span(
    about: tuple[str, str, int, int], t0: float, t1: float, ok: bool, tid: int | None
) -> None:
    """One finished task: its ``span`` (``tid`` None for a process worker), made into its
    line directly (a few microseconds per task, the only packet sent per task)."""
    sender = hook_sender.SENDER
    if sender is None:
        return
    pool, call, index, items = about
    end = repr(t1)
    line = (
        f'{{"k":"span","pid":{sender.pid},"t":{end},"pool":{_quoted(pool)},'
        f'"call":{_quoted(call)},"tid":{"null" if tid is None else int(tid)},'
        f'"t0":{t0!r},"t1":{end},"items":{int(items)},"index":{int(index)},'
        f'"ok":{"true" if ok else "false"}}}\n'
    )
    sender.emit_line(line.encode(), soon=True)


_quoted_keys: dict[str, str] = {}


def _quoted(key: str) -> str:
    """``key`` as a JSON string (keys repeat: each is quoted once)."""
    quoted = _quoted_keys.get(key)
    if quoted is None:
        quoted = _quoted_keys[key] = json.dumps(str(key))
    return quoted


def _thread_tid() -> int | None:
    if threading.current_thread() is threading.main_thread():
        return None
    return threading.get_native_id()


class _Wrapped:
    """A queue as a worker sees it: anything but ``get`` / ``put`` goes to the queue itself
    (``worker()`` closes the ends it does not use); pickles as the queue plus its settings."""

    __slots__ = ("_pool", "_queue", "_threads")

    def __init__(self, queue: Any, pool: str, threads: bool) -> None:
        self._queue = queue
        self._pool = pool
        self._threads = threads

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._queue, self._pool, self._threads))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._queue, name)


class PoolTaskQueue(_Wrapped):
    """A ThreadPool's task queue as its threads read it: tasks with the user's own function,
    and the thread's end when it takes the stop sentinel."""

    __slots__ = ()

    def get(self, *args: Any, **kwargs: Any) -> Any:
        """The next task (its function unwrapped, its start noted), or the stop sentinel."""
        try:
            task = self._queue.get(*args, **kwargs)
        except BaseException as exc:
            self._thread_ends()
            trim_own_frame(exc)
            raise
        if task is None:
            self._thread_ends()
        elif type(task) is tuple and len(task) == 5 and type(task[2]) is TracedTask:
            return (task[0], task[1], start(task[2]), task[3], task[4])
        return task

    def _thread_ends(self) -> None:
        fields: dict[str, object] = {
            "pool": self._pool,
            "worker_pid": os.getpid(),
            "tid": threading.get_native_id(),
            "exitcode": None,
        }
        hook_sender.emit("worker_exit", fields)


class _ResultQueue(_Wrapped):
    """A worker's result queue: handing a task's result on ends the task's span.

    The span is recorded just before the result goes (its ``ok``: the function did not raise)
    and, in a worker process, sent before it too: the pool may stop the worker (``terminate``
    sends SIGTERM) as soon as the program has its results, and ``Pool.map`` returns, or raises
    at a failure, while other workers' spans may still wait for their flusher threads. A span
    sent before its result is never lost that way (one send per task; a thread pool's workers
    are not killed, and leave theirs to the flusher thread)."""

    __slots__ = ()

    def put(self, obj: Any) -> None:
        """Record the running task's span (if one runs), then hand ``obj`` on."""
        sender = hook_sender.SENDER
        running = getattr(_running, "task", None)
        if running is not None:
            try:
                ok = self._ok(obj)
            except Exception:  # noqa: BLE001 - not a task's result: nothing ended
                ok = None
            if ok is not None:
                _running.task = None
                tid = threading.get_native_id() if self._threads else None
                record_span(running[0], running[1], perf_counter(), ok, tid)
                if sender is not None and not self._threads:
                    sender.flush(hook_sender.IDLE_BUDGET_S)
        try:
            self._queue.put(obj)
        except BaseException as exc:  # the result did not pickle: the worker sends an error
            trim_own_frame(exc)
            raise

    @staticmethod
    def _ok(obj: Any) -> bool:
        raise NotImplementedError


class PoolResultQueue(_ResultQueue):
    """A Pool's result queue as its worker writes it: ``(job, i, (ok, value))``."""

    __slots__ = ()

    @staticmethod
    def _ok(obj: Any) -> bool:
        return bool(obj[2][0])


class ExecutorResultQueue(_ResultQueue):
    """A ProcessPoolExecutor's result queue as its worker writes it: ``_ResultItem``s (and the
    worker's pid as it stops, which ends no task)."""

    __slots__ = ()

    @staticmethod
    def _ok(obj: Any) -> bool:
        if not hasattr(obj, "work_id"):
            raise TypeError("not a result")  # nothing ended: the running task stays open
        return getattr(obj, "exception", None) is None
