"""What the trace window says about pools, calls and processes, in words (no Qt here).

Times a person reads are seconds since the program started (the trace's first packet), the
clock the replay slider shows; the four views count from the pool's own making, as a run's
count from its start.
"""

from __future__ import annotations

import os
import signal

from mpscope.workers.trace.model import CallTrace, PoolTrace, ProcessTrace, TraceModel
from mpscope.workers.units import format_count, format_seconds

# how a pool ended (the hooks' word) -> the state the list shows
ENDED_HOW = {
    "close": "closed",
    "shutdown": "shut down",
    "terminate": "terminated",
    "exit": "closed at exit",
    "gc": "garbage-collected",
}


def since(t: float | None, t0: float | None) -> str:
    """``t`` as seconds since the program started, e.g. "1.23 s" ("—" if unknown)."""
    if t is None or t0 is None:
        return "—"
    return f"{max(t - t0, 0.0):.2f} s"


def dead_workers(pool: PoolTrace) -> list[str]:
    """The workers that died before the pool was closed, as "pid (how)"."""
    return [
        f"{lane.pid} ({exit_text(lane.exitcode, True)})"
        for lane in pool.lanes.values()
        if lane.exitcode and (pool.t_close is None or (lane.t_end or 0.0) < pool.t_close)
    ]


def pool_state(pool: PoolTrace) -> str:
    """One or two words: open, closed, terminated, ..., or that a worker died."""
    dead = dead_workers(pool)
    if dead:
        return "a worker died" if len(dead) == 1 else f"{len(dead)} workers died"
    if pool.t_close is None:
        return "open"
    return ENDED_HOW.get(pool.how or "", "closed")


def pool_summary(pool: PoolTrace) -> str:
    """The second line of a pool's row: "Pool · 4 workers · 12,000 items · open"."""
    workers = max(pool.size, len(pool.lanes))
    word = "thread" if pool.threads else "worker"
    return (
        f"{pool.kind} · {workers} {word}{'s' if workers != 1 else ''} · "
        f"{format_count(pool.done)} items · {pool_state(pool)}"
    )


def pool_tooltip(pool: PoolTrace, t0: float | None) -> str:
    """Everything the list knows of a pool, for its row's tooltip."""
    lines = [
        pool.label,
        f"{pool.kind} made by process {pool.pid} at {since(pool.t_open, t0)}",
        f"{len(pool.calls)} call(s), {format_count(pool.tasks)} tasks, "
        f"{format_count(pool.done)} items done",
    ]
    if pool.t_close is not None:
        lines.append(f"{pool_state(pool)} at {since(pool.t_close, t0)}")
    lines.extend(f"worker {dead} died before the pool was closed" for dead in dead_workers(pool))
    return "\n".join(lines)


def call_items(call: CallTrace) -> str:
    """Items done, of how many if known: "600 / 1,000" or "600"."""
    if call.items is None:
        return format_count(call.done)
    return f"{format_count(call.done)} / {format_count(call.items)}"


def call_tasks(call: CallTrace) -> str:
    """Tasks finished, and how many raised: "12" or "12 (1 raised)"."""
    text = format_count(call.tasks)
    return f"{text} ({call.failed} raised)" if call.failed else text


def call_time(call: CallTrace) -> str:
    """From the call to its latest finished task ("—" before the first)."""
    return "—" if call.t_last is None else format_seconds(max(call.t_last - call.t, 0.0))


def call_tooltip(call: CallTrace, t0: float | None) -> str:
    """A call's row tooltip: what it is, when it was made, when its latest task ended."""
    size = "its size unknown up front" if call.items is None else f"{call.items:,} items"
    text = f"{call.label}\n{call.method}, {size}; called at {since(call.t, t0)}"
    if call.t_last is not None:
        text += f"; latest task ended at {since(call.t_last, t0)}"
    return text


def exit_text(exitcode: int | None, ended: bool) -> str:
    """A process's end in a few words: "0", "killed (SIGKILL)", "running", "—"."""
    if exitcode is None:
        return "—" if ended else "running"
    if exitcode < 0:
        try:
            return f"killed ({signal.Signals(-exitcode).name})"
        except ValueError:
            return f"killed (signal {-exitcode})"
    return str(exitcode)


def process_name(proc: ProcessTrace, root: int | None) -> str:
    """A process as a person knows it: the program's own script, a Process's line, else its
    command line."""
    if proc.pid == root:
        return program_name(proc)
    return proc.label or f"process {proc.pid}"


def program_name(proc: ProcessTrace) -> str:
    """The program's process by its script and arguments ("etl.py --fast")."""
    words = proc.label.split()
    if not words:
        return f"process {proc.pid}"
    return " ".join([os.path.basename(words[0]), *words[1:]])


def root_process(trace: TraceModel) -> ProcessTrace | None:
    """The program's own process: the first that said hello with no traced parent."""
    roots = [
        p
        for p in trace.processes.values()
        if p.ppid not in trace.processes and p.pool is None and p.t_start is not None
    ]
    return min(roots, key=lambda p: p.t_start or 0.0, default=None)


def plain_processes(trace: TraceModel) -> list[ProcessTrace]:
    """The processes that are not a pool's workers (the program's own, its Processes, ...),
    in the order they started."""
    process_pools = [pool for pool in trace.pools.values() if not pool.threads]
    workers = {lane.pid for pool in process_pools for lane in pool.lanes.values()}
    plain = [p for p in trace.processes.values() if p.pool is None and p.pid not in workers]
    return sorted(plain, key=lambda p: p.t_start if p.t_start is not None else float("inf"))


def lifetime(proc: ProcessTrace, t0: float | None, t_end: float | None = None) -> str:
    """From its start to its end (``t_end`` if no packet told it), in seconds since the
    program started: "0.12–3.40 s", or "from 0.12 s" while it runs."""
    start = since(proc.t_start, t0)
    end = proc.t_end if proc.t_end is not None else t_end
    if end is None:
        return f"from {start}"
    return f"{start.removesuffix(' s')}–{since(end, t0)}"
