"""Validation: bad input is one line naming the value and what is allowed."""

from __future__ import annotations

import pytest

from mpscope.workers.spec import RunSpec, SpecError, cpu_count, max_workers
from mpscope.workers.strategies import STRATEGIES, accepted_workloads
from mpscope.workers.validation import validate_spec


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        (RunSpec(strategy="pool-mapp"), ["'pool-mapp'", "pool-map", "sequential"]),
        (RunSpec(workload="cube"), ["'cube'", "square", "heavy"]),
        (RunSpec(items=0), ["items 0", "1 or more"]),
        (RunSpec(items=-5), ["items -5", "1 or more"]),
        (RunSpec(workers=0), ["workers 0", "1.."]),
        (RunSpec(chunksize=0), ["chunksize 0", "1 or more, or auto"]),
        (RunSpec(start_method="vfork"), ["'vfork'", "spawn"]),
        (RunSpec(strategy="pool-map", workload="square-plus"), ["square-plus", "pool-starmap"]),
        (RunSpec(strategy="pool-starmap", workload="square"), ["square", "pool-map"]),
        (RunSpec(items=10**13), ["items 10,000,000,000,000", "allowed up to"]),
        (RunSpec(workload="heavy", grain=-1), ["grain -1", "0.."]),
        (RunSpec(items=10, inject="raise@10"), ["raise@10", "ITEM < 10"]),
        (RunSpec(inject="melt@1"), ["melt@1", "raise@ITEM"]),
    ],
)
def test_bad_specs_are_rejected_with_one_line(spec: RunSpec, names: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        validate_spec(spec)
    message = str(info.value)
    assert "\n" not in message
    for name in names:
        assert name in message


def test_defaults_are_resolved() -> None:
    spec = validate_spec(RunSpec(strategy="pool-map", workload="square", items=1000, workers=2))
    assert spec.chunksize == 125  # the stdlib's own rule: ceil(1000 / (4 * 2))
    assert spec.start_method in ("fork", "forkserver", "spawn")
    assert validate_spec(RunSpec(workers=None, items=10)).workers == cpu_count()


def test_sequential_runs_one_worker_and_process_takes_no_chunksize() -> None:
    assert validate_spec(RunSpec(strategy="sequential", items=10, workers=4)).workers == 1
    assert validate_spec(RunSpec(strategy="process", items=10, chunksize=3)).chunksize is None


def test_streaming_strategies_have_no_memory_cap() -> None:
    spec = validate_spec(RunSpec(strategy="pool-imap", items=10**13, workers=2))
    assert spec.items == 10**13


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.00099999, "1.0 ms"), (0.0009994, "999 µs"), (0.9999999, "1.00 s"), (59.999, "1 min 00.0 s"),
     (0.0123, "12.3 ms"), (3.456, "3.46 s"), (125.0, "2 min 05.0 s")],
)  # fmt: skip
def test_durations_read_well_at_unit_boundaries(seconds: float, text: str) -> None:
    from mpscope.workers.units import format_seconds

    assert format_seconds(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.8701, "under 1 s"), (1.4, "1 s"), (4.0, "4 s"), (59.4, "59 s"), (59.6, "1 min 00 s"),
     (125.2, "2 min 05 s")],
)  # fmt: skip
def test_an_eta_is_in_whole_units(seconds: float, text: str) -> None:
    from mpscope.workers.units import format_eta

    assert format_eta(seconds) == text


@pytest.mark.parametrize(
    ("text", "count"),
    [("10000000", 10**7), ("10,000,000", 10**7), ("10_000_000", 10**7), ("1e7", 10**7),
     ("10M", 10**7), ("2.5k", 2500), ("1.5e3", 1500), (" 7 ", 7)],
)  # fmt: skip
def test_counts_are_read_in_every_usual_spelling(text: str, count: int) -> None:
    from mpscope.workers.units import parse_count

    assert parse_count(text) == count


@pytest.mark.parametrize("text", ["", "ten", "1.5", "-3", "1e-3", "10 apples"])
def test_what_is_not_a_whole_count_is_refused(text: str) -> None:
    from mpscope.workers.units import parse_count

    with pytest.raises(ValueError, match=r"count|whole"):
        parse_count(text)


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_a_validated_spec_validates_again_unchanged(strategy: str) -> None:
    """Compare plans validated specs and the runner validates them again: no strategy may
    resolve to something its own check refuses (joblib's start method is loky)."""
    workload = accepted_workloads(strategy)[0]
    once = validate_spec(RunSpec(strategy=strategy, workload=workload, items=1000, workers=2))
    assert validate_spec(once) == once


def test_64_workers_are_allowed_on_any_machine_and_more_than_the_limit_is_refused() -> None:
    """A 64-core user's lane count can be shown on a 2-core laptop (oversubscribed)."""
    limit = max_workers()
    assert limit == max(64, 8 * cpu_count())
    assert validate_spec(RunSpec(strategy="pool-map", workers=64, items=640)).workers == 64
    assert validate_spec(RunSpec(strategy="pool-map", workers=limit, items=640)).workers == limit
    with pytest.raises(SpecError) as refused:
        validate_spec(RunSpec(strategy="pool-map", workers=limit + 1, items=640))
    message = str(refused.value)
    assert f"workers {limit + 1}" in message and f"1..{limit}" in message
    assert "\n" not in message
