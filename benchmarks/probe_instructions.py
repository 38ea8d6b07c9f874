"""What the probe costs a worker, in instructions: counted by Valgrind, where no noise reaches.

Whole-run wall ratios on a shared VM swing by ten times the probe's target from one half hour
to the next; a count of executed instructions does not move with the host. This runs, in ONE
process under ``valgrind --tool=callgrind``, the same chunk of a workload's items (taken from
the README run's range) through the two code paths a pool worker can take, round after round:

* ``bare``             the stdlib's ``multiprocessing.pool.mapstar((job, chunk))``
* ``probed, no tick``  mpscope's ``probed_mapstar((job, chunk))``, the thread attached as a
                       lane (``probe.attach``, as ``init_pool_worker`` does), its sampler's tick
                       an hour: the per-chunk ``begin``/``end`` only
* ``probed``           the same with the sampler ticking at the real tick, writing its packets
                       into a real ``mp.Queue`` (emptied by a spawned process Valgrind does not
                       follow)

then 2,000 one-item chunks through each runner, whose difference is ``begin``/``end``'s own
cost per chunk. Each phase lies between two marker calls, ``os.getpgid(0)`` and
``os.getsid(0)``; callgrind dumps its counters as it enters those libc functions
(``--dump-before``), so a phase's count is its dump's, every thread of the process included.

The sampler ticks on wall time and under Valgrind the worker runs ~100x slower, so a probed
chunk there sees ~20-35x the ticks it sees natively (the sampler, slowed too, ticks less often
than 20 times a second): its raw ratio overstates the probe's cost. So the report also gives
the instructions of one tick, counted directly (the sampler thread's, from callgrind's
inclusive count of CPython's ``thread_run``, plus the worker thread's GIL hand-overs,
``take_gil``/``drop_gil`` called from the interpreter's loop) and checked against (probed -
probed without ticks) / ticks, and the ratio implied at the real tick rate: ticks per item =
the item's native wall time (timed here, outside Valgrind, on the same chunk) / tick, and
``begin``/``end`` spread over the README run's chunksize. Instructions are not time: the
kernel's side of a tick (the timer wake-up, the futex calls of the GIL hand-overs, the pipe
write) and the caches a tick disturbs are not counted.

The heap's layout moves a chunk's count from one round to the next (pymalloc's allocations
and frees cost more or less as the chunk's ints fall into its pools): by a few hundredths of
a percent on heavy, up to half a percent on square's shorter chunk. The rounds show that
spread; it is why a tick is counted directly rather than read off the difference.

Needs Valgrind (Debian: ``apt-get install valgrind``; ``callgrind_annotate`` comes with it).
About 3 minutes for heavy and square on a busy 2-core VM:

    .venv/bin/python benchmarks/probe_instructions.py
    .venv/bin/python benchmarks/probe_instructions.py --workload heavy --items 2500 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import multiprocessing.pool
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mpscope.workers import jobs, probe
from mpscope.workers.probe import ProbeConfig, attach, finish_process, probed_mapstar
from mpscope.workers.spec import DEFAULT_TICK_S
from mpscope.workers.workloads import DEFAULT_GRAIN, WORKLOADS


@dataclass(frozen=True)
class Chunk:
    """The chunk measured by default, and the chunksize of the README run it comes from."""

    first: int
    items: int
    chunksize: int


# the README's runs: heavy N = 20,000 and square N = 10,000,000 on 2 workers, chunksize by the
# stdlib's rule ceil(N / 4K); the chunk measured starts at N/2
README_CHUNKS = {
    "heavy": Chunk(10_000, 1_000, 2_500),
    "square": Chunk(5_000_000, 250_000, 1_250_000),
}
TARGET = 1.005
# the stdlib's own chunk runner, what a bare pool worker runs (typeshed does not list it)
mapstar: Callable[[Any], list[Any]] = multiprocessing.pool.mapstar  # type: ignore[attr-defined]
START_MARK, END_MARK = "getpgid", "getsid"  # the libc functions callgrind dumps before
QUIET_TICK_S = 3600.0  # a sampler that never ticks while a chunk runs
ROUND = ("bare", "quiet", "probed")
ONE_ITEM_CHUNKS = 2_000
LABELS = {"bare": "bare", "quiet": "probed, no tick", "probed": "probed"}
# the interpreter's and the threads' own call chain: in every tick's inclusive count, so left
# out of the list of where a tick's instructions go
PLUMBING = re.compile(
    r"^(\?\?\?|0x|PROGRAM|\(below main\)|_?PyEval_|_PyFunction_Vectorcall|_?PyObject_Vectorcall"
    r"|_?PyObject_Call|PyObject_Call|method_vectorcall|cfunction_|_PyObject_MakeTpCall"
    r"|start_thread|clone|pythread_wrapper|thread_run|main|run_mod|Py_RunMain|Py_BytesMain"
    r"|__libc_start|_PyRun_|_PyEvalFramePushAndInit|vectorcall)"
)


def _job(workload: str, grain: int) -> Callable[..., Any]:
    chosen = WORKLOADS[workload]
    return chosen.job(**({"grain": grain} if "grain" in chosen.params else {}))


def _drain(events: Any) -> None:
    """In a spawned (so unfollowed, native) process: empty the probe's queue until None."""
    while events.get() is not None:
        pass


