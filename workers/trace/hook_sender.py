"""A traced process's packets on their way to the recorder: buffered, never blocking, silent.

Each process of the traced program has one ``Sender`` (``SENDER``; None when
``$MPSCOPE_TRACE_SOCKET`` is unset, and then ``emit`` does nothing). ``emit`` only appends to a
buffer; the buffer goes out every tick (``$MPSCOPE_TRACE_TICK_S``) from a daemon thread, at
once for an ``urgent`` packet (a pool or a call, which must reach the recorder before the spans
that name it), and at the process's exit. The connection is made on the first flush, with
``hello`` (and the key) as its first line.

Nothing here may disturb the program: a recorder that cannot be reached, or that hangs up,
turns sending off in that process for good; a socket that is full keeps what it could not take
for the next flush, and past ``MAX_PENDING_BYTES`` new packets are dropped (and counted), so the
program never waits on mpscope longer than a non-blocking ``send``. At exit the sender waits at
most ``EXIT_BUDGET_S`` for the recorder to take the rest.

The flusher thread runs only in a process that has other threads anyway (a pool's process, a
pool's worker), so mpscope never makes a single-threaded program multi-threaded when it forks
(Python 3.12 warns about forking a multi-threaded process); elsewhere a flush happens at
``emit``. After a fork, the child starts afresh: empty buffer, its own connection, no thread.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .packets import DEFAULT_TICK_S, KEY_ENV, SOCKET_ENV, TICK_ENV, encode

if TYPE_CHECKING:
    from .packets import Packet

MAX_PENDING_BYTES = 8 << 20  # bytes the socket could not take yet; beyond: drop new packets
CONNECT_TIMEOUT_S = 0.05
EXIT_BUDGET_S = 0.25  # how long a process's last flush may wait for the recorder to read
IDLE_BUDGET_S = 0.005  # how long an idle worker's flush may wait
LINGER_S = 0.002  # a span wakes the flusher thread, which gathers this long, then sends
FINAL_PRIORITY = -1000  # multiprocessing's exit finalizers: ours runs after every other one

perf_counter = time.perf_counter
# one packet as a line, exactly as ``packets.encode`` writes it (an encoder made once: cheaper)
_to_json = json.JSONEncoder(separators=(",", ":")).encode


def tick_from_env(value: str | None) -> float:
    """The tick ``$MPSCOPE_TRACE_TICK_S`` asks for, or the default for a missing or bad one."""
    try:
        tick = float(value) if value else DEFAULT_TICK_S
    except ValueError:
        return DEFAULT_TICK_S
    return tick if 0.001 <= tick <= 60.0 else DEFAULT_TICK_S


class Sender:
    """The packets of one process (re-made in a forked child), sent to the recorder's socket."""

    def __init__(self, path: str, key: str, tick_s: float) -> None:
        self.path = path
        self.key = key
        self.tick_s = tick_s
        # True in a pool's or executor's worker: the flusher thread may run there at once
        self.worker = False
        # called (once, newest first) just before the last flush at exit: pools still open end
        self.exit_hooks: list[Callable[[], None]] = []
        self.reset()

    def reset(self) -> None:
        """Start afresh in this process: a forked child must not send its parent's packets
        through its parent's connection (closed here, in the child only)."""
        old = getattr(self, "_sock", None)
        if old is not None:
            with contextlib.suppress(OSError):
                old.close()
        self.pid = os.getpid()
        self.dropped = 0  # packets dropped because the recorder did not keep up
        self.sent = 0  # packets handed to the socket
        self._lock = threading.RLock()  # the buffer and the thread (RLock: a gc callback may emit)
        self._send_lock = threading.Lock()  # one writer on the socket at a time
        self._buffer: list[bytes] = []  # packets, each already a line
        self._pending = bytearray()
        self._sock: socket.socket | None = None
        self._dead = False
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stop = False
        self._exit_registered = False
        self._exited = False

    @property
    def dead(self) -> bool:
        """True once sending is off in this process (no recorder, or it went away)."""
        return self._dead

    # -- the program's side: appending --------------------------------------------------------

    def emit(self, packet: Packet, urgent: bool = False) -> None:
        """Queue ``packet``; ``urgent`` sends it (and all before it) now."""
        if self._dead:
            return
        try:
            line = _to_json(packet).encode() + b"\n"
        except (TypeError, ValueError):  # not JSON: never sent, never raised
            return
        self.emit_line(line, urgent)

    def emit_line(self, line: bytes, urgent: bool = False, soon: bool = False) -> None:
        """Queue one packet already made into its line (``span``s are, cheaply). ``soon``:
        have the flusher thread send it within ``LINGER_S`` rather than at its next tick."""
        if self._dead:
            return
        with self._lock:
            self._buffer.append(line)
            threaded = self._thread is not None
        if not self._exit_registered:
            self._register_exit()
        if not threaded and self._may_thread():
            threaded = self._start_thread()
        if urgent or not threaded:
            self.flush(lock_s=IDLE_BUDGET_S if urgent else 0.0)
        elif soon and not self._wake.is_set():
            self._wake.set()

    def _may_thread(self) -> bool:
        return not self._exited and (self.worker or threading.active_count() > 1)

    def _start_thread(self) -> bool:
        thread = threading.Thread(target=self._run, name="mpscope-trace-sender", daemon=True)
        with self._lock:
            if self._thread is not None:
                return True
            self._thread = thread
        try:
            thread.start()
        except RuntimeError:  # the interpreter is shutting down: flush at emit instead
            with self._lock:
                self._thread = None
            return False
        return True

    def _run(self) -> None:
        me = threading.current_thread()
        while True:
            if self._wake.wait(self.tick_s):
                self._wake.clear()
                if not self._stop:
                    time.sleep(LINGER_S)  # let the packets that come with it gather
            self.flush()
            # alone with the main thread (its pools are gone): stop, and flush at emit again,
            # so a later fork does not see a thread that only mpscope made
            lonely = not self.worker and threading.active_count() <= 2
            with self._lock:
                if self._thread is not me:
                    return
                if (self._stop or lonely) and not self._buffer:
                    self._thread = None
                    return

    def before_fork(self) -> None:
        """The program is about to fork: stop the flusher thread if it is the only thread
        besides the main one, so the fork sees the process as the program left it."""
        thread = self._thread
        if thread is None or self.worker or threading.active_count() > 2:
            return
        if thread is threading.current_thread():
            return
        self._stop = True
        self._wake.set()
        thread.join(0.5)
        self._stop = False

    # -- the socket's side ---------------------------------------------------------------------

    def flush(self, budget_s: float = 0.0, lock_s: float | None = None) -> None:
        """Send what is buffered, waiting at most ``budget_s`` for a full socket (0: never:
        what it cannot take waits for the next flush) and ``lock_s`` (default ``budget_s``)
        for another thread's send to finish (0: leave the packets to that one)."""
        wait = budget_s if lock_s is None else lock_s
        if wait > 0:
            got = self._send_lock.acquire(timeout=wait)
        else:
            got = self._send_lock.acquire(blocking=False)
        if not got:
            return
        try:
            self._flush_locked(budget_s)
        except Exception:  # noqa: BLE001 - mpscope's own trouble must never reach the program
            self._die()
        finally:
            self._send_lock.release()

    def _flush_locked(self, budget_s: float) -> None:
        with self._lock:
            lines, self._buffer = self._buffer, []
        if self._dead or (self._sock is None and not lines):
            return  # nothing to say: no connection made for it
        if self._sock is None and not self._connect():
            return
        if lines:
            if len(self._pending) > MAX_PENDING_BYTES:
                self.dropped += len(lines)
            else:
                self._pending += b"".join(lines)
                self.sent += len(lines)
        deadline = time.monotonic() + budget_s if budget_s > 0 else None
        self._send_pending(deadline)

    def _connect(self) -> bool:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(CONNECT_TIMEOUT_S)
            sock.connect(self.path)
            sock.setblocking(False)
        except OSError:
            sock.close()
            self._die()
            return False
        self._sock = sock
        self._pending += encode([self._hello()])
        return True

    def _hello(self) -> Packet:
        argv = getattr(sys, "argv", None) or []
        return {
            "k": "hello",
            "pid": self.pid,
            "t": perf_counter(),
            "key": self.key,
            "ppid": os.getppid(),
            "argv": [str(arg) for arg in argv],
            "python": "{}.{}.{}".format(*sys.version_info[:3]),
            "start_method": _start_method(),
        }

    def _send_pending(self, deadline: float | None) -> None:
        sock = self._sock
        while self._pending and sock is not None:
            try:
                sent = sock.send(self._pending, socket.MSG_NOSIGNAL)
            except BlockingIOError:
                left = None if deadline is None else deadline - time.monotonic()
                if left is None or left <= 0:
                    return  # full: the rest waits for the next flush
                select.select([], [sock], [], left)
                continue
            except InterruptedError:
                continue
            except OSError:  # the recorder hung up or went away: stop sending, silently
                self._die()
                return
            del self._pending[:sent]

    def _die(self) -> None:
        self._dead = True
        with self._lock:
            self._buffer = []
        self._pending = bytearray()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def close(self) -> None:
        """Send what is buffered (briefly), stop the flusher thread, hang up; sending is off."""
        self.flush(IDLE_BUDGET_S)
        self._stop = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)
        self._die()

    # -- exit ----------------------------------------------------------------------------------

    def _register_exit(self) -> None:
        """At this process's exit, flush last: in a multiprocessing child (which ends with
        ``os._exit``) as multiprocessing's last finalizer; elsewhere ``hooks`` does it at exit."""
        self._exit_registered = True
        util = sys.modules.get("multiprocessing.util")
        if util is None:
            return
        with contextlib.suppress(Exception):
            util.Finalize(None, self.at_exit, exitpriority=FINAL_PRIORITY)

    def at_exit(self) -> None:
        """The process is ending: run the exit hooks (pools still open end), send the rest."""
        if self.pid != os.getpid():
            return
        self._exited = True
        hooks, self.exit_hooks = self.exit_hooks, []
        for hook in reversed(hooks):
            with contextlib.suppress(Exception):
                hook()
        self.flush(EXIT_BUDGET_S)


