"""Where an instrumented heavy run's extra time comes from: the bare call, then one piece of
mpscope added at a time, every variant once per round in a random order.

Variants (pool-map, heavy, forkserver, the same N, K and chunksize throughout):

* ``bare``       the stdlib call alone (``probe_overhead.run_bare``)
* ``attached``   the same Pool with the probe's initializer: every worker has a lane and a
                 sampler thread ticking, a thread of the calling process drains the queue;
                 the tasks run the stdlib's ``mapstar``, so the lanes never have a chunk
                 running and send nothing after WorkerStarted
* ``reporting``  ``attached`` plus the probed chunk runners: every tick each lane reads its
                 position and sends Progress and TaskSpans, as in a run
* ``reporting-slow``  ``reporting`` with the tick at ``--slow-tick`` (default 0.2 s)
* ``mpscope``    the whole instrumented run (conductor, watchdog, consumer)
* ``mpscope@T``  the whole run with the probe's tick at T seconds (``--tick T``)

Each variant's figures are reported against the first one named, as the median of the
per-round ratios with a 95 % bootstrap interval: wall time and the workers' CPU.

    python benchmarks/probe_bisect.py --rounds 60
    python benchmarks/probe_bisect.py --rounds 60 --variants attached,reporting,reporting-slow
    python benchmarks/probe_bisect.py --rounds 60 --variants bare,mpscope,mpscope@0.1,mpscope@1
    python benchmarks/probe_bisect.py --block-cost --rounds 100   # inside one worker
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import multiprocessing as mp
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from probe_overhead import (
    Side,
    cpu_of,
    drain_packets,
    median_interval,
    probe_channel,
    run_bare,
    run_instrumented,
)

from mpscope.workers import RunSpec
from mpscope.workers.context import worker_context
from mpscope.workers.probe import ProbeConfig, init_pool_worker, instrumented_pool_tasks
from mpscope.workers.runner import CONSUMER_POLL_S
from mpscope.workers.spec import SpecError
from mpscope.workers.validation import validate_spec
from mpscope.workers.workloads import WORKLOADS

VARIANTS = ("bare", "attached", "reporting", "reporting-slow", "mpscope")


def _probed_pool_child(spec: RunSpec, out: Any, reporting: bool) -> None:
    """In a spawned process: the bare Pool call with the probe's initializer (and, if
    ``reporting``, its chunk runners), timed as the bare call is."""
    assert spec.items is not None and spec.workers is not None
    workload = WORKLOADS[spec.workload]
    job = workload.job(**workload.arguments(spec))
    ctx = worker_context(spec.start_method or "spawn")
    events = ctx.Queue()
    config = ProbeConfig.create(ctx, events, 2 * spec.workers + 8, spec.tick_s)
    # emptied every CONSUMER_POLL_S, as mpscope's consumer does, until the None put below
    drainer = threading.Thread(target=drain_packets, args=(events, CONSUMER_POLL_S), daemon=True)
    drainer.start()
    t0 = time.perf_counter()
    pool = ctx.Pool(spec.workers, initializer=init_pool_worker, initargs=(config,))
    runners = instrumented_pool_tasks() if reporting else contextlib.nullcontext()
    with runners:
        total = sum(pool.map(job, range(spec.items), spec.chunksize))
    t1 = time.perf_counter()
    worker_cpu = sum(cpu_of(p.pid) for p in pool._pool)  # idle now: their CPU is final
    pool.close()
    pool.join()
    events.put(None)
    drainer.join()
    ok = total == workload.expected(spec.items, **workload.arguments(spec))
    out.put((t1 - t0, worker_cpu, ok))


def run_probed_pool(spec: RunSpec, reporting: bool) -> Side:
    """``_probed_pool_child`` in a freshly spawned process (result checked)."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_probed_pool_child, args=(spec, out, reporting))
    proc.start()
    wall, worker_cpu, ok = out.get(timeout=600)
    proc.join()
    assert ok, "a probed pool computed a wrong result"
    return Side(float(wall), float(worker_cpu), 0.0)


def _block_worker(me: int, config: Any, plan: list[bool], n: int, out: Any) -> None:
    """One busy worker with a lane: blocks of ``n`` heavy items, each either reporting (a
    running chunk: the sampler reads the position and sends packets every tick) or idle (the
    sampler ticks, nothing to send), in ``plan``'s order; wall and CPU time per block."""
    from mpscope.workers import probe

    job = WORKLOADS["heavy"].job(grain=2000)
    lane = probe.attach(config, me, watch_parent=False)
    rows, first = [], 0
    for reporting in plan:
        if reporting:
            lane.begin(job, first, n)
        t0, c0 = time.perf_counter(), time.process_time()
        for x in range(first, first + n):
            job(x)
        rows.append((reporting, time.perf_counter() - t0, time.process_time() - c0))
        if reporting:
            lane.end()
        first += n
    probe.finish_process()
    out.put(rows)