# -- inside Valgrind ---------------------------------------------------------------------------


def _marked(run: Callable[[], object], settle: Any) -> float:
    """``run()`` between the two markers; its wall time (Valgrind's, not the machine's).

    ``settle``: a lock the sampler holds while it flushes (a fresh one on the bare side).
    A tick that took the worker's frames (``sys._current_frames``) as the chunk ended keeps
    the chunk runner's frame, and with it the result list, until its flush is over: waiting
    for the lock lets go of them, and the result is then freed here, by the worker, inside
    the markers, as in every other phase (not later, by the sampler, outside them).
    """
    os.getpgid(0)
    t0 = time.perf_counter()
    result = run()
    with settle:
        pass
    del result
    seconds = time.perf_counter() - t0
    os.getsid(0)
    return seconds


def _one_item_chunks(runner: Callable[[Any], object]) -> None:
    """``runner`` over ONE_ITEM_CHUNKS chunks of one cheap item: begin/end do not depend on
    the job beyond its identity, so a cheap one shows their cost per chunk."""
    for x in range(ONE_ITEM_CHUNKS):
        runner((jobs.square, (x,)))


def inner(args: argparse.Namespace) -> None:
    """The measured process: every phase between markers; its ticks and times to ``--out``."""
    job = _job(args.workload, args.grain)
    chunk = tuple(range(args.first, args.first + args.items))
    mapstar((job, chunk[:50]))  # warm-up: the job's code specialised, as in a busy worker
    ctx = mp.get_context("spawn")
    events = ctx.Queue()
    drainer = ctx.Process(target=_drain, args=(events,), daemon=True)
    drainer.start()
    phases: list[dict[str, Any]] = []

    def probed_phase(name: str, tick_s: float, run: Callable[[], object]) -> None:
        attach(ProbeConfig.create(ctx, events, 8, tick_s))  # init_pool_worker's attach
        sampler = probe._sampler
        assert sampler is not None
        ticks = sampler.ticks
        seconds = _marked(run, sampler._lock)
        phases.append({"name": name, "seconds": seconds, "ticks": sampler.ticks - ticks})
        finish_process()  # stops the sampler; its final flush is outside the markers

    def bare_phase(name: str, run: Callable[[], object]) -> None:
        phases.append({"name": name, "seconds": _marked(run, threading.Lock()), "ticks": 0})

    bare_phase("empty", lambda: None)
    for _ in range(args.rounds):
        bare_phase("bare", lambda: mapstar((job, chunk)))
        probed_phase("quiet", QUIET_TICK_S, lambda: probed_mapstar((job, chunk)))
        probed_phase("probed", args.tick, lambda: probed_mapstar((job, chunk)))
    bare_phase("chunks-bare", lambda: _one_item_chunks(mapstar))
    probed_phase("chunks-probed", QUIET_TICK_S, lambda: _one_item_chunks(probed_mapstar))
    events.put(None)
    drainer.join()
    Path(args.out).write_text(json.dumps({"pid": os.getpid(), "phases": phases}))


# -- outside: run Valgrind, time the items natively, read the counts ----------------------------


@dataclass
class Phase:
    """One marked phase: what ran, its callgrind dump and count, Valgrind's time, its ticks."""

    name: str  # bare, quiet (probed, no tick), probed, chunks-bare or chunks-probed
    part: Path
    instructions: int  # the empty phase's count (the markers' own) already taken off
    seconds: float
    ticks: int


