"""What mpscope's in-worker probes cost: an instrumented run against the bare stdlib call.

Both sides run in a freshly spawned process (as mpscope's conductor is), start their workers
with the same start method, use the same job function, N, K and chunksize, and time the same
window: from just before the workers start to the reduced result in hand. The runs alternate
A B A B ... and the report is the median of the per-pair ratios (instrumented / bare), so slow
drift on a shared machine hits both sides alike.

With ``--job TARGET [--inputs SOURCE]`` the job is the user's own function, as ``mpscope run
--job`` takes it: the bare side imports it in its spawned process (``own_job.load_function`` /
``load_inputs``, as the conductor does), maps it over the same inputs with the same call
(``Pool.map(job, inputs, chunksize)``, ...), and checks its results against the plain loop's
(computed once, in the warm-up's bare process, and handed to the later ones as a pickle this
process never opens). The instrumented warm-up is checked against the loop by mpscope itself;
the timed instrumented runs skip that check (``--no-check``), which runs after the clock but
would keep the consumer polling for one more loop's time.

    python benchmarks/probe_overhead.py                       # the README's two targets
    python benchmarks/probe_overhead.py --strategy pool-map --workload square --items 1e7 --pairs 7
    python benchmarks/probe_overhead.py --strategy pool-map --pairs 15 \
        --job examples/word_count.py:count_words --inputs examples/word_count.py:documents
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import pickle
import queue
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing.dummy import Pool as ThreadPool
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from mpscope.workers import RunSpec, start_run
from mpscope.workers.cli.options import add_spec_arguments, spec_fields
from mpscope.workers.context import worker_context
from mpscope.workers.events import RunFinished
from mpscope.workers.own_job import OwnJob, check_results, load_function, load_inputs, loop_results
from mpscope.workers.runner import CONSUMER_POLL_S
from mpscope.workers.strategies import get_strategy
from mpscope.workers.strategies.process_split import split
from mpscope.workers.validation import validate_spec
from mpscope.workers.workloads import WORKLOADS


def _slice_sum(job: Callable[..., int], lo: int, hi: int, q: Any) -> None:
    total = 0
    for x in range(lo, hi):
        total += job(x)
    q.put(total)


def _slice_list(job: Callable[..., Any], lo: int, part: Sequence[Any], q: Any) -> None:
    """A user's job: its results for ``part`` (the items from ``lo`` on), keyed by ``lo``."""
    q.put((lo, [job(x) for x in part]))


# Each returns (result, the perf_counter moment the result was in hand): the window mpscope
# times too; closing and joining the workers comes after it on both sides. ``items`` is
# range(N) for a workload, whose results are summed (``reduce`` sum), or the user's inputs,
# whose results are kept in a list (``reduce`` list), as mpscope's ``RunContext.gather`` does.
Job = Callable[..., Any]
Reduce = Callable[[Iterable[Any]], Any]
Done = tuple[Any, float]
Bare = Callable[[Any, Job, Sequence[Any], int, "int | None", Reduce], Done]


def bare_pool_map(
    ctx: Any, job: Job, items: Sequence[Any], k: int, c: int | None, reduce: Reduce = sum
) -> Done:
    pool = ctx.Pool(k)
    total = reduce(pool.map(job, items, c))
    t1 = time.perf_counter()
    c0 = time.process_time()
    _WORKER_CPU[:] = [cpu_of(p.pid) for p in pool._pool]  # idle now: their CPU is final
    _READING_CPU[:] = [time.process_time() - c0]  # not the bare call's: left out of its CPU
    pool.close()
    pool.join()
    return total, t1


