"""What a strategy is: one object, declared in its own module, that everything else reads.

Each module of ``mpscope.workers.strategies`` declares its ``Strategy`` objects: the id and
label, what it calls, which workloads it takes and why not the others, its defaults, its own
options, the file that explains it, and its ``run``. The registry
(``mpscope.workers.strategies``) lists them; validation, the command line, the window, compare
and the verdict ask it instead of naming strategies themselves. ``docs/ARCHITECTURE.md`` says
how to add one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mpscope.workers.workloads import Workload

if TYPE_CHECKING:
    from mpscope.workers.context import RunContext
    from mpscope.workers.spec import RunSpec

OptionKind = Literal["choice", "seconds", "switch", "address"]


def auto_chunksize(items: int, workers: int) -> int:
    """``Pool.map``'s own default: ceil(items / (4 * workers)), at least 1."""
    return max(1, math.ceil(items / (4 * workers)))


@dataclass(frozen=True)
class Choice:
    """One value of a choice option, as a user sees it."""

    value: str
    label: str  # in the window's list
    tip: str  # what choosing it does


@dataclass(frozen=True)
class Option:
    """A setting only some strategies take: the RunSpec field it fills and how it is asked for.

    The command line makes ``flag`` of it, the window a widget of ``kind`` (named after the
    flag: ``--force-race`` is ``forceRaceCheck``); the value's default is the RunSpec field's.
    """

    field: str  # the RunSpec field it sets
    flag: str  # its command-line flag, e.g. "--lock"
    kind: OptionKind
    help: str  # one line for --help
    label: str  # in the window, with & before its mnemonic letter
    tip: str  # the window's tooltip
    choices: tuple[Choice, ...] = ()  # kind "choice"
    maximum: float = 0.0  # kind "seconds": allowed 0..maximum
    suffix: str = ""  # kind "seconds": after the number, in the window
    placeholder: str = ""  # kind "address": what an empty field means
    # it applies only while another option has a value (field, value); else it is off
    only_with: tuple[str, str] | None = None
    off_tip: str = ""  # the tooltip while it does not apply
    recorded: bool = True  # reported in the run's record (--json)

    @property
    def metavar(self) -> str | None:
        """How --help shows the value it takes."""
        if self.kind == "choice":
            return "{" + ",".join(c.value for c in self.choices) + "}"
        return {"seconds": "S", "address": "tcp://HOST:PORT"}.get(self.kind)


def _all_items(ctx: RunContext) -> int:
    return ctx.items


def _all_workers(ctx: RunContext) -> int:
    return ctx.workers


def _takes_any(workload: Workload) -> str | None:
    return None


def _no_options(spec: RunSpec, items: int, workers: int) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class Strategy:
    """One way to run a job over N items, and everything mpscope needs to know about it."""

    id: str
    label: str  # a short name for people: "Pool.map"
    description: str  # one line
    call: str  # the call it makes, as a user would write it
    run: Callable[[RunContext], int]  # does the work; returns the result (in the conductor)
    # why it cannot run a workload (one line naming both and what to use), or None if it can
    why_not: Callable[[Workload], str | None] = _takes_any
    chunked: bool = False  # takes a chunksize
    chunksize_rule: str = ""  # what "auto" means for it (chunked strategies)
    result_bytes_per_item: int = 0  # memory a full result list costs per item; 0: streams
    multi_worker: bool = True  # False: always one worker
    starts_processes: bool = True  # False: the start method does not apply (say why below)
    no_processes_note: str = ""  # "sequential starts no worker processes"
    own_start_method: str | None = None  # its workers start their own way ("loky")
    threads: bool = False  # its workers are threads of one process, bound by the GIL
    # its workers share one value: it runs the workloads that change one (and may refuse
    # the others, in why_not); a strategy that shares none is refused those
    shares_state: bool = False
    default_workers: int | None = None  # None: one per core
    default_workload: str = "square"
    options: tuple[Option, ...] = ()
    # checks its own options (SpecError, one line) and returns the fields they resolve to
    resolve_options: Callable[[RunSpec, int, int], Mapping[str, Any]] = _no_options
    requires: tuple[str, ...] = ()  # modules of an optional extra it needs
    extra: str = ""  # the extra that installs them: pip install 'mpscope[EXTRA]'
    max_tasks: int | None = None  # most tasks (ceil(N / chunksize)) it accepts, if bounded
    explanation: str = ""  # its explanation for the window, a file in mpscope.resources
    seed_cell: str = ""  # the tutorial cells it comes from
    units: Callable[[RunContext], int] = _all_items  # work units its progress counts
    lanes: Callable[[RunContext], int] = _all_workers  # lanes its views draw
    checks_closed_form: bool = True  # False: its run puts "expected" in ctx.extra
    # how it passes each item to a user's function: unpacked into arguments (starmap)
    unpacks_items: bool = False
    # its results arrive in any order (imap_unordered): checked against the loop's as a multiset
    unordered_results: bool = False
    # what `mpscope run` prints after the common table (its own figures), or nothing
    report_lines: Callable[[Mapping[str, Any]], list[str]] | None = None
    # roles in the app: the baseline everything is compared with; the strategy a fresh
    # window, `mpscope run` and a sweep start with; ticked in a fresh comparison
    baseline: bool = False
    default: bool = False
    compared_by_default: bool = False
    module: str = field(default="", compare=False)  # where it is declared (set by the registry)

    def auto_chunksize(self, items: int, workers: int) -> int | None:
        """The chunksize "auto" means for ``items`` over ``workers`` (None: not chunked)."""
        return auto_chunksize(items, workers) if self.chunked else None