@dataclass
class Counted:
    """One workload's phases, round after round, and the items' native pace."""

    workload: str
    chunk: Chunk
    phases: list[Phase]
    native_s_per_item: list[float]
    tick_s: float

    def of(self, name: str) -> list[Phase]:
        """The phases called ``name``, in the order they ran."""
        return [phase for phase in self.phases if phase.name == name]

    def total(self, name: str) -> int:
        """Instructions of all the ``name`` phases together."""
        return sum(phase.instructions for phase in self.of(name))

    def per_item(self, name: str) -> float:
        """Mean instructions per item of the ``name`` phases."""
        return self.total(name) / (len(self.of(name)) * self.chunk.items)


def _native_pace(workload: str, grain: int, chunk: Chunk, repeats: int) -> list[float]:
    """Seconds per item of the bare chunk, natively, ``repeats`` times (the ticks' clock)."""
    job = _job(workload, grain)
    items = tuple(range(chunk.first, chunk.first + chunk.items))
    mapstar((job, items[:50]))
    paces = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        mapstar((job, items))
        paces.append((time.perf_counter() - t0) / chunk.items)
    return paces


def _summary(path: Path) -> int:
    """A callgrind dump's total instruction count (its ``summary:`` line)."""
    with path.open() as lines:
        for line in lines:
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise SystemExit(f"probe_instructions: {path} has no summary line: not a callgrind dump")


