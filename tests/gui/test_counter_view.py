"""The Counter page: animated during a real run, the verdict after it, the lock token, the
replay speed, and a frame timer that runs only while there is something to show."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from ui_steps import child, choose

from mpscope.gui.counter import CounterView
from mpscope.gui.counter.timeline import CounterTimeline
from mpscope.gui.main_window import MainWindow
from mpscope.gui.palette import worker_color
from mpscope.gui.run_model import RunModel
from mpscope.workers.events import CounterStep, RunFinished, RunStarted
from mpscope.workers.spec import RunSpec
from mpscope.workers.validation import validate_spec

T0 = 1000.0  # the synthetic run's RunStarted time (perf_counter seconds)


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def seed_like_run(model: RunModel) -> None:
    """The seed's run, made up: worker 0 holds the lock for 1..10 while worker 1 waits, then
    worker 1 holds it for 11..20 (one increment every 0.1 s from t = 0.1)."""
    spec = validate_spec(
        RunSpec(strategy="shared-counter", workload="increment", items=10, workers=2)
    )
    model.reset(spec)
    events: list = [RunStarted("run-synthetic", spec, 20, None, 2, 4_200_000, 0.1, T0)]
    events += [
        CounterStep(0, 0, T0 + 0.10, "holding"),
        CounterStep(1, 0, T0 + 0.10, "waiting"),
    ]
    events += [CounterStep(0, v, T0 + 0.10 + 0.1 * v, "step") for v in range(1, 11)]
    events += [CounterStep(0, 10, T0 + 1.10, "released"), CounterStep(0, 10, T0 + 1.10, "done")]
    events.append(CounterStep(1, 10, T0 + 1.10, "holding"))
    events += [CounterStep(1, v, T0 + 0.10 + 0.1 * v, "step") for v in range(11, 21)]
    events += [CounterStep(1, 20, T0 + 2.10, "released"), CounterStep(1, 20, T0 + 2.10, "done")]
    extra = {
        "expected": 20,
        "lost": 0,
        "guaranteed": 20,
        "as_guaranteed": True,
        "explanation": "the lock was held around each worker's whole loop, so the workers "
        "counted in turn: no update was lost",
        "counter_per_worker": [
            {"worker": 0, "increments": 10, "wait_s": 0.0, "waits": 0, "hold_s": 1.0},
            {"worker": 1, "increments": 10, "wait_s": 1.0, "waits": 1, "hold_s": 1.0},
        ],
    }
    events.append(
        RunFinished("run-synthetic", 20, 20, True, 2.0, 0.1, 0.1, 0.0, 0.0, extra, T0 + 2.2)
    )
    model.fold(events)


@pytest.fixture
def replayed(qtbot) -> tuple[CounterView, FakeClock]:
    """A shown counter view on the synthetic seed run, with a clock the test moves."""
    model = RunModel()
    clock = FakeClock()
    view = CounterView(model, clock=clock)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    seed_like_run(model)
    return view, clock


def play_to(view: CounterView, clock: FakeClock, wall: float) -> None:
    """Move the wall clock to ``wall`` and draw that frame."""
    clock.now = wall
    view.advance()


def token_lane(view: CounterView) -> int | None:
    """The lane the drawn token's centre is in, if any."""
    center = view.lanes.token_rect().center()
    for worker in range(2):
        if view.lanes.lane_rect(worker).contains(center):
            return worker
    return None


@pytest.mark.timeout(30)
def test_the_token_is_at_the_holding_workers_lane_during_a_replay(replayed):
    view, clock = replayed
    view.replay()
    start = view.playhead.position(limit=10.0)
    play_to(view, clock, 0.5)  # run time start + 0.5: worker 0 holds, worker 1 waits
    assert view.frame.holder == 0 and 0.5 < view.frame.t < 0.7
    play_to(view, clock, 0.6)  # a frame later the easing has arrived
    assert token_lane(view) == 0
    assert "holding" in view.lanes.summary().splitlines()[0]
    assert "waiting" in view.lanes.summary().splitlines()[1]

    play_to(view, clock, 1.08 - start)  # run time 1.08: worker 0 still holds
    assert view.frame.holder == 0 and token_lane(view) == 0
    play_to(view, clock, clock.now + 0.04)  # 40 ms later worker 1 took it: the token glides
    assert view.frame.holder == 1
    assert 0.0 < view.lanes.token_pos < 1.0
    play_to(view, clock, clock.now + 0.5)
    assert token_lane(view) == 1
    assert view.displayed_value == view.timeline.frame(view.frame.t).value > 10


