"""What ``mpscope trace`` costs a program: a heavy ``Pool.map`` script, traced against untraced.

Whole run. The same script (a CPU-heavy pure-Python job mapped over N items by ``Pool(K)``)
runs as ``python job.py`` (A) and as ``python -m mpscope.workers trace --no-window job.py`` (B),
alternating A B A B ...; each run is timed from outside, from its start to its end, mpscope's
own start-up and closing included. The report is the median of the per-pair ratios B / A with a
95 % bootstrap interval (``probe_overhead.median_interval``: the same method as the probe's).

Accounted. Wall times on a shared 2-core machine swing by more than what the hooks cost, so
the cost is also counted piece by piece, in CPU seconds of the program's workers, where each
piece is large enough to measure and small pieces cannot hide in noise:

- per task: a job of T empty tasks (``Pool.map(noop, range(T), chunksize=1)``), traced and
  untraced, alternating; (workers' CPU traced - untraced) / T is what the hooks add to a task
  (the task wrapper, its span packet, its share of encoding and sending);
- per worker-second: a job whose K tasks each sleep S seconds; (workers' CPU traced -
  untraced - K x per task) / (K x S) is what the hooks' sender thread costs a worker per second
  of its life (its flushes every tick);
- accounted = 1 + (per task x the heavy job's tasks + per worker-second x K x its wall time)
  / the untraced heavy job's workers' CPU.

The workers' CPU is what the script reads with ``getrusage(RUSAGE_CHILDREN)`` after
``pool.join()`` (fork or spawn: the workers are its children). Left out, and reported apart:
mpscope's own process (start-up, the recorder, writing the file: ``recorder CPU``), which runs
beside the program, not inside it, and the program's main process (``main CPU``).

    python benchmarks/trace_overhead.py                      # defaults: the README's figures
    python benchmarks/trace_overhead.py --pairs 11 --items 400 --grain 200000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from probe_overhead import median_interval

from mpscope.workers.trace.chrome import read_packets

JOB = """
import functools, json, multiprocessing as mp, resource, sys, time

def heavy(x, grain):
    total = 0
    for i in range(grain):
        total += (x * i + i) % 7
    return total

def noop(x):
    return x

def rest(seconds):
    time.sleep(seconds)
    return 0

if __name__ == "__main__":
    kind, n, k, chunksize, method, grain = sys.argv[1:7]
    n, k, grain = int(n), int(k), int(grain)
    if kind == "heavy":
        func, items = functools.partial(heavy, grain=grain), range(n)
    elif kind == "tiny":
        func, items, chunksize = noop, range(n), "1"
    else:  # idle: each worker sleeps n/1000 s in one task
        func, items, chunksize = rest, [n / 1000] * k, "1"
    pool = mp.get_context(method).Pool(k)
    result = sum(pool.map(func, items, int(chunksize) or None))
    pool.close()
    pool.join()
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"result": result, "main_cpu": own.ru_utime + own.ru_stime,
                      "workers_cpu": workers.ru_utime + workers.ru_stime}))
"""


@dataclass
class Run:
    """One run of the job script: its wall time and CPU (every process, the workers, main)."""

    wall_s: float
    total_cpu_s: float  # every process of the run, mpscope's included (traced)
    workers_cpu_s: float
    main_cpu_s: float
    result: int
    tasks: int | None = None  # traced: the spans in its trace
    packets: int | None = None

    @property
    def own_cpu_s(self) -> float:
        """What is neither the program's workers nor its main process: mpscope's process."""
        return self.total_cpu_s - self.workers_cpu_s - self.main_cpu_s


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_job(folder: Path, args: list[str], traced: bool) -> Run:
    """Run the job script once (traced with mpscope or not) and read what it measured."""
    out = folder / "job.trace.json"
    prefix = [sys.executable]
    if traced:
        prefix += ["-m", "mpscope.workers", "trace", "--no-window", "--out", str(out)]
    c0, t0 = children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [*prefix, str(folder / "job.py"), *args],
        capture_output=True, text=True, check=False, cwd=folder, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"the job failed ({proc.returncode}): {proc.stderr.strip()}")
    measured = json.loads(proc.stdout.strip().splitlines()[-1])
    run = Run(wall, cpu, measured["workers_cpu"], measured["main_cpu"], measured["result"])
    if traced:
        packets = read_packets(out)
        run.tasks = sum(1 for p in packets if p["k"] == "span")
        run.packets = len(packets)
        out.unlink()
    return run


def alternate(folder: Path, args: list[str], pairs: int) -> list[tuple[Run, Run]]:
    """``pairs`` of (untraced, traced) runs, alternating, after one warm-up of each."""
    run_job(folder, args, False)
    run_job(folder, args, True)
    out = []
    for _ in range(pairs):
        bare = run_job(folder, args, False)
        traced = run_job(folder, args, True)
        assert traced.result == bare.result, "the traced program computed something else"
        out.append((bare, traced))
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)


def interval(values: list[float]) -> str:
    low, high = median_interval(values)
    return f"{low:.3f}-{high:.3f}"


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure the report prints."""
    k, method = str(args.workers), args.start_method
    with tempfile.TemporaryDirectory(prefix="mpscope-trace-bench-") as tmp:
        folder = Path(tmp)
        (folder / "job.py").write_text(JOB)
        heavy = alternate(
            folder, ["heavy", str(args.items), k, str(args.chunksize), method, str(args.grain)],
            args.pairs,
        )  # fmt: skip
        tiny = alternate(folder, ["tiny", str(args.tiny), k, "1", method, "0"], args.pairs)
        idle_ms = round(args.idle_s * 1000)
        idle = alternate(folder, ["idle", str(idle_ms), k, "1", method, "0"], args.pairs)
    workers = args.workers
    per_task = median([(b.workers_cpu_s - a.workers_cpu_s) / args.tiny for a, b in tiny])
    per_worker_s = median(
        [(b.workers_cpu_s - a.workers_cpu_s - workers * per_task) / (workers * args.idle_s)
         for a, b in idle]
    )  # fmt: skip
    tasks = heavy[0][1].tasks or 0
    accounted = [
        1 + (per_task * tasks + per_worker_s * workers * b.wall_s) / a.workers_cpu_s
        for a, b in heavy
    ]
    return {
        "heavy": heavy,
        "wall_ratios": [b.wall_s / a.wall_s for a, b in heavy],
        "cpu_ratios": [b.workers_cpu_s / a.workers_cpu_s for a, b in heavy],
        "per_task_s": per_task,
        "per_worker_s": per_worker_s,
        "tasks": tasks,
        "accounted": accounted,
        "tiny_spans": tiny[0][1].tasks,
    }