def count(args: argparse.Namespace, workload: str, chunk: Chunk, work: Path) -> Counted:
    """Run ``workload``'s phases under callgrind and read each phase's count."""
    out = work / f"{workload}.json"
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={work}/{workload}.%p",
        f"--dump-before={START_MARK}",
        f"--dump-before={END_MARK}",
        "--dump-instr=no",
        sys.executable,
        str(Path(__file__).resolve()),
        "--inner",
        f"--workload={workload}",
        f"--first={chunk.first}",
        f"--items={chunk.items}",
        f"--grain={args.grain}",
        f"--tick={args.tick}",
        f"--rounds={args.rounds}",
        f"--out={out}",
    ]
    log = work / f"{workload}.valgrind.log"
    with log.open("w") as stderr:
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(
            command, check=False, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
    if done.returncode != 0 or not out.exists():
        tail = "\n  ".join(log.read_text().strip().splitlines()[-15:])
        raise SystemExit(f"probe_instructions: valgrind exited {done.returncode}:\n  {tail}")
    result = json.loads(out.read_text())
    # dump 2i+1 ends before phase i's start marker, dump 2i+2 is phase i (i from 0)
    parts = [work / f"{workload}.{result['pid']}.{2 * i + 2}" for i in range(len(result["phases"]))]
    missing = [str(path) for path in parts if not path.exists()]
    if missing:
        raise SystemExit(
            f"probe_instructions: callgrind made no dump at {missing[0]}: this libc's "
            f"{START_MARK}/{END_MARK} may go by other names"
        )
    counts = [_summary(path) for path in parts]
    phases = [
        Phase(p["name"], path, n - counts[0], float(p["seconds"]), int(p["ticks"]))
        for p, path, n in zip(result["phases"], parts, counts)
    ]
    native = _native_pace(workload, args.grain, chunk, args.native_repeats)
    return Counted(workload, chunk, phases[1:], native, args.tick)


def _function(label: str) -> str:
    """``file:function'2 [object]`` as callgrind_annotate prints it -> ``function``."""
    label = re.sub(r"\s+\[[^]]*\]$", "", label.strip())
    label = re.sub(r"\s+\(\d+x\)$", "", label).rsplit(":", 1)[-1]
    return re.sub(r"'\d+$", "", label)  # a recursive entry counts as its function


def _annotate(path: Path) -> tuple[dict[str, int], int]:
    """A dump's inclusive count per function (``callgrind_annotate --tree=caller``), and the
    instructions of the GIL hand-overs made from the interpreter's loop (``take_gil`` and
    ``drop_gil`` called by ``_PyEval_EvalFrameDefault``: a busy thread asked to let go)."""
    text = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--tree=caller", "--threshold=100", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    costs: dict[str, int] = {}
    handovers = 0
    callers: list[tuple[str, int]] = []
    for line in text.splitlines():
        found = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+([*<])\s+(.+)$", line)
        if found is None:
            callers = [] if not line.strip() else callers
            continue
        n, kind, function = int(found.group(1).replace(",", "")), found.group(2), found.group(3)
        if kind == "<":
            callers.append((_function(function), n))
            continue
        name = _function(function)
        costs[name] = max(costs.get(name, 0), n)
        if name in ("take_gil", "drop_gil"):
            handovers += sum(c for caller, c in callers if caller == "_PyEval_EvalFrameDefault")
        callers = []
    return costs, handovers


@dataclass
class TickAnatomy:
    """Where a tick's instructions go: the sampler thread's own, the worker thread's GIL
    hand-overs, and the functions that grow most, all per tick."""

    sampler_thread: float
    handovers: float
    functions: list[tuple[str, float]]  # (function, instructions per tick), largest first

    @property
    def counted(self) -> float:
        """The tick's instructions counted directly: sampler thread plus hand-overs."""
        return self.sampler_thread + self.handovers


def anatomy(counted: Counted, top: int) -> TickAnatomy | None:
    """Inclusive counts of the probed phases against the quiet ones, per tick."""
    ticks = sum(phase.ticks for phase in counted.of("probed"))
    if shutil.which("callgrind_annotate") is None or ticks == 0:
        return None
    grown: dict[str, int] = {}
    quiet_counts: dict[str, int] = {}
    handovers = 0
    for quiet, probed in zip(counted.of("quiet"), counted.of("probed")):
        try:
            (before, quiet_handovers), (after, probed_handovers) = (
                _annotate(quiet.part),
                _annotate(probed.part),
            )
        except (OSError, subprocess.CalledProcessError) as error:
            print(f"  (callgrind_annotate failed: {error}; no breakdown of a tick)")
            return None
        if "thread_run" not in after:  # a Python without its static functions' symbols
            print("  (this Python has no symbol for thread_run: no breakdown of a tick)")
            return None
        handovers += probed_handovers - quiet_handovers
        for function, n in after.items():
            grown[function] = grown.get(function, 0) + n - before.get(function, 0)
            quiet_counts[function] = quiet_counts.get(function, 0) + before.get(function, 0)
    # listed: the functions the chunk itself hardly runs (the worker's own, an allocator's
    # free say, move with the heap's layout by more than a tick costs)
    listed = sorted(
        (
            (n / ticks, f)
            for f, n in grown.items()
            if not PLUMBING.match(f) and quiet_counts.get(f, 0) < n
        ),
        reverse=True,
    )
    return TickAnatomy(
        grown.get("thread_run", 0) / ticks, handovers / ticks, [(f, n) for n, f in listed[:top]]
    )


# -- the report ------------------------------------------------------------------------------


def report(counted: Counted, top: int) -> float | None:
    """Print one workload's figures; return the ratio implied at the real tick rate."""
    chunk, k = counted.chunk, counted.chunk.items
    bare = counted.per_item("bare")
    print(
        f"\n{counted.workload}: a chunk of {k:,} items ({chunk.first:,} to "
        f"{chunk.first + k - 1:,}), rounds {len(counted.of('bare'))}, tick "
        f"{counted.tick_s * 1000:g} ms; Python {sys.version.split()[0]}, Valgrind callgrind"
    )
    print(f"  {'instructions':<16}{'per round':>36}{'per item':>14}{'/ bare':>10}")
    for name in ROUND:
        rounds = " ".join(f"{phase.instructions:,}" for phase in counted.of(name))
        ratio = counted.per_item(name) / bare
        print(f"  {LABELS[name]:<16}{rounds:>36}{counted.per_item(name):>14,.1f}{ratio:>10.5f}")
    probed = counted.of("probed")
    ticks = sum(phase.ticks for phase in probed)
    seconds = sum(phase.seconds for phase in probed)
    native = statistics.median(counted.native_s_per_item)
    print(
        f"  under Valgrind a probed chunk took {seconds / len(probed):.1f} s and ticked "
        f"{ticks / len(probed):.0f} times ({ticks / (len(probed) * k):.3g} per item); natively "
        f"an item takes {native * 1e6:.3g} µs (median of {len(counted.native_s_per_item)}: "
        + ", ".join(f"{pace * 1e6:.3g}" for pace in counted.native_s_per_item)
        + f"), {native / counted.tick_s:.3g} ticks per item"
    )
    per_chunk = (counted.total("chunks-probed") - counted.total("chunks-bare")) / ONE_ITEM_CHUNKS
    least = per_chunk / (TARGET - 1) / bare  # items per chunk for begin/end to stay in target
    print(
        f"  begin/end: {per_chunk:,.0f} instructions per chunk ({ONE_ITEM_CHUNKS:,} one-item "
        f"chunks), within {TARGET} for chunks of {max(least, 1):,.0f} items or more"
    )
    if ticks == 0:
        print("  no tick fell inside a probed chunk: give more --items")
        return None
    difference = (counted.total("probed") - counted.total("quiet")) / ticks
    # probed and no-tick chunks also differ by the heap's layout, as no-tick and bare do
    layout = max(
        abs(quiet.instructions - bare_round.instructions - per_chunk)
        for quiet, bare_round in zip(counted.of("quiet"), counted.of("bare"))
    )
    parts = anatomy(counted, top)
    per_tick = parts.counted if parts is not None else difference
    if parts is not None:
        print(
            f"  per tick: {parts.counted:,.0f} instructions counted: {parts.sampler_thread:,.0f} "
            f"in the sampler thread, {parts.handovers:,.0f} in GIL hand-overs from the "
            "interpreter's loop"
        )
    print(
        f"  (probed - no tick) / ticks: {difference:,.0f} instructions, give or take "
        f"{layout / (ticks / len(probed)):,.0f} (the heap's layout: no tick - bare - begin/end "
        f"reached {layout:,.0f} in a round)"
    )

    def implied(pace: float) -> float:
        per_item = bare + per_chunk / chunk.chunksize + per_tick * pace / counted.tick_s
        return per_item / bare

    at_median, at_slowest = implied(native), implied(max(counted.native_s_per_item))
    verdict = "met" if at_slowest <= TARGET else f"MISSED by {at_slowest - TARGET:.4f}"
    print(
        f"  at the real tick, chunksize {chunk.chunksize:,}: probed / bare = {at_median:.5f} "
        f"({at_slowest:.5f} at the slowest native pace); target <= {TARGET}: {verdict}"
    )
    if parts:
        print("  where a tick's instructions go (inclusive, per tick; the interpreter's and the")
        print("  thread's call chain and the functions the chunk itself runs left out):")
        for function, n in parts.functions:
            print(f"    {n:>10,.0f}  {function}")
    return at_median


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line; measure each workload asked for and report it."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--workload", choices=(*README_CHUNKS, "both"), default="both")
    parser.add_argument("--items", type=int, help="items in the chunk measured")
    parser.add_argument("--first", type=int, help="the chunk's first item")
    parser.add_argument("--chunksize", type=int, help="the chunksize begin/end is spread over")
    parser.add_argument("--grain", type=int, default=DEFAULT_GRAIN)
    parser.add_argument("--tick", type=float, default=DEFAULT_TICK_S, help="the probe's tick")
    parser.add_argument("--rounds", type=int, default=2, help="bare/no tick/probed rounds")
    parser.add_argument("--native-repeats", type=int, default=5)
    parser.add_argument("--top", type=int, default=8, help="functions listed per tick")
    parser.add_argument("--keep", action="store_true", help="keep the callgrind dumps")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        inner(args)
        return 0
    for name in ("items", "chunksize", "tick", "rounds", "native_repeats", "grain"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} {value}: give a positive number")
    if args.first is not None and args.first < 0:
        parser.error(f"--first {args.first}: give an item index >= 0")
    if shutil.which("valgrind") is None:
        print("probe_instructions: valgrind not found: install it (apt-get install valgrind)")
        return 2
    workloads = ("heavy", "square") if args.workload == "both" else (args.workload,)
    work = Path(tempfile.mkdtemp(prefix="probe_instructions."))
    try:
        for workload in workloads:
            default = README_CHUNKS[workload]
            chunk = Chunk(
                default.first if args.first is None else args.first,
                default.items if args.items is None else args.items,
                default.chunksize if args.chunksize is None else args.chunksize,
            )
            t0 = time.perf_counter()
            report(count(args, workload, chunk, work), args.top)
            print(f"  ({time.perf_counter() - t0:.0f} s)")
    finally:
        if args.keep:
            print(f"\ncallgrind dumps kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
