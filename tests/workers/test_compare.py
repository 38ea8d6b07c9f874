"""Comparing strategies: the plan, the matrix runner, summary arithmetic, verdicts, the CLI."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from engine_steps import mpscope as run_cli
from engine_steps import on_a_terminal

from mpscope.workers import RunSpec, start_run
from mpscope.workers.compare import (
    MatrixFinished,
    MatrixRun,
    MatrixRunEnded,
    MatrixRunEvents,
    MatrixRunStarted,
    MatrixSchedule,
    chunksize_series,
    default_chunksizes,
    grain_series,
    items_for_grain,
    plan_chunksize_sweep,
    plan_grain_sweep,
    plan_matrix,
    run_matrix,
    summarize,
    verdict,
)
from mpscope.workers.events import RunStarted
from mpscope.workers.records.export import read_json
from mpscope.workers.spec import SpecError


def rec(strategy: str, workers: int, wall: float, **extra: Any) -> dict[str, Any]:
    """A synthetic run record shaped like RunTally.summary()."""
    items = extra.pop("items", 1_000_000)
    record: dict[str, Any] = {
        "status": "finished", "strategy": strategy, "workload": "square", "items": items,
        "workers": workers, "chunksize": None if strategy in ("sequential", "process") else 1000,
        "start_method": "forkserver", "correct": True, "wall_s": wall, "cpu_s": wall,
        "items_per_s": items / wall,
    }  # fmt: skip
    record.update(extra)
    return record


def failed(strategy: str, workers: int) -> dict[str, Any]:
    """A synthetic failed run: no result, no wall time (as RunTally.summary() gives it)."""
    record = rec(strategy, workers, 1.0, error="worker died", pid=1, exitcode=-9)
    for key in ("correct", "wall_s", "cpu_s", "items_per_s"):
        del record[key]
    return {**record, "status": "failed"}


# -- the plan ---------------------------------------------------------------------------------
def test_plan_puts_the_loop_first_skips_unfit_pairs_and_interleaves_repeats() -> None:
    plan = plan_matrix(
        ["pool-map", "thread-pool", "pool-starmap", "sequential", "pool-map"],
        [2, 1, 2],
        RunSpec(workload="square", items=1000),
        repeats=2,
    )
    cells = [(s.strategy, s.workers) for s in plan.cells]
    assert cells == [("sequential", 1), ("pool-map", 1), ("pool-map", 2),
                     ("thread-pool", 1), ("thread-pool", 2)]  # fmt: skip
    assert [s.strategy for s in plan.skipped] == ["pool-starmap"]
    assert "square takes one argument" in plan.skipped[0].reason
    order = plan.order()
    assert plan.total_runs == len(order) == 10
    # A B C D E A B C D E: every round covers every setting before the next round starts
    assert [(p.cell, p.repeat) for p in order] == [(c, r) for r in (1, 2) for c in range(5)]
    assert [p.index for p in order] == list(range(10))
    assert all(s.items == 1000 and s.workload == "square" for s in plan.cells)


@pytest.mark.parametrize(
    ("strategies", "workers", "repeats", "spec", "names"),
    [
        ([], [1], 1, RunSpec(), ["strategies list is empty", "pool-map"]),
        (["pool-map", "nope"], [1], 1, RunSpec(), ["'nope'", "pool-map"]),
        (["pool-map"], [], 1, RunSpec(), ["workers list is empty"]),
        (["pool-map"], [1, 0], 1, RunSpec(), ["workers 0", "1.."]),
        (["pool-map"], [1], 0, RunSpec(), ["repeat 0", "1..100"]),
        (["pool-map"], [1], 1, RunSpec(workload="cube"), ["'cube'", "square"]),
        (["pool-map"], [1], 1, RunSpec(items=0), ["items 0"]),
    ],
)
def test_plan_refuses_bad_input_with_one_line(
    strategies: list[str], workers: list[int], repeats: int, spec: RunSpec, names: list[str]
) -> None:
    with pytest.raises(SpecError) as info:
        plan_matrix(strategies, workers, spec, repeats)
    message = str(info.value)
    assert "\n" not in message
    for name in names:
        assert name in message


def test_schedule_hands_out_runs_one_at_a_time_and_estimates_time_left() -> None:
    plan = plan_matrix(["pool-map"], [1, 2], RunSpec(workload="square", items=1000), repeats=2)
    schedule = MatrixSchedule(plan)
    assert schedule.total == 6 and schedule.status().eta_s is None
    first = schedule.next_run()
    assert first is not None and (first.index, first.repeat, first.spec.strategy) == (
        0, 1, "sequential",
    )  # fmt: skip
    with pytest.raises(RuntimeError, match="has not ended"):
        schedule.next_run()
    status = schedule.status().text()
    assert status == "run 1 of 6 · sequential · repeat 1 · time left unknown yet"
    ended = schedule.run_ended(rec("sequential", 1, 0.1, items=1000), duration_s=1.0)
    assert ended["repeat"] == 1 and schedule.records == [ended]
    # unmeasured settings are estimated at the average run so far: 5 runs x 1 s
    assert schedule.status().eta_s == pytest.approx(5.0)
    schedule.next_run()
    schedule.run_ended(rec("pool-map", 1, 0.5, items=1000), duration_s=3.0)
    # left: pool-map K=2 (avg 2 s), sequential (1 s), pool-map K=1 (3 s), pool-map K=2 (2 s)
    assert schedule.status().eta_s == pytest.approx(8.0)
    assert schedule.status().text() == "2 of 6 runs done · about 8.00 s left"
    with pytest.raises(RuntimeError, match="no run"):
        schedule.run_ended({})
    third = schedule.next_run()
    assert third is not None and third.spec.workers == 2
    schedule.cancel()
    assert schedule.finished and schedule.next_run() is None
    result = schedule.result()
    assert result.cancelled and len(result.records) == 2 and not result.all_good


# -- summary arithmetic -------------------------------------------------------------------------
def test_summary_median_min_max_speedup_and_efficiency() -> None:
    records = [
        rec("sequential", 1, 1.2), rec("pool-map", 2, 0.6), rec("pool-map", 4, 0.5),
        rec("sequential", 1, 0.8), rec("pool-map", 2, 0.4), rec("pool-map", 4, 0.2),
        rec("sequential", 1, 1.0), rec("pool-map", 2, 0.5), rec("pool-map", 4, 0.3),
        rec("pool-map", 2, 0.01, correct=False),  # wrong result: never counted
        failed("pool-map", 2),
    ]  # fmt: skip
    cells = {(c.strategy, c.workers): c for c in summarize(records)}
    assert list(cells) == [("sequential", 1), ("pool-map", 2), ("pool-map", 4)]
    seq, k2, k4 = cells.values()
    assert seq.median_wall_s == pytest.approx(1.0) and seq.speedup == pytest.approx(1.0)
    assert (seq.min_wall_s, seq.max_wall_s) == (0.8, 1.2)
    assert k2.runs == 5 and k2.ok == 3 and k2.failed == 2
    assert (k2.median_wall_s, k2.min_wall_s, k2.max_wall_s) == (0.5, 0.4, 0.6)
    assert k2.speedup == pytest.approx(2.0) and k2.efficiency == pytest.approx(1.0)
    assert k2.speedup_min == pytest.approx(1 / 0.6) and k2.speedup_max == pytest.approx(2.5)
    assert k4.speedup == pytest.approx(1 / 0.3) and k4.efficiency == pytest.approx(1 / 1.2)
    assert k2.baseline_wall_s == k4.baseline_wall_s == pytest.approx(1.0)
    assert k2.median_items_per_s == pytest.approx(1_000_000 / 0.5)
    as_dict = k2.as_dict()
    assert as_dict["median_wall_s"] == 0.5 and as_dict["speedup"] == pytest.approx(2.0)
    assert "hostname" not in as_dict


def test_summary_keeps_jobs_and_machines_apart() -> None:
    fast = {"hostname": "fast", "cpu_count": 8}
    slow = {"hostname": "slow", "cpu_count": 2}
    records = [
        rec("sequential", 1, 1.0, machine=fast), rec("pool-map", 2, 0.25, machine=fast),
        rec("sequential", 1, 4.0, machine=slow), rec("pool-map", 2, 2.0, machine=slow),
        rec("sequential", 1, 9.0, items=10), rec("pool-map", 2, 3.0, items=10),
    ]  # fmt: skip
    cells = summarize(records)
    speedups = {(c.hostname, c.items, c.strategy): c.speedup for c in cells}
    assert speedups[("fast", 1_000_000, "pool-map")] == pytest.approx(4.0)
    assert speedups[("slow", 1_000_000, "pool-map")] == pytest.approx(2.0)
    assert speedups[(None, 10, "pool-map")] == pytest.approx(3.0)


def test_no_baseline_means_no_speedup() -> None:
    cells = summarize([rec("pool-map", 2, 0.5), rec("sequential", 1, 1.0, correct=False)])
    assert all(c.speedup is None and c.efficiency is None for c in cells)
    assert cells[1].median_wall_s is None and cells[1].ok == 0


# -- verdicts on synthetic numbers ------------------------------------------------------------
def words(records: list[dict[str, Any]], cores: int | None = 2) -> str:
    return " ".join(verdict(summarize(records), cores=cores))


def test_verdict_faster_and_the_gil() -> None:
    text = words([
        rec("sequential", 1, 1.0), rec("pool-map", 1, 1.05), rec("pool-map", 2, 0.526),
        rec("thread-pool", 1, 1.02), rec("thread-pool", 2, 0.98),
    ], cores=2)  # fmt: skip
    assert "pool-map is 1.9x faster than the loop with 2 workers" in text
    assert "thread-pool gains nothing" in text and "the GIL" in text
    assert "Best here: pool-map with 2 workers" in text
    assert "of a core" not in text  # the loop had its core (CPU time == wall time)


def test_verdict_warns_when_the_loop_did_not_get_a_whole_core() -> None:
    text = words([
        rec("sequential", 1, 1.0, cpu_s=0.62), rec("sequential", 1, 1.1, cpu_s=0.7),
        rec("sequential", 1, 0.9, cpu_s=0.6), rec("process", 2, 0.9),
    ])  # fmt: skip
    assert "The loop got only 62% of a core" in text and "busy" in text


def test_verdict_slower_because_transfer_dominates_a_cheap_job() -> None:
    # the loop does 10M items in 0.7 s: 70 ns per item
    text = words([
        rec("sequential", 1, 0.7, items=10_000_000), rec("pool-map", 2, 1.47, items=10_000_000),
    ])  # fmt: skip
    assert "pool-map is 2.1x SLOWER than the loop" in text
    assert "result transfer dominates for a job this cheap (70 ns per item)" in text
    assert "try process or a bigger chunksize" in text
    assert "Nothing beat the plain loop" in text


def test_verdict_names_a_job_too_short_for_processes() -> None:
    text = words([rec("sequential", 1, 0.003, items=20_000), rec("process", 2, 0.2, items=20_000)])
    assert "process is 67x SLOWER" in text
    assert "takes the loop only 3.0 ms" in text and "more items" in text


def test_verdict_sees_workers_beyond_the_cores_and_noise() -> None:
    text = words([
        rec("sequential", 1, 1.0), rec("sequential", 1, 1.0),
        rec("process", 2, 0.52), rec("process", 2, 0.5), rec("process", 4, 0.6),
        rec("process", 4, 0.9),
    ], cores=2)  # fmt: skip
    assert "process is 2.0x faster than the loop with 2 workers" in text
    assert "going up to 4 workers adds nothing (this machine has 2 cores)" in text
    assert "Repeats varied by up to 40% (process K=4)" in text


def test_verdict_threads_help_when_items_wait() -> None:
    text = words([
        rec("sequential", 1, 2.0, workload="sleep"), rec("thread-pool", 4, 0.5, workload="sleep"),
    ], cores=2)  # fmt: skip
    assert "thread-pool is 4.0x faster" in text and "threads overlap the waiting" in text
    assert "GIL" not in text


def test_verdict_without_baseline_and_with_failures() -> None:
    text = words([
        rec("sequential", 1, 1.0, correct=False), rec("pool-map", 2, 0.5),
        failed("pool-map", 2),
    ])  # fmt: skip
    assert "no baseline" in text
    assert "2 runs failed or gave a wrong result and are not counted" in text
    assert verdict([]) == []


# -- sweeps -------------------------------------------------------------------------------------
def test_default_chunksizes_are_powers_of_four_up_to_items_per_worker() -> None:
    assert default_chunksizes(1000, 2) == [1, 4, 16, 64, 256, 500]
    # a big N starts where a run makes at most 100,000 tasks
    sizes = default_chunksizes(10_000_000, 2)
    assert sizes[0] == 256 and sizes[-1] == 5_000_000 and 10_000_000 / sizes[0] <= 100_000
    assert default_chunksizes(3, 4) == [1]


def test_chunksize_sweep_plan_and_series() -> None:
    plan = plan_chunksize_sweep(
        RunSpec(workload="square", items=4000), ["pool-map", "process"], workers=2,
        chunksizes=[1, 100, 2000], repeats=1,
    )  # fmt: skip
    assert [(s.strategy, s.chunksize) for s in plan.cells] == [
        ("sequential", None), ("pool-map", 1), ("pool-map", 100), ("pool-map", 2000)
    ]  # fmt: skip
    assert [s.strategy for s in plan.skipped] == ["process"]
    records = [
        rec("sequential", 1, 0.1, items=4000, chunksize=None),
        rec("pool-map", 2, 4.0, items=4000, chunksize=1),
        rec("pool-map", 2, 0.2, items=4000, chunksize=100),
        rec("pool-map", 2, 0.3, items=4000, chunksize=100),
        rec("pool-map", 2, 0.25, items=4000, chunksize=2000),
    ]  # fmt: skip
    (series,) = chunksize_series(records)
    assert series.label == "pool-map K=2"
    assert [p.x for p in series.points] == [1, 100, 2000]
    mid = series.points[1]
    assert mid.y == pytest.approx(4000 / 0.25) and mid.runs == 2
    assert (mid.y_min, mid.y_max) == (pytest.approx(4000 / 0.3), pytest.approx(4000 / 0.2))


def test_grain_sweep_plan_and_series() -> None:
    assert items_for_grain(1) == 500_000 and items_for_grain(20_000) == 249
    assert items_for_grain(10**7) == 200
    plan = plan_grain_sweep(["pool-map"], workers=2, grains=[1, 1000], repeats=2)
    assert [(s.strategy, s.grain, s.items) for s in plan.cells] == [
        ("sequential", 1, 500_000), ("pool-map", 1, 500_000),
        ("sequential", 1000, 4975), ("pool-map", 1000, 4975),
    ]  # fmt: skip
    assert all(s.workload == "heavy" for s in plan.cells) and plan.total_runs == 8
    records = [
        rec("sequential", 1, 0.1, workload="heavy", grain=1, items=500_000),
        rec("pool-map", 2, 0.4, workload="heavy", grain=1, items=500_000),
        rec("sequential", 1, 0.5, workload="heavy", grain=1000, items=5000),
        rec("pool-map", 2, 0.25, workload="heavy", grain=1000, items=5000),
    ]  # fmt: skip
    (series,) = grain_series(records)
    cheap, costly = series.points
    assert cheap.x == pytest.approx(0.1 / 500_000) and cheap.y == pytest.approx(0.25)
    assert costly.x == pytest.approx(0.5 / 5000) and costly.y == pytest.approx(2.0)
    assert (cheap.param, costly.param) == (1, 1000)
    with pytest.raises(SpecError, match="grains list is empty"):
        plan_grain_sweep(grains=[])


# -- the matrix, for real ---------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_matrix_runs_one_at_a_time_interleaved_and_summarises() -> None:
    plan = plan_matrix(
        ["sequential", "pool-map", "thread-pool"], [1, 2], RunSpec(workload="square", items=2000),
        repeats=2,
    )  # fmt: skip
    seen: list[Any] = []
    lines: list[str] = []

    def on_event(event: Any, matrix: MatrixRun) -> None:
        seen.append(event)
        lines.append(matrix.status().text())

    result = run_matrix(plan, on_event)
    assert not result.cancelled and result.all_good
    started = [e for e in seen if isinstance(e, MatrixRunStarted)]
    ended = [e for e in seen if isinstance(e, MatrixRunEnded)]
    assert [(e.spec.strategy, e.spec.workers, e.repeat) for e in started] == [
        (s.strategy, s.workers, r) for r in (1, 2) for s in plan.cells
    ]
    assert [e.index for e in started] == [e.index for e in ended] == list(range(10))
    # strictly one at a time: each run ends before the next starts
    kinds = [type(e).__name__ for e in seen if not isinstance(e, MatrixRunEvents)]
    assert kinds == ["MatrixRunStarted", "MatrixRunEnded"] * 10 + ["MatrixFinished"]
    assert isinstance(seen[-1], MatrixFinished) and len(seen[-1].records) == 10
    # live events of every run were handed out (a GUI's live views feed on them)
    for e in started:
        batches = [b for b in seen if isinstance(b, MatrixRunEvents) and b.index == e.index]
        assert any(isinstance(ev, RunStarted) for b in batches for ev in b.events)
    assert "run 1 of 10 · sequential · repeat 1 · time left unknown yet" in lines
    assert any("run 10 of 10 · thread-pool K=2 · repeat 2 · about" in line for line in lines)
    assert lines[-1] == "10 of 10 runs done"
    records = result.records
    assert [r["repeat"] for r in records] == [1] * 5 + [2] * 5
    assert all(r["correct"] and r["result"] == r["expected"] for r in records)
    cells = result.summary()
    assert [(c.strategy, c.workers, c.ok) for c in cells] == [
        ("sequential", 1, 2), ("pool-map", 1, 2), ("pool-map", 2, 2),
        ("thread-pool", 1, 2), ("thread-pool", 2, 2),
    ]  # fmt: skip
    seq_walls = sorted(r["wall_s"] for r in records if r["strategy"] == "sequential")
    for cell in cells:
        assert cell.baseline_wall_s == pytest.approx(sum(seq_walls) / 2)
        assert cell.min_wall_s <= cell.median_wall_s <= cell.max_wall_s  # type: ignore[operator]
        assert cell.speedup == pytest.approx(cell.baseline_wall_s / cell.median_wall_s)  # type: ignore[operator]
        assert cell.efficiency == pytest.approx(cell.speedup / cell.workers)  # type: ignore[operator]
    assert result.verdict(cores=2)


@pytest.mark.timeout(60)
def test_cancel_during_a_run_stops_it_and_the_plan() -> None:
    plan = plan_matrix(
        ["thread-pool"], [2], RunSpec(workload="sleep", items=100_000, sleep_ms=1.0), repeats=3
    )
    matrix = MatrixRun(plan)
    deadline = time.monotonic() + 30
    got_events = False
    while not got_events:
        assert time.monotonic() < deadline, "the first run never sent events"
        got_events = any(isinstance(e, MatrixRunEvents) for e in matrix.poll())
        time.sleep(0.02)
    t0 = time.monotonic()
    matrix.cancel()
    assert time.monotonic() - t0 < 3.0
    assert matrix.finished and matrix.cancelled and matrix.handle is None
    (last,) = matrix.poll()
    assert isinstance(last, MatrixFinished) and last.cancelled and last.records == []
    assert matrix.poll() == []
    assert matrix.result().cancelled and not matrix.result().all_good


@pytest.mark.timeout(60)
def test_stop_between_runs_starts_nothing_more() -> None:
    plan = plan_matrix(["pool-map"], [1], RunSpec(workload="square", items=500), repeats=3)
    ended: list[MatrixRunEnded] = []
    result = run_matrix(
        plan,
        lambda e, m: ended.append(e) if isinstance(e, MatrixRunEnded) else None,
        should_stop=lambda: len(ended) >= 1,
    )
    assert result.cancelled and len(result.records) == 1 == len(ended)


@pytest.mark.timeout(60)
def test_a_run_that_cannot_start_is_recorded_as_failed_and_the_rest_go_on() -> None:
    plan = plan_matrix(["pool-map"], [1], RunSpec(workload="square", items=500), repeats=1)

    def start(spec: RunSpec) -> Any:
        if spec.strategy == "pool-map":
            raise SpecError("items 500 needs more memory than there is")
        return start_run(spec)

    result = run_matrix(plan, start=start)
    statuses = [(r["strategy"], r["status"]) for r in result.records]
    assert statuses == [("sequential", "finished"), ("pool-map", "failed")]
    assert "more memory" in result.records[1]["error"] and not result.all_good
    assert result.summary()[1].ok == 0


# -- the command line ---------------------------------------------------------------------------
RUN_KEYS = {
    "status", "strategy", "workload", "items", "workers", "chunksize", "start_method", "result",
    "expected", "correct", "wall_s", "cpu_s", "items_per_s", "per_worker",
}  # fmt: skip
SUMMARY_KEYS = {
    "strategy", "workers", "median_wall_s", "min_wall_s", "max_wall_s", "speedup", "efficiency",
}  # fmt: skip


def mpscope(*args: str, data_dir: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``mpscope ARGS`` with its history in ``data_dir``."""
    return run_cli(*args, timeout=timeout, env={**os.environ, "MPSCOPE_DATA_DIR": str(data_dir)})


