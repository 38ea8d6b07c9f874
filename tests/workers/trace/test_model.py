"""TraceModel: what the window and the closing summary read from a traced program's packets."""

from __future__ import annotations

import math

from mpscope.workers.events import Progress, TaskSpan, WorkerExited, WorkerStarted
from mpscope.workers.trace.model import TraceModel

PROGRAM = 100


def _pool(key: str = "100:1", kind: str = "Pool", size: int = 2, t: float = 1.0) -> dict:
    label = f"etl.py:42 {kind}({size})"
    return {
        "k": "pool",
        "pid": PROGRAM,
        "t": t,
        "pool": key,
        "kind": kind,
        "workers": size,
        "label": label,
        "file": "etl.py",
        "line": 42,
        "tid": 7,
    }


def _call(items: int | None = 6, method: str = "map") -> dict:
    return {
        "k": "call",
        "pid": PROGRAM,
        "t": 1.1,
        "pool": "100:1",
        "call": "100:2",
        "method": method,
        "label": f"etl.py:57 pool.{method}(parse, rows)",
        "file": "etl.py",
        "line": 57,
        "tid": 7,
        "items": items,
    }


def _span(pid: int, t0: float, t1: float, items: int, index: int, tid: int = 1) -> dict:
    return {
        "k": "span",
        "pid": pid,
        "t": t1,
        "pool": "100:1",
        "call": "100:2",
        "tid": tid,
        "t0": t0,
        "t1": t1,
        "items": items,
        "index": index,
        "ok": True,
    }


def _worker(pid: int, t: float, tid: int | None = None) -> dict:
    return {"k": "worker", "pid": PROGRAM, "t": t, "pool": "100:1", "worker_pid": pid, "tid": tid}


def _exit(pid: int, code: int | None, t: float, tid: int | None = None) -> dict:
    return {
        "k": "worker_exit",
        "pid": PROGRAM,
        "t": t,
        "pool": "100:1",
        "worker_pid": pid,
        "tid": tid,
        "exitcode": code,
    }


def test_a_pools_tasks_become_the_run_events_the_live_views_draw() -> None:
    model = TraceModel()
    model.feed_all(
        [
            _pool(),
            _worker(201, 1.0),
            _worker(202, 1.0),
            _call(),
            _span(201, 1.2, 1.5, 3, 0),
            _span(202, 1.2, 1.6, 3, 1),
            {"k": "pool_end", "pid": PROGRAM, "t": 1.7, "pool": "100:1", "how": "close"},
            _exit(201, 0, 1.8),
            _exit(202, 0, 1.8),
        ]
    )
    pool = model.pools["100:1"]
    assert (pool.label, pool.size, pool.done, pool.tasks) == ("etl.py:42 Pool(2)", 2, 6, 2)
    assert pool.calls["100:2"].finished and pool.calls["100:2"].tasks == 2
    assert pool.events[:2] == [WorkerStarted(0, 201, 1.0, None), WorkerStarted(1, 202, 1.0, None)]
    assert TaskSpan(0, 0, 3, 1.2, 1.5) in pool.events
    assert TaskSpan(1, 3, 3, 1.2, 1.6) in pool.events  # task 1 of chunks of 3: items 3..5
    assert Progress(1, 3, 1.6) in pool.events
    exited = [e for e in pool.events if isinstance(e, WorkerExited)]
    assert [(e.worker, e.items, e.exitcode) for e in exited] == [(0, 3, 0), (1, 3, 0)]
    assert math.isclose(exited[0].busy_s, 0.3) and math.isnan(exited[0].cpu_s)
    assert (model.t0, model.t_last, model.workers(), model.tasks()) == (1.0, 1.8, 2, 2)
    assert model.notes() == []  # workers that end with the pool are no news


def test_a_worker_killed_under_a_map_is_named_with_what_the_map_will_do() -> None:
    model = TraceModel()
    model.feed_all(
        [
            _pool(size=4),
            _worker(4242, 1.0),
            _call(items=8),
            _span(4242, 1.2, 1.3, 2, 0),
            _exit(4242, -9, 1.5),
        ]
    )
    assert model.notes() == [
        "worker 4242 of etl.py:42 Pool(4) was killed (SIGKILL); Pool.map will wait for ever "
        "(CPython gh-96062)"
    ]


