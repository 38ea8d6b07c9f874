"""RunController: runs start off the GUI thread, drain into the model, stop fast, leave nothing."""

from __future__ import annotations

import time

import pytest

from mpscope.gui.run_controller import RunController
from mpscope.gui.run_model import RunModel
from mpscope.workers.events import RunCancelled, RunFailed, RunFinished, RunStatus
from mpscope.workers.spec import RunSpec

SHORT = RunSpec(strategy="pool-map", workload="sleep", items=120, workers=2, sleep_ms=2.0)
# about 10 minutes of sleeping: it only ends when stopped
ENDLESS = RunSpec(strategy="pool-map", workload="sleep", items=100_000, workers=2, sleep_ms=10.0)


@pytest.fixture
def controller(qtbot):
    model = RunModel()
    ctl = RunController(model)
    yield ctl
    ctl.shutdown()


def _wait_for_progress(qtbot, ctl: RunController) -> None:
    qtbot.waitUntil(lambda: ctl.state == "running" and ctl.model.done > 0, timeout=30_000)


@pytest.mark.timeout(60)
def test_short_run_goes_through_every_state_and_fills_the_model(qtbot, controller):
    states: list[str] = []
    controller.state_changed.connect(states.append)
    folds: list[int] = []
    controller.model.changed.connect(lambda: folds.append(controller.model.version))
    with qtbot.waitSignal(controller.run_ended, timeout=30_000) as ended:
        assert controller.start(SHORT)
        assert controller.busy
    outcome = ended.args[0]
    assert isinstance(outcome, RunFinished)
    assert outcome.correct and outcome.result == 120
    assert states == ["starting", "running", "finished"]
    assert not controller.busy and controller.handle is None
    assert controller.model.done == 120
    # events arrive in batches: far fewer folds than events
    assert 1 < len(folds) < controller.model.tally.events
    assert controller.elapsed_s > 0


@pytest.mark.timeout(60)
def test_start_returns_at_once_without_waiting_for_the_process(qtbot, controller):
    ended: list[object] = []
    controller.run_ended.connect(ended.append)
    assert controller.start(SHORT)
    # the handle is handed over through the event loop once the helper thread has spawned
    # the conductor: start() itself never waits for the process
    assert controller.state == "starting"
    assert controller.handle is None
    qtbot.waitUntil(lambda: controller.handle is not None or bool(ended), timeout=30_000)
    qtbot.waitUntil(lambda: bool(ended), timeout=30_000)
    assert isinstance(ended[0], RunFinished)


@pytest.mark.timeout(60)
def test_a_second_run_cannot_start_while_one_is_live_and_nothing_is_lost(qtbot, controller):
    rejections: list[str] = []
    controller.rejected.connect(rejections.append)
    assert controller.start(SHORT)
    assert not controller.start(SHORT.replace(items=7))
    assert rejections and "in progress" in rejections[0]
    with qtbot.waitSignal(controller.run_ended, timeout=30_000) as ended:
        pass
    assert isinstance(ended.args[0], RunFinished)
    assert ended.args[0].result == 120  # the first run, untouched
    assert controller.model.spec.items == 120


@pytest.mark.timeout(30)
def test_an_invalid_spec_is_one_line_and_starts_nothing(qtbot, controller):
    rejections: list[str] = []
    controller.rejected.connect(rejections.append)
    assert not controller.start(RunSpec(strategy="pool-map", workload="square-plus", items=10))
    assert not controller.start(SHORT.replace(workers=10_000))
    assert len(rejections) == 2
    assert all("\n" not in r for r in rejections)
    assert "square-plus" in rejections[0]
    assert "workers 10000" in rejections[1]
    assert controller.state == "idle" and controller.model.spec is None


@pytest.mark.timeout(60)
def test_stop_ends_a_run_within_a_second_without_blocking_the_gui_thread(qtbot, controller):
    controller.start(ENDLESS)
    _wait_for_progress(qtbot, controller)
    states: list[str] = []
    controller.state_changed.connect(states.append)
    with qtbot.waitSignal(controller.run_ended, timeout=10_000) as ended:
        t0 = time.perf_counter()
        controller.stop()
        stop_returned = time.perf_counter() - t0
    stopped_after = time.perf_counter() - t0
    print(
        f"stop() returned after {stop_returned * 1e3:.1f} ms; run ended after {stopped_after:.3f} s"
    )
    assert stop_returned < 0.1  # cancel() runs on the helper thread
    assert isinstance(ended.args[0], RunCancelled)
    assert states == ["stopping", "cancelled"]
    assert stopped_after < 1.0  # "Stop ends a run within 1 s"
    assert controller.model.done < ENDLESS.items


@pytest.mark.timeout(60)
def test_stop_while_the_conductor_is_still_starting(qtbot, controller):
    with qtbot.waitSignal(controller.run_ended, timeout=15_000) as ended:
        controller.start(ENDLESS)
        controller.stop()
        assert controller.state == "stopping"
    assert isinstance(ended.args[0], RunCancelled)
    assert controller.state == "cancelled"


@pytest.mark.timeout(60)
def test_shutdown_mid_run_leaves_no_process(qtbot, controller):
    controller.start(ENDLESS)
    _wait_for_progress(qtbot, controller)
    pids = set(controller.model.worker_pids().values()) | {controller.model.conductor_pid}
    controller.shutdown()
    assert controller.state == "cancelled" and not controller.busy
    import psutil

    alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert not alive


@pytest.mark.timeout(90)
def test_a_failed_run_reports_its_error_and_the_next_run_succeeds(qtbot, controller):
    failing = SHORT.replace(inject="raise@30")
    with qtbot.waitSignal(controller.run_ended, timeout=30_000) as ended:
        controller.start(failing)
    outcome = ended.args[0]
    assert isinstance(outcome, RunFailed)
    assert "injected fault" in outcome.error and "30" in outcome.error
    assert "Traceback" in outcome.traceback
    assert controller.state == "failed"
    with qtbot.waitSignal(controller.run_ended, timeout=30_000) as ended:
        assert controller.start(SHORT)
    assert isinstance(ended.args[0], RunFinished) and ended.args[0].correct
    assert controller.state == "finished"


@pytest.mark.timeout(60)
def test_progress_reaches_the_model_while_the_run_is_live(qtbot, controller):
    seen_live: list[int] = []
    controller.model.changed.connect(
        lambda: seen_live.append(controller.model.done) if controller.model.live else None
    )
    with qtbot.waitSignal(controller.run_ended, timeout=30_000):
        controller.start(SHORT.replace(items=200))
    assert any(0 < done < 200 for done in seen_live)


@pytest.mark.timeout(60)
def test_the_run_s_state_is_one_tally_the_handle_folds_each_event_into_once(qtbot, controller):
    model = controller.model
    drained: list[int] = []
    append_tallied = model.append_tallied

    def counting(events) -> None:
        # the controller hands the model what the handle drained into the model's own tally
        assert controller.handle is not None and controller.handle.tally is model.tally
        drained.append(len(events))
        append_tallied(events)

    model.append_tallied = counting
    with qtbot.waitSignal(controller.run_ended, timeout=30_000):
        assert controller.start(SHORT)
    tally = model.tally
    assert tally.events == sum(drained)  # not one event folded twice
    assert model.state is tally.status is RunStatus.FINISHED
    assert model.outcome is tally.outcome and model.started is tally.started
    assert model.done == tally.done_reported == 120
    assert sorted(model.lanes) == sorted(tally.workers)
    assert model.worker_pids() == {i: fig.pid for i, fig in tally.workers.items()}
