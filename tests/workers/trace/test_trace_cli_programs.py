"""``mpscope trace --no-window`` end to end, with the real hooks: each program exits, prints and
fails as it does alone, and leaves a valid trace file with the tasks of its workers.

The programs are the hooks' test programs (``programs/``: pools by every method, executors,
dummy pools, plain processes, pools in children and threads, spawn) and a few here that end
badly: ``os._exit``, a signal, Ctrl-C in the middle of a ``Pool.map``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from signal_steps import default_signals
from trace_steps import split_stderr

from mpscope.workers.trace.chrome import read_packets
from mpscope.workers.trace.model import TraceModel

PROGRAMS = Path(__file__).resolve().parent / "programs"

NAPPER = """
import os, signal, sys, time
from multiprocessing import Pool

def nap(x):
    time.sleep(0.02)
    return x

def quiet():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle

if __name__ == "__main__":
    how = sys.argv[1]
    with Pool(2, initializer=quiet) as pool:
        print("sum", sum(pool.map(nap, range(40), chunksize=2)), flush=True)
        if how == "interrupted":
            print("ready", flush=True)
            pool.map(nap, range(10_000), chunksize=1)
    if how == "os_exit":
        print("not flushed")
        os._exit(4)
    if how == "killed":
        os.kill(os.getpid(), signal.SIGTERM)
    print("not reached")
"""


def mask(text: str) -> str:
    """Output with what changes from run to run masked: times, pids and other long numbers."""
    text = re.sub(r"\d+\.\d+", "<n.n>", text)
    return re.sub(r"\b\d{4,}\b", "<n>", text)


def run(command: list[str], cwd: Path, interrupt: bool = False) -> tuple[int, str, str]:
    """(exit code, stdout, stderr); ``interrupt``: Ctrl-C to its process group once it says
    ready, as a terminal sends it."""
    if not interrupt:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)  # fmt: skip
        return done.returncode, done.stdout, done.stderr
    with default_signals():
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)  # fmt: skip
    assert proc.stdout is not None
    head = proc.stdout.readline() + proc.stdout.readline()
    assert head.endswith("ready\n"), head
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, head + out, err


def refuse(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def check_trace(path: Path) -> TraceModel:
    """The trace is strict JSON in the Chrome format, and gives back every packet it keeps."""
    doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)
    events = doc["traceEvents"]
    for event in events:
        assert {"ph", "ts", "pid", "tid", "name"} <= event.keys(), event
        if event["ph"] == "X":
            assert isinstance(event["dur"], (int, float)) and event["dur"] >= 0
    packets = read_packets(path)
    assert len(packets) == sum(1 for e in events if "mpscope" in (e.get("args") or {}))
    model = TraceModel()
    model.feed_all(packets)
    return model


CASES: list[tuple[str, list[str], dict[str, Any]]] = [
    ("pool_methods.py", ["fork"], {"pools": 1, "every_worker": True}),
    ("pool_methods.py", ["spawn"], {"pools": 1, "every_worker": True}),
    ("executors.py", ["fork"], {"pools": 2}),
    ("thread_pool.py", [], {"pools": 1}),
    ("processes.py", [], {"pools": 0, "processes": 4}),
    ("pool_in_child.py", ["spawn"], {"pools": 1, "processes": 1}),
    ("pool_in_thread.py", [], {"pools": 1}),
    ("pool_lifecycle.py", [], {"pools": 3}),
    ("raises.py", ["pool"], {"pools": 1}),
    ("exits.py", [], {"pools": 1}),
    ("napper.py", ["os_exit"], {"pools": 1, "every_worker": True}),
    ("napper.py", ["killed"], {"pools": 1, "every_worker": True}),
    ("napper.py", ["interrupted"], {"pools": 1, "every_worker": True}),
]


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("program", "args", "expect"), CASES, ids=[" ".join([p, *a]) for p, a, _ in CASES]
)
def test_a_traced_program_runs_as_alone_and_leaves_its_trace(
    tmp_path: Path, program: str, args: list[str], expect: dict[str, Any]
) -> None:
    if program == "napper.py":
        (tmp_path / program).write_text(textwrap.dedent(NAPPER))
        path = tmp_path / program
    else:
        path = PROGRAMS / program
    interrupt = args == ["interrupted"]
    alone = run([sys.executable, str(path), *args], tmp_path, interrupt)
    out = tmp_path / "t.trace.json"
    watched = run(
        [sys.executable, "-m", "mpscope.workers", "trace", "--no-window", "--out", str(out),
         str(path), *args],
        tmp_path, interrupt,
    )  # fmt: skip
    assert watched[0] == alone[0], watched[2]  # a death by signal: mpscope dies by it too
    assert mask(watched[1]) == mask(alone[1])
    program_err, summary = split_stderr(watched[2])
    assert mask(program_err) == mask(alone[2])
    assert summary and summary[0].endswith(f"trace written to {out}"), watched[2]
    model = check_trace(out)
    assert len(model.pools) == expect["pools"], summary
    for pool in model.pools.values():
        assert pool.tasks > 0, f"{pool.label}: no task seen"
        workers_seen = {lane.pid if lane.tid is None else lane.tid for lane in pool.lanes.values()
                        if lane.items or lane.busy_s}  # fmt: skip
        assert workers_seen, f"{pool.label}: no worker ran a task"
        if expect.get("every_worker"):
            idle = [lane for lane in pool.lanes.values() if not lane.items]
            assert not idle, f"{pool.label}: workers without a task: {idle}"
    plain = [p for p in model.processes.values() if p.pool is None and p.t_end is not None]
    assert len(plain) >= expect.get("processes", 0)