@pytest.mark.timeout(30)
def test_a_slower_speed_shows_less_of_the_run_in_the_same_wall_time(replayed):
    view, clock = replayed
    shown: dict[float, int] = {}
    for speed in (1.0, 0.25):
        view.set_speed(speed)
        clock.now = 100.0
        view.replay()
        play_to(view, clock, 100.0)
        start = view.frame.t  # just before the first increment
        play_to(view, clock, 101.0)  # one second of wall time later
        assert view.frame.t == pytest.approx(start + speed * 1.0)
        shown[speed] = view.displayed_value
        assert shown[speed] == view.timeline.frame(view.frame.t).value
    assert 0 < shown[0.25] < shown[1.0]


@pytest.mark.timeout(30)
def test_the_frame_timer_runs_only_while_shown_and_something_moves(replayed):
    view, clock = replayed
    view.replay()
    assert view.animating
    view.hide()
    assert not view.animating
    view.show()
    assert view.animating
    play_to(view, clock, 50.0)  # far past the end: the replay is over, everything settled
    play_to(view, clock, 51.0)
    assert not view.animating
    assert view.displayed_value == 20
    assert child(view, "counterVerdict").text().startswith("Expected 20 · got 20")
    model = view.model
    model.reset(validate_spec(RunSpec(strategy="pool-map", workload="square", items=100)))
    assert not view.animating  # another strategy's run: nothing to animate
    assert view.displayed_value == 20  # the last counter run stays on the page


@pytest.mark.timeout(30)
def test_an_empty_page_says_how_to_get_a_counter_run(qtbot):
    view = CounterView(RunModel())
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    assert child(view, "counterEmpty").isVisible()
    assert "shared-counter" in child(view, "counterEmpty").text()
    assert "seed" not in child(view, "counterEmpty").text()  # it stands without the tutorial
    assert "In [" not in child(view, "counterEmpty").text()
    assert not view.animating


@pytest.mark.timeout(30)
def test_the_page_follows_a_dark_palette(replayed):
    view, clock = replayed
    play_to(view, clock, 50.0)
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    dark.setColor(QPalette.ColorRole.WindowText, QColor("#e6e6e6"))
    for palette in (QPalette(dark), view.palette()):
        view.setPalette(palette)
        image = view.lanes.grab().toImage()
        assert image.pixelColor(2, 2) == palette.color(QPalette.ColorRole.Base)
        assert view.plot.backgroundBrush().color() == palette.color(QPalette.ColorRole.Base)
    writer = view.frame.writer
    assert worker_color(writer).name() in view.value_box.value_label.styleSheet()


# -- real runs, from the window's Run button ------------------------------------------------------


def set_up_counter(qtbot, w: MainWindow, lock: str, items: int, delay: float) -> None:
    choose(child(w, "strategyCombo"), "shared-counter")
    choose(child(w, "lockCombo"), lock)
    child(w, "workersSpin").setValue(2)
    child(w, "delaySpin").setValue(delay)
    edit = child(w, "itemsEdit")
    edit.selectAll()
    qtbot.keyClicks(edit, str(items))


def wait_ended(qtbot, w: MainWindow) -> None:
    qtbot.waitUntil(
        lambda: w.controller.state in ("finished", "failed", "cancelled"), timeout=60_000
    )


