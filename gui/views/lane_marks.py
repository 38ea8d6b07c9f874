"""Where a worker died, and where the worker that replaced it began: marks on the timeline.

A pool whose worker is killed (SIGKILL, the OOM killer, ``os._exit``) forks a replacement that
announces itself under a new lane index; mpscope's own runs stop a moment later and name the
dead worker in their verdict. Without marks the dead lane simply stops and the new one looks
like a worker that took seconds to start. ``worker_deaths`` reads the deaths from the model:
a worker's WorkerExited with a non-zero exit code (a traced pool's, at the moment it died), or
the worker a RunFailed names (mpscope's own runs, whose dead worker sends no WorkerExited).
``replacements`` finds the lanes that joined after a worker had gone. ``LaneMarks`` draws both:
a red cross at the end of a dead worker's lane, a triangle where a replacement began.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette

from mpscope.gui.palette import worker_color
from mpscope.gui.run_model import RunModel
from mpscope.workers.context import EXITCODE_GRACE_S
from mpscope.workers.events import RunFailed, describe_exitcode
from mpscope.workers.units import format_seconds

DEATH_COLOR = QColor("#E3262B")  # a killed worker's mark (its outline is the background's)
DEATH_SIZE_PX = 13
START_SIZE_PX = 11
AFTER_S = 1e-3  # another lane's work this long after an exit: the exit was not the teardown


@dataclass(frozen=True)
class WorkerDeath:
    """A worker that ended badly: its lane, pid, exit code and when (seconds since start).

    ``earliest``: set when only bounds are known (the worker sent no WorkerExited): it died
    after ``earliest`` (its last sign of work) and by ``t``, where the mark is drawn.
    """

    worker: int
    pid: int
    exitcode: int
    t: float
    earliest: float | None = None

    @property
    def how(self) -> str:
        """'killed by SIGKILL' or 'exited with code 3'."""
        return describe_exitcode(self.exitcode).split(" (exit code")[0]

    def describe(self) -> str:
        """The mark's tooltip: 'worker 2 (pid 4242) killed by SIGKILL at 3.20 s' (or
        'between 3.05 s and 3.20 s' when only bounds are known)."""
        when = f"at {format_seconds(self.t)}"
        if self.earliest is not None and format_seconds(self.earliest) != format_seconds(self.t):
            when = f"between {format_seconds(self.earliest)} and {format_seconds(self.t)}"
        return f"worker {self.worker} (pid {self.pid}) {self.how} {when}"


@dataclass(frozen=True)
class Replacement:
    """A worker that joined the run after another had gone (a pool replacing it)."""

    worker: int
    pid: int
    t: float  # when it announced itself (its WorkerStarted), seconds since the start
    # the lane of the worker gone before it (None: every one gone is replaced already, as when
    # a pool goes on replacing the workers mpscope stops with the run)
    replaced: int | None
    gone_t: float  # when that one went
    death: WorkerDeath | None  # how it went, if it died (None: exited cleanly, or unknown)

    def describe(self) -> str:
        """The mark's tooltip: who it replaced, and how long after that one went."""
        started = f"w{self.worker} (pid {self.pid}) started at {format_seconds(self.t)}"
        if self.replaced is None:
            return f"{started}, in place of a worker that had gone"
        death = self.death
        went = death.how if death is not None else "exited"
        if death is None or death.earliest is None:  # known when it went: say how long before
            went += f" {format_seconds(self.t - self.gone_t)} before"
        return f"{started}, replacing w{self.replaced} ({went})"


def _last_work(model: RunModel) -> dict[int, float]:
    """Each lane's latest sign of work: its last progress sample or the end of its last span."""
    last: dict[int, float] = {}
    for index, lane in model.lanes.items():
        spans = lane.spans.view()
        last[index] = max(lane.last_t, float(spans[-1, 1]) if len(spans) else 0.0)
    return last


def _first_lanes(model: RunModel) -> int:
    """How many workers the run starts with (lanes past them joined later)."""
    spec = model.spec
    return spec.workers if spec is not None else 0


def worker_deaths(model: RunModel) -> list[WorkerDeath]:
    """The run's workers that died, in the order they died.

    A WorkerExited with a non-zero code counts while the run is live, or if another lane
    worked after it: a pool's own ``terminate()`` at its close sends SIGTERM to every worker
    once the work is done, which is no death. The worker a RunFailed names counts always; if
    it sent no WorkerExited (mpscope's own runs), it died after its last sign of work and by
    ``EXITCODE_GRACE_S`` before the verdict (the watchdog waits that long for the exit code
    once it saw the process end), and before any worker that joined the run after that work
    (its replacement): it is drawn at the latest of those moments, both bounds in its tooltip.
    """
    outcome = model.outcome
    named = (
        (outcome.pid, outcome.exitcode)
        if isinstance(outcome, RunFailed) and outcome.pid and outcome.exitcode
        else None
    )
    workers = model.workers
    if named is None and not any(fig.exitcode for fig in workers.values()):
        return []
    last = _last_work(model)
    t0 = model.t0
    deaths = []
    for index, fig in workers.items():
        is_named = named is not None and named[0] == fig.pid and fig.thread is None
        if fig.exitcode and fig.exited_t is not None:
            t = fig.exited_t - t0
            others = max((w for i, w in last.items() if i != index), default=0.0)
            if model.live or others > t + AFTER_S or is_named:
                deaths.append(WorkerDeath(index, fig.pid, fig.exitcode, t))
        elif is_named and named is not None and outcome is not None:
            alive = last.get(index, 0.0)
            verdict = outcome.t - t0
            joined = [
                started
                for i in workers
                if i >= _first_lanes(model)
                and (started := model.worker_started_at(i)) is not None
                and started > alive
            ]
            t = min([max(alive, verdict - EXITCODE_GRACE_S), verdict, *joined])
            deaths.append(WorkerDeath(index, fig.pid, named[1], t, earliest=min(alive, t)))
    return sorted(deaths, key=lambda d: (d.t, d.worker))


