"""The four live views: what they hold after synthetic runs, and during a real one."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QToolTip
from pytestqt.qtbot import QtBot
from ui_steps import child

from mpscope.gui.palette import MIN_CONTRAST, contrast, worker_color
from mpscope.gui.run_model import RunModel
from mpscope.gui.views import ProgressView, ResourcesPlot, ThroughputPlot, TimelinePlot
from mpscope.gui.views.resource_sampler import ALL_WORKERS, CONDUCTOR
from mpscope.workers.events import (
    Event,
    Progress,
    RunFinished,
    RunStarted,
    TaskSpan,
    WorkerStarted,
)
from mpscope.workers.runner import start_run
from mpscope.workers.spec import RunSpec
from mpscope.workers.validation import validate_spec

Views = dict[str, Any]  # "throughput", "progress", "timeline", "resources" -> the view
NO_SUCH_PID = 4_200_000  # above any Linux pid_max (2**22): psutil finds no such process


class SyntheticRun:
    """Builds a run's events on the real clock: the run started ``age_s`` seconds ago."""

    def __init__(self, units: int = 10_000, workers: int = 2, age_s: float = 3.0) -> None:
        self.spec = validate_spec(
            RunSpec(strategy="pool-map", workload="square", items=units, workers=workers)
        )
        self.units = units
        self.workers = workers
        self.t0 = time.perf_counter() - age_s

    def at(self, s: float) -> float:
        """The absolute time ``s`` seconds into the run."""
        return self.t0 + s

    def started(self, conductor_pid: int = NO_SUCH_PID) -> RunStarted:
        return RunStarted(
            "run-test",
            self.spec,
            self.units,
            self.spec.chunksize,
            self.workers,
            conductor_pid,
            0.1,
            self.t0,
        )

    def worker(self, index: int, s: float, pid: int | None = None) -> WorkerStarted:
        return WorkerStarted(index, pid or NO_SUCH_PID + 1 + index, self.at(s))

    def steady(
        self, index: int, rate: float, s_from: float, s_to: float, done0: int = 0
    ) -> list[Progress]:
        """Progress every 25 ms of a worker doing ``rate`` items/s from ``s_from`` to ``s_to``."""
        times = np.arange(s_from + 0.025, s_to + 1e-9, 0.025)
        return [
            Progress(index, done0 + round(rate * (t - s_from)), self.at(t), self.at(s_from))
            for t in times
        ]

    def finished(self, s: float) -> RunFinished:
        return RunFinished("run-test", 1, 1, True, s, s, 0.1, 0.0, 0.0, {}, self.at(s))


@pytest.fixture
def model() -> RunModel:
    return RunModel()


@pytest.fixture
def views(qtbot: QtBot, model: RunModel) -> Iterator[Views]:
    built = {
        "throughput": ThroughputPlot(model),
        "progress": ProgressView(model),
        "timeline": TimelinePlot(model),
        "resources": ResourcesPlot(model),
    }
    for view in built.values():
        qtbot.addWidget(view)
    yield built
    built["resources"].sampler.stop()


def refresh_all(views: Views) -> None:
    for view in views.values():
        view.refresh()


def refresh_until(qtbot: QtBot, views: Views, condition: Callable[[], bool]) -> None:
    """Refresh as the window's timer would until ``condition`` holds (views redraw at most
    ~10 times a second while a run is live)."""

    def check() -> None:
        refresh_all(views)
        assert condition()

    qtbot.waitUntil(check, timeout=2_000)


def value_at(curve: pg.PlotDataItem, t: float) -> float:
    return float(np.interp(t, curve.xData, curve.yData))


def test_views_carry_the_object_names_the_window_relies_on(views: Views) -> None:
    names = {view.objectName() for view in views.values()}
    assert names == {"throughputPlot", "progressView", "timelinePlot", "resourcesPlot"}