def report(args: argparse.Namespace, m: dict[str, Any]) -> None:
    heavy = m["heavy"]
    bare_wall = [a.wall_s for a, _ in heavy]
    traced_wall = [b.wall_s for _, b in heavy]
    print(
        f"heavy Pool.map · N={args.items:,} · grain {args.grain:,} · K={args.workers} · "
        f"chunksize {args.chunksize or 'auto'} · {args.start_method} · {m['tasks']} tasks, "
        f"{heavy[0][1].packets} packets in the trace"
    )
    print(
        f"  untraced  median {median(bare_wall):.3f} s   " + " ".join(f"{x:.3f}" for x in bare_wall)
    )
    print(f"  traced    median {median(traced_wall):.3f} s   "
          + " ".join(f"{x:.3f}" for x in traced_wall))  # fmt: skip
    ratios = m["wall_ratios"]
    print(f"  whole run median ratio {median(ratios):.3f} (95 % interval {interval(ratios)})   "
          + " ".join(f"{x:.3f}" for x in ratios))  # fmt: skip
    cpu = m["cpu_ratios"]
    print(f"  workers' CPU median ratio {median(cpu):.3f} (95 % interval {interval(cpu)})")
    acc = m["accounted"]
    low, high = median_interval(acc)
    print(
        f"  accounted median {median(acc):.4f} (95 % interval {low:.4f}-{high:.4f}): "
        f"{1e6 * m['per_task_s']:.1f} us per task (from {args.tiny:,} empty tasks, "
        f"{m['tiny_spans']:,} spans seen), {1e3 * m['per_worker_s']:.2f} ms per worker-second "
        f"(from {args.workers} workers sleeping {args.idle_s:g} s), of "
        f"{median([a.workers_cpu_s for a, _ in heavy]):.2f} s of the workers' CPU"
    )
    print(
        f"  beside the program: recorder CPU (mpscope's process) median "
        f"{median([b.own_cpu_s for _, b in heavy]):.3f} s; main CPU untraced "
        f"{median([a.main_cpu_s for a, _ in heavy]):.3f} s, traced "
        f"{median([b.main_cpu_s for _, b in heavy]):.3f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=7, help="A/B pairs per job (default 7)")
    parser.add_argument("--items", type=int, default=2000, help="heavy job: items (2000)")
    parser.add_argument("--grain", type=int, default=20000, help="heavy job: loop per item")
    parser.add_argument("--workers", type=int, default=2, help="K, the pool's size (2)")
    parser.add_argument("--chunksize", type=int, default=0, help="heavy job (0: Pool's auto)")
    parser.add_argument("--tiny", type=int, default=20000, help="empty tasks for per task")
    parser.add_argument("--idle-s", type=float, default=2.0, help="sleep for per worker-second")
    parser.add_argument("--start-method", choices=("fork", "spawn"), default="fork")
    args = parser.parse_args(argv)
    print(
        time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        f"python {sys.version.split()[0]}, {mp.cpu_count()} cores, pairs {args.pairs}, "
        f"pid {os.getpid()}",
    )
    report(args, measure(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
