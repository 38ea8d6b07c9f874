"""The recorder's intake: the Unix socket the program's processes connect to, read at once,
turned into packets later.

Reading and decoding are apart on purpose: ``poll`` only accepts connections and copies what
they sent into a backlog (one ``recv`` per 64 KiB), so a process never waits on mpscope to
send, nor at its exit to send its last packets; ``process`` then decodes the backlog, in the
order it was read, as time allows. Each connection's first line must be a ``hello`` carrying the
recorder's key: a connection that starts otherwise is closed and ignored (``rejected``), and so
is one that sends a line longer than ``MAX_LINE_BYTES`` or no line at all in its first
``MAX_HELLO_BYTES``. A line that is not a packet is dropped (``dropped``).
"""

from __future__ import annotations

import contextlib
import hmac
import selectors
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from mpscope.workers.trace.packets import LineDecoder, Packet
from mpscope.workers.trace.rec_read import valid_packet

RECV_BYTES = 1 << 16
READS_PER_TURN = 16  # per connection and poll: 1 MiB, then the others get their turn
MAX_HELLO_BYTES = 1 << 16  # a connection must have sent a whole line within this much
MAX_LINE_BYTES = 16 << 20  # a longer line is garbage: its connection is closed
MAX_BACKLOG_BYTES = 256 << 20  # past this, reading waits (the senders keep or drop, as they do)


@dataclass(eq=False)
class _Connection:
    sock: socket.socket
    decoder: LineDecoder = field(default_factory=LineDecoder)
    open: bool = True  # its socket: False once it hung up or was closed
    pid: int | None = None  # the pid it said hello as, once its hello was read
    refused: bool = False
    received: int = 0
    since_newline: int = 0
    counted: int = 0  # of its decoder's drops, those already counted