def measure_block_cost(rounds: int, tick_s: float, n: int = 2000) -> None:
    """Two busy workers, each alternating reporting and idle blocks in a random order: the
    ratio of adjacent blocks on the same core cancels this machine's per-core speed swings."""
    plan: list[bool] = []
    for _ in range(rounds):
        pair = [True, False]
        random.shuffle(pair)
        plan += pair
    with probe_channel(tick_s) as (ctx, config):
        out = ctx.Queue()
        procs = [ctx.Process(target=_block_worker, args=(i, config, plan, n, out)) for i in (0, 1)]
        for proc in procs:
            proc.start()
        results = [out.get(timeout=600) for _ in procs]
        for proc in procs:
            proc.join()
    wall, cpu = [], []
    for rows in results:
        for a, b in zip(rows[::2], rows[1::2]):
            rep, idle = (a, b) if a[0] else (b, a)
            wall.append(rep[1] / idle[1])
            cpu.append(rep[2] / idle[2])
    for name, values in (("wall", wall), ("CPU", cpu)):
        low, high = median_interval(values)
        print(
            f"  blocks of {n:,} heavy items, tick {tick_s} s: reporting / idle {name} "
            f"{statistics.median(values):.4f} (95 % interval {low:.4f}-{high:.4f}, "
            f"{len(values)} block pairs)"
        )


def tick_of(name: str) -> float | None:
    """The tick T of an ``mpscope@T`` variant (None for any other name or a bad T)."""
    prefix, _, tick = name.partition("@")
    if prefix != "mpscope" or not tick:
        return None
    try:
        return float(tick)
    except ValueError:
        return None


def runners_for(spec: RunSpec, slow_tick: float, names: list[str]) -> dict[str, Callable[[], Side]]:
    """One callable per variant (``names`` adds the ``mpscope@T`` ones)."""
    ticked = {
        name: validate_spec(spec.replace(tick_s=tick))
        for name in names
        if (tick := tick_of(name)) is not None
    }
    return {
        **{name: functools.partial(run_instrumented, s) for name, s in ticked.items()},
        "bare": lambda: run_bare(spec),
        "attached": lambda: run_probed_pool(spec, reporting=False),
        "reporting": lambda: run_probed_pool(spec, reporting=True),
        "reporting-slow": lambda: run_probed_pool(spec.replace(tick_s=slow_tick), reporting=True),
        "mpscope": lambda: run_instrumented(spec),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print each variant against the first."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--grain", type=int, default=2000)
    parser.add_argument("--variants", default="bare,attached,reporting,mpscope")
    parser.add_argument("--slow-tick", type=float, default=0.2)
    parser.add_argument(
        "--block-cost",
        action="store_true",
        help="only compare reporting and idle blocks inside two busy workers (--rounds pairs "
        "each), at the 50 ms tick and at --slow-tick",
    )
    args = parser.parse_args(argv)
    if args.block_cost:
        print(time.strftime("%Y-%m-%d %H:%M:%S %Z"), f"{args.rounds} block pairs per worker")
        for tick in (0.05, args.slow_tick):
            measure_block_cost(args.rounds, tick)
        return 0
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS and tick_of(v) is None]
    if unknown or len(names) < 2:
        parser.error(
            f"--variants: need two or more of {', '.join(VARIANTS)}, mpscope@SECONDS; "
            f"got {args.variants}"
        )
    spec = validate_spec(
        RunSpec(
            strategy="pool-map",
            workload="heavy",
            items=args.items,
            workers=args.workers,
            grain=args.grain,
        )
    )
    try:
        runners = runners_for(spec, args.slow_tick, names)
    except SpecError as exc:
        parser.error(f"--variants: {exc}")
    print(
        time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        f"heavy pool-map N={spec.items:,} K={spec.workers} chunksize {spec.chunksize} "
        f"{spec.start_method}, {args.rounds} rounds, random order",
    )
    for name in names:
        runners[name]()  # warm-up
    sides: dict[str, list[Side]] = {name: [] for name in names}
    for _ in range(args.rounds):
        order = names[:]
        random.shuffle(order)
        for name in order:
            sides[name].append(runners[name]())
    ref = names[0]
    print(f"  {ref:15s} median wall {statistics.median(s.wall_s for s in sides[ref]):.3f} s")
    for name in names[1:]:
        wall = [b.wall_s / a.wall_s for a, b in zip(sides[ref], sides[name])]
        cpu = [
            (b.worker_cpu_s or 0.0) / a.worker_cpu_s
            for a, b in zip(sides[ref], sides[name])
            if a.worker_cpu_s
        ]
        low, high = median_interval(wall)
        print(
            f"  {name:15s} / {ref}: wall {statistics.median(wall):.3f} "
            f"(95 % interval {low:.3f}-{high:.3f}), workers' CPU {statistics.median(cpu):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
