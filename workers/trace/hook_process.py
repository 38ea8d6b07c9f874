"""Processes: a plain ``multiprocessing.Process``'s life (``proc`` and ``proc_end``), and the
start and end of every process a pool or executor starts as its worker.

``BaseProcess.start`` is hooked. A process started while a pool hook says that this thread is
starting that pool's workers (``hook_registry.local.owner``) is that pool's worker (``worker``;
the pool may first hand it wrapped queues); any other is the program's own (``proc``, labelled
with the program's line that started it and its target). Its end is seen when the program (or
the pool) first learns its exit code: the ``poll`` of its ``Popen`` is watched, so the exit
code is exactly the one the program gets (negative: killed by that signal), and nothing is
reaped behind the program's back.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable
from typing import Any

from . import hook_sender
from .hook_callsite import program_frame, short_place, trim_own_frame, where
from .hook_registry import Func, PoolTrace, local, wrap

_BASE_RUN: list[Any] = [None]  # BaseProcess.run: a subclass that overrides it is named


def patch(module: Any) -> None:
    """Hook ``multiprocessing.process`` (just imported)."""
    _BASE_RUN[0] = module.BaseProcess.run
    wrap(module.BaseProcess, "start", _hook_start)


class WorkerOwner:
    """Set as ``local.owner`` while a pool's hook starts that pool's worker processes: each
    one is handed to ``prepare`` before it starts (to wrap its queues), told as a ``worker``
    once started, and its end as ``worker_exit``."""

    __slots__ = ("prepare", "trace")

    def __init__(self, trace: PoolTrace, prepare: Callable[[Any], None] | None = None) -> None:
        self.trace = trace
        self.prepare = prepare

    def adopt(self, process: Any) -> Callable[[Any], None]:
        """``process`` is about to start as a worker; what to do once it has."""
        if self.prepare is not None:
            self.prepare(process)
        return self._started

    def _started(self, process: Any) -> None:
        trace, pid = self.trace, process.pid
        trace.worker_started(pid, None)
        watch_exit(process, lambda exitcode: trace.worker_exited(pid, None, exitcode))


def _hook_start(original: Func) -> Func:
    def start(self: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(local, "owner", None)
        told: Callable[[Any], None] | None = None
        try:
            told = _program_process(self) if owner is None else owner.adopt(self)
        except Exception:  # noqa: BLE001 - the process starts, watched or not
            told = None
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            trim_own_frame(exc)
            raise
        if told is not None:
            with contextlib.suppress(Exception):
                told(self)
        return result

    return start


def _program_process(process: Any) -> Callable[[Any], None]:
    """Before the program's own process starts: its label; after: ``proc``, and its end."""
    file, line = where(program_frame()[0])
    label = f"{short_place(file, line)} {_what(process)}"

    def started(process: Any) -> None:
        pid = process.pid
        fields: dict[str, object] = {"child_pid": pid, "label": label, "pool": None}
        hook_sender.emit("proc", fields)

        def ended(exitcode: int) -> None:
            hook_sender.emit("proc_end", {"child_pid": pid, "exitcode": exitcode})

        watch_exit(process, ended)

    return started


def _what(process: Any) -> str:
    """``Process(target=load)``, or ``Loader()`` for a subclass with its own ``run``."""
    target = getattr(process, "_target", None)
    if target is None:
        cls = type(process)
        if getattr(cls, "run", None) is not _BASE_RUN[0]:
            return f"{cls.__name__}()"
        return "Process()"
    name = (
        getattr(target, "__qualname__", None)
        or getattr(target, "__name__", None)
        or type(target).__name__
    )
    return f"Process(target={name})"


class _ExitWatch:
    """A started process's ``Popen.poll``, which tells ``on_exit`` the exit code the first
    time it is known (holding the Popen weakly: no reference cycle keeps its pipes open)."""

    __slots__ = ("_on_exit", "_poll", "_popen", "_told")

    def __init__(self, popen: Any, on_exit: Callable[[int], None]) -> None:
        self._popen = weakref.ref(popen)
        self._poll = type(popen).poll
        self._on_exit = on_exit
        self._told = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        popen = self._popen()
        try:
            code = self._poll(popen, *args, **kwargs)
        except BaseException as exc:
            trim_own_frame(exc)
            raise
        if code is not None and not self._told:
            self._told = True
            with contextlib.suppress(Exception):
                self._on_exit(code)
        return code


def watch_exit(process: Any, on_exit: Callable[[int], None]) -> None:
    """Call ``on_exit(exitcode)`` when the program first learns ``process``'s exit code."""
    popen = getattr(process, "_popen", None)
    if popen is not None and callable(getattr(type(popen), "poll", None)):
        popen.poll = _ExitWatch(popen, on_exit)