class Intake:
    """Listens on ``listener``; ``on_hello(pid)`` and ``on_hang_up(pid)`` tell who is connected
    (the recorder samples them), ``deliver(packet)`` takes each packet in order."""

    def __init__(
        self,
        listener: socket.socket,
        key: str,
        deliver: Callable[[Packet], None],
        on_hello: Callable[[int], None],
        on_hang_up: Callable[[int], None],
    ) -> None:
        self.dropped = 0
        self.rejected = 0
        self._listener = listener
        self._key = key.encode()
        self._deliver = deliver
        self._on_hello = on_hello
        self._on_hang_up = on_hang_up
        self._conns: dict[socket.socket, _Connection] = {}
        self._backlog: deque[tuple[_Connection, bytes]] = deque()  # b"": it hung up there
        self._backlog_bytes = 0
        self._wake_r, self.wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(listener, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)

    @property
    def connections(self) -> int:
        """Connections still open."""
        return len(self._conns)

    @property
    def pending(self) -> bool:
        """True while some of what was read is not yet processed."""
        return bool(self._backlog)

    def poll(self, timeout: float) -> None:
        """Wait at most ``timeout`` for connections and data; accept and read what came."""
        if self._backlog_bytes > MAX_BACKLOG_BYTES:
            time.sleep(min(timeout, 0.01))
            return
        try:
            ready = self._selector.select(timeout)
        except OSError:
            return  # a socket closed under the selector: the next turn goes on
        for key, _ in ready:
            sock = key.fileobj
            if sock is self._listener:
                self._accept()
            elif sock is self._wake_r:
                with contextlib.suppress(OSError):
                    self._wake_r.recv(64)
            else:
                self._read(self._conns[sock])  # type: ignore[index]

    def read_all(self) -> None:
        """Read what every connection has sent so far, those still waiting to be accepted
        too (a process that connected just before the end: nothing is lost)."""
        self._accept()
        for conn in list(self._conns.values()):
            while conn.open and self._read(conn):
                pass

    def process(self, budget_s: float | None) -> None:
        """Decode the backlog, in the order it was read, for about ``budget_s`` (None: all)."""
        deadline = None if budget_s is None else time.monotonic() + budget_s
        while self._backlog:
            conn, data = self._backlog.popleft()
            self._backlog_bytes -= len(data)
            if conn.refused:
                continue
            try:
                self._decode(conn, data)
            except Exception:  # noqa: BLE001 (nothing a connection sends may stop the recorder)
                self._refuse(conn)
            if deadline is not None and time.monotonic() > deadline:
                return

    def close(self) -> None:
        """Close every connection, the listener and the wake-up pair."""
        self._selector.close()
        for conn in list(self._conns.values()):
            self._close_socket(conn)
        for sock in (self._wake_r, self.wake_w, self._listener):
            with contextlib.suppress(OSError):
                sock.close()

    # -- reading ---------------------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:  # none left (EAGAIN), or out of file descriptors: untraced then
                return
            sock.setblocking(False)
            conn = _Connection(sock)
            self._conns[sock] = conn
            self._selector.register(sock, selectors.EVENT_READ)

    def _read(self, conn: _Connection) -> bool:
        """Read what ``conn`` has (up to ``READS_PER_TURN`` recvs); False once it has no more."""
        for _ in range(READS_PER_TURN):
            try:
                data = conn.sock.recv(RECV_BYTES)
            except (BlockingIOError, InterruptedError):
                return False
            except OSError:
                data = b""
            if not data:
                self._close_socket(conn)
                self._backlog.append((conn, b""))
                return False
            if not self._fits(conn, data):
                self._refuse(conn)
                return False
            self._backlog.append((conn, data))
            self._backlog_bytes += len(data)
        return True

    def _fits(self, conn: _Connection, data: bytes) -> bool:
        """False for a connection that is not sending lines: a line too long, or no first line."""
        conn.received += len(data)
        newline = data.rfind(b"\n")
        if newline < 0:
            conn.since_newline += len(data)
        else:
            conn.since_newline = len(data) - newline - 1
        if conn.since_newline > MAX_LINE_BYTES:
            return False
        return not (conn.received - conn.since_newline == 0 and conn.received > MAX_HELLO_BYTES)

    def _close_socket(self, conn: _Connection) -> None:
        if not conn.open:
            return
        conn.open = False
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(conn.sock)
        with contextlib.suppress(OSError):
            conn.sock.close()
        self._conns.pop(conn.sock, None)

    # -- decoding --------------------------------------------------------------------------------

    def _decode(self, conn: _Connection, data: bytes) -> None:
        if not data:  # it hung up: a line left unfinished is a dropped packet
            conn.decoder.close()
            self._count_drops(conn)
            if conn.pid is not None:
                self._on_hang_up(conn.pid)
            return
        for packet in conn.decoder.feed(data):
            if conn.pid is None:
                if conn.decoder.dropped or not self._hello(conn, packet):
                    self._refuse(conn)
                    return
                self._deliver({k: v for k, v in packet.items() if k != "key"})
            else:
                self._deliver(packet)
        if conn.pid is None and conn.decoder.dropped:  # garbage where the hello should be
            self._refuse(conn)
            return
        self._count_drops(conn)

    def _hello(self, conn: _Connection, packet: Packet) -> bool:
        key = packet.get("key")
        if packet.get("k") != "hello" or not isinstance(key, str) or not valid_packet(packet):
            return False
        if not hmac.compare_digest(key.encode(), self._key):
            return False
        conn.pid = int(packet["pid"])  # valid_packet: a whole number
        self._on_hello(conn.pid)
        return True

    def _count_drops(self, conn: _Connection) -> None:
        self.dropped += conn.decoder.dropped - conn.counted
        conn.counted = conn.decoder.dropped

    def _refuse(self, conn: _Connection) -> None:
        """Close ``conn`` and ignore what else it sent (one without a hello: not the program's,
        its garbage not counted as the program's)."""
        if conn.refused:
            return
        conn.refused = True
        self._close_socket(conn)
        if conn.pid is None:
            self.rejected += 1
        else:
            self._count_drops(conn)
            self._on_hang_up(conn.pid)