def cpu_of(pid: int) -> float:
    """A process's CPU seconds so far (user + system)."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def bare_pool_imap(
    ctx: Any, job: Job, items: Sequence[Any], k: int, c: int | None, reduce: Reduce = sum
) -> Done:
    pool = ctx.Pool(k)
    total = reduce(pool.imap_unordered(job, items, c or 1))
    t1 = time.perf_counter()
    pool.close()
    pool.join()
    return total, t1


def bare_executor(
    ctx: Any, job: Job, items: Sequence[Any], k: int, c: int | None, reduce: Reduce = sum
) -> Done:
    ex = ProcessPoolExecutor(k, mp_context=ctx)
    total = reduce(ex.map(job, items, chunksize=c or 1))
    t1 = time.perf_counter()
    ex.shutdown()
    return total, t1


def bare_thread_pool(
    ctx: Any, job: Job, items: Sequence[Any], k: int, c: int | None, reduce: Reduce = sum
) -> Done:
    pool = ThreadPool(k)
    total = reduce(pool.map(job, items, c))
    t1 = time.perf_counter()
    pool.close()
    pool.join()
    return total, t1


def bare_process(
    ctx: Any, job: Job, items: Sequence[Any], k: int, c: int | None, reduce: Reduce = sum
) -> Done:
    q = ctx.Queue()
    slices = split(len(items), k)
    if reduce is sum:  # range(N): each process sums its slice
        procs = [ctx.Process(target=_slice_sum, args=(job, lo, hi, q)) for lo, hi in slices]
    else:  # the user's inputs: each process gets its slice and returns its results
        procs = [
            ctx.Process(target=_slice_list, args=(job, lo, items[lo:hi], q)) for lo, hi in slices
        ]
    for p in procs:
        p.start()
    if reduce is sum:
        total = sum(q.get() for _ in procs)
    else:
        parts = dict(q.get() for _ in procs)
        total = reduce(x for lo in sorted(parts) for x in parts[lo])
    t1 = time.perf_counter()
    for p in procs:
        p.join()
    return total, t1


def bare_sequential(
    ctx: Any, job: Job, items: Sequence[Any], k: int, c: int | None, reduce: Reduce = sum
) -> Done:
    if reduce is not sum:
        return reduce(job(x) for x in items), time.perf_counter()
    total = 0
    for x in items:
        total += job(x)
    return total, time.perf_counter()


BARE: dict[str, Bare] = {
    "pool-map": bare_pool_map,
    "pool-imap": bare_pool_imap,
    "executor": bare_executor,
    "thread-pool": bare_thread_pool,
    "process": bare_process,
    "sequential": bare_sequential,
}


_WORKER_CPU: list[float] = []  # pool-map only: the workers' CPU seconds, read before teardown
_READING_CPU: list[float] = []  # what reading them cost the bare side's parent


@dataclass
class BareRun:
    """What the bare side's process sends back."""

    wall_s: float
    worker_cpu_s: float | None
    parent_cpu_s: float
    ok: bool
    items: int  # N as the bare side ran it (a user's job: its inputs' length)
    chunksize: int | None  # the chunksize it used ("auto" resolved as the conductor does)
    reference: bytes | None = None  # a user's job: the loop's results, pickled (warm-up only)


def _bare_child(spec: RunSpec, out: Any, reference: bytes | None = None) -> None:
    """In a spawned process (like the conductor): time the bare stdlib call. A user's job
    (``spec.job``) is imported here, as the conductor imports it, before the clock; its
    results are checked against the loop's (``reference``, or the loop run here once)."""
    assert spec.workers is not None
    if spec.job is None:
        workload = WORKLOADS[spec.workload]
        job: Job = workload.job(**workload.arguments(spec))
        assert spec.items is not None
        items: Sequence[Any] = range(spec.items)
        reduce: Reduce = sum
    else:
        job = load_function(spec.job)  # puts the module's folder on sys.path, for the workers
        items = load_inputs(spec.inputs, spec.items or 0)
        reduce = list
    chunksize = spec.chunksize
    if chunksize is None:
        chunksize = get_strategy(spec.strategy).auto_chunksize(len(items), spec.workers)
    # the conductor's own context: forkserver preloads the same modules, so the only
    # difference between the two sides is the probe
    ctx = worker_context(spec.start_method or "spawn")
    c0 = time.process_time()
    t0 = time.perf_counter()
    result, t1 = BARE[spec.strategy](ctx, job, items, spec.workers, chunksize, reduce)
    # this parent's bookkeeping, the workers' teardown included, the reading of their CPU not
    own_cpu = time.process_time() - c0 - sum(_READING_CPU)
    wall = t1 - t0
    worker_cpu = sum(_WORKER_CPU) if _WORKER_CPU else None
    if spec.job is None:
        ok = result == workload.expected(spec.items, **workload.arguments(spec))
        out.put(BareRun(wall, worker_cpu, own_cpu, ok, len(items), chunksize))
        return
    if reference is None:  # the warm-up: the plain loop, once, after the clock
        loop = loop_results(OwnJob(spec.job, job, items, spread=False))
        reference = pickle.dumps(loop)
    else:
        loop = pickle.loads(reference)
    check = check_results(result, loop, ordered=spec.strategy != "pool-imap")
    out.put(
        BareRun(wall, worker_cpu, own_cpu, check.correct is True, len(items), chunksize, reference)
    )


