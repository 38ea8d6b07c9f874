"""Default problem sizes: how many items make a run worth watching on *this* machine.

A fresh install should show something on the first press of Run: a few seconds of work for
the sequential loop. The per-item cost of each job is measured once at start-up (a few tens
of milliseconds of CPU time, off the GUI thread; ``MPSCOPE_NO_CALIBRATION=1`` skips it and the
workloads' own defaults are used). Sizes are capped so that strategies returning a full result
list (``Pool.map`` keeps one Python int per item, ~110-260 bytes) stay well inside memory.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping

from mpscope.workers.strategies import STRATEGIES, accepted_workloads
from mpscope.workers.workloads import DEFAULT_GRAIN, WORKLOADS, find_workload

TARGET_SEQUENTIAL_S = 2.5  # what a proposed size should take as a plain for-loop
RESULT_LIST_CAP_BYTES = 1.5 * 2**30  # largest full result list a proposal may cause
MEASURE_BUDGET_S = 0.03  # CPU time spent timing each job
SLEEP_OVERHEAD_S = 1e-4  # time.sleep() overshoots by about this much per call
# the workloads whose size is "how much work": measured (sleep is computed from its sleep);
# any other workload (the shared counter's increment, say) keeps its own default size
CALIBRATED = tuple(w.id for w in WORKLOADS.values() if w.sizing == "measured")


def _scales_with_grain(workload: str) -> bool:
    w = find_workload(workload)
    return w is not None and "grain" in w.params.values()


def calibration_disabled() -> bool:
    """True if ``MPSCOPE_NO_CALIBRATION`` asks to skip measuring (tests, slow machines)."""
    return os.environ.get("MPSCOPE_NO_CALIBRATION", "") not in ("", "0")


def nice_floor(n: float) -> int:
    """The largest 1, 2, 2.5 or 5 x 10^k not above ``n`` (at least 1): 37,123 -> 25,000."""
    if n < 1:
        return 1
    exponent = math.floor(math.log10(n))
    for mantissa in (5.0, 2.5, 2.0, 1.0):
        value = mantissa * 10**exponent
        if value <= n:
            return max(int(value), 1)
    return max(int(10**exponent), 1)


def memory_cap(workload: str) -> int:
    """Most items any strategy that accepts ``workload`` can return as a full list safely."""
    per_item = max(
        (
            STRATEGIES[s].result_bytes_per_item
            for s in STRATEGIES
            if workload in accepted_workloads(s)
        ),
        default=0,
    )
    if per_item <= 0:
        return 10**12
    try:
        import psutil

        budget = min(RESULT_LIST_CAP_BYTES, 0.25 * psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001  # pragma: no cover - psutil is a dependency
        budget = RESULT_LIST_CAP_BYTES
    return int(budget // per_item)


def measure_seconds_per_item(workload: str, budget_s: float = MEASURE_BUDGET_S) -> float:
    """CPU seconds one item of ``workload``'s job takes here (heavy: at the default grain).

    Uses the calling thread's own CPU clock, so time spent waiting for the GIL (the GUI
    thread runs beside it) is not counted.
    """
    w = WORKLOADS[workload]
    job = w.job()  # its default keywords (heavy: the default grain)
    x = max(w.default_items // 2, 1)  # items of a typical size (big ints cost more)
    done = 0
    batch = 64
    t0 = time.thread_time()
    while True:
        if w.arity == 1:
            for i in range(x, x + batch):
                job(i)
        else:
            for i in range(x, x + batch):
                job(i, i)
        done += batch
        elapsed = time.thread_time() - t0
        if elapsed >= budget_s:
            return elapsed / done
        batch *= 2


def measure_all(workloads: list[str] | None = None) -> dict[str, float]:
    """Seconds per item of every calibrated workload (sleep is known without measuring)."""
    return {
        w: measure_seconds_per_item(w)
        for w in (workloads or CALIBRATED)
        if w in WORKLOADS and w in CALIBRATED
    }


class ItemProposals:
    """Proposed item counts per workload, from measured per-item costs when there are any."""

    def __init__(self, seconds_per_item: Mapping[str, float] | None = None) -> None:
        self.seconds_per_item: dict[str, float] = dict(seconds_per_item or {})

    @property
    def calibrated(self) -> bool:
        """True once per-item costs were measured on this machine."""
        return bool(self.seconds_per_item)

    def item_seconds(self, workload: str, grain: int, sleep_ms: float) -> float | None:
        """Estimated seconds per item of the sequential loop, None if not known."""
        w = find_workload(workload)
        assert w is not None, workload
        if w.sizing == "sleep":
            return sleep_ms / 1000.0 + SLEEP_OVERHEAD_S
        if workload not in CALIBRATED:
            return None
        measured = self.seconds_per_item.get(workload)
        if measured is None:
            return None
        if _scales_with_grain(workload):
            return measured * max(grain, 50) / DEFAULT_GRAIN
        return measured

    def propose(self, workload: str, grain: int = DEFAULT_GRAIN, sleep_ms: float = 10.0) -> int:
        """Items for about TARGET_SEQUENTIAL_S of sequential work, within the memory cap."""
        w = find_workload(workload)
        assert w is not None, workload
        per_item = self.item_seconds(workload, grain, sleep_ms)
        if per_item is None:
            n = w.default_items
            if _scales_with_grain(workload):
                n = nice_floor(w.default_items * DEFAULT_GRAIN / max(grain, 50))
        else:
            n = nice_floor(TARGET_SEQUENTIAL_S / max(per_item, 1e-9))
        return max(1, min(n, nice_floor(memory_cap(workload))))

    def explain(self, workload: str, grain: int, sleep_ms: float) -> str:
        """One sentence on where the proposal comes from (for the items field's tooltip)."""
        n = self.propose(workload, grain, sleep_ms)
        per_item = self.item_seconds(workload, grain, sleep_ms)
        if per_item is None:
            return f"proposed size {n:,}: the workload's default (not measured on this machine)"
        estimate = n * per_item
        text = (
            f"proposed size {n:,}: about {estimate:.1f} s as a plain for-loop here "
            f"({per_item * 1e6:.3g} µs per item"
            + (", measured at start-up)" if workload in CALIBRATED else ")")
        )
        if n == nice_floor(memory_cap(workload)) and estimate < TARGET_SEQUENTIAL_S / 2:
            text += "; capped so a full result list (Pool.map) stays under 1.5 GiB"
        return text
