"""What a comparison runs: the settings (cells), the repeats, and what was skipped and why.

``plan_matrix`` turns "these strategies x these worker counts, this job, R repeats" into a
MatrixPlan. The sequential loop is always its first cell (the baseline), strategies that
cannot run the workload are skipped with the reason instead of failing the whole comparison,
and repeats are interleaved (A B C A B C, not A A B B C C) so that slow drift on a busy machine
spreads over every setting instead of penalising whichever ran last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mpscope.workers.compare.summary import is_baseline
from mpscope.workers.spec import ResolvedSpec, RunSpec, SpecError, max_workers
from mpscope.workers.strategies import UnknownStrategy, all_strategies, baseline, why_not
from mpscope.workers.validation import validate_spec

DEFAULT_REPEATS = 3
MAX_REPEATS = 100


@dataclass(frozen=True)
class Skipped:
    """A setting left out of a comparison, and why (``workers`` None: every worker count)."""

    strategy: str
    workers: int | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"strategy": self.strategy, "workers": self.workers, "reason": self.reason}


@dataclass(frozen=True)
class PlannedRun:
    """One run of the plan: which cell, which repeat (1-based), its place in the order."""

    index: int  # 0-based position in the run order
    repeat: int  # 1 = the first round
    cell: int  # index into MatrixPlan.cells
    spec: ResolvedSpec


@dataclass(frozen=True)
class MatrixPlan:
    """Validated settings to run ``repeats`` times each, interleaved; ``skipped`` left out."""

    cells: tuple[ResolvedSpec, ...]
    repeats: int = DEFAULT_REPEATS
    skipped: tuple[Skipped, ...] = ()

    @property
    def total_runs(self) -> int:
        """How many runs the plan makes."""
        return len(self.cells) * self.repeats

    def order(self) -> list[PlannedRun]:
        """Every run in the order it will be made: round 1 over all cells, then round 2, ..."""
        return [
            PlannedRun(r * len(self.cells) + c, r + 1, c, spec)
            for r in range(self.repeats)
            for c, spec in enumerate(self.cells)
        ]


def check_repeats(repeats: int) -> int:
    """``repeats`` if it is 1..MAX_REPEATS, else SpecError."""
    if not isinstance(repeats, int) or not 1 <= repeats <= MAX_REPEATS:
        raise SpecError(f"repeat {repeats} is out of range: allowed 1..{MAX_REPEATS}")
    return repeats


def check_strategies(strategies: Sequence[str]) -> list[str]:
    """The strategy ids without duplicates, or SpecError naming an unknown or missing one."""
    if not strategies:
        raise SpecError(
            f"the strategies list is empty: allowed one or more of {', '.join(all_strategies())}"
        )
    out: list[str] = []
    for strategy in strategies:
        if strategy not in all_strategies():
            raise SpecError(str(UnknownStrategy(strategy)))
        if strategy not in out:
            out.append(strategy)
    return out


def check_worker_counts(workers: Sequence[int]) -> list[int]:
    """The worker counts sorted without duplicates, or SpecError naming a bad one."""
    if not workers:
        raise SpecError(f"the workers list is empty: allowed one or more of 1..{max_workers()}")
    for count in workers:
        if not isinstance(count, int) or not 1 <= count <= max_workers():
            raise SpecError(f"workers {count} is out of range: allowed 1..{max_workers()}")
    return sorted(set(workers))


def baseline_spec(base: RunSpec) -> ResolvedSpec:
    """The sequential loop doing ``base``'s job, validated (SpecError if the job is bad)."""
    return validate_spec(base.replace(strategy=baseline().id, workers=1, chunksize=None))


def cells_for(
    strategy: str, worker_counts: Sequence[int], base: RunSpec
) -> tuple[list[ResolvedSpec], list[Skipped]]:
    """Validated specs of ``strategy`` at each worker count, and the settings that cannot run."""
    reason = why_not(strategy, base.workload or baseline().default_workload)
    if reason:
        return [], [Skipped(strategy, None, reason)]
    counts = worker_counts if all_strategies()[strategy].multi_worker else [1]
    cells: list[ResolvedSpec] = []
    skipped: list[Skipped] = []
    for count in counts:
        try:
            cells.append(validate_spec(base.replace(strategy=strategy, workers=count)))
        except SpecError as exc:
            skipped.append(Skipped(strategy, count, str(exc)))
    return cells, skipped


def plan_matrix(
    strategies: Sequence[str],
    workers: Sequence[int],
    base: RunSpec,
    repeats: int = DEFAULT_REPEATS,
) -> MatrixPlan:
    """Plan ``strategies`` x ``workers`` on ``base``'s job (workload, items, grain, sleep,
    chunksize, start method), ``repeats`` times each, with the sequential loop first.

    Raises SpecError (one line) for an empty or unknown strategy list, a bad worker count,
    a bad repeat count or a job that cannot run at all. A strategy that cannot run this
    workload (or a setting validation refuses) is skipped, with its reason, not an error.
    """
    names = check_strategies(strategies)
    counts = check_worker_counts(workers)
    check_repeats(repeats)
    if base.workload is None:  # one job for every setting: the baseline's
        base = base.replace(workload=baseline().default_workload)
    cells = [baseline_spec(base)]
    skipped: list[Skipped] = []
    for strategy in names:
        if is_baseline(strategy):
            continue
        more, left_out = cells_for(strategy, counts, base)
        cells.extend(more)
        skipped.extend(left_out)
    return MatrixPlan(tuple(cells), repeats, tuple(skipped))