@dataclass
class Side:
    """One run's figures: wall seconds, its workers' CPU and the CPU of what drove them."""

    wall_s: float
    worker_cpu_s: float | None
    parent_cpu_s: float  # bare: the calling process; instrumented: the conductor
    probe_cpu_s: float = 0.0  # instrumented: the probes' ticks, inside the workers
    consumer_cpu_s: float = 0.0  # instrumented: the caller draining the queue


def run_bare_checked(spec: RunSpec, reference: bytes | None = None) -> BareRun:
    """The bare stdlib call in a spawned process, its result checked (against the closed
    form, or a user's job against the loop: ``reference``, else the loop run there once)."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_bare_child, args=(spec, out, reference))
    proc.start()
    bare: BareRun = out.get(timeout=600)
    proc.join()
    assert bare.ok, "bare run computed a wrong result"
    return bare


def run_bare(spec: RunSpec, reference: bytes | None = None) -> Side:
    """The bare stdlib call in a spawned process (result checked)."""
    bare = run_bare_checked(spec, reference)
    return Side(float(bare.wall_s), bare.worker_cpu_s, float(bare.parent_cpu_s))


def run_instrumented(spec: RunSpec) -> Side:
    """The same run through mpscope, drained as the CLI does (every CONSUMER_POLL_S): the
    consumer is part of what a user gets."""
    handle = start_run(spec)
    c0 = time.process_time()
    while not handle.finished:
        handle.drain(budget_s=0.02)
        handle.pause(CONSUMER_POLL_S)
    consumer = time.process_time() - c0
    handle.close()
    outcome = handle.outcome
    # a user's job run with --no-check is unchecked (None): its warm-up was checked
    unchecked = spec.job is not None and not spec.check and outcome.correct is None
    assert isinstance(outcome, RunFinished) and (outcome.correct or unchecked), outcome
    workers = sum(w["cpu_s"] or 0.0 for w in handle.tally.summary()["per_worker"])
    return Side(outcome.wall_s, workers, outcome.cpu_s - workers, outcome.probe_cpu_s, consumer)


def accounted_ratio(bare: Side, probed: Side) -> float | None:
    """1 + the CPU mpscope adds, counted piece by piece, over the bare run's CPU: the probes'
    ticks, the consumer, and the conductor beyond what the bare call's own parent spends.
    Each piece is small and measured directly, so this does not swing with the machine's
    speed as wall times do; it leaves out indirect costs (a tick's cache misses after it)."""
    if bare.worker_cpu_s is None:
        return None
    extra = probed.probe_cpu_s + probed.consumer_cpu_s + probed.parent_cpu_s - bare.parent_cpu_s
    return 1 + extra / (bare.worker_cpu_s + bare.parent_cpu_s)


def measure(spec: RunSpec, pairs: int) -> dict[str, Any]:
    """Alternate bare and instrumented runs; return medians and the per-pair ratios."""
    spec = validate_spec(spec)
    if spec.strategy in ("pool-imap", "executor") and spec.chunksize is None and not spec.job:
        spec = spec.replace(chunksize=1)
    # warm-up (page cache, forkserver imports); a user's job: N and chunksize as the bare
    # side resolved them from its inputs, fixed for both sides, and the loop's results
    warm = run_bare_checked(spec)
    reference = warm.reference
    if spec.job is not None:
        spec = spec.replace(items=warm.items, chunksize=warm.chunksize)
    run_instrumented(spec)  # checked against the loop by mpscope itself
    timed = spec.replace(check=False) if spec.job is not None else spec
    sides: list[tuple[Side, Side]] = []
    for _ in range(pairs):
        sides.append((run_bare(spec, reference), run_instrumented(timed)))
    ratios = [b.wall_s / a.wall_s for a, b in sides]
    return {
        "spec": spec,
        "sides": sides,
        "bare": [a.wall_s for a, _ in sides],
        "instrumented": [b.wall_s for _, b in sides],
        "ratios": ratios,
        "median_ratio": statistics.median(ratios),
        "cpu_ratios": [
            (b.worker_cpu_s or 0.0) / a.worker_cpu_s for a, b in sides if a.worker_cpu_s
        ],
        "accounted": [r for r in (accounted_ratio(a, b) for a, b in sides) if r is not None],
    }


# -- in one pool: the probe's own cost, without process start-up noise --------------------------
_POOL_PROBE: Any = None


def _pool_init(config: Any) -> None:
    global _POOL_PROBE
    _POOL_PROBE = config


def _pool_task(args: tuple[bool, str, int, int, int]) -> float:
    """One chunk, timed inside the worker: bare ``list(map(job, chunk))`` or the probed one."""
    from mpscope.workers import probe

    probed, workload, grain, first, count = args
    chosen = WORKLOADS[workload]
    job = chosen.job(**chosen.arguments(RunSpec(workload=workload, grain=grain)))
    chunk = tuple(range(first, first + count))
    if not probed:
        t0 = time.perf_counter()
        list(map(job, chunk))
        return time.perf_counter() - t0
    lane = os.getpid() % _POOL_PROBE.max_lanes
    probe.attach(_POOL_PROBE, lane, watch_parent=False)
    t0 = time.perf_counter()
    probe.probed_mapstar((job, chunk))
    elapsed = time.perf_counter() - t0
    probe.finish_process()
    probe._local.lane = None
    return elapsed


def drain_packets(events: Any, poll_s: float = 0.0) -> None:
    """Read packets until None; with ``poll_s``, in batches that often, as a consumer does
    (a reader blocked on the pipe would be woken by every packet, a cost runs do not pay)."""
    while True:
        if poll_s:
            time.sleep(poll_s)
        if events.get() is None:
            return
        with contextlib.suppress(queue.Empty):
            while True:
                if events.get_nowait() is None:
                    return


@contextlib.contextmanager
def probe_channel(tick_s: float) -> Iterator[tuple[Any, Any]]:
    """A forkserver context and a ProbeConfig whose queue a reader process drains every
    CONSUMER_POLL_S, as a run's consumer does; the reader is stopped and joined on exit."""
    from mpscope.workers.probe import ProbeConfig

    ctx = worker_context("forkserver")
    events = ctx.Queue()  # as a run's
    reader = ctx.Process(target=drain_packets, args=(events, CONSUMER_POLL_S))
    reader.start()
    try:
        yield ctx, ProbeConfig.create(ctx, events, 8, tick_s)
    finally:
        events.put(None)
        reader.join()


def measure_in_pool(workload: str, count: int, grain: int, tick_s: float, rounds: int) -> None:
    """Both workers busy at once, in the same two processes: chunks with the probe (its
    sampler ticking, packets sent) alternate with bare chunks; ratio of the round times."""
    ratios = []
    with (
        probe_channel(tick_s) as (ctx, config),
        ctx.Pool(2, initializer=_pool_init, initargs=(config,)) as pool,
    ):
        for _ in range(rounds):
            bare = pool.map(
                _pool_task, [(False, workload, grain, i * count, count) for i in (0, 1)], 1
            )
            probed = pool.map(
                _pool_task, [(True, workload, grain, i * count, count) for i in (0, 1)], 1
            )
            ratios.append(sum(probed) / sum(bare))
    print(f"in one pool: {workload} · {count:,} items per chunk · 2 workers busy · tick {tick_s} s")
    print(
        f"  ratio        median {statistics.median(ratios):.3f} (probed / bare chunk)   "
        + " ".join(f"{x:.3f}" for x in ratios)
    )


def _side_by_side_worker(
    me: int, config: Any, plan: list[tuple[bool, bool]], n: int, barrier: Any, out: Any
) -> None:
    """One of two processes computing the same heavy items at the same moments; in each slot
    of ``plan`` one of them carries the probe (its sampler ticking) and the other does not."""
    from mpscope.workers import probe

    job = WORKLOADS["heavy"].job(grain=2000)
    rows = []
    for slot in plan:
        lane = probe.attach(config, me, watch_parent=False) if slot[me] else None
        barrier.wait()
        if lane is not None:
            lane.begin(job, 0, n)
        c0 = time.process_time()
        for x in range(n):
            job(x)
        cpu = time.process_time() - c0
        ticks, probe_cpu = 0, 0.0
        if lane is not None:
            lane.end()
            sampler = probe._sampler
            ticks = sampler.ticks if sampler is not None else 0
            probe.finish_process()
            probe._local.lane = None
            probe_cpu = lane.probe_cpu_s
        rows.append((cpu, ticks, probe_cpu))
    out.put((me, rows))


def measure_tick_cost(rounds: int, tick_s: float) -> None:
    """What the probe's ticks cost a busy worker: two processes compute the same heavy items
    side by side (both cores busy, as in a run), one with the probe and one without, swapping
    every slot; the ratio of their CPU in the same slot cancels the machine's own swings.
    Also the sampler's own CPU per tick (reading the lane, pickling, writing one packet)."""
    rng = random.Random(1)
    plan: list[tuple[bool, bool]] = []
    for _ in range(rounds):
        pair = [(True, False), (False, True)]
        rng.shuffle(pair)
        plan += pair
    with probe_channel(tick_s) as (ctx, config):
        barrier, out = ctx.Barrier(2), ctx.Queue()
        procs = [
            ctx.Process(target=_side_by_side_worker, args=(i, config, plan, 2000, barrier, out))
            for i in range(2)
        ]
        for proc in procs:
            proc.start()
        rows = dict(out.get() for _ in procs)
        for proc in procs:
            proc.join()
    ratios, ticks, probe_cpu = [], 0, 0.0
    for k, slot in enumerate(plan):
        probed = slot.index(True)
        cpu, n_ticks, p_cpu = rows[probed][k]
        ratios.append(cpu / rows[1 - probed][k][0])
        ticks += n_ticks
        probe_cpu += p_cpu
    low, high = median_interval(ratios)
    print(
        f"the probe side by side: heavy, {len(ratios)} slots of 2,000 items, tick {tick_s} s: "
        f"CPU probed / bare in the same slot, median {statistics.median(ratios):.3f} "
        f"(95 % interval {low:.3f}-{high:.3f})"
    )
    print(
        f"the sampler's own work: {1e6 * probe_cpu / max(ticks, 1):.0f} us of CPU per tick "
        f"({ticks} ticks)"
    )


def median_interval(values: list[float], resamples: int = 2000) -> tuple[float, float]:
    """A 95 % bootstrap interval of the median of ``values`` (seeded: the same every time)."""
    rng = random.Random(1)
    medians = sorted(
        statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples)
    )
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def _report(result: dict[str, Any], target: float | None) -> bool:
    spec = result["spec"]
    med = result["median_ratio"]
    verdict = ""
    if target is not None:
        verdict = f" (target <= {target:.2f}: {'met' if med <= target else 'MISSED'})"
    what = f"{spec.job} over {spec.inputs or 'range(N)'}" if spec.job else spec.workload
    print(
        f"{spec.strategy} · {what} · N={spec.items:,} · K={spec.workers} · "
        f"chunksize {spec.chunksize} · {spec.start_method}"
    )
    print(
        f"  bare         median {statistics.median(result['bare']):.3f} s   "
        + " ".join(f"{x:.3f}" for x in result["bare"])
    )
    print(
        f"  instrumented median {statistics.median(result['instrumented']):.3f} s   "
        + " ".join(f"{x:.3f}" for x in result["instrumented"])
    )
    print(
        f"  ratio        median {med:.3f}{verdict}   "
        + " ".join(f"{x:.3f}" for x in result["ratios"])
    )
    low, high = median_interval(result["ratios"])
    print(f"  95 % interval of the median ratio (bootstrap): {low:.3f}-{high:.3f}")
    if result["cpu_ratios"]:
        cpu = result["cpu_ratios"]
        print(
            f"  worker CPU   median {statistics.median(cpu):.3f} (instrumented / bare)   "
            + " ".join(f"{x:.3f}" for x in cpu)
        )
    sides = result["sides"]
    parent_share = statistics.median(
        [a.parent_cpu_s / ((a.worker_cpu_s or 0.0) + a.parent_cpu_s) for a, _ in sides]
    )
    if result["accounted"] and parent_share > 0.05:
        # square and the like: the parents unpickle every result, seconds of CPU that swing
        # with the machine, so their difference would drown what it is meant to show
        print(
            f"  accounted    (not shown: the parents spend {100 * parent_share:.0f} % of the CPU)"
        )
    elif result["accounted"]:
        acc = result["accounted"]

        def ms(values: list[float]) -> str:
            return f"{1000 * statistics.median(values):.1f} ms"

        low, high = median_interval(acc)
        print(
            f"  accounted    median {statistics.median(acc):.4f} (95 % interval {low:.4f}-"
            f"{high:.4f}): probes {ms([b.probe_cpu_s for _, b in sides])}, consumer "
            f"{ms([b.consumer_cpu_s for _, b in sides])}, conductor "
            f"{ms([b.parent_cpu_s for _, b in sides])} vs the bare parent "
            f"{ms([a.parent_cpu_s for a, _ in sides])}, of "
            f"{statistics.median([(a.worker_cpu_s or 0) + a.parent_cpu_s for a, _ in sides]):.2f}"
            " s bare CPU"
        )
    return target is None or med <= target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--strategy", choices=sorted(BARE))
    parser.add_argument("--workers", type=int, default=2)
    add_spec_arguments(parser)  # the same job options as `mpscope run`
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument(
        "--in-pool",
        action="store_true",
        help="also time the probe inside one pool (no start-up noise), heavy and square",
    )
    parser.add_argument(
        "--tick-cost",
        action="store_true",
        help="only measure what the probe's ticks cost a busy worker (--pairs slot pairs)",
    )
    args = parser.parse_args(argv)
    if args.job and not args.strategy:
        parser.error("--job measures one strategy: give --strategy too")
    print(
        time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        f"python {sys.version.split()[0]}, {mp.cpu_count()} cores, pairs {args.pairs}",
    )
    if args.tick_cost:
        measure_tick_cost(args.pairs, args.tick)
        return 0
    if args.strategy:
        spec = RunSpec(strategy=args.strategy, workers=args.workers, **spec_fields(args))
        _report(measure(spec, args.pairs), None)
        return 0
    ok = _report(
        measure(
            RunSpec(strategy="pool-map", workload="square", items=10_000_000, workers=2), args.pairs
        ),
        1.05,
    )
    ok &= _report(
        measure(
            RunSpec(
                strategy="pool-map", workload="heavy", items=20_000, workers=2, grain=args.grain
            ),
            args.pairs,
        ),
        1.01,
    )
    if args.in_pool:
        measure_in_pool("heavy", 1500, args.grain, args.tick, 4 * args.pairs)
        measure_in_pool("square", 1_000_000, 0, args.tick, 4 * args.pairs)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
