"""The verdict: what a comparison's numbers say, in a few plain sentences.

Every sentence is derived from measured summaries (speed-ups against the sequential median,
the per-item cost the loop measured, the spread of repeats), never from what a strategy is
supposed to do; the strategy's nature only chooses the *explanation* offered.
"""

from __future__ import annotations

from collections.abc import Sequence

from mpscope.workers.compare.summary import CellSummary, JobKey, is_baseline, is_chunked
from mpscope.workers.strategies import all_strategies
from mpscope.workers.units import format_count, format_seconds
from mpscope.workers.workloads import WORKLOADS

FASTER = 1.1  # a speed-up at or above this is "faster"
SLOWER = 1 / 1.1  # at or below this is "slower"; in between "gains nothing"
CHEAP_ITEM_S = 10e-6  # per-item work below this is "cheap": moving an item costs more
SHORT_JOB_S = 0.05  # a loop this quick is over before worker processes are up
NOISY_SPREAD = 0.25  # (max - min) / median above this: the machine was busy
BUSY_CORE_SHARE = 0.8  # the loop's CPU / wall below this: other programs took its core


def _times(x: float) -> str:
    return f"{x:.1f}x" if x < 10 else f"{x:.0f}x"


def _workers(k: int) -> str:
    return f"{k} worker" if k == 1 else f"{k} workers"


def _per_item(s: float) -> str:
    """A per-item cost, down to nanoseconds."""
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    return format_seconds(s)


def _runs_threads(strategy: str) -> bool:
    """True if ``strategy``'s workers are threads of one process (bound by the GIL)."""
    info = all_strategies().get(strategy)
    return bool(info and info.threads)


def _why_not_faster(cell: CellSummary, base_wall_s: float, slower: bool) -> str:
    """The most likely reason a strategy did not beat the loop, from what was measured."""
    io_bound = WORKLOADS[cell.workload].io_bound if cell.workload in WORKLOADS else False
    per_item_s = base_wall_s / cell.items
    cheap = per_item_s < CHEAP_ITEM_S
    cost = f"{_per_item(per_item_s)} per item"
    threads = _runs_threads(cell.strategy)
    if threads and not io_bound:
        return "the GIL lets one thread run Python at a time" + (
            ", and handing items to threads costs extra" if slower else ""
        )
    if base_wall_s < SHORT_JOB_S and not threads:
        return (
            f"the whole job takes the loop only {format_seconds(base_wall_s)}, less than "
            "starting worker processes costs; give it more items"
        )
    if is_chunked(cell.strategy) and cheap:
        tasks = ""
        if cell.chunksize and cell.items // cell.chunksize > 1000:
            tasks = f" (chunksize {format_count(cell.chunksize)} makes "
            tasks += f"{format_count(-(-cell.items // cell.chunksize))} tasks)"
        return (
            f"result transfer dominates for a job this cheap ({cost}){tasks}; "
            "try process or a bigger chunksize"
        )
    if cheap:
        return f"starting and feeding workers costs more than the work saves ({cost})"
    return f"start-up and transfer outweigh the work ({cost}); give it more items"


def _strategy_sentence(cells: list[CellSummary], base_wall_s: float, cores: int | None) -> str:
    strategy = cells[0].strategy
    measured = [c for c in cells if c.speedup is not None]
    if not measured:
        return f"{strategy}: no run finished with the correct result."
    best = max(measured, key=lambda c: c.speedup or 0.0)
    x = best.speedup or 0.0
    io_bound = WORKLOADS[best.workload].io_bound if best.workload in WORKLOADS else False
    if x >= FASTER:
        text = f"{strategy} is {_times(x)} faster than the loop with {_workers(best.workers)}"
        if best.workers > 1 and best.efficiency is not None:
            text += f" ({best.efficiency:.0%} of the ideal {best.workers}x)"
        if _runs_threads(strategy) and io_bound:
            text += ": the items wait, and threads overlap the waiting"
        more = [c for c in measured if c.workers > best.workers]
        if more:
            beyond = max(c.workers for c in more)
            text += f"; going up to {_workers(beyond)} adds nothing"
            if cores is not None and beyond > cores:
                text += f" (this machine has {cores} cores)"
        return text + "."
    if x > SLOWER:
        return (
            f"{strategy} gains nothing ({x:.2f}x at best): "
            f"{_why_not_faster(best, base_wall_s, slower=False)}."
        )
    return (
        f"{strategy} is {_times(1 / x)} SLOWER than the loop (at best, with "
        f"{_workers(best.workers)}): {_why_not_faster(best, base_wall_s, slower=True)}."
    )


