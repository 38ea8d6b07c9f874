"""Validation: bad input is one line naming the value and what is allowed."""

from __future__ import annotations

import pytest

from workers.spec import RunSpec, SpecError, cpu_count, validate_spec


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        (RunSpec(strategy="pool-mapp"), ["'pool-mapp'", "pool-map", "sequential"]),
        (RunSpec(workload="cube"), ["'cube'", "square", "heavy"]),
        (RunSpec(items=0), ["items 0", "1 or more"]),
        (RunSpec(items=-5), ["items -5", "1 or more"]),
        (RunSpec(workers=0), ["workers 0", "1.."]),
        (RunSpec(workers=8 * cpu_count() + 1), [f"workers {8 * cpu_count() + 1}", "1.."]),
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
