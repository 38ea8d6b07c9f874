"""The recorder: only this mpscope's processes get in, nothing they send can stop it, and every
packet reaches the trace file, the listeners and the window's buffer in arrival order."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mpscope.workers.trace.chrome import read_packets
from mpscope.workers.trace.packets import KEY_ENV, SOCKET_ENV, TICK_ENV, encode
from mpscope.workers.trace.recorder import BOOTSTRAP_DIR, Recorder

Packet = dict


def hello(recorder: Recorder, pid: int, key: str | None = None, t: float = 1.0) -> Packet:
    return {"k": "hello", "pid": pid, "t": t, "key": recorder.key if key is None else key,
            "ppid": 1, "argv": ["etl.py"], "python": "3.11.7", "start_method": "fork"}  # fmt: skip


def span(pid: int, index: int, t: float = 2.0) -> Packet:
    return {"k": "span", "pid": pid, "t": t, "pool": "1:1", "call": "1:2", "tid": pid,
            "t0": t - 0.1, "t1": t, "items": 1, "index": index, "ok": True}  # fmt: skip


def connect(recorder: Recorder) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(recorder.socket_path))
    sock.settimeout(10)
    return sock


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def refused(sock: socket.socket) -> bool:
    """True if the recorder hung up on ``sock`` (it reads end-of-file)."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    rec = Recorder(tmp_path / "t.trace.json", sample_s=3600)  # no samples unless asked
    yield rec
    rec.close()


def test_a_connection_without_the_key_is_closed_and_ignored(recorder: Recorder) -> None:
    wrong = connect(recorder)
    wrong.sendall(encode([hello(recorder, 11, key="0" * 32), span(11, 0)]))
    missing = connect(recorder)
    missing.sendall(encode([{k: v for k, v in hello(recorder, 12).items() if k != "key"}]))
    garbage_first = connect(recorder)  # a right hello after a line that is not one
    garbage_first.sendall(b"GET / HTTP/1.0\n" + encode([hello(recorder, 13)]))
    span_first = connect(recorder)
    span_first.sendall(encode([span(14, 0), hello(recorder, 14)]))
    right = connect(recorder)
    right.sendall(encode([hello(recorder, 15), span(15, 0)]))
    for sock in (wrong, missing, garbage_first, span_first):
        assert refused(sock)
    wait_until(lambda: recorder.packets == 2)
    assert recorder.rejected == 4
    assert [(p["k"], p["pid"]) for p in recorder.drain()] == [("hello", 15), ("span", 15)]
    for sock in (wrong, missing, garbage_first, span_first, right):
        sock.close()


def test_a_hello_is_kept_without_its_key(recorder: Recorder) -> None:
    with connect(recorder) as sock:
        sock.sendall(encode([hello(recorder, 21)]))
        wait_until(lambda: recorder.packets == 1)
    (packet,) = recorder.drain()
    assert "key" not in packet and packet["argv"] == ["etl.py"]
    recorder.close()
    assert recorder.key not in Path(recorder.out_path or "").read_text()


def test_garbage_lines_are_dropped_and_the_rest_kept_in_order(recorder: Recorder) -> None:
    with connect(recorder) as sock:
        sock.sendall(encode([hello(recorder, 31), span(31, 0)]))
        sock.sendall(b"\xff\xfe not json\n[1, 2]\n" + b"[" * 100_000 + b"\n")  # deep: no crash
        sock.sendall(b'{"k": "span", "pid": 31}\n{"k": "span", "pid": 31, "t": NaN}\n')
        sock.sendall(encode([span(31, 1)])[:20])  # one packet split across sends
        sock.sendall(encode([span(31, 1)])[20:] + encode([span(31, 2)]))
        wait_until(lambda: recorder.packets == 4)
    wait_until(lambda: recorder.connections == 0)
    assert [p.get("index") for p in recorder.drain()] == [None, 0, 1, 2]
    assert recorder.dropped == 5
    recorder.close()
    assert [p.get("index") for p in read_packets(recorder.out_path or "")] == [None, 0, 1, 2]


def test_a_process_killed_mid_line_loses_that_line_only(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "t.trace.json", sample_s=3600)
    sender = textwrap.dedent(
        """
        import json, os, signal, socket, sys
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(sys.argv[1])
        pid = os.getpid()
        lines = [{"k": "hello", "pid": pid, "t": 1.0, "key": sys.argv[2]}]
        lines += [{"k": "span", "pid": pid, "t": 2.0 + i, "t0": 1.0 + i, "t1": 2.0 + i,
                   "tid": pid, "pool": "1:1", "call": "1:2", "items": 1, "index": i}
                  for i in range(50)]
        data = b"".join(json.dumps(p).encode() + b"\\n" for p in lines)
        sock.sendall(data + b'{"k": "span", "pid": ' + str(pid).encode() + b', "t0": 9')
        os.kill(pid, signal.SIGKILL)
        """
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", sender, str(rec.socket_path), rec.key], timeout=30
        )
        assert proc.returncode == -signal.SIGKILL
        wait_until(lambda: rec.connections == 0 and rec.packets == 51)
    finally:
        rec.close()
    assert rec.dropped == 1
    packets = read_packets(tmp_path / "t.trace.json")
    assert [p["k"] for p in packets] == ["hello"] + ["span"] * 50
    assert [p["index"] for p in packets[1:]] == list(range(50))