def _start_method() -> str | None:
    """This process's multiprocessing start method, without fixing it (None: no
    multiprocessing here yet)."""
    context = sys.modules.get("multiprocessing.context")
    if context is None:
        return None
    try:
        default = context._default_context
        method: str | None = default.get_start_method(allow_none=True)
        if method is None:
            method = default._default_context.get_start_method()
    except Exception:  # noqa: BLE001 - another Python's internals: say nothing
        return None
    return method


def _from_env() -> Sender | None:
    path = os.environ.get(SOCKET_ENV)
    if not path:
        return None
    return Sender(path, os.environ.get(KEY_ENV, ""), tick_from_env(os.environ.get(TICK_ENV)))


SENDER = _from_env()
if SENDER is not None and hasattr(os, "register_at_fork"):
    os.register_at_fork(before=SENDER.before_fork, after_in_child=SENDER.reset)


def emit(
    kind: str, fields: dict[str, object], t: float | None = None, urgent: bool = False
) -> None:
    """Queue one packet of ``kind`` with ``fields`` (``pid`` and ``t`` are added)."""
    sender = SENDER
    if sender is None:
        return
    packet: Packet = {"k": kind, "pid": sender.pid, "t": perf_counter() if t is None else t}
    packet.update(fields)
    sender.emit(packet, urgent)


def at_exit() -> None:
    """This process is exiting: end what is open and send the rest (idempotent)."""
    if SENDER is not None:
        SENDER.at_exit()


def flush_now() -> None:
    """Send what is buffered now (without waiting): a pool's first packets, for one."""
    if SENDER is not None:
        SENDER.flush()
