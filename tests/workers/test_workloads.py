"""Closed forms: every workload's formula equals the brute-force sum, and the seed's values."""

from __future__ import annotations

import pytest

from mpscope.workers import jobs
from mpscope.workers.workloads import WORKLOADS


@pytest.mark.parametrize("n", [1, 2, 3, 10, 257, 1000])
def test_closed_forms_match_brute_force(n: int) -> None:
    assert WORKLOADS["square"].expected(n) == sum(jobs.square(x) for x in range(n))
    assert WORKLOADS["poly-pair"].expected(n) == sum(
        jobs.func1(x) + jobs.func2(x) for x in range(n)
    )
    assert WORKLOADS["poly-pair"].expected(n) == sum(jobs.poly_pair(x) for x in range(n))
    assert WORKLOADS["square-plus"].expected(n) == sum(
        jobs.square_plus(x, v) for x, v in zip(range(n), range(n))
    )
    for grain in (0, 1, 7, 50):
        assert WORKLOADS["heavy"].expected(n, grain=grain) == sum(
            jobs.heavy(x, grain) for x in range(n)
        )
    assert WORKLOADS["sleep"].expected(n, ms=0) == sum(jobs.sleep_item(x, 0) for x in range(n))


def test_the_seeds_printed_values() -> None:
    # In [10]: sum(pool.map(job, range(100000000))) and In [3]: res1 + res2
    assert WORKLOADS["square"].expected(100_000_000) == 333333328333333350000000
    assert WORKLOADS["poly-pair"].expected(100_000_000) == 333333358333333050000000
    # In [13]: starmap(job, zip(range(10), range(100))) -> zip stops at the shortest
    assert [jobs.square_plus(x, v) for x, v in zip(range(10), range(100))] == [
        0, 2, 6, 12, 20, 30, 42, 56, 72, 90,
    ]  # fmt: skip
    assert WORKLOADS["square-plus"].expected(10) == 330


def test_injected_faults_only_fire_at_their_item() -> None:
    import functools

    job = functools.partial(jobs.faulty, job=jobs.square, at=5, kind="raise")
    assert job(4) == 16
    with pytest.raises(ValueError, match="item 5"):
        job(5)
