"""The run's plots read as one: one time range for throughput, timeline and resources, and a
timeline that marks where a worker died and where its replacement began.

Events are fed to a RunModel as a run sends them (on the real clock: the run started a few
seconds ago), plus one real run whose worker is killed, through the window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip
from pytestqt.qtbot import QtBot
from ui_steps import child, choose

from mpscope.gui.run_model import RunModel
from mpscope.gui.views import ResourcesPlot, ThroughputPlot, TimelinePlot
from mpscope.gui.views.lane_marks import worker_deaths
from mpscope.gui.views.run_axis import HEADROOM, RunAxis, round_up
from mpscope.workers.events import (
    Event,
    Progress,
    RunFailed,
    RunFinished,
    RunStarted,
    TaskSpan,
    WorkerExited,
    WorkerStarted,
)
from mpscope.workers.spec import RunSpec
from mpscope.workers.validation import validate_spec

PID = 4_200_001  # above any Linux pid_max (2**22): no such process to sample
VIEW_SIZE = (470, 330)


class FedRun:
    """A run's events on the real clock: it started ``age_s`` seconds ago."""

    def __init__(self, model: RunModel, workers: int = 2, units: int = 10_000, age_s: float = 3.0):
        self.spec = validate_spec(
            RunSpec(strategy="pool-map", workload="square", items=units, workers=workers)
        )
        self.model, self.units, self.workers = model, units, workers
        self.t0 = time.perf_counter() - age_s
        model.reset(self.spec)
        model.fold([RunStarted("run-linked", self.spec, units, 10, workers, PID, 0.1, self.t0)])

    def at(self, s: float) -> float:
        return self.t0 + s

    def start(self, worker: int, s: float) -> WorkerStarted:
        return WorkerStarted(worker, PID + 1 + worker, self.at(s))

    def work(
        self, worker: int, rate: float, s_from: float, s_to: float, done0: int = 0
    ) -> list[Event]:
        """Progress every 50 ms and a 0.1 s chunk after chunk, at ``rate`` items/s."""
        events: list[Event] = []
        for t in np.arange(s_from + 0.05, s_to + 1e-9, 0.05):
            events.append(Progress(worker, done0 + round(rate * (t - s_from)), self.at(t)))
        for a in np.arange(s_from, s_to - 0.1 + 1e-9, 0.1):
            events.append(TaskSpan(worker, 0, round(rate * 0.1), self.at(a), self.at(a + 0.09)))
        return events

    def exited(self, worker: int, code: int, s: float) -> WorkerExited:
        return WorkerExited(worker, PID + 1 + worker, code, 0, 0.0, math.nan, self.at(s))

    def finished(self, s: float) -> RunFinished:
        return RunFinished("run-linked", 1, 1, True, s, s, 0.1, 0.0, 0.0, {}, self.at(s))


