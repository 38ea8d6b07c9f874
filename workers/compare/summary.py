"""Summary statistics of measured runs: per setting median / min / max wall, speed-up, efficiency.

Everything here works on run *records* (the dicts ``mpscope run --json`` prints, i.e.
``RunTally.summary()``), so it applies alike to a comparison just run, to runs read back from
the history store and to runs imported from another machine's JSON export.

The baseline is the **median** wall time of the finished, correct sequential runs of the same
job (workload, items, grain, sleep) on the same machine: a median, like the figure it is compared
with, so one lucky (or unlucky) loop does not move every speed-up.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mpscope.workers.events import RunStatus
from mpscope.workers.strategies import all_strategies, baseline


def is_baseline(strategy: object) -> bool:
    """True if ``strategy`` (an id, as records carry it) is the baseline loop."""
    return strategy == baseline().id


# (workload, items, grain, sleep_ms, hostname): runs that do the same job on the same machine
JobKey = tuple[str, int, Any, Any, Any]
# JobKey + (strategy, workers, chunksize, start_method): one setting of the comparison
CellKey = tuple[str, int, Any, Any, Any, str, int, Any, Any]


def hostname_of(record: dict[str, Any]) -> str | None:
    """The machine a record was measured on, if it says (history and imports do)."""
    machine = record.get("machine")
    if isinstance(machine, dict):
        name = machine.get("hostname")
        return name if isinstance(name, str) else None
    return None


def job_key(record: dict[str, Any]) -> JobKey:
    """What a record computed, and where: runs with equal keys are comparable (the user's
    own function counts as a workload of its own, with its inputs)."""
    job = record.get("job")
    return (
        record["workload"] if not job else f"{job} over {record.get('inputs') or 'range(N)'}",
        record["items"],
        record.get("grain"),
        record.get("sleep_ms"),
        hostname_of(record),
    )


def cell_key(record: dict[str, Any]) -> CellKey:
    """The setting a record ran with: repeats of one setting share it."""
    return (
        *job_key(record),
        record["strategy"],
        record["workers"],
        record.get("chunksize"),
        record.get("start_method"),
    )


def is_good(record: dict[str, Any]) -> bool:
    """True for a run that finished with the correct result (the only ones that count)."""
    return (
        record.get("status") == RunStatus.FINISHED
        and record.get("correct") is True
        and isinstance(record.get("wall_s"), (int, float))
        and record["wall_s"] > 0
    )


@dataclass(frozen=True)
class CellSummary:
    """The repeats of one setting (strategy, workers, chunksize, ...) summed up.

    Wall times are over the finished, correct runs only (``ok`` of ``runs``); ``speedup`` is
    the sequential median divided by this setting's median, ``speedup_min`` / ``speedup_max``
    the same against this setting's slowest / fastest run (whiskers), and ``efficiency`` the
    speed-up divided by the worker count (1.0 is the ideal).
    """

    strategy: str
    workers: int
    chunksize: int | None
    workload: str
    items: int
    grain: int | None
    sleep_ms: float | None
    start_method: str | None
    hostname: str | None
    runs: int
    ok: int
    median_wall_s: float | None
    min_wall_s: float | None
    max_wall_s: float | None
    median_items_per_s: float | None
    median_cpu_s: float | None  # CPU time of the run's processes (the loop: its one process)
    baseline_wall_s: float | None
    speedup: float | None
    speedup_min: float | None
    speedup_max: float | None
    efficiency: float | None
    job: str | None = None  # the user's own function ("module:function"), if it was one

    @property
    def failed(self) -> int:
        """Runs of this setting that failed, were cancelled or gave a wrong result."""
        return self.runs - self.ok

    @property
    def label(self) -> str:
        """A short name for charts and tables: 'pool-map K=2'."""
        return (
            self.strategy if is_baseline(self.strategy) else (f"{self.strategy} K={self.workers}")
        )

    def as_dict(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict (``hostname``, ``grain``, ``sleep_ms`` only if set)."""
        out = asdict(self)
        for optional in ("hostname", "grain", "sleep_ms", "job"):
            if out[optional] is None:
                del out[optional]
        return out


def baselines(records: Iterable[dict[str, Any]]) -> dict[JobKey, float]:
    """Median wall of the good sequential runs, per job (workload, items, grain, sleep, machine)."""
    walls: dict[JobKey, list[float]] = {}
    for record in records:
        if is_baseline(record.get("strategy")) and is_good(record):
            walls.setdefault(job_key(record), []).append(float(record["wall_s"]))
    return {key: statistics.median(values) for key, values in walls.items()}


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def summarize(records: Sequence[dict[str, Any]]) -> list[CellSummary]:
    """One CellSummary per setting, in the order the settings first appear in ``records``."""
    groups: dict[CellKey, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(cell_key(record), []).append(record)
    base = baselines(records)
    out: list[CellSummary] = []
    for key, group in groups.items():
        _, items, grain, sleep_ms, hostname, strategy, workers, chunksize, method = key
        workload, job = group[0]["workload"], group[0].get("job")
        good = [r for r in group if is_good(r)]
        walls = [float(r["wall_s"]) for r in good]
        rates = [float(r["items_per_s"]) for r in good if r.get("items_per_s")]
        cpus = [float(r["cpu_s"]) for r in good if isinstance(r.get("cpu_s"), (int, float))]
        median = statistics.median(walls) if walls else None
        fastest = min(walls) if walls else None
        slowest = max(walls) if walls else None
        baseline = base.get(key[:5])
        speedup = _ratio(baseline, median)
        out.append(
            CellSummary(
                strategy=strategy,
                workers=workers,
                chunksize=chunksize,
                workload=workload,
                items=items,
                grain=grain,
                sleep_ms=sleep_ms,
                start_method=method,
                hostname=hostname,
                runs=len(group),
                ok=len(good),
                median_wall_s=median,
                min_wall_s=fastest,
                max_wall_s=slowest,
                median_items_per_s=statistics.median(rates) if rates else None,
                median_cpu_s=statistics.median(cpus) if cpus else None,
                baseline_wall_s=baseline,
                speedup=speedup,
                speedup_min=_ratio(baseline, slowest),
                speedup_max=_ratio(baseline, fastest),
                efficiency=None if speedup is None else speedup / workers,
                job=job,
            )
        )
    return out


def run_speedup(record: dict[str, Any], base: dict[JobKey, float]) -> float | None:
    """One run's speed-up against its job's sequential median (None if it has none)."""
    if not is_good(record):
        return None
    return _ratio(base.get(job_key(record)), float(record["wall_s"]))


def is_chunked(strategy: str) -> bool:
    """True for strategies that take a chunksize (the pool strategies and the executor)."""
    info = all_strategies().get(strategy)
    return bool(info and info.chunked)