@pytest.mark.timeout(60)
def test_two_hundred_connections_at_once(recorder: Recorder) -> None:
    socks = [connect(recorder) for _ in range(200)]

    def send(i: int, sock: socket.socket) -> None:
        pid = 1000 + i
        sock.sendall(encode([hello(recorder, pid)]))
        for index in range(20):
            sock.sendall(encode([span(pid, index)]))

    threads = [threading.Thread(target=send, args=pair) for pair in enumerate(socks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_until(lambda: recorder.packets == 200 * 21, timeout=30)
    got = recorder.drain()
    for i in range(200):  # each connection's packets in the order it sent them
        own = [p.get("index") for p in got if p["pid"] == 1000 + i]
        assert own == [None, *range(20)]
    for sock in socks:
        sock.close()
    wait_until(lambda: recorder.connections == 0)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_burst_is_read_at_once_so_a_sender_in_a_hurry_loses_nothing(tmp_path: Path) -> None:
    """As the hooks do at a process's exit: send without blocking for one second, then go.
    100,000 packets take the recorder seconds to record, but it reads them at once."""
    sender = textwrap.dedent(
        """
        import json, os, select, socket, sys, time
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(sys.argv[1])
        sock.setblocking(False)
        pid = os.getpid()
        lines = [json.dumps({"k": "hello", "pid": pid, "t": 1.0, "key": sys.argv[2]})]
        lines += [json.dumps({"k": "span", "pid": pid, "t": 2.0, "t0": 1.0, "t1": 2.0,
                              "tid": pid, "pool": "1:1", "call": "1:2", "items": 1,
                              "index": i}) for i in range(100_000)]
        data = memoryview(("\\n".join(lines) + "\\n").encode())
        deadline = time.monotonic() + 1.0
        while data and time.monotonic() < deadline:
            try:
                data = data[sock.send(data):]
            except BlockingIOError:
                select.select([], [sock], [], 0.01)
        print(len(data))
        """
    )
    rec = Recorder(tmp_path / "t.trace.json", sample_s=3600, live=False)
    try:
        proc = subprocess.run([sys.executable, "-c", sender, str(rec.socket_path), rec.key],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert proc.stdout.strip() == "0", "the sender could not hand everything over"
        assert rec.settle(90)
    finally:
        rec.close()
    assert rec.packets == 100_001 and rec.dropped == 0


def test_drain_hands_over_each_packet_once_and_listeners_see_them_all(tmp_path: Path) -> None:
    seen: list[Packet] = []
    rec = Recorder(None, listeners=[seen.append, lambda p: 1 / 0], sample_s=3600)
    try:
        with connect(rec) as sock:
            sock.sendall(encode([hello(rec, 41)]))
            drained: list[Packet] = []
            for index in range(300):
                sock.sendall(encode([span(41, index)]))
                if index % 50 == 0:
                    drained += rec.drain()
            wait_until(lambda: rec.packets == 301)
        drained += rec.drain()
        assert rec.drain() == []
        assert drained == seen and [p.get("index") for p in seen] == [None, *range(300)]
    finally:
        rec.close()
    quiet = Recorder(None, live=False, sample_s=3600)  # nobody drains: nothing is kept
    try:
        with connect(quiet) as sock:
            sock.sendall(encode([hello(quiet, 42), span(42, 0)]))
            wait_until(lambda: quiet.packets == 2)
        assert quiet.drain() == []
    finally:
        quiet.close()


def test_connected_processes_are_sampled_from_outside(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "t.trace.json", sample_s=0.05)
    try:
        with connect(rec) as sock:
            sock.sendall(encode([hello(rec, os.getpid())]))
            wait_until(lambda: rec.packets >= 4)
        wait_until(lambda: rec.connections == 0)
        count = rec.packets
        time.sleep(0.3)
        assert rec.packets == count  # hung up: no longer sampled
    finally:
        rec.close()
    samples = [p for p in read_packets(tmp_path / "t.trace.json") if p["k"] == "sample"]
    assert len(samples) >= 3
    for sample in samples:
        assert sample["pid"] == os.getpid() and sample["rss"] > 1 << 20
        assert sample["cpu"] >= 0.0
    assert [s["t"] for s in samples] == sorted(s["t"] for s in samples)


def test_env_points_the_program_at_a_private_socket(recorder: Recorder) -> None:
    env = recorder.env({"PYTHONPATH": "/mine", "HOME": "/home/x"})
    assert env[SOCKET_ENV] == str(recorder.socket_path)
    assert env[KEY_ENV] == recorder.key and len(recorder.key) == 32
    assert float(env[TICK_ENV]) == 0.05
    assert env["PYTHONPATH"].split(os.pathsep) == [str(BOOTSTRAP_DIR), "/mine"]
    assert env["HOME"] == "/home/x"
    assert recorder.env({})["PYTHONPATH"] == str(BOOTSTRAP_DIR)
    folder = recorder.socket_path.parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_ISSOCK(recorder.socket_path.stat().st_mode)
    recorder.close()
    assert not folder.exists()
    recorder.close()  # twice is fine


def test_close_reads_what_was_sent_and_hangs_up_on_a_process_still_connected(
    recorder: Recorder,
) -> None:
    sock = connect(recorder)
    sock.sendall(encode([hello(recorder, 51)] + [span(51, i) for i in range(1000)]))
    recorder.close()  # at once: what was sent is still read
    assert refused(sock)
    sock.close()
    packets = read_packets(recorder.out_path or "")
    assert len(packets) == 1001
    json.loads((recorder.out_path or Path()).read_text())  # closed: valid JSON
