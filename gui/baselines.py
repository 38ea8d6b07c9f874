"""The last baseline (sequential) run per problem, remembered this session, for speed-ups.

A speed-up only means something against the same work: the same workload, the same number of
items and the same job parameters (grain, sleep). The run history (``gui.compare.run_history``
over ``workers.records.history``) answers for problems not run this session; this is the
in-session memory the run summary needs.
"""

from __future__ import annotations

from collections.abc import Callable

from mpscope.workers.events import RunFinished
from mpscope.workers.spec import RunSpec, problem_of
from mpscope.workers.strategies import baseline

BaselineKey = tuple[tuple[str, object], ...]


def baseline_key(spec: RunSpec) -> BaselineKey:
    """What must match for two runs to be compared (``problem_of``), as a dictionary key."""
    return tuple(sorted(problem_of(spec).items()))


class SequentialBaselines:
    """Wall time of the latest correct sequential run of each problem, this session.

    ``fallback`` (the window sets it to the run history's lookup) answers for problems not
    run this session: a sequential run of an earlier session.
    """

    def __init__(self, fallback: Callable[[RunSpec], float | None] | None = None) -> None:
        self._walls: dict[BaselineKey, float] = {}
        self.fallback = fallback

    def record(self, spec: RunSpec, outcome: object) -> None:
        """Remember ``outcome`` if it is a correct, finished sequential run."""
        if (
            spec.strategy == baseline().id
            and isinstance(outcome, RunFinished)
            and outcome.correct
            and outcome.wall_s > 0
        ):
            self._walls[baseline_key(spec)] = outcome.wall_s

    def wall_s(self, spec: RunSpec) -> float | None:
        """The sequential wall time for ``spec``'s problem, if one was measured."""
        wall = self._walls.get(baseline_key(spec))
        if wall is None and self.fallback is not None:
            return self.fallback(spec)
        return wall
