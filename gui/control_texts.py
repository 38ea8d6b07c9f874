"""The words of the controls panel: tooltips and hints that follow the current choices."""

from __future__ import annotations

import re

from mpscope.gui.choice_combos import start_method_unused
from mpscope.workers.spec import RunSpec, cpu_count
from mpscope.workers.strategies import STRATEGIES
from mpscope.workers.strategy import auto_chunksize
from mpscope.workers.units import format_count

STRATEGY_TIP = (
    "How the work is split: a plain loop, processes, pools, threads, an executor or a "
    "cluster.\nStrategies whose optional packages are missing are greyed out (hover to see "
    "what to install)."
)
WORKLOAD_TIP = (
    "What each item computes. Cheap jobs (square) show what the overhead of parallelism "
    "costs;\nheavy shows what K cores can do; sleep is I/O-bound, where threads help too.\n"
    "Workloads the strategy cannot run are greyed out (hover to see why)."
)
ITEMS_TIP = "How many items N to process: 10000000, 10,000,000, 1e7 or 10M"
CHUNKSIZE_TIP = (
    "Items per task sent to a worker. auto = ceil(N / (4K)), Pool.map's own rule.\n"
    "Small chunks = many round trips through the pool's queues; try 1 to see the cost."
)
START_METHOD_TIP = (
    "How worker processes are started: fork, forkserver or spawn.\n"
    "Its cost shows as start-up delay at the left of the timeline."
)
REMOTE_START_METHOD_TIP = (
    "Not used: the Dask scheduler you named runs its own workers, already started"
)
RUN_TIP = "Start the run (Ctrl+R)"
INPUTS_TIP = (
    "The items your function is called with: empty for range(N), a name in your "
    "function's module (rows), or module:name / file.py:name naming a list, an iterable or "
    "a function of no arguments that returns one. pool-starmap unpacks each item (a tuple) "
    "into arguments. Imported only by mpscope's worker processes, never by this window."
)
OWN_ITEMS_TIP = "Empty: every item of the inputs; a number N: their first N"
NO_TARGET = "choose your function: Browse… for a .py file, then pick one of its functions"
STOP_TIP = "Stop the run: it ends within a second (Esc)"
# the longest word of a call that stays whole: the built-in ones' longest is 38 characters
# ("multiprocessing.dummy.Pool(K).map(job,"), which the left panel holds at its default width
LONG_WORD = 40


def breakable_code(code: str) -> str:
    """``code`` as a wrapped label shows it: broken only at spaces (after a comma, around
    ``=`` and ``x K``), never inside a name or a call. A word longer than ``LONG_WORD`` characters
    (a long name of the user's) may also break before its dots, so the panel stays narrow."""
    zwsp = "\u200b"
    words = code.split(" ")
    return " ".join(w.replace(".", zwsp + ".") if len(w) > LONG_WORD else w for w in words)


def workers_suffix(workers: int) -> str:
    """What the worker count means on this machine: "of 2 cores", or oversubscribed."""
    cores = cpu_count()
    if workers > cores:
        return f"  of {cores} cores: oversubscribed"
    return f"  of {cores} cores"


CHOSEN_ON_COMPARE_TIP = (
    "On the Compare page the {what} to compare are chosen on the page itself (under "
    "{where}); this one is for Run, on the Live page, and comes back when you leave Compare."
)


def chosen_on_compare_tip(what: str, where: str) -> str:
    """The tooltip of a control greyed while Compare is on show, saying where it is set."""
    return CHOSEN_ON_COMPARE_TIP.format(what=what, where=where)


def workers_tip(strategy: str) -> str:
    """The workers spin box's tooltip for ``strategy``."""
    info = STRATEGIES[strategy]
    if not info.multi_worker:
        return f"{strategy} always runs one worker"
    cores = cpu_count()
    what = "Worker threads" if info.threads else "Worker processes"
    return (
        f"{what}: 1 to {2 * cores}, twice this machine's {cores} cores, so you can see "
        "what oversubscription (more workers than cores: they take turns) does"
    )


def start_method_tip(strategy: str) -> str:
    """The start-method combo's tooltip for ``strategy`` (why it is disabled, if it is)."""
    unused = start_method_unused(strategy)
    return f"Not used: {unused}" if unused else START_METHOD_TIP


def chunk_hint(strategy: str, spec: RunSpec | None, chosen: int) -> str:
    """What the chunksize amounts to: per task, how many tasks, and what auto would be."""
    if not STRATEGIES[strategy].chunked:
        return f"{strategy} does not chunk"
    if spec is None or spec.items is None or spec.chunksize is None:
        return ""
    tasks = -(-spec.items // spec.chunksize)
    auto = auto_chunksize(spec.items, spec.workers or 1)
    how = "auto: ceil(N / 4K) = " if chosen == 0 else ""
    plural = "s" if tasks != 1 else ""
    hint = f"{how}{format_count(spec.chunksize)} per task, {format_count(tasks)} task{plural}"
    if chosen and spec.chunksize != auto:
        hint += f" (auto would be {format_count(auto)})"
    return hint


def with_user_names(code: str, function: str, items: str | None) -> str:
    """``code`` written with the user's own names: their function for ``job`` and their
    inputs (None: range(N) stays) for ``range(N)``: ``Pool(K).map(parse_row, rows, chunksize)``.
    The strategies' calls and their explanations' code blocks are written this way."""
    code = re.sub(r"\bjob\b", function, code)
    if not items:
        return code
    return code.replace("zip(range(N), range(N))", items).replace("range(N)", items)