@pytest.mark.timeout(90)
def test_the_counter_animates_during_a_real_run_and_gives_the_verdict(qtbot, window):
    set_up_counter(qtbot, window, "step", 6, 0.05)
    view = window.counter_view
    shown_live: list[int] = []
    view.value_shown.connect(lambda v: shown_live.append(v) if window.model.live else None)
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is view  # Run brought the Counter page forward
    wait_ended(qtbot, window)
    assert window.controller.state == "finished"
    assert any(0 < v < 12 for v in shown_live), shown_live  # it counted before the end
    verdict = child(view, "counterVerdict")
    qtbot.waitUntil(lambda: verdict.text().startswith("Expected"), timeout=10_000)
    assert verdict.text() == "Expected 12 · got 12 · no update lost"
    assert "interleaved" in child(view, "counterExplanation").text()
    qtbot.waitUntil(lambda: not view.animating, timeout=10_000)
    assert view.displayed_value == 12
    assert child(view, "counterMode").text().startswith("2 processes × 6 increments")


@pytest.mark.timeout(90)
def test_a_forced_race_shows_the_lost_updates_in_words(qtbot, window):
    set_up_counter(qtbot, window, "none", 6, 0.01)
    child(window, "forceRaceCheck").setChecked(True)
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    view = window.counter_view
    verdict = child(view, "counterVerdict")
    qtbot.waitUntil(lambda: verdict.text().startswith("Expected"), timeout=10_000)
    extra = window.model.outcome.extra
    assert extra["lost"] > 0
    assert (
        verdict.text() == f"Expected 12 · got {12 - extra['lost']} · {extra['lost']} updates lost"
    )
    explanation = child(view, "counterExplanation").text()
    assert f"{extra['lost']} of 12 updates were lost" in explanation
    assert explanation[0].isupper() and explanation.endswith(".")
    qtbot.waitUntil(lambda: not view.animating, timeout=10_000)
    assert view.displayed_value == 12 - extra["lost"]
    made = child(view, "counterMade").text()  # the run is over: its final count, not "so far"
    assert made.endswith(f"· {extra['lost']} lost"), made
    assert "both workers read the same value" in explanation
    lost_t, _ = view.timeline.overwrites()
    assert len(lost_t) > 0  # the plot marks the lost writes


def test_overwrites_are_the_writes_that_did_not_raise_the_count() -> None:
    timeline = CounterTimeline(2, 3, "none", True)
    steps = [
        CounterStep(0, 1, 1.0, "step"),
        CounterStep(1, 1, 1.001, "step"),  # read 0 as well: lost
        CounterStep(0, 2, 1.1, "step"),
        CounterStep(1, 3, 1.2, "step"),
        CounterStep(0, 2, 1.3, "step"),  # a stale write: lost
    ]
    timeline.add(steps, 0.0)
    times, values = timeline.overwrites()
    assert list(times) == [1.001, 1.3] and list(values) == [1, 2]
    frame = timeline.frame(1.35)
    assert frame.value == 2 and frame.writer == 0  # the last write, not the largest
    assert frame.lanes[0].overwrote and not frame.lanes[1].overwrote