class ClockedModel(RunModel):
    """A RunModel whose clock the test can move on (``ahead_s``) without waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.ahead_s = 0.0

    def now(self) -> float:
        return super().now() + self.ahead_s


@pytest.fixture
def model() -> ClockedModel:
    return ClockedModel()


@pytest.fixture
def plots(qtbot: QtBot, model: RunModel) -> Iterator[dict[str, Any]]:
    """The three plots of one model, shown at about the size the window gives each."""
    built: dict[str, Any] = {
        "throughput": ThroughputPlot(model),
        "timeline": TimelinePlot(model),
        "resources": ResourcesPlot(model),
    }
    for view in built.values():
        qtbot.addWidget(view)
        view.resize(*VIEW_SIZE)
        view.show()
        qtbot.waitExposed(view)
    yield built
    built["resources"].sampler.stop()


def boxes(plots: dict[str, Any]) -> dict[str, pg.ViewBox]:
    return {
        "throughput": plots["throughput"].plot.getViewBox(),
        "timeline": plots["timeline"].plot_widget.getPlotItem().getViewBox(),
        "resources": plots["resources"].cpu_plot.getViewBox(),
    }


def x_ranges(plots: dict[str, Any]) -> dict[str, tuple[float, float]]:
    return {name: tuple(box.viewRange()[0]) for name, box in boxes(plots).items()}


def one_range(plots: dict[str, Any]) -> tuple[float, float]:
    """The x range every plot shows (fails if they differ)."""
    ranges = x_ranges(plots)
    assert len(set(ranges.values())) == 1, ranges
    return next(iter(ranges.values()))


def settled_range(qtbot: Any, plots: dict[str, Any], asking: str) -> tuple[float, float]:
    """The range every plot shows once one view's refresh moved it: the ``asking`` view's plot
    at once, the others a pass or two of the event loop later (``STAGGER_MS`` apart, so that
    no pass repaints all three)."""
    moved = x_ranges(plots)[asking]
    qtbot.waitUntil(lambda: len(set(x_ranges(plots).values())) == 1, timeout=1000)
    assert one_range(plots) == moved
    return moved


def refresh(*views: Any) -> None:
    for view in views:
        view.refresh()


# -- one time range ------------------------------------------------------------------------------


def test_the_three_plots_show_one_range_about_the_eta_ahead_then_exactly_the_run(
    qtbot, model: ClockedModel, plots: dict[str, Any]
) -> None:
    run = FedRun(model, age_s=3.0)
    # 30 % done in 3 s: the run should end at about 10 s
    model.fold([run.start(0, 0.1), run.start(1, 0.1), *run.work(0, 500, 0.0, 3.0)])
    model.fold(run.work(1, 500, 0.0, 3.0))
    refresh(*plots.values())
    low, high = one_range(plots)
    eta = model.expected_end()
    assert eta is not None and eta == pytest.approx(10.0, rel=0.05)
    assert low == 0.0
    assert eta < high <= eta * 1.25  # about the expected end ahead, not two or three times it
    # the resources plot's own memory plot and the throughput's lanes plot follow theirs
    assert plots["resources"].memory_plot.getViewBox().viewRange()[0] == [low, high]
    # the run slows down: its end moves out, and all three plots with it, whichever refreshes
    model.fold([*run.work(0, 40, 3.0, 3.2, done0=1500), *run.work(1, 40, 3.0, 3.2, done0=1500)])
    model.ahead_s = 6.0  # six seconds pass with little done
    plots["timeline"].refresh()  # one plot's refresh moves every plot, staggered
    assert x_ranges(plots)["throughput"] == (low, high)  # its turn is a pass or two away
    _, later = settled_range(qtbot, plots, "timeline")
    eta = model.expected_end()
    assert eta is not None and later > high
    assert eta < later <= eta * 1.25
    # over: all three show exactly [0, the run's end]
    model.fold([run.finished(9.2)])
    plots["resources"].refresh()
    end = model.clock()
    assert settled_range(qtbot, plots, "resources") == (0.0, pytest.approx(end, abs=1e-9))
    refresh(*plots.values())
    assert one_range(plots) == (0.0, pytest.approx(end, abs=1e-9))


def test_before_the_eta_the_range_runs_ahead_of_the_clock_and_never_pulls_back(
    model: RunModel, plots: dict[str, Any]
) -> None:
    run = FedRun(model, units=1_000_000, age_s=1.0)  # 1 % done: no estimate yet
    model.fold([run.start(0, 0.1), *run.work(0, 1000, 0.2, 1.0)])
    refresh(*plots.values())
    assert model.expected_end() is None
    low, high = one_range(plots)
    assert low == 0.0 and high > model.clock()
    first = high
    refresh(*plots.values())
    assert one_range(plots)[1] == first  # the axis stays put between redraws


def test_a_new_run_starts_on_its_own_range(model: RunModel, plots: dict[str, Any]) -> None:
    run = FedRun(model, age_s=3.0)
    model.fold([run.start(0, 0.1), *run.work(0, 1000, 0.0, 3.0), run.finished(3.0)])
    refresh(*plots.values())
    assert one_range(plots)[1] == pytest.approx(3.0, abs=0.01)
    FedRun(model, units=1_000_000, age_s=0.1)  # a new run, just begun
    refresh(*plots.values())
    assert one_range(plots) == (0.0, pytest.approx(round_up(0.25)))


def wheel(box: pg.ViewBox, steps: int) -> None:
    """Turn the mouse wheel over the middle of ``box``, as a user zooming in would."""
    view = box.getViewWidget()
    centre = view.mapFromScene(box.sceneBoundingRect().center())
    event = QWheelEvent(
        QPointF(centre),
        QPointF(view.viewport().mapToGlobal(centre)),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)


def test_zooming_one_plot_zooms_all_three_and_A_follows_the_run_again(
    model: RunModel, plots: dict[str, Any]
) -> None:
    run = FedRun(model, age_s=3.0)
    model.fold([run.start(0, 0.1), run.start(1, 0.1), *run.work(0, 500, 0.0, 3.0)])
    model.fold(run.work(1, 500, 0.0, 3.0))
    refresh(*plots.values())
    following = one_range(plots)
    timeline_box = boxes(plots)["timeline"]
    wheel(timeline_box, 3)  # zoom in on the timeline
    zoomed = one_range(plots)  # ... and the others show the same moments
    assert zoomed[1] - zoomed[0] < 0.9 * (following[1] - following[0])
    # the run goes on; nobody moves the user's view
    model.fold([*run.work(0, 500, 3.0, 3.5, done0=1500), *run.work(1, 500, 3.0, 3.5, done0=1500)])
    refresh(*plots.values())
    assert one_range(plots) == zoomed
    # pyqtgraph's "A" button on another plot: every plot follows the run again
    plots["throughput"].plot.autoBtnClicked()
    low, high = one_range(plots)
    eta = model.expected_end()
    assert low == 0.0 and eta is not None and eta < high <= eta * 1.25
    assert RunAxis.of(model).following


def test_the_range_rounds_up_a_little_not_to_the_next_decade() -> None:
    assert round_up(10.3) == pytest.approx(11.0)
    assert round_up(4.32) == pytest.approx(4.4)
    assert round_up(5.01 * HEADROOM) <= 5.01 * HEADROOM * 1.1


# -- a killed worker and its replacement --------------------------------------------------------


def marks(timeline: TimelinePlot) -> list[tuple[float, int, str]]:
    return sorted(timeline.marks.marked())


def startup_lanes(timeline: TimelinePlot) -> dict[int, tuple[float, float]]:
    opts = timeline.startup_bars.opts
    return {
        round(y): (float(a), float(b))
        for a, b, y in zip(
            np.atleast_1d(opts["x0"]), np.atleast_1d(opts["x1"]), np.atleast_1d(opts["y"])
        )
    }


def test_a_killed_worker_is_marked_where_it_died_and_its_replacement_where_it_began(
    model: RunModel, plots: dict[str, Any]
) -> None:
    timeline = plots["timeline"]
    run = FedRun(model, age_s=3.0)
    model.fold([run.start(0, 0.1), run.start(1, 0.1), *run.work(0, 500, 0.2, 1.0)])
    model.fold([*run.work(1, 500, 0.2, 3.0), run.exited(0, -9, 1.05)])  # w0 is killed
    model.fold([run.start(2, 1.3), *run.work(2, 500, 1.4, 3.0)])  # the pool replaces it
    refresh(timeline)
    assert marks(timeline) == [(pytest.approx(1.05), 0, "x"), (pytest.approx(1.3), 2, "t2")]
    text = f"worker 0 (pid {PID + 1}) killed by SIGKILL at 1.05 s"
    assert timeline.describe_at(1.05, 0.0) == text
    # the replacement's lane begins where it started: no start-up bar from the run's start
    assert startup_lanes(timeline) == {0: (0.0, pytest.approx(0.1)), 1: (0.0, pytest.approx(0.1))}
    assert timeline.describe_at(0.5, 2.0) is None
    replaced = timeline.describe_at(1.3, 2.0)
    assert replaced is not None and replaced.startswith(f"w2 (pid {PID + 3}) started at 1.30 s")
    assert "replacing w0 (killed by SIGKILL 250.0 ms before)" in replaced
    # hovering the mark shows its text
    view_box = timeline.plot_widget.getPlotItem().getViewBox()
    scene_pos = view_box.mapViewToScene(QPointF(1.05, 0.0))
    timeline.plot_widget.scene().sigMouseMoved.emit(scene_pos)
    assert QToolTip.text() == text
    # the pool is closed: terminate() sends SIGTERM to the workers left, which is no death
    model.fold([run.exited(1, -15, 3.05), run.exited(2, -15, 3.05), run.finished(3.05)])
    refresh(timeline)
    assert [d.worker for d in worker_deaths(model)] == [0]
    assert [m[1:] for m in marks(timeline)] == [(0, "x"), (2, "t2")]


def test_a_worker_named_by_a_failed_run_is_marked_between_its_last_work_and_the_verdict(
    qtbot, model: RunModel, plots: dict[str, Any]
) -> None:
    """mpscope's own runs: the conductor names the dead worker in the verdict and sends no
    WorkerExited for it; its replacement announced itself in between."""
    timeline = plots["timeline"]
    run = FedRun(model, age_s=2.0)
    model.fold([run.start(0, 0.1), run.start(1, 0.1), *run.work(0, 500, 0.2, 1.0)])
    model.fold([*run.work(1, 500, 0.2, 1.5), run.start(2, 1.2)])
    refresh(timeline)
    assert marks(timeline) == []  # nothing known yet: w2 is drawn as any worker is
    # the run is being stopped: the pool goes on replacing the workers mpscope stops
    verdict = RunFailed("run-linked", "worker 0 killed", "", PID + 1, -9, run.at(1.4))
    model.fold([run.start(3, 1.35), verdict])
    refresh(timeline)
    # it died after its last progress (1.0 s), by 0.15 s before the verdict, before w2 began
    assert marks(timeline) == [
        (pytest.approx(1.2), 0, "x"),
        (pytest.approx(1.2), 2, "t2"),
        (pytest.approx(1.35), 3, "t2"),
    ]
    assert timeline.describe_at(1.2, 0.0) == (
        f"worker 0 (pid {PID + 1}) killed by SIGKILL between 1.00 s and 1.20 s"
    )
    assert timeline.describe_at(1.2, 2.0) == (
        f"w2 (pid {PID + 3}) started at 1.20 s, replacing w0 (killed by SIGKILL)"
    )
    assert timeline.describe_at(1.35, 3.0) == (
        f"w3 (pid {PID + 4}) started at 1.35 s, in place of a worker that had gone"
    )
    assert sorted(startup_lanes(timeline)) == [0, 1]
    assert settled_range(qtbot, plots, "timeline") == (0.0, pytest.approx(1.4, abs=1e-9))


def test_many_lanes_mark_a_death_and_its_replacement_too(
    model: RunModel, plots: dict[str, Any]
) -> None:
    timeline = plots["timeline"]
    run = FedRun(model, workers=12, units=100_000, age_s=3.0)
    events: list[Event] = []
    for w in range(12):
        events += [run.start(w, 0.1), *run.work(w, 300, 0.2, 3.0 if w != 5 else 1.5)]
    events += [run.exited(5, -9, 1.6), run.start(12, 1.9), *run.work(12, 300, 2.0, 3.0)]
    model.fold(events)
    refresh(timeline)
    assert timeline.condensed
    assert marks(timeline) == [(pytest.approx(1.6), 5, "x"), (pytest.approx(1.9), 12, "t2")]
    assert timeline.describe_at(1.6, 5.1) == f"worker 5 (pid {PID + 6}) killed by SIGKILL at 1.60 s"
    assert 12 not in startup_lanes(timeline) and 11 in startup_lanes(timeline)
    assert "replacing w5" in (timeline.describe_at(1.9, 12.0) or "")


# -- a real run -----------------------------------------------------------------------------------


@pytest.mark.timeout(90)
def test_a_real_run_with_a_killed_worker_marks_it_and_ends_on_one_range(
    qtbot: QtBot, window: Any
) -> None:
    choose(child(window, "strategyCombo"), "pool-map")
    choose(child(window, "workloadCombo"), "square")
    items = child(window, "itemsEdit")
    items.selectAll()
    qtbot.keyClicks(items, "400000")
    child(window, "workersSpin").setValue(2)
    methods = child(window, "startMethodCombo")
    if methods.findData("fork") >= 0:  # the pool forks a replacement at once: often in time
        choose(methods, "fork")
    choose(child(window, "faultCombo"), "kill")
    qtbot.keyClicks(child(window, "faultItemEdit"), "300000")
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.controller.state in ("finished", "failed"), timeout=60_000)
    assert window.controller.state == "failed"
    model = window.model
    outcome = model.outcome
    assert isinstance(outcome, RunFailed) and outcome.exitcode == -9
    timeline = child(window, "timelinePlot")
    qtbot.waitUntil(lambda: bool(timeline.marks.deaths), timeout=5_000)  # its final redraw
    (death,) = timeline.marks.deaths
    assert model.workers[death.worker].pid == outcome.pid
    assert death.earliest is not None and death.earliest <= death.t <= outcome.t - model.t0
    assert timeline.describe_at(death.t, float(death.worker)) == death.describe()
    assert death.describe().startswith(
        f"worker {death.worker} (pid {outcome.pid}) killed by SIGKILL"
    )
    # a replacement, when the pool forked one before the run was stopped, starts at its start
    for index, replacement in timeline.marks.replacements.items():
        assert replacement.t == pytest.approx(model.worker_started_at(index))
        assert index not in startup_lanes(timeline)
    views = {
        "throughput": child(window, "throughputPlot"),
        "timeline": timeline,
        "resources": child(window, "resourcesPlot"),
    }
    qtbot.waitUntil(lambda: one_range(views)[1] == pytest.approx(model.clock()), timeout=5_000)
    assert one_range(views) == (0.0, pytest.approx(model.clock(), abs=1e-9))