def test_workers_the_program_terminated_itself_are_not_reported_as_deaths() -> None:
    model = TraceModel()
    model.feed_all(
        [
            _pool(),
            _worker(201, 1.0),
            _call(items=8),
            {"k": "pool_end", "pid": PROGRAM, "t": 1.4, "pool": "100:1", "how": "terminate"},
            _exit(201, -15, 1.5),
        ]
    )
    assert model.notes() == []
    assert model.pools["100:1"].how == "terminate"


def test_thread_pool_lanes_are_threads_of_one_process() -> None:
    model = TraceModel()
    model.feed_all(
        [
            _pool(kind="ThreadPool"),
            _call(items=2),
            _span(PROGRAM, 1.2, 1.3, 1, 0, tid=11),
            _span(PROGRAM, 1.2, 1.4, 1, 1, tid=12),
        ]
    )
    lanes = model.pools["100:1"].lanes
    assert [(lane.pid, lane.tid, lane.items) for lane in lanes.values()] == [
        (PROGRAM, 11, 1),
        (PROGRAM, 12, 1),
    ]


def test_a_half_told_story_is_shown_as_far_as_it_goes() -> None:
    model = TraceModel()
    model.feed_all(
        [
            {"k": "span", "pid": 1, "t": 2.0},  # cut short
            {"k": "call", "pid": 1, "t": 2.0, "pool": "never-announced"},
            {"k": "no-such-kind", "pid": 1, "t": 2.0},
            {"k": "pool", "pid": 1},  # no time
            _pool(),
            _call(items=None, method="imap_unordered"),
            _span(201, 1.2, 1.3, 1, 0),
        ]
    )
    pool = model.pools["100:1"]
    assert (pool.done, model.packets) == (1, 3)
    assert not pool.calls["100:2"].finished  # a size never told never counts as done


def test_processes_collect_their_lifetimes_and_samples() -> None:
    model = TraceModel()
    model.feed_all(
        [
            {
                "k": "hello",
                "pid": PROGRAM,
                "t": 0.5,
                "ppid": 1,
                "argv": ["etl.py", "-v"],
                "key": "x",
            },
            {
                "k": "proc",
                "pid": PROGRAM,
                "t": 0.6,
                "child_pid": 300,
                "label": "etl.py:88 Process(target=load)",
                "pool": None,
            },
            {"k": "sample", "pid": 300, "t": 0.8, "cpu": 99.0, "rss": 1 << 20},
            {"k": "proc_end", "pid": PROGRAM, "t": 1.0, "child_pid": 300, "exitcode": 3},
        ]
    )
    proc = model.processes[300]
    assert (proc.ppid, proc.label, proc.t_start, proc.t_end, proc.exitcode) == (
        PROGRAM,
        "etl.py:88 Process(target=load)",
        0.6,
        1.0,
        3,
    )
    assert proc.samples == [(0.8, 99.0, 1 << 20)]
    assert model.processes[PROGRAM].label == "etl.py -v"


def test_a_span_that_comes_in_before_its_pool_waits_for_it() -> None:
    """Each process has its own connection: a worker's report can overtake its pool's."""
    model = TraceModel()
    model.feed_all([_span(201, 1.2, 1.5, 3, 0), _worker(201, 1.0)])
    assert model.pools == {}
    model.feed(_pool())
    pool = model.pools["100:1"]
    assert (pool.done, len(pool.lanes)) == (0, 1)  # the span waits for its call too
    model.feed(_call())
    assert (pool.done, pool.tasks, pool.calls["100:2"].done) == (3, 1, 3)


def test_a_summary_model_keeps_counts_and_notes_but_no_events() -> None:
    """The closing summary must not hold every task of a long trace in memory."""
    model = TraceModel(keep_events=False)
    model.feed_all([_pool(size=4), _worker(4242, 1.0), _call(items=8)])
    model.feed_all(_span(4242, 1.0 + i, 1.5 + i, 1, i) for i in range(1000))
    model.feed(_exit(4242, -9, 2000.0))
    pool = model.pools["100:1"]
    assert (pool.done, pool.tasks, pool.events) == (1000, 1000, [])
    assert model.notes()[0].startswith("worker 4242 of etl.py:42 Pool(4) was killed")


def test_under_an_async_call_it_is_the_results_get_that_waits_for_ever() -> None:
    model = TraceModel()
    model.feed_all([_pool(size=3), _call(items=400, method="map_async"), _exit(4242, -9, 1.5)])
    assert model.notes() == [
        "worker 4242 of etl.py:42 Pool(3) was killed (SIGKILL); "
        "Pool.map_async(...).get() will wait for ever (CPython gh-96062)"
    ]
