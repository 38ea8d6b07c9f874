"""Sweeps: items/s against chunksize, and speed-up against per-item cost (the grain sweep).

Each sweep is a MatrixPlan (run it with MatrixRun / run_matrix like any comparison) plus a
function that turns its records into series for a chart. Nothing here draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mpscope.workers.compare.plan import (
    DEFAULT_REPEATS,
    MatrixPlan,
    Skipped,
    baseline_spec,
    check_repeats,
    check_strategies,
    check_worker_counts,
)
from mpscope.workers.compare.summary import CellSummary, is_baseline, is_chunked, summarize
from mpscope.workers.spec import ResolvedSpec, RunSpec, SpecError, cpu_count
from mpscope.workers.strategies import all_strategies, default_strategy
from mpscope.workers.validation import validate_spec
from mpscope.workers.workloads import taking

MAX_SWEEP_TASKS = (
    100_000  # default chunksizes start where a sweep run makes at most this many tasks
)
DEFAULT_GRAINS = (1, 10, 100, 1_000, 20_000)  # heavy: well under 1 µs to about 1 ms per item
GRAIN_SWEEP_WORK = 5_000_000  # iterations a default grain-sweep run does (about 0.3 s of loop)
GRAIN_CALL_COST = 5  # one call of the job costs about this many loop iterations


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep chart: ``y`` is the median, ``y_min`` / ``y_max`` the whiskers."""

    x: float
    y: float
    y_min: float
    y_max: float
    runs: int  # good runs behind the point
    param: int | None = None  # the swept parameter (chunksize or grain)


@dataclass(frozen=True)
class SweepSeries:
    """The points of one strategy at one worker count, sorted by x."""

    strategy: str
    workers: int
    points: tuple[SweepPoint, ...]

    @property
    def label(self) -> str:
        """'pool-map K=2'."""
        return f"{self.strategy} K={self.workers}"


def default_chunksizes(items: int, workers: int, max_tasks: int = MAX_SWEEP_TASKS) -> list[int]:
    """Powers of 4 from where a run makes at most ``max_tasks`` tasks up to items/workers.

    The cap keeps a sweep of a big N from spending minutes at chunksize 1; pass a bigger
    ``max_tasks`` (or your own chunksizes) to see the extreme.
    """
    top = max(1, math.ceil(items / workers))
    size = 1
    while math.ceil(items / size) > max_tasks:
        size *= 4
    sizes = []
    while size < top:
        sizes.append(size)
        size *= 4
    sizes.append(top)
    return sizes


def plan_chunksize_sweep(
    base: RunSpec,
    strategies: Sequence[str] | None = None,
    workers: int | None = None,
    chunksizes: Sequence[int] | None = None,
    repeats: int = DEFAULT_REPEATS,
) -> MatrixPlan:
    """Plan ``strategies`` (the chunked ones) at each chunksize, ``workers`` workers each.

    The sequential loop comes first, as in every comparison. Raises SpecError for bad input.
    """
    names = check_strategies(strategies or [default_strategy().id])
    (count,) = check_worker_counts([cpu_count() if workers is None else workers])
    check_repeats(repeats)
    seq = baseline_spec(base)
    assert seq.items is not None
    sizes = list(chunksizes) if chunksizes else default_chunksizes(seq.items, count)
    cells = [seq]
    skipped: list[Skipped] = []
    for strategy in names:
        if is_baseline(strategy):
            continue
        if not all_strategies()[strategy].chunked:
            skipped.append(Skipped(strategy, count, f"{strategy} takes no chunksize"))
            continue
        for size in sizes:
            try:
                spec = base.replace(strategy=strategy, workers=count, chunksize=size)
                cells.append(validate_spec(spec))
            except SpecError as exc:
                skipped.append(Skipped(strategy, count, str(exc)))
    return MatrixPlan(tuple(cells), repeats, tuple(skipped))