def stored_runs(data_dir: Path) -> int:
    with closing(sqlite3.connect(data_dir / "history.sqlite3")) as conn, conn:
        return int(conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


@pytest.mark.timeout(120)
def test_compare_json_is_one_object_with_runs_and_summary(tmp_path: Path) -> None:
    proc = mpscope("compare", "-s", "thread-pool,pool-starmap", "-k", "1,2", "-w", "square",
                   "-n", "2000", "--repeat", "2", "--json", data_dir=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # exactly one JSON value on stdout
    runs, summary = doc["runs"], doc["summary"]
    assert len(runs) == 6
    for run in runs:
        assert set(run) >= RUN_KEYS and run["correct"] is True
        assert run["result"] == run["expected"] == 1999 * 2000 * 3999 // 6
    assert [(r["strategy"], r["workers"], r["repeat"]) for r in runs] == [
        (s, k, rep) for rep in (1, 2) for s, k in
        (("sequential", 1), ("thread-pool", 1), ("thread-pool", 2))
    ]  # fmt: skip
    assert [(s["strategy"], s["workers"]) for s in summary] == [
        ("sequential", 1),
        ("thread-pool", 1),
        ("thread-pool", 2),
    ]
    for row in summary:
        assert set(row) >= SUMMARY_KEYS
        same = [
            r for r in runs if (r["strategy"], r["workers"]) == (row["strategy"], row["workers"])
        ]
        walls = sorted(r["wall_s"] for r in same)
        assert (row["min_wall_s"], row["max_wall_s"]) == (walls[0], walls[-1])
        assert row["median_wall_s"] == pytest.approx(sum(walls) / 2)
        assert row["efficiency"] == pytest.approx(row["speedup"] / row["workers"])
    assert summary[0]["speedup"] == pytest.approx(1.0)
    assert doc["skipped"][0]["strategy"] == "pool-starmap"
    assert doc["verdict"] and doc["machine"]["cpu_count"] >= 1
    assert stored_runs(tmp_path) == 6  # recorded in the history by default
    export = tmp_path / "compare.json"
    export.write_text(proc.stdout)
    assert len(read_json(export)) == 6  # compare --json output imports as it is


@pytest.mark.timeout(90)
def test_compare_table_csv_and_no_history(tmp_path: Path) -> None:
    csv_file = tmp_path / "runs.csv"
    proc = mpscope("compare", "-s", "thread-pool", "-k", "2", "-n", "1000", "-r", "1",
                   "--csv", str(csv_file), "--no-history", data_dir=tmp_path / "data")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "sequential" in proc.stdout and "thread-pool" in proc.stdout
    assert "speed-up" in proc.stdout and "1.00x" in proc.stdout
    lines = csv_file.read_text().splitlines()
    assert lines[0].startswith("strategy,workload,items,workers") and len(lines) == 3
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["-s", "pool-map,nope"], ["'nope'", "pool-map"]),
        (["-s", ","], ["strategies list is empty"]),
        (["-k", "1,0"], ["workers 0", "1.."]),
        (["-k", "1,two"], ["'two'", "whole number"]),
        (["-k", ""], ["workers list is empty"]),
        (["-r", "0"], ["repeat 0", "1..100"]),
        (["-w", "increment"], ["increment", "shared-counter"]),
        (["-n", "0"], ["items 0"]),
        (["--json", "--csv", "x.csv"], ["--csv", "--json"]),
        (["--csv", "/no/such/folder/x.csv"], ["/no/such/folder"]),
    ],
)
def test_compare_bad_input_exits_2_with_one_line(
    args: list[str], names: list[str], tmp_path: Path
) -> None:
    proc = mpscope("compare", *args, data_dir=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for name in names:
        assert name in lines[0]
    assert not (tmp_path / "history.sqlite3").exists()  # nothing ran, nothing recorded


@pytest.mark.timeout(90)
def test_compare_exits_1_when_a_run_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mpscope.workers import cli
    from mpscope.workers.cli import compare as command

    real = command.run_matrix

    def with_a_fault(plan: Any, on_event: Any, should_stop: Any) -> Any:
        def start(spec: RunSpec) -> Any:
            faulty = spec.strategy == "thread-pool"
            return start_run(spec.replace(inject="raise@7") if faulty else spec)

        return real(plan, on_event, should_stop, start=start)

    monkeypatch.setattr(command, "run_matrix", with_a_fault)
    monkeypatch.setenv("MPSCOPE_DATA_DIR", str(tmp_path))
    code = cli.main(["compare", "-s", "thread-pool", "-k", "2", "-n", "500", "-r", "1", "--json"])
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in doc["runs"]] == ["finished", "failed"]
    assert "item 7" in doc["runs"][1]["error"]
    assert "failed" in doc["verdict"]
    assert stored_runs(tmp_path) == 2  # failed runs are history too


@pytest.mark.timeout(60)
def test_compare_interrupt_exits_130_and_leaves_nothing_running(tmp_path: Path) -> None:
    env = {**os.environ, "MPSCOPE_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mpscope.workers", "compare", "-s", "thread-pool", "-k", "2", "-w",
         "sleep", "-n", "1e5", "--sleep-ms", "1", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
        env=env,
    )  # fmt: skip
    time.sleep(2.0)  # the first run (the sequential loop: 100 s) is under way
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert out == ""  # the autouse fixture checks that nothing is left running
    assert stored_runs(tmp_path) == 0  # the cancelled run is not history


@pytest.mark.timeout(60)
def test_compare_shows_matrix_progress_on_a_terminal(tmp_path: Path) -> None:
    code, out, terminal = on_a_terminal(
        ["compare", "-s", "thread-pool", "-k", "1", "-n", "500", "-r", "2", "--no-history"],
        env={**os.environ, "MPSCOPE_DATA_DIR": str(tmp_path)},
    )
    assert code == 0
    assert "run 1 of 4 · sequential · repeat 1" in terminal and "4/4" in terminal
    assert "run 4 of 4 · thread-pool K=1 · repeat 2 · about" in terminal
    assert "%|" not in out and "thread-pool" in out