def test_throughput_has_one_smoothed_curve_per_worker_and_the_total(
    model: RunModel, views: Views
) -> None:
    run = SyntheticRun()
    model.reset(run.spec)
    model.fold(
        [
            run.started(),
            run.worker(0, 0.3),
            run.worker(1, 0.9),
            *run.steady(0, 1000.0, 0.5, 3.0),
            *run.steady(1, 500.0, 1.0, 3.0),
        ]
    )
    refresh_all(views)
    plot = views["throughput"]
    assert sorted(plot.lane_curves) == [0, 1]
    w0, w1, total = plot.lane_curves[0], plot.lane_curves[1], plot.total_curve
    for t in (1.8, 2.4, 2.9):
        assert value_at(w0, t) == pytest.approx(1000.0, rel=0.03)
        assert value_at(w1, t) == pytest.approx(500.0, rel=0.03)
        assert value_at(total, t) == pytest.approx(1500.0, rel=0.03)
    assert value_at(w1, 0.8) == 0.0  # worker 1 had not started: nothing done yet
    assert value_at(w0, 0.2) == 0.0
    # smoothed over ~0.5 s: the step at 1.0 s ramps up instead of jumping
    assert 0.0 < value_at(w1, 1.2) < 450.0
    assert w0.opts["pen"].color() == worker_color(0)
    assert w1.opts["pen"].color() == worker_color(1)
    for name in ("total", "w0", "w1"):
        assert name in plot.legend.text


def test_progress_shows_bars_shares_and_an_eta_from_the_recent_rate(
    model: RunModel, views: Views
) -> None:
    run = SyntheticRun(units=10_000, age_s=4.0)  # the last samples are "now"
    model.reset(run.spec)
    model.fold(
        [
            run.started(),
            run.worker(0, 0.1),
            run.worker(1, 0.1),
            *run.steady(0, 750.0, 0.0, 4.0),  # 3,000 done
            *run.steady(1, 500.0, 0.0, 4.0),  # 2,000 done
        ]
    )
    refresh_all(views)
    progress = views["progress"]
    assert progress.overall.bar.value() == pytest.approx(500, abs=2)  # permille: 50%
    # a worker's bar is full at its even share (5,000) of the work
    assert progress.worker_rows[0].bar.value() == pytest.approx(600, abs=2)
    assert progress.worker_rows[1].bar.value() == pytest.approx(400, abs=2)
    assert progress.worker_rows[0].text.text() == "3,000 · 30% of all"
    assert progress.worker_rows[1].text.text() == "2,000 · 20% of all"
    text = progress.eta_label.text()
    assert text.startswith("5,000 / 10,000 (50%)")
    eta = re.search(r"ETA ([0-9.]+) (ms|s)", text)
    assert eta, text
    seconds = float(eta.group(1)) / (1000 if eta.group(2) == "ms" else 1)
    assert seconds == pytest.approx(5000 / 1250, rel=0.1)  # what is left / 1,250 items/s
    assert worker_color(1).name() in progress.worker_rows[1].bar.styleSheet()

    model.fold([*run.steady(0, 750.0, 4.0, 4.05, done0=3000), run.finished(4.1)])
    progress.refresh()
    assert "finished in" in progress.eta_label.text()
    assert "ETA" not in progress.eta_label.text()


def test_a_replacement_worker_gets_a_new_lane_in_every_view_with_its_own_colour(
    qtbot: QtBot, model: RunModel, views: Views
) -> None:
    run = SyntheticRun()
    model.reset(run.spec)
    model.fold([run.started(), run.worker(0, 0.1), run.worker(1, 0.1)])
    model.fold([*run.steady(0, 800.0, 0.2, 1.0), *run.steady(1, 800.0, 0.2, 0.6)])
    refresh_all(views)
    assert sorted(views["progress"].worker_rows) == [0, 1]
    # worker 1 died; the pool starts a new worker, which numbers itself 2
    model.fold([run.worker(2, 1.1), *run.steady(2, 800.0, 1.2, 1.6)])
    refresh_until(
        qtbot,
        views,
        lambda: (
            len(views["timeline"].lanes) == 3
            and len(views["throughput"].lane_curves) == 3
            and len(views["progress"].worker_rows) == 3
        ),
    )  # each view redraws at its own live pace
    assert sorted(views["progress"].worker_rows) == [0, 1, 2]
    assert sorted(views["throughput"].lane_curves) == [0, 1, 2]
    assert sorted(views["timeline"].lanes) == [0, 1, 2]
    ticks = views["timeline"].plot_widget.getPlotItem().getAxis("left")._tickLevels[0]
    assert [label for _, label in ticks] == ["w0", "w1", "w2"]
    color = worker_color(2)
    assert views["throughput"].lane_curves[2].opts["pen"].color() == color
    assert color.name() in views["progress"].worker_rows[2].bar.styleSheet()
    assert views["timeline"].lanes[2].items[0].opts["brush"] == color
    assert len({worker_color(i).name() for i in range(3)}) == 3