def chunksize_series(records: Sequence[dict[str, Any]]) -> list[SweepSeries]:
    """Items/s (median, min, max) against chunksize, per chunked strategy and worker count."""
    groups: dict[tuple[str, int], list[SweepPoint]] = {}
    for cell in summarize(records):
        if not is_chunked(cell.strategy) or cell.chunksize is None or not cell.min_wall_s:
            continue
        if cell.max_wall_s is None or cell.median_wall_s is None:
            continue
        point = SweepPoint(
            x=float(cell.chunksize),
            y=cell.items / cell.median_wall_s,
            y_min=cell.items / cell.max_wall_s,
            y_max=cell.items / cell.min_wall_s,
            runs=cell.ok,
            param=cell.chunksize,
        )
        groups.setdefault((cell.strategy, cell.workers), []).append(point)
    return [
        SweepSeries(strategy, workers, tuple(sorted(points, key=lambda p: p.x)))
        for (strategy, workers), points in groups.items()
    ]


def items_for_grain(grain: int, work: int = GRAIN_SWEEP_WORK) -> int:
    """Items giving a grain-sweep run about ``work`` loop iterations (200 .. 500,000 items)."""
    return min(500_000, max(200, work // (grain + GRAIN_CALL_COST)))


def plan_grain_sweep(
    strategies: Sequence[str] | None = None,
    workers: int | None = None,
    grains: Sequence[int] = DEFAULT_GRAINS,
    items: int | Callable[[int], int] = items_for_grain,
    repeats: int = DEFAULT_REPEATS,
    base: RunSpec | None = None,
) -> MatrixPlan:
    """Plan the heavy workload at each grain: the loop plus ``strategies`` at ``workers``.

    ``items`` is a count, or a function of the grain (the default keeps each run near a
    third of a second of loop work, so the cheap grains get many items and the costly few).
    ``base`` supplies the start method and chunksize. Raises SpecError for bad input.
    """
    names = check_strategies(strategies or [default_strategy().id])
    (count,) = check_worker_counts([cpu_count() if workers is None else workers])
    check_repeats(repeats)
    if not grains:
        raise SpecError("the grains list is empty: allowed one or more iteration counts")
    heavy = taking("grain")
    assert heavy is not None, "the grain sweep needs a workload that takes a grain"
    base = (base or RunSpec()).replace(workload=heavy.id)
    cells: list[ResolvedSpec] = []
    skipped: list[Skipped] = []
    for grain in grains:
        n = items(grain) if callable(items) else items
        job = base.replace(grain=grain, items=n)
        cells.append(baseline_spec(job))
        for strategy in names:
            if is_baseline(strategy):
                continue
            try:
                cells.append(validate_spec(job.replace(strategy=strategy, workers=count)))
            except SpecError as exc:
                skipped.append(Skipped(strategy, count, f"grain {grain}: {exc}"))
    return MatrixPlan(tuple(cells), repeats, tuple(skipped))


def grain_series(records: Sequence[dict[str, Any]]) -> list[SweepSeries]:
    """Speed-up (median, whiskers) against per-item cost (the loop's median wall / items).

    One series per strategy and worker count; a point per grain that has a baseline.
    """
    summaries = summarize(records)
    per_item: dict[tuple[object, ...], float] = {}
    for cell in summaries:
        if is_baseline(cell.strategy) and cell.median_wall_s:
            per_item[_job(cell)] = cell.median_wall_s / cell.items
    groups: dict[tuple[str, int], list[SweepPoint]] = {}
    for cell in summaries:
        cost = per_item.get(_job(cell))
        if is_baseline(cell.strategy) or cost is None or cell.speedup is None:
            continue
        point = SweepPoint(
            x=cost,
            y=cell.speedup,
            y_min=cell.speedup_min or cell.speedup,
            y_max=cell.speedup_max or cell.speedup,
            runs=cell.ok,
            param=cell.grain,
        )
        groups.setdefault((cell.strategy, cell.workers), []).append(point)
    return [
        SweepSeries(strategy, workers, tuple(sorted(points, key=lambda p: p.x)))
        for (strategy, workers), points in groups.items()
    ]


def _job(cell: CellSummary) -> tuple[object, ...]:
    return (cell.workload, cell.items, cell.grain, cell.sleep_ms, cell.hostname)
