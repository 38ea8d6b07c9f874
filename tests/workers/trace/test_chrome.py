"""The Chrome trace: valid JSON whatever happens, the shape Perfetto and chrome://tracing read,
and every packet back from ``read_packets``, exactly once, in order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from mpscope.workers.trace.chrome import (
    FORMAT,
    ChromeTraceWriter,
    TraceFileError,
    read_packets,
    read_trace,
)
from mpscope.workers.trace.recorder import Recorder

PROGRAM, WORKER_A, WORKER_B, CHILD = 100, 201, 202, 300
T0 = 1000.0


def strict_json(path: Path) -> Any:
    """The file parsed as any JSON reader would: no NaN, no Infinity, UTF-8."""

    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(path.read_bytes().decode("utf-8"), parse_constant=refuse)


def program_packets() -> list[dict[str, Any]]:
    """What a small program tells: a Pool(2) with a map over 6 items in 3 tasks, a ThreadPool,
    a plain Process, samples; a task reported late, a kind from a newer mpscope."""
    pool, threads = f"{PROGRAM}:1", f"{PROGRAM}:3"
    call = {"pool": pool, "call": f"{PROGRAM}:2"}

    def span(pid: int, tid: int, t0: float, t1: float, items: int, index: int, **more: Any) -> dict:
        return {"k": "span", "pid": pid, "t": t1, "tid": tid, "t0": t0, "t1": t1,
                "items": items, "index": index, "ok": True, **call, **more}  # fmt: skip

    return [
        {"k": "hello", "pid": PROGRAM, "t": T0 + 0.1, "ppid": 1, "argv": ["etl.py", "-v"],
         "python": "3.11.7", "start_method": "fork"},
        {"k": "pool", "pid": PROGRAM, "t": T0 + 0.2, "pool": pool, "kind": "Pool", "workers": 2,
         "label": "etl.py:42 Pool(2)", "file": "etl.py", "line": 42, "tid": PROGRAM},
        {"k": "worker", "pid": PROGRAM, "t": T0 + 0.21, "pool": pool, "worker_pid": WORKER_A,
         "tid": None},
        {"k": "worker", "pid": PROGRAM, "t": T0 + 0.22, "pool": pool, "worker_pid": WORKER_B,
         "tid": None},
        {"k": "hello", "pid": WORKER_A, "t": T0 + 0.23, "ppid": PROGRAM, "argv": ["-c"],
         "python": "3.11.7", "start_method": "fork"},
        {"k": "call", "pid": PROGRAM, "t": T0 + 0.3, "method": "map", "tid": PROGRAM,
         "label": "etl.py:57 pool.map(parse, rows)", "file": "etl.py", "line": 57, "items": 6,
         **call},
        span(WORKER_B, WORKER_B, T0 + 0.31, T0 + 0.5, 2, 1),
        span(WORKER_A, WORKER_A, T0 + 0.31, T0 + 0.4, 2, 0),
        span(WORKER_A, WORKER_A, T0 + 0.4, T0 + 0.45, 2, 2),
        {"k": "pool_end", "pid": PROGRAM, "t": T0 + 0.6, "pool": pool, "how": "close"},
        {"k": "worker_exit", "pid": PROGRAM, "t": T0 + 0.65, "pool": pool,
         "worker_pid": WORKER_A, "tid": None, "exitcode": 0},
        {"k": "worker_exit", "pid": PROGRAM, "t": T0 + 0.66, "pool": pool,
         "worker_pid": WORKER_B, "tid": None, "exitcode": -9},
        {"k": "pool", "pid": PROGRAM, "t": T0 + 0.7, "pool": threads, "kind": "ThreadPool",
         "workers": 2, "label": "etl.py:70 ThreadPool(2)", "file": "etl.py", "line": 70,
         "tid": PROGRAM},  # never ended: its lifetime is shown up to the close
        {"k": "worker", "pid": PROGRAM, "t": T0 + 0.71, "pool": threads, "worker_pid": PROGRAM,
         "tid": 77},
        {"k": "proc", "pid": PROGRAM, "t": T0 + 0.8, "child_pid": CHILD, "pool": None,
         "label": "etl.py:88 Process(target=load)"},
        {"k": "sample", "pid": CHILD, "t": T0 + 0.9, "cpu": 99.5, "rss": 50 << 20},
        {"k": "sample", "pid": CHILD, "t": T0 + 1.15, "cpu": 100.0, "rss": 52 << 20},
        {"k": "proc_end", "pid": PROGRAM, "t": T0 + 1.2, "child_pid": CHILD, "exitcode": 3},
        {"k": "gauge", "pid": PROGRAM, "t": T0 + 1.3, "value": 7},  # a newer kind: kept
        {"k": "span", "pid": PROGRAM, "t": T0 + 1.4},  # cut short: kept, shown as an instant
    ]  # fmt: skip


def write_trace(path: Path, packets: list[dict[str, Any]], lag: float = 1.0) -> list[dict]:
    writer = ChromeTraceWriter(path, t0=T0, command=["python", "etl.py"], counter_lag_s=lag)
    for packet in packets:
        assert writer.write(packet)
    writer.close(t_end=T0 + 2.0)
    return strict_json(path)["traceEvents"]


def carried(event: dict) -> dict | None:
    return (event.get("args") or {}).get("mpscope")


def test_every_packet_comes_back_once_and_in_order(tmp_path: Path) -> None:
    packets = program_packets()
    write_trace(tmp_path / "t.json", packets)
    assert read_packets(tmp_path / "t.json") == packets
    trace = read_trace(tmp_path / "t.json")
    assert trace.header["format"] == FORMAT and trace.header["command"] == ["python", "etl.py"]
    assert trace.header["t0"] == T0 and trace.header["mpscope_version"]
    assert "started" in trace.header


def test_the_events_have_the_shape_perfetto_and_chrome_tracing_read(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    events = write_trace(path, program_packets())
    first_line = path.read_text().splitlines()[0]
    assert first_line.startswith('{"otherData":{"mpscope":{') and first_line.endswith(
        '"traceEvents":['
    )
    assert path.read_text().endswith("\n]}\n")
    for event in events:
        assert list(event)[:2] == ["ph", "ts"], event  # Perfetto's tokenizer reads these first
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        assert isinstance(event["name"], str) and event["name"]
        if event["ph"] == "X":
            assert event["ts"] >= 0 and event["dur"] >= 0
        elif event["ph"] == "M":
            assert event["name"] in ("process_name", "thread_name")
            assert isinstance(event["args"]["name"], str)
        elif event["ph"] == "C":  # counters: numbers only, or the viewers drop or misdraw them
            assert all(isinstance(v, (int, float)) for v in event["args"].values()), event
            assert carried(event) is None
        else:
            assert event["ph"] == "i" and event["s"] == "t"
    spans = [e for e in events if e["ph"] == "X" and e["cat"] == "task"]
    assert {(e["pid"], e["tid"]) for e in spans} == {(WORKER_A, WORKER_A), (WORKER_B, WORKER_B)}
    assert {e["name"] for e in spans} == {"etl.py:57 pool.map(parse, rows)"}
    first = next(e for e in spans if carried(e)["index"] == 0)
    assert (first["ts"], first["dur"]) == (310000.0, 90000.0)  # microseconds from t0


def test_processes_and_threads_are_named_after_what_they_are(tmp_path: Path) -> None:
    events = write_trace(tmp_path / "t.json", program_packets())
    names: dict[tuple[str, int, int], str] = {}
    for event in events:
        if event["ph"] == "M":  # the last name given wins, in both viewers
            names[(event["name"], event["pid"], event["tid"])] = event["args"]["name"]
    assert names[("process_name", PROGRAM, PROGRAM)] == "etl.py -v"
    # the worker's own hello came after its pool named it: the name stays
    assert names[("process_name", WORKER_A, WORKER_A)] == "worker 0 of etl.py:42 Pool(2)"
    assert names[("process_name", WORKER_B, WORKER_B)] == "worker 1 of etl.py:42 Pool(2)"
    assert names[("thread_name", PROGRAM, 77)] == "worker 0 of etl.py:70 ThreadPool(2)"
    assert names[("process_name", CHILD, CHILD)] == "etl.py:88 Process(target=load)"
    tracks = {v for (what, pid, _), v in names.items() if what == "thread_name" and pid == PROGRAM}
    assert {"etl.py:42 Pool(2)", "etl.py:70 ThreadPool(2)"} <= tracks


def test_lifetimes_of_pools_workers_and_processes(tmp_path: Path) -> None:
    events = write_trace(tmp_path / "t.json", program_packets())
    lifetimes = {e["name"]: e for e in events if e["ph"] == "X" and e["cat"] != "task"}
    closed = lifetimes["etl.py:42 Pool(2) (close)"]
    assert (closed["ts"], closed["dur"]) == (200000.0, 400000.0)
    assert carried(closed)["k"] == "pool_end"
    killed = lifetimes["worker 1 of etl.py:42 Pool(2) (killed by SIGKILL (exit code -9))"]
    assert (killed["pid"], killed["tid"]) == (WORKER_B, WORKER_B)
    child = lifetimes["etl.py:88 Process(target=load) (exited with code 3)"]
    assert (child["pid"], child["ts"], child["dur"]) == (CHILD, 800000.0, 400000.0)
    still_open = lifetimes["etl.py:70 ThreadPool(2)"]  # never ended: shown up to the close
    assert carried(still_open) is None and still_open["ts"] + still_open["dur"] == 2_000_000.0
    thread = lifetimes["worker 0 of etl.py:70 ThreadPool(2)"]
    assert (thread["tid"], carried(thread)) == (77, None)


def test_counters_follow_the_tasks_in_the_order_they_ended(tmp_path: Path) -> None:
    events = write_trace(tmp_path / "t.json", program_packets())
    done = [(e["ts"], e["args"]["items done"]) for e in events if e["name"] == "etl.py:42 Pool(2)"
            and e["ph"] == "C"]  # fmt: skip
    # the task that ended at 0.5 s was reported first; the counter still rises in time order
    assert done == [(400000.0, 2), (450000.0, 4), (500000.0, 6)]
    cpu = [e["args"]["percent"] for e in events if e["ph"] == "C" and e["name"] == "cpu"]
    rss = [e["args"]["MB"] for e in events if e["ph"] == "C" and e["name"] == "rss"]
    assert (cpu, rss) == ([99.5, 100.0], [50.0, 52.0])
    strips = [e for e in events if e["ph"] == "X" and e["cat"] == "sample"]
    assert [(e["ts"], e["dur"]) for e in strips] == [(900000.0, 0.0), (900000.0, 250000.0)]


def test_text_the_program_sent_survives_as_it_was(tmp_path: Path) -> None:
    label = 'données.py:3 Pool(2) — 计算 \udcff \x01 "quoted" \\ back'
    packets = [
        {"k": "pool", "pid": 1, "t": T0, "pool": "1:1", "kind": "Pool", "label": label},
        {"k": "call", "pid": 1, "t": T0, "pool": "1:1", "call": "1:2", "label": label * 50},
    ]
    write_trace(tmp_path / "t.json", packets)
    assert read_packets(tmp_path / "t.json") == packets


def test_what_no_reader_could_parse_is_refused(tmp_path: Path) -> None:
    writer = ChromeTraceWriter(tmp_path / "t.json", t0=T0)
    assert not writer.write({"k": "span", "pid": 1, "t": float("nan")})
    assert not writer.write({"k": "span", "pid": 1, "t": 1.0, "t1": float("inf")})
    assert not writer.write({"k": "span", "pid": "1", "t": 1.0})
    assert not writer.write({"k": 3, "pid": 1, "t": 1.0})
    assert writer.write({"k": "span", "pid": 1, "t": 1.0, "t0": "soon", "t1": None})
    writer.close()
    writer.close()  # twice is fine
    assert len(read_packets(tmp_path / "t.json")) == 1


@pytest.mark.timeout(60)
def test_the_file_is_valid_once_closed_after_the_sender_is_killed_mid_trace(
    tmp_path: Path,
) -> None:
    out = tmp_path / "killed.trace.json"
    sender = textwrap.dedent(
        """
        import json, os, socket, sys, time
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(sys.argv[1])
        pid = os.getpid()
        def send(p):
            sock.sendall(json.dumps(p).encode() + b"\\n")
        send({"k": "hello", "pid": pid, "t": time.perf_counter(), "key": sys.argv[2]})
        send({"k": "pool", "pid": pid, "t": time.perf_counter(), "pool": "p", "kind": "Pool",
              "label": "x.py:1 Pool(1)"})
        send({"k": "worker", "pid": pid, "t": time.perf_counter(), "pool": "p",
              "worker_pid": pid, "tid": None})
        print("ready", flush=True)
        i = 0
        while True:
            t = time.perf_counter()
            line = json.dumps({"k": "span", "pid": pid, "t": t, "pool": "p", "call": "c",
                               "tid": pid, "t0": t - 1e-4, "t1": t, "items": 1, "index": i})
            sock.sendall(line.encode() + b"\\n")
            i += 1
        """
    )
    with Recorder(out, sample_s=0.05) as rec:
        proc = subprocess.Popen(
            [sys.executable, "-c", sender, str(rec.socket_path), rec.key],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        rec.settle(5)
    doc = strict_json(out)  # closed by the recorder: valid
    packets = read_packets(out)
    spans = [p for p in packets if p["k"] == "span"]
    assert len(spans) > 100
    assert [p["index"] for p in spans] == list(range(len(spans)))
    assert len([e for e in doc["traceEvents"] if carried(e)]) == len(packets)
    worker = "worker 0 of x.py:1 Pool(1)"
    named = [e for e in doc["traceEvents"] if e["ph"] == "M" and e["args"]["name"] == worker]
    lifetime = [e for e in doc["traceEvents"] if e["ph"] == "X" and e["name"] == worker]
    assert len(named) == 1 and len(lifetime) == 1  # still open when killed: shown to the close
    assert carried(lifetime[0]) is None and lifetime[0]["dur"] > 400_000


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ["not an mpscope trace", "not JSON"]),
        (b"\x89PNG\r\n", ["not an mpscope trace"]),
        (b"[1, 2]", ["not an mpscope trace", "list"]),
        (b'{"traceEvents": [{"ph": "X", "ts": 1}]}', ["not an mpscope trace", "Chrome trace"]),
        (b'{"otherData": {"mpscope": {"format": "mpscope-trace", "version": 99}}, '
         b'"traceEvents": []}', ["newer mpscope", "99"]),
        (b'{"otherData": {"mpscope": {"format": "mpscope-trace", "version": 1}}, '
         b'"traceEvents": [{"ph": "i", "args": {"mpscope": {"k": "x"}}}]}', ["event 1", "damaged"]),
        (b"[" * 100_000, ["not an mpscope trace"]),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_trace_is_one_clear_error(
    tmp_path: Path, content: bytes, words: list[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(TraceFileError) as error:
        read_packets(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for word in words:
        assert word in message


def test_a_trace_cut_short_says_so(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    write_trace(path, program_packets())
    whole = path.read_bytes()
    for cut in (len(whole) // 2, len(whole) - 3):
        path.write_bytes(whole[:cut])
        with pytest.raises(TraceFileError, match="cut short"):
            read_packets(path)
    with pytest.raises(TraceFileError, match=r"no-such\.json: cannot be read"):
        read_packets(tmp_path / "no-such.json")