def test_timeline_draws_thousands_of_spans_with_a_few_items_per_lane(
    model: RunModel, views: Views
) -> None:
    run = SyntheticRun(units=100_000, workers=2, age_s=8.0)
    model.reset(run.spec)
    spans: list[Event] = []
    for i in range(3000):  # 1.5 ms chunks, 0.5 ms gaps; every 10th one merged from 4 tasks
        t0 = 0.5 + i * 0.002
        tasks = 4 if i % 10 == 0 else 1
        spans.append(TaskSpan(0, i * 10, 10 * tasks, run.at(t0), run.at(t0 + 0.0015), tasks))
    open_t0 = 0.5 + 3000 * 0.002
    model.fold(
        [
            run.started(),
            run.worker(0, 0.4),
            run.worker(1, 0.7),
            *spans,
            Progress(0, 30_000, run.at(open_t0 + 0.1), run.at(open_t0)),
        ]
    )
    timeline = views["timeline"]
    timeline.refresh()
    drawn = timeline.drawn_spans(0)
    expected = model.lanes[0].spans.view()[:, :2]
    assert len(drawn) == 3000
    np.testing.assert_allclose(drawn, expected)
    assert timeline.lanes[0].merged_count() == 300
    assert len(timeline.drawn_spans(1)) == 0  # started, no chunk yet
    # the chunk running now grows to the clock, drawn in its lane
    start, end = timeline.open_spans()[0]
    assert start == pytest.approx(open_t0)
    assert end == pytest.approx(model.clock(), abs=0.5)
    assert end > open_t0 + 0.9
    # start-up delay: from RunStarted (0) to each WorkerStarted
    startup = timeline.startup_bars.opts
    assert sorted(zip(startup["y"], startup["x1"])) == [
        (0.0, pytest.approx(0.4)),
        (1.0, pytest.approx(0.7)),
    ]
    # not one graphics item per span
    assert len(timeline.plot_widget.getPlotItem().items) < 12
    # hovering a chunk tells what it was
    merged = timeline.describe_at(0.5 + 0.0005, 0.0)
    assert merged == "w0 · chunk from item 0 · 40 items · 1.5 ms · 4 tasks merged"
    single = timeline.describe_at(0.5 + 0.002 + 0.0005, 0.1)
    assert single == "w0 · chunk from item 10 · 10 items · 1.5 ms"
    assert timeline.describe_at(0.5 + 0.0018, 0.0) is None  # in a gap between chunks
    assert timeline.describe_at(0.2, 1.0).startswith("w1 · start-up: 700.0 ms")
    assert timeline.describe_at(0.5, 0.5) is None  # between the lanes
    # and the mouse gets the same as a tooltip (zoomed in, as a user would to aim at 1.5 ms)
    timeline.resize(600, 380)
    timeline.show()
    view_box = timeline.plot_widget.getPlotItem().getViewBox()
    view_box.setXRange(0.495, 0.51, padding=0)
    timeline.plot_widget.scene().sigMouseMoved.emit(view_box.mapViewToScene(QPointF(0.5005, 0.0)))
    assert QToolTip.text() == merged


