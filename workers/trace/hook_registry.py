"""The pools one process is tracing: their keys and packets, how the hooks find them, and how
a hook is put on a standard-library method.

A ``PoolTrace`` is one pool or executor made in this process. It says ``pool`` once the pool
exists (``open``; workers started before that are told right after it, so the recorder always
hears of a pool before anything in it), ``call`` for each call of it, ``worker`` and
``worker_exit`` for its workers, and ``pool_end`` once (``end``). It never holds the pool itself,
so a pool left to the garbage collector is still collected.

Keys are ``"<pid>:<n>"``, one counter for pools and calls, unique in the whole trace. A forked
child forgets its parent's pools (they are not its own) and starts its own.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from . import hook_sender
from .hook_callsite import call_text, program_frame, short_place, where

perf_counter = time.perf_counter

# per thread: ``owner`` (the trace whose workers this thread is starting), ``constructing``
# (the Pool being made), ``map_call`` (the executor map being submitted)
local = threading.local()
OPEN: dict[str, PoolTrace] = {}  # pools not ended yet, by key: they end as "exit" at exit
BY_WORKERS: dict[int, PoolTrace] = {}  # a Pool's trace, by id() of its list of workers
BY_OWNER: dict[int, PoolTrace] = {}  # an executor's trace, by id() of the executor
_numbers = itertools.count(1)

MARK = "__mpscope_wraps__"  # on a hook: the standard-library function it wraps
Func = Callable[..., Any]


def new_key() -> str:
    """A key no other pool or call of the trace has: ``"<pid>:<n>"``."""
    return f"{os.getpid()}:{next(_numbers)}"


class PoolTrace:
    """One pool or executor of this process, and the packets that tell its story."""

    def __init__(self, kind: str, threads: bool) -> None:
        self.key = new_key()
        self.kind = kind
        self.threads = threads  # its workers are threads of this process
        self.t = perf_counter()
        self.tid = threading.get_native_id()
        self.file, self.line = where(program_frame()[0])
        self.size = 0
        self.opened = False
        self.ended = False
        self.closed = False  # close() was called
        self.terminated = False  # terminate() was called
        # a Pool's own list of workers (kept, as its id() is the key that finds this trace)
        self.workers: list[Any] | None = None
        self._waiting: list[tuple[str, dict[str, object], float]] = []
        self._sites: dict[tuple[str, int, str], list[Any]] = {}
        self._lock = threading.Lock()

    @property
    def label(self) -> str:
        """``etl.py:42 Pool(4)``: the program's line that made it, what, and its size."""
        return f"{short_place(self.file, self.line)} {self.kind}({self.size})"

    def open(self, size: int) -> None:
        """The pool exists, with ``size`` workers: tell it, then the workers it started."""
        if self.opened:
            return
        self.size = size
        self.opened = True
        OPEN[self.key] = self
        fields: dict[str, object] = {
            "pool": self.key,
            "kind": self.kind,
            "workers": size,
            "label": self.label,
            "file": self.file,
            "line": self.line,
            "tid": self.tid,
        }
        hook_sender.emit("pool", fields, t=self.t)
        waiting, self._waiting = self._waiting, []
        for kind, more, t in waiting:
            hook_sender.emit(kind, more, t=t)
        hook_sender.flush_now()

    def worker_started(self, worker_pid: int, tid: int | None) -> None:
        """A worker started: a process (``tid`` None) or a thread of this process."""
        fields: dict[str, object] = {"pool": self.key, "worker_pid": worker_pid, "tid": tid}
        if self.opened:
            hook_sender.emit("worker", fields)
        else:
            self._waiting.append(("worker", fields, perf_counter()))

    def worker_exited(self, worker_pid: int, tid: int | None, exitcode: int | None) -> None:
        """A worker ended (``exitcode``: negative if a signal killed it; None for a thread)."""
        if not self.opened:
            return  # the pool never came to be (its __init__ raised): nothing was told
        fields = {"pool": self.key, "worker_pid": worker_pid, "tid": tid, "exitcode": exitcode}
        hook_sender.emit("worker_exit", fields)

    def end(self, how: str) -> None:
        """The pool is over (``how``: close, terminate, shutdown, exit, gc); told once."""
        if self.ended:
            return
        self.ended = True
        self.forget()
        if self.opened:
            hook_sender.emit("pool_end", {"pool": self.key, "how": how})

    def forget(self) -> None:
        """Let go of every registry entry that leads to this trace."""
        OPEN.pop(self.key, None)
        for registry in (BY_WORKERS, BY_OWNER):
            for ident in [i for i, trace in registry.items() if trace is self]:
                del registry[ident]
        self.workers = None

    def new_call(self, method: str, frame: Any, items: int | None, receiver: str) -> str:
        """Tell a new call of ``method`` made on ``frame``'s line; its key."""
        file, line = where(frame)
        key = new_key()
        text = call_text(file, line, method, f"{receiver}.{method}(...)")
        fields: dict[str, object] = {
            "pool": self.key,
            "call": key,
            "method": method,
            "label": f"{short_place(file, line)} {text}",
            "file": file,
            "line": line,
            "tid": threading.get_native_id(),
            "items": items,
        }
        hook_sender.emit("call", fields, urgent=True)
        return key

    def site_call(self, method: str, frame: Any, receiver: str) -> tuple[str, int]:
        """(call key, task index) for one ``submit`` / ``apply`` / ``apply_async``: the calls
        of one method from one line of the program are one call, their tasks numbered."""
        site = (*where(frame), method)
        with self._lock:
            entry = self._sites.get(site)
            if entry is None:
                entry = self._sites[site] = [self.new_call(method, frame, None, receiver), 0]
            index = entry[1]
            entry[1] = index + 1
        return entry[0], index


def end_all(how: str) -> None:
    """End every pool still open (at exit)."""
    for trace in list(OPEN.values()):
        trace.end(how)


def _forget_all_in_child() -> None:
    OPEN.clear()
    BY_WORKERS.clear()
    BY_OWNER.clear()
    local.__dict__.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_all_in_child)
if hook_sender.SENDER is not None:
    hook_sender.SENDER.exit_hooks.append(lambda: end_all("exit"))


# -- putting hooks on the standard library --------------------------------------------------


def wrap(cls: type, name: str, make: Callable[[Func], Func]) -> bool:
    """Replace ``cls.name`` (a method, staticmethod or classmethod, or a method ``cls``
    inherits) by ``make(original)``, keeping its name, docstring and signature. Once only:
    False if it is already hooked or missing."""
    raw = cls.__dict__.get(name)
    if raw is None:
        raw = getattr(cls, name, None)
        if raw is None or isinstance(raw, (staticmethod, classmethod)):
            return False
    original = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
    if getattr(original, MARK, None) is not None:
        return False
    hook = make(original)
    functools.update_wrapper(hook, original)
    setattr(hook, MARK, original)
    new: Any = hook
    if isinstance(raw, staticmethod):
        new = staticmethod(hook)
    elif isinstance(raw, classmethod):
        new = classmethod(hook)
    setattr(cls, name, new)
    return True
