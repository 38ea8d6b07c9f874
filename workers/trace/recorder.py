"""The recorder: gathers a traced program's packets on a private Unix socket, on one thread.

Every Python process of the program connects to ``socket_path`` (in a fresh directory only this
user may enter, mode 0700) and proves it was started by this mpscope with the random ``key`` in
its first packet, ``hello``: a connection that starts otherwise (wrong or missing key, garbage,
too much before its hello) is closed and ignored (``rec_intake``). What the processes send is
read at once and recorded as time allows, so none of them waits on mpscope. Then each packet,
in the order it arrived, is written to the Chrome trace (``chrome``), handed to the
``listeners`` and, for a window, kept until ``drain()``. The hello is stored without its key.

While a process that said hello stays connected, the recorder samples it from outside every
``sample_s`` (psutil: cpu percent of one core since the last sample, rss) and records that as
a ``sample`` packet of its own. Nothing the program does can stop the recorder: a line that is
not a packet is dropped (``dropped`` counts them), a process killed mid-line loses that line
only, a connection that misbehaves is closed, and a bug in a listener is contained.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path

import psutil

from mpscope.workers.trace.chrome import ChromeTraceWriter
from mpscope.workers.trace.packets import DEFAULT_TICK_S, KEY_ENV, SOCKET_ENV, TICK_ENV, Packet
from mpscope.workers.trace.rec_intake import Intake
from mpscope.workers.trace.rec_read import valid_packet

BOOTSTRAP_DIR = Path(__file__).resolve().parent / "bootstrap"
SAMPLE_S = 0.25
FLUSH_S = 0.5
PROCESS_BUDGET_S = 0.005  # decoding in turns this long, between reads (a full socket waits)
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes on Linux, 104 on macOS
Listener = Callable[[Packet], None]


class Recorder:
    """Listens for a traced program's processes; writes, hands over and samples their packets.

    Starts listening at once (its thread runs until ``close()``). ``out``: the Chrome trace file
    to write, or None for none. ``live``: keep packets for ``drain()`` (a window reads them);
    without one nobody drains, so nothing is kept. ``listeners`` are called with each packet
    on the recorder's thread (they must be quick). Usable as a context manager.
    """

    def __init__(
        self,
        out: Path | str | None = None,
        *,
        command: Sequence[str] = (),
        tick_s: float = DEFAULT_TICK_S,
        live: bool = True,
        listeners: Iterable[Listener] = (),
        sample_s: float = SAMPLE_S,
    ) -> None:
        self.key = secrets.token_hex(16)
        self.tick_s = tick_s
        self.sample_s = sample_s
        self.t0 = time.perf_counter()
        self.out_path = None if out is None else Path(out)
        self.live = live
        self.packets = 0  # packets delivered (samples included)
        self._invalid = 0  # packets that decoded but cannot be stored (NaN, a pid as text...)
        self.error: str | None = None  # why the trace file stopped being written, if it did
        self._listeners = list(listeners)
        self._buffer: list[Packet] = []
        self._lock = threading.Lock()  # the buffer, and close() against itself
        self._write_lock = threading.Lock()  # the trace file: the thread's writes and close()
        self._sampled: dict[int, tuple[psutil.Process | None, int]] = {}  # pid: (it, conns)
        self._closed = False
        self._stopping = False
        self._dir = Path(tempfile.mkdtemp(prefix="mpscope-trace-"))  # mode 0700
        if len(str(self._dir)) > SOCKET_PATH_MAX - 2:  # a long $TMPDIR: a short one instead
            os.rmdir(self._dir)
            self._dir = Path(tempfile.mkdtemp(prefix="mpscope-", dir="/tmp"))
        self.socket_path = self._dir / "s"
        self._writer: ChromeTraceWriter | None = None
        try:
            if self.out_path is not None:
                self._writer = ChromeTraceWriter(
                    self.out_path, t0=self.t0, command=command, mpscope_version=_version()
                )
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(str(self.socket_path))
            listener.listen(512)
        except BaseException:
            if self._writer is not None:
                self._writer.close()
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        self._intake = Intake(listener, self.key, self._deliver, self._hello, self._hang_up)
        self._thread = threading.Thread(target=self._run, name="mpscope-recorder", daemon=True)
        self._thread.start()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the program and the window use ---------------------------------------------------

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for the program: ``base`` (default: this process's) plus where the
        recorder is, its key and the tick, and ``bootstrap/`` first on ``PYTHONPATH`` (the
        user's own ``PYTHONPATH`` kept after it)."""
        env = dict(os.environ if base is None else base)
        env[SOCKET_ENV] = str(self.socket_path)
        env[KEY_ENV] = self.key
        env[TICK_ENV] = repr(float(self.tick_s))
        user = env.get("PYTHONPATH")
        env["PYTHONPATH"] = str(BOOTSTRAP_DIR) + (os.pathsep + user if user else "")
        return env

    def drain(self) -> list[Packet]:
        """The packets that came since the last call, in arrival order (thread-safe)."""
        with self._lock:
            out, self._buffer = self._buffer, []
        return out

    @property
    def connections(self) -> int:
        """How many of the program's processes are connected now."""
        return self._intake.connections

    @property
    def dropped(self) -> int:
        """Lines or packets from the program's processes that could not be read or stored."""
        return self._intake.dropped + self._invalid

    @property
    def rejected(self) -> int:
        """Connections closed for a missing or wrong key, or for garbage before their hello."""
        return self._intake.rejected

    def settle(self, timeout: float) -> bool:
        """Wait until every process has hung up and all they sent is recorded, at most
        ``timeout`` seconds; True if so."""
        deadline = time.monotonic() + timeout
        while self._busy() and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.02)
        return not self._busy()

    def close(self) -> None:
        """Read and record what is still on the way, close every connection, close the trace
        file (valid JSON from then on) and remove the socket's directory. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stopping = True
        with contextlib.suppress(OSError):
            self._intake.wake_w.send(b"x")
        self._thread.join(timeout=30)
        try:
            if self._writer is not None:
                with self._write_lock:
                    self._writer.close()
        except OSError as exc:
            self.error = self.error or f"{exc.strerror or exc}"
        finally:
            self._intake.close()
            shutil.rmtree(self._dir, ignore_errors=True)

    # -- the recorder's thread -----------------------------------------------------------------

    def _busy(self) -> bool:
        return self._intake.connections > 0 or self._intake.pending

    def _run(self) -> None:
        intake = self._intake
        next_sample = next_flush = time.monotonic()
        while not self._stopping:
            wait = 0.0 if intake.pending else min(next_sample, next_flush) - time.monotonic()
            intake.poll(max(0.0, wait))
            intake.process(PROCESS_BUDGET_S)
            now = time.monotonic()
            if now >= next_sample:
                self._sample()
                next_sample = now + self.sample_s
            if now >= next_flush:
                self._flush()
                next_flush = now + FLUSH_S
        intake.read_all()  # what was sent before close() is still recorded
        intake.process(None)

    def _hello(self, pid: int) -> None:
        proc, conns = self._sampled.get(pid, (None, 0))
        if proc is None and conns == 0:
            try:
                proc = psutil.Process(pid)
                proc.cpu_percent(None)  # the first call only starts the count
            except psutil.Error:
                proc = None
        self._sampled[pid] = (proc, conns + 1)

    def _hang_up(self, pid: int) -> None:
        proc, conns = self._sampled.get(pid, (None, 1))
        if conns <= 1:
            self._sampled.pop(pid, None)
        else:
            self._sampled[pid] = (proc, conns - 1)

    def _deliver(self, packet: Packet) -> None:
        if not valid_packet(packet):
            self._invalid += 1
            return
        if self._writer is not None and self.error is None:
            try:
                with self._write_lock:
                    if not self._writer.closed:
                        self._writer.write(packet)
            except OSError as exc:  # disk full, ...: the window still gets everything
                self.error = f"{exc.strerror or exc}"
        self.packets += 1
        for listener in self._listeners:
            with contextlib.suppress(Exception):  # a listener's bug must not stop recording
                listener(packet)
        if self.live:
            with self._lock:
                self._buffer.append(packet)

    def _sample(self) -> None:
        for pid, (proc, _) in list(self._sampled.items()):
            if proc is None:
                continue
            try:
                with proc.oneshot():
                    cpu = proc.cpu_percent(None)
                    rss = proc.memory_info().rss
            except psutil.Error:
                self._sampled.pop(pid, None)
                continue
            t = time.perf_counter()
            self._deliver({"k": "sample", "pid": pid, "t": t, "cpu": round(cpu, 1), "rss": rss})

    def _flush(self) -> None:
        if self._writer is None or self.error is not None:
            return
        try:
            with self._write_lock:
                self._writer.flush()
        except OSError as exc:
            self.error = f"{exc.strerror or exc}"


def _version() -> str:
    try:
        return metadata.version("mpscope")
    except metadata.PackageNotFoundError:
        return "unknown"