def test_reset_empties_every_view(model: RunModel, views: Views) -> None:
    run = SyntheticRun()
    model.reset(run.spec)
    model.fold(
        [
            run.started(),
            run.worker(0, 0.1),
            TaskSpan(0, 0, 100, run.at(0.2), run.at(0.4)),
            *run.steady(0, 500.0, 0.2, 1.0),
        ]
    )
    refresh_all(views)
    assert views["progress"].overall.bar.value() > 0
    model.reset(run.spec)
    refresh_all(views)
    assert views["throughput"].lane_curves == {}
    assert len(views["throughput"].total_curve.xData or []) == 0
    assert views["progress"].worker_rows == {}
    assert views["progress"].overall.bar.value() == 0
    assert views["progress"].eta_label.text() == "starting…"
    assert views["timeline"].lanes == {}
    assert views["timeline"].open_spans() == {}
    assert views["resources"].cpu_curves == {}
    assert views["resources"].memory_curves == {}
    assert views["resources"].sampler.samples == 0


def test_refresh_does_nothing_once_the_run_is_over_and_nothing_changed(
    model: RunModel, views: Views
) -> None:
    run = SyntheticRun()
    model.reset(run.spec)
    model.fold([run.started(), run.worker(0, 0.1), *run.steady(0, 500.0, 0.2, 1.0)])
    model.fold([run.finished(1.1)])
    refresh_all(views)
    curve = views["throughput"].lane_curves[0]
    calls = []
    original = curve.setData
    curve.setData = lambda *a, **k: (calls.append(1), original(*a, **k))
    x_range = views["timeline"].plot_widget.getPlotItem().getViewBox().viewRange()[0]
    refresh_all(views)
    assert calls == []
    assert views["timeline"].plot_widget.getPlotItem().getViewBox().viewRange()[0] == x_range
    model.fold([Progress(0, 450, run.at(1.05))])  # a late event: the view catches up
    views["throughput"].refresh()
    assert calls == [1]


def _burn(stop: threading.Event) -> None:
    block = b"x" * 1_000_000
    while not stop.is_set():
        hashlib.sha256(block).digest()  # releases the GIL: real CPU on its own thread


@pytest.mark.timeout(30)
def test_resources_samples_thread_lanes_per_thread_and_skips_vanished_processes(
    qtbot: QtBot, model: RunModel, views: Views
) -> None:
    """thread-pool lanes share the conductor's pid: CPU comes from each thread's own times."""
    stop = threading.Event()
    busy = threading.Thread(target=_burn, args=(stop,), daemon=True)
    idle = threading.Thread(target=stop.wait, daemon=True)
    busy.start()
    idle.start()
    try:
        run = SyntheticRun(workers=3, age_s=0.5)
        model.reset(run.spec)
        me = os.getpid()
        resources = views["resources"]
        model.fold(
            [
                run.started(conductor_pid=me),
                WorkerStarted(0, me, run.at(0.1), busy.native_id),
                WorkerStarted(1, me, run.at(0.1), idle.native_id),
                run.worker(2, 0.1),  # a worker process that is already gone
            ]
        )
        assert resources.sampler.active
        qtbot.waitUntil(lambda: len(resources.sampler.cpu.get(1, [])) >= 3, timeout=10_000)
    finally:
        stop.set()
        busy.join()
        idle.join()
    resources.refresh()
    cpu = resources.sampler.cpu
    assert set(cpu) == {CONDUCTOR, ALL_WORKERS, 0, 1}  # every lane, and the workers' sum
    (t_all, all_cpu), (t0, cpu0), (t1, cpu1) = (cpu[k].view()[-1] for k in (ALL_WORKERS, 0, 1))
    assert t_all == t0 == t1 and all_cpu == pytest.approx(cpu0 + cpu1)
    busy_cpu, idle_cpu = cpu[0].view()[:, 1].mean(), cpu[1].view()[:, 1].mean()
    assert busy_cpu > idle_cpu + 15.0, (busy_cpu, idle_cpu)
    assert set(resources.sampler.memory) == {CONDUCTOR}  # thread lanes have no memory of their own
    assert set(resources.cpu_curves) == {CONDUCTOR, 0, 1}
    model.fold([run.finished(2.0)])
    assert not resources.sampler.active


