"""Workloads: what each job computes, the arguments it takes, its closed form and its sizes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mpscope.workers import jobs

DEFAULT_GRAIN = 2000
DEFAULT_SLEEP_MS = 10.0


def _sum_squares(n: int) -> int:
    """Sum of x**2 for x in range(n)."""
    return (n - 1) * n * (2 * n - 1) // 6


def _sum_range(n: int) -> int:
    """Sum of x for x in range(n)."""
    return n * (n - 1) // 2


def expected_square(n: int) -> int:
    """Closed form of ``square`` over range(n)."""
    return _sum_squares(n)


def expected_poly_pair(n: int) -> int:
    """Closed form of func1 + func2 over range(n): sum(x**2) + 3n(n-1)."""
    return _sum_squares(n) + 3 * n * (n - 1)


def expected_square_plus(n: int) -> int:
    """Closed form of x**2 + var over zip(range(n), range(n))."""
    return _sum_squares(n) + _sum_range(n)


def expected_heavy(n: int, grain: int = DEFAULT_GRAIN) -> int:
    """Closed form of heavy: sum over x of x*g(g-1)/2 + g."""
    return _sum_range(n) * _sum_range(grain) + n * grain


def expected_sleep(n: int, ms: float = DEFAULT_SLEEP_MS) -> int:
    """Closed form of sleep: one per item."""
    return n


def expected_increment(n: int) -> int:
    """Closed form of increment for one worker: one per item (shared-counter: K x N in all)."""
    return n


def one_increment(x: int) -> int:
    """The increment workload's per-item job outside the counter: one (``v.value += 1``)."""
    return 1


@dataclass(frozen=True)
class Workload:
    """One workload: its per-item job, its arguments, its size and (if it has one) its closed
    form, the exact result a run must produce.

    ``params`` maps each keyword the job takes to the RunSpec field that gives it (heavy's
    ``grain``, sleep's ``ms`` from ``sleep_ms``). A workload with no closed form
    (``closed_form=None``) is checked some other way, never called correct unchecked.
    """

    id: str
    description: str
    arity: int  # 1: job(x); 2: job(x, var) fed from zip(range(N), range(N))
    default_items: int
    job_factory: Callable[..., Callable[..., int]]  # called with the job's keywords
    closed_form: Callable[..., int] | None  # (items, **keywords) -> the exact sum
    formula: str  # the closed form, for people ("" if none)
    params: Mapping[str, str] = field(default_factory=dict)
    io_bound: bool = False
    # its job changes one shared value, so only a strategy that shares one can run it
    shared_state: bool = False
    # how the window proposes a size: "measured" (timed on this machine), "sleep" (from the
    # sleep per item), "fixed" (its default)
    sizing: str = "measured"

    def arguments(self, spec: Any) -> dict[str, Any]:
        """The job's keywords, read from ``spec``'s fields (a RunSpec)."""
        return {keyword: getattr(spec, name) for keyword, name in self.params.items()}

    def job(self, **keywords: Any) -> Callable[..., int]:
        """The picklable per-item callable, with this run's keywords bound."""
        return self.job_factory(**keywords)

    def expected(self, items: int, **keywords: Any) -> int | None:
        """The exact sum of the job over ``items`` items, or None if it has no closed form."""
        if self.closed_form is None:
            return None
        return self.closed_form(items, **keywords)


def _heavy_job(grain: int = DEFAULT_GRAIN) -> Callable[..., int]:
    return functools.partial(jobs.heavy, grain=grain)


def _sleep_job(ms: float = DEFAULT_SLEEP_MS) -> Callable[..., int]:
    return functools.partial(jobs.sleep_item, ms=ms)


WORKLOADS: dict[str, Workload] = {
    w.id: w
    for w in (
        Workload(
            "square",
            "job(x) = x**2 (cheap per item: IPC dominates)",
            1,
            10_000_000,
            lambda: jobs.square,
            expected_square,
            "(N-1)N(2N-1)/6",
        ),
        Workload(
            "poly-pair",
            "two functions per item: func1 (i + i**1 + i**2) and func2 (i + i*1 + i*2)",
            1,
            5_000_000,
            lambda: jobs.poly_pair,
            expected_poly_pair,
            "(N-1)N(2N-1)/6 + 3N(N-1)",
        ),
        Workload(
            "square-plus",
            "two arguments: job(x, var) = x**2 + var over zip(range(N), range(N))",
            2,
            5_000_000,
            lambda: jobs.square_plus,
            expected_square_plus,
            "(N-1)N(2N-1)/6 + N(N-1)/2",
        ),
        Workload(
            "heavy",
            "CPU-bound pure Python: --grain iterations of acc += x*j + 1 per item",
            1,
            20_000,
            _heavy_job,
            expected_heavy,
            "G(G-1)/2 * N(N-1)/2 + N*G",
            params={"grain": "grain"},
        ),
        Workload(
            "sleep",
            "I/O-bound: time.sleep(--sleep-ms) per item (threads scale too)",
            1,
            200,
            _sleep_job,
            expected_sleep,
            "N",
            params={"ms": "sleep_ms"},
            io_bound=True,
            sizing="sleep",
        ),
        Workload(
            "increment",
            "v.value += 1 on one shared multiprocessing.Value, N times per worker "
            "(shared-counter only)",
            1,
            10,
            lambda: one_increment,
            expected_increment,
            "N per worker, K x N in all",
            shared_state=True,
            sizing="fixed",
        ),
    )
}


def _imported_by_the_conductor() -> Callable[..., int]:
    raise RuntimeError("a user's own job is imported by the conductor (workers.own_job)")


# the user's own function (``--job``): not a choice among the workloads above. Its arity (0:
# any) is checked against the function itself in the conductor, the only process of mpscope
# that imports it; its results are checked against the plain loop's, not a closed form.
OWN_WORKLOAD = Workload(
    "function",
    "your own function (--job module:function or file.py:function)",
    0,
    1_000,
    _imported_by_the_conductor,
    None,
    "",
    sizing="fixed",
)


def find_workload(workload_id: str) -> Workload | None:
    """The workload ``workload_id`` names, the user's own function's included."""
    return OWN_WORKLOAD if workload_id == OWN_WORKLOAD.id else WORKLOADS.get(workload_id)


def taking(field_name: str) -> Workload | None:
    """The first workload whose job takes the RunSpec field ``field_name`` (grain, sleep_ms)."""
    return next((w for w in WORKLOADS.values() if field_name in w.params.values()), None)