@pytest.mark.timeout(90)
def test_a_stopped_counter_run_says_where_the_counter_stopped(qtbot, window):
    set_up_counter(qtbot, window, "whole", 10, 0.1)  # the seed: about 2 s of counting
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    view = window.counter_view
    mode = "2 processes × 10 increments · 0.1 s each · lock around the whole loop"
    assert child(view, "counterMode").text() == mode  # in plain words, no tutorial cited
    qtbot.waitUntil(lambda: view.displayed_value >= 2, timeout=30_000)
    qtbot.mouseClick(child(window, "stopButton"), Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    assert window.controller.state == "cancelled"
    verdict = child(view, "counterVerdict")
    qtbot.waitUntil(lambda: verdict.text().startswith("Stopped"), timeout=10_000)
    qtbot.waitUntil(lambda: not view.animating, timeout=10_000)
    assert verdict.text() == f"Stopped: the counter had reached {view.displayed_value} of 20"
    assert 2 <= view.displayed_value < 20


def test_a_finished_run_shows_its_final_count_at_once_as_the_status_bar_does(replayed):
    """When a followed run ends, the page does not count its last increments up a moment
    later than the status bar says finished: its end is shown on the next frame."""
    view, clock = replayed
    play_to(view, clock, clock.now)  # no wall time passes
    assert view.displayed_value == 20
    assert child(view, "counterMade").text() == "20 increments made"
    assert child(view, "counterVerdict").text().startswith("Expected 20 · got 20")


def test_two_writes_of_one_value_at_one_moment_show_as_a_dot_inside_a_ring(replayed):
    view, _clock = replayed
    dots = view.plot.worker_dots
    sizes = [item.opts["symbolSize"] for item in dots]
    assert sizes[0] > sizes[1]  # worker 0's dot is a ring around worker 1's, never hidden
    plot_items = view.plot.getPlotItem().listDataItems()
    assert plot_items.index(dots[1]) > plot_items.index(dots[0])  # the smaller drawn on top


def test_the_expected_label_stays_clear_of_the_last_write(replayed):
    view, clock = replayed
    play_to(view, clock, clock.now)
    view.plot.show_until(view.timeline, view.frame, live=False, wall=clock.now + 10, force=True)
    view.plot.repaint()
    times, values = view.timeline.writes_until(1, view.frame.t)
    vb = view.plot.getPlotItem().getViewBox()
    last = vb.mapViewToScene(pg.Point(float(times[-1]), float(values[-1])))
    label = view.plot.expected_line.label
    assert label.isVisible() and label.toPlainText() == "expected 20"
    assert not label.sceneBoundingRect().adjusted(-4, -4, 4, 4).contains(last)


# -- the page's own Run and lock row ---------------------------------------------------------


@pytest.mark.timeout(90)
def test_the_pages_run_chooses_the_counter_and_runs_it(qtbot, window):
    set_up_counter(qtbot, window, "whole", 4, 0.01)
    choose(child(window, "strategyCombo"), "pool-map")  # another strategy is chosen now
    view = window.counter_view
    window.pages.setCurrentWidget(view)
    qtbot.waitUntil(lambda: child(view, "counterEmpty").isVisible(), timeout=5_000)
    page_run = child(view, "counterRunButton")
    assert page_run.isVisible() and page_run.isEnabled()  # there on the empty page
    assert "shared-counter" in page_run.toolTip()
    assert "Run the counter" in child(view, "counterEmpty").text()

    qtbot.mouseClick(page_run, Qt.MouseButton.LeftButton)
    assert window.controls.strategy == "shared-counter"
    assert window.controller.busy  # started as the panel's Run starts a run
    assert not page_run.isEnabled() and not child(window, "runButton").isEnabled()
    assert "in progress" in page_run.toolTip()
    assert window.pages.currentWidget() is view
    wait_ended(qtbot, window)
    assert window.controller.state == "finished"
    verdict = child(view, "counterVerdict")
    qtbot.waitUntil(lambda: verdict.text().startswith("Expected"), timeout=10_000)
    assert verdict.text() == "Expected 8 · got 8 · no update lost"
    assert child(view, "counterMode").text().startswith("2 processes × 4 increments")
    qtbot.waitUntil(page_run.isEnabled, timeout=10_000)  # enabled again with the panel's Run


@pytest.mark.timeout(30)
def test_the_pages_lock_and_race_are_the_left_panels(qtbot, window):
    view = window.counter_view
    left_lock, page_lock = child(window, "lockCombo"), child(view, "counterLockCombo")
    left_race, page_race = child(window, "forceRaceCheck"), child(view, "counterForceRaceCheck")
    assert page_lock.currentData() == left_lock.currentData() == "whole"
    assert not page_race.isEnabled()  # a lock rules the race out, on the page as on the left

    choose(page_lock, "none")  # on the page: the left panel follows
    assert left_lock.currentData() == "none"
    assert page_race.isEnabled() and left_race.isEnabled()
    page_race.setChecked(True)
    assert left_race.isChecked()

    choose(left_lock, "step")  # on the left: the page follows, and its race box with it
    assert page_lock.currentData() == "step"
    assert not page_race.isChecked() and not page_race.isEnabled()
    choose(left_lock, "none")
    assert page_lock.currentData() == "none" and page_race.isEnabled()
    choose(child(window, "strategyCombo"), "shared-counter")
    spec = window.controls.spec()
    assert spec is not None and spec.lock == "none"  # what Run would start