def _function(cell: CellSummary) -> str | None:
    """The user's own function's name (``parse_row``), if the cell ran one."""
    return cell.job.rpartition(":")[2] if cell.job else None


def _job_label(cell: CellSummary) -> str:
    label = f"{_function(cell) or cell.workload} N={format_count(cell.items)}"
    if cell.grain is not None:
        label += f" grain {format_count(cell.grain)}"
    if cell.hostname:
        label += f" on {cell.hostname}"
    return label


def _job_verdict(cells: list[CellSummary], cores: int | None) -> list[str]:
    base = next((c for c in cells if is_baseline(c.strategy) and c.median_wall_s), None)
    if base is None or base.median_wall_s is None:
        return ["No sequential run finished correctly, so there is no baseline to judge by."]
    by_strategy: dict[str, list[CellSummary]] = {}
    for cell in cells:
        if not is_baseline(cell.strategy):
            by_strategy.setdefault(cell.strategy, []).append(cell)
    sentences = [
        _strategy_sentence(group, base.median_wall_s, cores) for group in by_strategy.values()
    ]
    measured = [c for c in cells if not is_baseline(c.strategy) and c.speedup is not None]
    winner = max(measured, key=lambda c: c.speedup or 0.0, default=None)
    function = _function(base)
    if winner is not None and (winner.speedup or 0.0) >= FASTER:
        chunks = f" and chunksize {format_count(winner.chunksize)}" if winner.chunksize else ""
        sentences.append(
            f"Best here{f' for {function}' if function else ''}: {winner.strategy} with "
            f"{_workers(winner.workers)}{chunks if function else ''} "
            f"({_times(winner.speedup or 0.0)} the loop's speed)."
        )
    elif by_strategy:
        sentences.append(
            f"Nothing beat the plain loop for {function or 'this job'} on this machine: keep it "
            "sequential, or give each item more work."
        )
    io_bound = WORKLOADS[base.workload].io_bound if base.workload in WORKLOADS else False
    if base.median_cpu_s is not None and not io_bound:
        share = base.median_cpu_s / base.median_wall_s
        if share < BUSY_CORE_SHARE and function:
            sentences.append(
                f"The loop used only {share:.0%} of a core (CPU time / wall time): {function} "
                "mostly waits (I/O, sleep, a lock), which threads can overlap, or other "
                "programs were busy."
            )
        elif share < BUSY_CORE_SHARE:
            sentences.append(
                f"The loop got only {share:.0%} of a core (CPU time / wall time): other "
                "programs were busy, so these figures are pessimistic; measure again on a "
                "quiet machine."
            )
    return sentences


def verdict(summaries: Sequence[CellSummary], cores: int | None = None) -> list[str]:
    """The comparison in words: one sentence per strategy, the winner, and warnings.

    ``cores`` (the machine's core count) lets it say when more workers than cores were
    tried. Summaries of several jobs (a grain sweep, two machines) get one block per job,
    each sentence prefixed with the job.
    """
    jobs: dict[JobKey, list[CellSummary]] = {}
    for cell in summaries:
        key = (cell.workload, cell.items, cell.grain, cell.sleep_ms, cell.hostname)
        jobs.setdefault(key, []).append(cell)
    sentences: list[str] = []
    for cells in jobs.values():
        block = _job_verdict(cells, cores)
        if len(jobs) > 1:
            block = [f"{_job_label(cells[0])}: {s}" for s in block]
        sentences.extend(block)
    spreads = [
        ((c.max_wall_s - c.min_wall_s) / c.median_wall_s, c)
        for c in summaries
        if c.ok >= 2 and c.median_wall_s and c.max_wall_s is not None and c.min_wall_s is not None
    ]
    if spreads:
        spread, cell = max(spreads, key=lambda s: s[0])
        if spread > NOISY_SPREAD:
            sentences.append(
                f"Repeats varied by up to {spread:.0%} ({cell.label}): the machine was busy; "
                "more repeats give firmer numbers."
            )
    failed = sum(c.failed for c in summaries)
    if failed:
        runs, verb = ("run", "is") if failed == 1 else ("runs", "are")
        sentences.append(
            f"{failed} {runs} failed or gave a wrong result and {verb} not counted: see the table."
        )
    return sentences


def verdict_text(summaries: Sequence[CellSummary], cores: int | None = None) -> str:
    """The verdict as one paragraph."""
    return " ".join(verdict(summaries, cores))