def test_views_follow_a_switch_to_a_dark_palette(model: RunModel, views: Views) -> None:
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    for name in ("throughput", "timeline", "resources"):
        view = views[name]
        view.setPalette(dark)
        assert view.plot_widget.backgroundBrush().color() == QColor("#1e1e1e"), name
    views["progress"].setPalette(dark)
    assert "#1e1e1e" in views["progress"].overall.bar.styleSheet()
    assert views["throughput"].total_curve.opts["pen"].color().lightness() > 128


def test_worker_colours_are_distinct_and_readable_on_light_and_dark() -> None:
    colours = [worker_color(i) for i in range(32)]
    assert len({c.name() for c in colours}) == 32
    for c in colours:
        assert contrast(c, QColor("#ffffff")) >= MIN_CONTRAST - 0.01, c.name()
        assert contrast(c, QColor("#1e1e1e")) >= MIN_CONTRAST - 0.01, c.name()
    assert worker_color(5) == worker_color(5)


@pytest.mark.timeout(60)
def test_a_real_run_shows_in_every_view_before_it_finishes(
    qtbot: QtBot, model: RunModel, views: Views
) -> None:
    # about a second here: the resources view samples the workers several times while they
    # live (at a third of it, CI once saw the run end before a sample caught a worker)
    spec = validate_spec(
        RunSpec(
            strategy="pool-map",
            workload="heavy",
            items=120_000,
            workers=2,
            grain=300,
            chunksize=500,
        )
    )
    had_data = dict.fromkeys(views, False)
    worker_pids: set[int] = set()

    def check() -> None:
        throughput, progress = views["throughput"], views["progress"]
        timeline, resources = views["timeline"], views["resources"]
        if any(c.yData is not None and c.yData.max() > 0 for c in throughput.lane_curves.values()):
            had_data["throughput"] = True
        if progress.overall.bar.value() > 0 and progress.worker_rows:
            had_data["progress"] = True
        if any(len(timeline.drawn_spans(i)) for i in timeline.lanes) or timeline.open_spans():
            had_data["timeline"] = True
        worker_pids.update(pid for pid in model.worker_pids().values())
        if resources.memory_curves and resources.sampler.sampled_pids & worker_pids:
            had_data["resources"] = True

    model.reset(spec)
    handle = start_run(spec)
    try:

        def tick() -> None:
            model.fold(handle.drain(budget_s=0.005))
            if model.outcome is None:
                refresh_all(views)
                check()

        timer = QTimer()
        timer.timeout.connect(tick)
        timer.start(20)
        qtbot.waitUntil(lambda: handle.finished, timeout=45_000)
        timer.stop()
    finally:
        handle.close()
    assert isinstance(model.outcome, RunFinished), model.outcome
    assert had_data == dict.fromkeys(views, True)
    refresh_all(views)
    assert views["progress"].overall.bar.value() == 1000
    assert not views["resources"].sampler.active


def test_a_run_too_short_to_sample_says_so_and_a_sampled_one_draws(
    qtbot: QtBot, model: RunModel, views: Views
) -> None:
    resources = views["resources"]
    run = SyntheticRun(workers=1, age_s=0.05)
    model.reset(run.spec)
    model.fold([run.started(conductor_pid=os.getpid()), run.worker(0, 0.01)])
    model.fold([run.finished(0.05)])  # over before a second sample
    resources.refresh()
    note = child(resources, "resourcesShortRunNote")
    assert not note.isHidden() and "too short to sample its CPU" in note.text()
    assert "Run more items" in note.text()

    run = SyntheticRun(workers=1, age_s=0.0)
    model.reset(run.spec)
    model.fold([run.started(conductor_pid=os.getpid())])
    # the first second is sampled every 100 ms: two CPU samples of the conductor well
    # within half a second
    qtbot.waitUntil(lambda: len(resources.sampler.cpu.get(CONDUCTOR, [])) >= 2, timeout=2_000)
    model.fold([run.finished(0.5)])
    resources.refresh()
    assert note.isHidden()
    assert len(resources.cpu_curves[CONDUCTOR].getData()[0]) >= 2
