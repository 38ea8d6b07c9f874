"""Workload registry: what each job computes, its closed form and its sensible sizes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from mpscope.workers import jobs

DEFAULT_GRAIN = 2000
DEFAULT_SLEEP_MS = 10.0


def _sum_squares(n: int) -> int:
    """Sum of x**2 for x in range(n)."""
    return (n - 1) * n * (2 * n - 1) // 6


def _sum_range(n: int) -> int:
    """Sum of x for x in range(n)."""
    return n * (n - 1) // 2


def expected_square(n: int, grain: int, ms: float) -> int:
    """Closed form of ``square`` over range(n)."""
    return _sum_squares(n)


def expected_poly_pair(n: int, grain: int, ms: float) -> int:
    """Closed form of func1 + func2 over range(n): sum(x**2) + 3n(n-1)."""
    return _sum_squares(n) + 3 * n * (n - 1)


def expected_square_plus(n: int, grain: int, ms: float) -> int:
    """Closed form of x**2 + var over zip(range(n), range(n))."""
    return _sum_squares(n) + _sum_range(n)


def expected_heavy(n: int, grain: int, ms: float) -> int:
    """Closed form of heavy: sum over x of x*g(g-1)/2 + g."""
    return _sum_range(n) * _sum_range(grain) + n * grain


def expected_sleep(n: int, grain: int, ms: float) -> int:
    """Closed form of sleep: one per item."""
    return n


def expected_increment(n: int, grain: int, ms: float) -> int:
    """Closed form of increment for one worker: one per item (shared-counter: K x N in all)."""
    return n


def one_increment(x: int) -> int:
    """The increment workload's per-item job outside the counter: one (``v.value += 1``)."""
    return 1


@dataclass(frozen=True)
class Workload:
    """One workload: its per-item job, its closed form and how to present it."""

    id: str
    description: str
    arity: int  # 1: job(x); 2: job(x, var) fed from zip(range(N), range(N))
    default_items: int
    closed_form: Callable[[int, int, float], int]
    formula: str
    io_bound: bool = False

    def job(self, grain: int = DEFAULT_GRAIN, ms: float = DEFAULT_SLEEP_MS) -> Callable[..., int]:
        """The picklable per-item callable, with this run's parameters bound."""
        if self.id == "square":
            return jobs.square
        if self.id == "poly-pair":
            return jobs.poly_pair
        if self.id == "square-plus":
            return jobs.square_plus
        if self.id == "heavy":
            return functools.partial(jobs.heavy, grain=grain)
        if self.id == "increment":
            return one_increment
        return functools.partial(jobs.sleep_item, ms=ms)

    def expected(self, items: int, grain: int = DEFAULT_GRAIN, ms: float = DEFAULT_SLEEP_MS) -> int:
        """The exact sum of the job over ``items`` items."""
        return self.closed_form(items, grain, ms)


WORKLOADS: dict[str, Workload] = {
    w.id: w
    for w in (
        Workload(
            "square",
            "the seed's job(x) = x**2 (cheap per item: IPC dominates)",
            1,
            10_000_000,
            expected_square,
            "(N-1)N(2N-1)/6",
        ),
        Workload(
            "poly-pair",
            "the seed's func1 (i + i**1 + i**2) and func2 (i + i*1 + i*2)",
            1,
            5_000_000,
            expected_poly_pair,
            "(N-1)N(2N-1)/6 + 3N(N-1)",
        ),
        Workload(
            "square-plus",
            "the seed's starmap job(x, var) = x**2 + var over zip(range(N), range(N))",
            2,
            5_000_000,
            expected_square_plus,
            "(N-1)N(2N-1)/6 + N(N-1)/2",
        ),
        Workload(
            "heavy",
            "CPU-bound pure Python: --grain iterations of acc += x*j + 1 per item",
            1,
            20_000,
            expected_heavy,
            "G(G-1)/2 * N(N-1)/2 + N*G",
        ),
        Workload(
            "sleep",
            "I/O-bound: time.sleep(--sleep-ms) per item (threads scale too)",
            1,
            200,
            expected_sleep,
            "N",
            io_bound=True,
        ),
        Workload(
            "increment",
            "the seed's v.value += 1 on one shared multiprocessing.Value, N times per worker "
            "(shared-counter only)",
            1,
            10,
            expected_increment,
            "N per worker, K x N in all",
        ),
    )
}
