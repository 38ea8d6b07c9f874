"""The command line: JSON shape, exit codes, one-line bad-input messages, clean interrupts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_steps import mpscope, on_a_terminal

REQUIRED = {
    "strategy", "workload", "items", "workers", "chunksize", "start_method", "result",
    "expected", "correct", "wall_s", "cpu_s", "startup_s", "items_per_s", "events", "per_worker",
}  # fmt: skip


@pytest.mark.timeout(60)
def test_run_json_is_one_object_with_exact_integers() -> None:
    proc = mpscope("run", "-s", "pool-map", "-w", "square", "-n", "200000", "-k", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)  # exactly one JSON value on stdout
    assert set(record) >= REQUIRED
    assert record["result"] == record["expected"] == (200000 - 1) * 200000 * (2 * 200000 - 1) // 6
    assert isinstance(record["result"], int) and record["correct"] is True
    assert record["chunksize"] == 25000 and record["workers"] == 2
    assert record["items_per_s"] > 0 and record["events"] > 0
    workers = record["per_worker"]
    assert [w["worker"] for w in workers] == [0, 1]
    assert sum(w["items"] for w in workers) == 200000
    for w in workers:
        assert set(w) >= {"worker", "pid", "items", "busy_s"} and w["pid"] > 0
    assert record["tick_s"] == 0.05  # the probe's default tick, reported with the run


@pytest.mark.timeout(60)
def test_the_tick_is_the_users_to_choose_and_is_reported() -> None:
    proc = mpscope("run", "-s", "pool-map", "-n", "20000", "-k", "2", "--tick", "0.2")
    assert proc.returncode == 0, proc.stderr
    assert "[correct]" in proc.stdout
    assert "a report every 200.0 ms per worker" in proc.stdout


@pytest.mark.timeout(60)
def test_table_output_and_the_console_script() -> None:
    script = Path(sys.executable).with_name("mpscope")
    if not script.exists():
        script = Path(shutil.which("mpscope") or "mpscope")
    proc = subprocess.run(
        [str(script), "run", "-s", "sequential", "-n", "1000"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "332833500" in proc.stdout and "[correct]" in proc.stdout
    # the per-worker table says what its two times are
    assert "busy: wall time inside its chunks; cpu: CPU time" in proc.stdout


@pytest.mark.timeout(60)
def test_a_failed_run_exits_1_and_says_why() -> None:
    proc = mpscope("run", "-s", "pool-map", "-n", "5000", "--inject", "raise@77", "--json")
    assert proc.returncode == 1
    record = json.loads(proc.stdout)
    assert record["status"] == "failed" and "item 77" in record["error"]
    assert "Traceback" in record["traceback"]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["run", "-s", "nope"], ["'nope'", "pool-map"]),
        (["run", "-w", "cube"], ["'cube'", "square"]),
        (["run", "-n", "0"], ["items 0", "1 or more"]),
        (["run", "-n", "ten"], ["'ten'", "1e7"]),
        (["run", "-k", "0"], ["workers 0", "1.."]),
        (["run", "-k", "100000"], ["workers 100000", "1.."]),
        (["run", "-c", "0"], ["chunksize 0", "auto"]),
        (["run", "-c", "many"], ["'many'", "auto"]),
        (["run", "-m", "teleport"], ["'teleport'", "spawn"]),
        (["run", "-s", "pool-mapp"], ["'pool-mapp' (did you mean pool-map?)", "pool-imap"]),
        (["run", "-w", "sqare"], ["'sqare' (did you mean square?)", "heavy"]),
        (["run", "-m", "frok"], ["'frok' is not available (did you mean fork?)"]),
        (["compare", "-s", "thread-pool,pool-mapp"], ["'pool-mapp' (did you mean pool-map?)"]),
        (["run", "--tick", "5"], ["tick 5.0 s", "0.005..1 s"]),
        (["run", "--tick", "soon"], ["'soon'", "seconds"]),
        (["run", "-s", "pool-map", "-w", "square-plus"], ["square-plus", "pool-starmap"]),
        (["run", "-s", "pool-map", "-n", "1e13"], ["items 10,000,000,000,000", "allowed up to"]),
        (["frobnicate"], ["frobnicate", "run"]),
        (["run", "--bogus"], ["--bogus"]),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], names: list[str]) -> None:
    proc = mpscope(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for name in names:
        assert name in lines[0]


@pytest.mark.parametrize("what", ["strategies", "workloads"])
def test_listings(what: str) -> None:
    plain = mpscope(what)
    assert plain.returncode == 0
    rows = json.loads(mpscope(what, "--json").stdout)
    ids = [row["id"] for row in rows]
    for i in ids:
        assert i in plain.stdout
    assert "seed" not in plain.stdout.lower()  # descriptions stand without the tutorial
    if what == "strategies":
        assert {"sequential", "process", "pool-map", "pool-starmap", "pool-imap", "thread-pool",
                "executor"} <= set(ids)  # fmt: skip
        starmap = next(r for r in rows if r["id"] == "pool-starmap")
        assert starmap["workloads"] == ["square-plus"]
    else:
        assert {"square", "poly-pair", "square-plus", "heavy", "sleep"} <= set(ids)


def test_help_stands_without_the_tutorial() -> None:
    proc = mpscope("run", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())  # as argparse wraps it, on one line
    assert "(default: cores; shared-counter: 2)" in text
    assert "seconds of sleep per increment" in text and "(default 0.1)" in text
    assert "seed" not in text.lower()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_stops_the_run_cleanly_with_130(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mpscope.workers", "run", "-s", "pool-map", "-w", "sleep",
         "-n", "1e5", "--sleep-ms", "1", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(2.0)  # let the conductor and the pool come up
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert out == ""  # the autouse fixture checks that nothing is left running


@pytest.mark.timeout(60)
def test_progress_bar_on_a_terminal() -> None:
    code, out, bar = on_a_terminal(
        ["run", "-s", "pool-map", "-w", "sleep", "-n", "300", "--sleep-ms", "5", "-k", "2"]
    )
    assert code == 0
    assert "%|" in bar and ("it/s" in bar or "s/it" in bar)  # a tqdm bar was drawn on stderr
    assert "%|" not in out


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    ("workload", "seed_value"),
    [("square", 333333328333333350000000), ("poly-pair", 333333358333333050000000)],
)
def test_the_seeds_values_come_out_exactly(workload: str, seed_value: int) -> None:
    proc = mpscope("run", "-s", "process", "-w", workload, "--items", "100000000", "--json",
                   timeout=170)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["result"] == seed_value and record["correct"] is True


def test_no_display_says_what_to_do_and_exits_2() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.run(
        [sys.executable, "-m", "mpscope"],  # what the console script does
        capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "QT_QPA_PLATFORM=offscreen" in lines[0] and "mpscope run" in lines[0]
