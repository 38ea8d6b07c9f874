"""shared-counter: the seed's ``Value`` + ``Lock`` counter, declared with its own options.

K processes add 1 to one shared ``multiprocessing.Value``, ``items`` times each, under a lock
held around each worker's whole loop (the seed), around each increment, or not at all (lost
updates). How it runs is ``counter_workers``; here are its facts, its options (lock mode,
delay, force-race, trace), their checks, and what ``mpscope run`` prints about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mpscope.workers.spec import SpecError
from mpscope.workers.strategies.counter_workers import NONE, run_shared_counter
from mpscope.workers.strategy import Choice, Option, Strategy
from mpscope.workers.units import format_count, format_seconds
from mpscope.workers.workloads import Workload

if TYPE_CHECKING:
    from mpscope.workers.context import RunContext
    from mpscope.workers.spec import RunSpec

MAX_DELAY_S = 60.0
MAX_COUNTER = 2**31 - 1  # the shared Value is a C int ('i')

LOCK_CHOICES = (
    Choice(
        "whole",
        "whole loop (default)",
        "The lock is held around each worker's whole loop, sleep included:\n"
        "one worker counts 1..10 while the other waits, then the other counts 11..20.\n"
        "Correct, and nothing runs in parallel.",
    ),
    Choice(
        "step",
        "each increment",
        "The lock is held for each read-add-write only; the delay is spent outside it,\n"
        "so the workers take turns increment by increment. Every update lands.",
    ),
    Choice(
        NONE,
        "none (the race)",
        "v.value += 1 on a Value(lock=False), nothing guarding it: two workers that read the\n"
        "same value both write it plus one, and an update is lost.\n"
        "How many are lost is luck, unless you force the race.",
    ),
)
LOCK_MODES = tuple(choice.value for choice in LOCK_CHOICES)

OPTIONS = (
    Option(
        "lock",
        "--lock",
        "choice",
        "whole: one lock around each worker's loop (default); step: the lock around "
        "each increment (workers interleave); none: no lock (updates get lost)",
        "Loc&k",
        "How the shared counter is guarded. By default one mp.Lock is held around each "
        "worker's whole loop;\nhover over a mode to see what it does.",
        choices=LOCK_CHOICES,
    ),
    Option(
        "delay_s",
        "--delay",
        "seconds",
        f"seconds of sleep per increment, 0..{MAX_DELAY_S:g} (default 0.1)",
        "&Delay",
        "Seconds each increment sleeps (time.sleep before its read-add-write; 0.1 by default).\n"
        "With the lock around the whole loop the sleep is inside the lock; around each "
        "increment it is outside,\nso the workers interleave. 0 = as fast as possible (the "
        "view then shows a sample: at most 1,000 increments/s are reported).",
        maximum=MAX_DELAY_S,
        suffix=" s per increment",
    ),
    Option(
        "force_race",
        "--force-race",
        "switch",
        "with --lock none: a barrier between every read and write, so every round loses K-1 "
        "updates (result exactly --items)",
        "Force the r&ace",
        "With no lock: in every round each worker reads the counter, then all K workers meet "
        "at a barrier,\nthen each writes what it read plus one. All of a round's writes write "
        "the same value, so every round\nloses K-1 updates, every time (a plain unguarded += "
        "loses some, some of the time). Needs 2 or more workers.",
        only_with=("lock", NONE),
        off_tip='Only with lock "no lock": a lock rules the race out, so there is nothing to force',
    ),
    Option(
        "trace",
        "--trace",
        "switch",
        "report the ordered [worker, value] steps (JSON key trace; a very long run keeps its "
        "first steps and says so in trace_note)",
        "&Trace writes",
        "Record which worker wrote which value, in the order of the writes, and show the "
        "sequence after the run\n(the first 20,000 writes).",
        recorded=False,
    ),
)


def _only_shared_state(workload: Workload) -> str | None:
    if workload.shared_state:
        return None
    return (
        "shared-counter adds 1 to a shared Value per item and runs only the increment "
        f"workload, not {workload.id}"
    )


def resolve_counter_options(spec: RunSpec, items: int, workers: int) -> Mapping[str, Any]:
    """Check the counter's options against each other and the run's size (SpecError)."""
    if spec.lock not in LOCK_MODES:
        raise SpecError(f"lock {spec.lock!r} is unknown: allowed {', '.join(LOCK_MODES)}")
    if not 0 <= spec.delay_s <= MAX_DELAY_S:
        raise SpecError(f"delay {spec.delay_s} s is out of range: allowed 0..{MAX_DELAY_S:g} s")
    if spec.force_race and spec.lock != NONE:
        raise SpecError(
            f"force-race with lock {spec.lock!r} is not allowed: a lock rules the race out; "
            "allowed only with lock none"
        )
    if spec.force_race and workers < 2:
        raise SpecError(
            f"force-race with workers {workers} cannot lose an update: allowed with 2 or more "
            "workers"
        )
    if items * workers > MAX_COUNTER:
        raise SpecError(
            f"workers {workers} x items {format_count(items)} = "
            f"{format_count(items * workers)} increments overflow the shared C int: allowed up "
            f"to {format_count(MAX_COUNTER)} in all"
        )
    return {}


def _trace_runs(trace: list[list[int]], limit: int = 24) -> str:
    """[worker, value] steps as runs: 'w0: 1-10, w1: 11-20' (at most ``limit`` runs shown)."""
    runs: list[list[int]] = []  # [worker, first value, last value]
    for worker, value in trace:
        if runs and runs[-1][0] == worker and value == runs[-1][2] + 1:
            runs[-1][2] = value
        else:
            runs.append([worker, value, value])
    text = ", ".join(f"w{w}: {a}" if a == b else f"w{w}: {a}-{b}" for w, a, b in runs[:limit])
    return text + (f", ... ({len(runs) - limit} more runs)" if len(runs) > limit else "")


def counter_report(record: Mapping[str, Any]) -> list[str]:
    """The counter's own lines for ``mpscope run``: lock mode, lost updates and why, each
    worker's waits and holds, the trace."""
    race = " · force-race" if record.get("force_race") else ""
    lines = [
        f"lock       {record.get('lock')} · delay {format_seconds(record.get('delay_s', 0))}{race}",
        f"lost       {record['lost']:,}: {record['explanation']}",
    ]
    if record.get("steps_skipped"):
        lines.append(
            f"rate cap   {record['steps_sent']:,} increments sent as events, "
            f"{record['steps_skipped']:,} counted only"
        )
    for w in record["counter_per_worker"]:
        if record.get("lock") != NONE:
            how = (
                f"waited {format_seconds(w['wait_s'])} for the lock ({w['waits']:,} times) · "
                f"held it {format_seconds(w['hold_s'])}"
            )
        elif record.get("force_race"):
            how = f"waited {format_seconds(w['wait_s'])} at the barrier"
        else:
            how = "no lock"
        lines.append(f"worker {w['worker']:<3} {w['increments']:,} increments · {how}")
    if "trace" in record:
        lines.append(f"trace      {_trace_runs(record['trace'])}")
        if record.get("trace_note"):
            lines.append(f"           {record['trace_note']}")
    return lines


def _units(ctx: RunContext) -> int:
    return ctx.workers * ctx.items


SHARED_COUNTER = Strategy(
    "shared-counter",
    "Value + Lock",
    "K mp.Process each add 1 to one shared mp.Value N times, under an mp.Lock (or not)",
    "v = Value('i', 0); lock = Lock(); Process(target=job, args=(v, lock)) x K",
    run_shared_counter,
    why_not=_only_shared_state,
    shares_state=True,
    default_workers=2,
    default_workload="increment",
    options=OPTIONS,
    resolve_options=resolve_counter_options,
    explanation="strategies/shared-counter.md",
    seed_cell="In [20]",
    units=_units,
    checks_closed_form=False,
    report_lines=counter_report,
)
STRATEGIES = (SHARED_COUNTER,)