def replacements(model: RunModel, deaths: list[WorkerDeath]) -> dict[int, Replacement]:
    """Lane -> its Replacement, for the lanes past the run's first ``spec.workers`` that
    started after another worker had gone (died, or exited cleanly: ``maxtasksperchild``);
    each takes the earliest gone worker not yet taken, or none when all are taken."""
    t0 = model.t0
    died = {death.worker: death for death in deaths}
    gone = [(death.t, death.worker) for death in deaths]
    gone += [
        (fig.exited_t - t0, i)
        for i, fig in model.workers.items()
        if fig.exited_t is not None and i not in died
    ]
    gone.sort()
    first_lanes = _first_lanes(model)
    joined = sorted(
        (started, i)
        for i in model.workers
        if i >= first_lanes and (started := model.worker_started_at(i)) is not None
    )
    first_gone = gone[0][0] if gone else math.inf
    found: dict[int, Replacement] = {}
    for started, index in joined:
        if started < first_gone:
            continue  # nobody had gone yet: a worker of the run's own, numbered late
        pid = model.workers[index].pid
        before = [(t, i) for t, i in gone if t <= started and i != index]
        if not before:
            found[index] = Replacement(index, pid, started, None, first_gone, None)
            continue
        gone_t, replaced = before[0]
        gone.remove(before[0])
        found[index] = Replacement(index, pid, started, replaced, gone_t, died.get(replaced))
    return found


class LaneMarks:
    """The timeline's marks: a red cross where a worker died, a triangle where its replacement
    started (in the worker's colour). One scatter item holds both; sizes are in pixels, so the
    marks read at any zoom."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.deaths: list[WorkerDeath] = []
        self.replacements: dict[int, Replacement] = {}
        self.item = pg.ScatterPlotItem(pxMode=True)
        self.item.setZValue(20)  # above every bar
        plot.addItem(self.item)
        self._outline = pg.mkPen("w")

    def update(self, model: RunModel) -> None:
        """Read the deaths and replacements from ``model`` and mark them (if they changed)."""
        deaths = worker_deaths(model)
        found = replacements(model, deaths)
        if deaths == self.deaths and found == self.replacements:
            return
        self.deaths, self.replacements = deaths, found
        self._draw()

    def clear(self) -> None:
        """No marks (a new run)."""
        self.deaths, self.replacements = [], {}
        self._draw()

    def apply_palette(self, palette: QPalette) -> None:
        """Outline the marks in ``palette``'s background, so they stand out on any bar."""
        self._outline = pg.mkPen(palette.color(QPalette.ColorRole.Base), width=1)
        self._draw()

    def _draw(self) -> None:
        starts = sorted(self.replacements.values(), key=lambda r: r.worker)
        points = [(d.t, d.worker, "x", DEATH_SIZE_PX, DEATH_COLOR) for d in self.deaths]
        points += [(r.t, r.worker, "t2", START_SIZE_PX, worker_color(r.worker)) for r in starts]
        self.item.setData(
            x=np.array([p[0] for p in points], dtype=float),
            y=np.array([p[1] for p in points], dtype=float),
            symbol=[p[2] for p in points],
            size=[p[3] for p in points],
            brush=[pg.mkBrush(p[4]) for p in points],
            pen=self._outline,
        )

    def marked(self) -> list[tuple[float, int, str]]:
        """What is drawn: (time, lane, symbol) of every mark ('x': died, 't2': replacement)."""
        data = self.item.data
        return [
            (float(x), round(y), str(s)) for x, y, s in zip(data["x"], data["y"], data["symbol"])
        ]

    def describe_at(self, x: float, y: float, tolerance: float) -> str | None:
        """The tooltip of a mark within ``tolerance`` seconds of ``x`` in lane ``round(y)``."""
        index = round(y)
        if abs(y - index) > 0.5:
            return None
        tolerance += 1e-9  # a mark's own time, read back through the run's clock
        for death in self.deaths:
            if death.worker == index and abs(death.t - x) <= tolerance:
                return death.describe()
        replacement = self.replacements.get(index)
        if replacement is not None and abs(replacement.t - x) <= tolerance:
            return replacement.describe()
        return None


__all__ = ["LaneMarks", "Replacement", "WorkerDeath", "replacements", "worker_deaths"]
