"""The strategy-specific controls: shared-counter's lock, delay, force race and trace; dask's
scheduler; where the start method does not apply. As a user sees them in the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from ui_steps import child, choose

from mpscope.gui.app import create_window
from mpscope.gui.main_window import MainWindow
from mpscope.workers.optional import is_available
from mpscope.workers.spec import RunSpec, default_start_method
from mpscope.workers.strategies import STRATEGIES
from mpscope.workers.validation import validate_spec

COUNTER_OPTIONS = ("lockCombo", "delaySpin", "forceRaceCheck", "traceCheck")


def type_scheduler(qtbot, w: MainWindow, text: str) -> None:
    edit = child(w, "schedulerEdit")
    edit.selectAll()
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Delete)


@pytest.mark.timeout(30)
def test_options_show_only_for_their_strategy(window):
    strategies = child(window, "strategyCombo")
    choose(strategies, "pool-map")
    for name in (*COUNTER_OPTIONS, "schedulerEdit"):
        assert not child(window, name).isVisible(), name
    choose(strategies, "shared-counter")
    for name in COUNTER_OPTIONS:
        widget = child(window, name)
        assert widget.isVisible(), name
        assert widget.toolTip(), f"{name} has no tooltip"
        assert "seed" not in widget.toolTip().lower(), name  # no tutorial cited
    lock = child(window, "lockCombo")
    for i in range(lock.count()):
        tip = lock.itemData(i, Qt.ItemDataRole.ToolTipRole)
        assert tip and "seed" not in f"{lock.itemText(i)} {tip}".lower(), lock.itemText(i)
    assert lock.itemText(lock.findData("whole")) == "whole loop (default)"
    assert not child(window, "schedulerEdit").isVisible()
    if is_available("dask"):
        choose(strategies, "dask")
        assert child(window, "schedulerEdit").isVisible()
        assert "LocalCluster" in child(window, "schedulerEdit").toolTip()
        for name in COUNTER_OPTIONS:
            assert not child(window, name).isVisible(), name
    choose(strategies, "sequential")
    for name in (*COUNTER_OPTIONS, "schedulerEdit"):
        assert not child(window, name).isVisible(), name


@pytest.mark.timeout(30)
def test_every_option_is_reachable_from_the_keyboard(window):
    choose(child(window, "strategyCombo"), "shared-counter")
    form = window.controls.form
    for name in ("lockCombo", "delaySpin", "schedulerEdit"):
        widget = child(window, name)
        label = form.labelForField(widget)
        assert isinstance(label, QLabel) and label.buddy() is widget, name
        assert "&" in label.text(), f"{name}'s label has no mnemonic"
    for name in ("forceRaceCheck", "traceCheck"):
        assert "&" in child(window, name).text(), name
    for name in (*COUNTER_OPTIONS, "schedulerEdit"):
        assert child(window, name).focusPolicy() & Qt.FocusPolicy.TabFocus, name


@pytest.mark.timeout(30)
def test_choosing_shared_counter_proposes_the_seed(window):
    workers = child(window, "workersSpin")
    choose(child(window, "strategyCombo"), "pool-map")
    workers.setValue(3)
    choose(child(window, "strategyCombo"), "shared-counter")
    info = STRATEGIES["shared-counter"]
    assert child(window, "workloadCombo").currentData() == info.default_workload
    spec = window.controls.spec()
    seed = validate_spec(
        RunSpec(
            strategy="shared-counter",
            workload="increment",
            workers=info.default_workers,
            start_method=spec.start_method,
        )
    )
    assert (spec.workers, spec.items, spec.lock, spec.delay_s, spec.force_race) == (
        seed.workers,
        seed.items,
        "whole",
        0.1,
        False,
    )
    assert spec.workers * spec.items == 20  # the seed counts 1..20
    choose(child(window, "strategyCombo"), "pool-map")
    assert workers.value() == 3  # the count shown before comes back


@pytest.mark.timeout(30)
def test_force_race_only_with_lock_none(window):
    choose(child(window, "strategyCombo"), "shared-counter")
    lock = child(window, "lockCombo")
    force = child(window, "forceRaceCheck")
    for mode in ("whole", "step"):
        choose(lock, mode)
        assert not force.isEnabled()
        assert "Only with" in force.toolTip()
    choose(lock, "none")
    assert force.isEnabled() and "barrier" in force.toolTip()
    force.setChecked(True)
    spec = window.controls.spec()
    assert spec.lock == "none" and spec.force_race
    choose(lock, "step")
    assert not force.isChecked() and not force.isEnabled()
    assert not window.controls.spec().force_race

    choose(lock, "none")
    force.setChecked(True)
    child(window, "workersSpin").setValue(1)  # a race needs two
    message = child(window, "specMessage")
    assert message.isVisible() and "workers 1" in message.text()
    assert not child(window, "runButton").isEnabled()


@pytest.mark.timeout(30)
def test_delay_and_trace_go_into_the_spec(window):
    choose(child(window, "strategyCombo"), "shared-counter")
    child(window, "delaySpin").setValue(0.025)
    child(window, "traceCheck").setChecked(True)
    choose(child(window, "lockCombo"), "step")
    spec = window.controls.spec()
    assert (spec.delay_s, spec.trace, spec.lock) == (0.025, True, "step")


@pytest.mark.timeout(30)
@pytest.mark.skipif(not is_available("dask"), reason="the distributed extra is not installed")
def test_a_bad_scheduler_address_is_named_under_its_field_and_disables_run(qtbot, window):
    choose(child(window, "strategyCombo"), "dask")
    message = child(window, "schedulerMessage")
    run = child(window, "runButton")
    assert not message.isVisible() and run.isEnabled()
    assert window.controls.spec().scheduler is None  # empty: a LocalCluster
    for bad in ("tcp://nohost", "http://127.0.0.1:8786", "tcp://127.0.0.1:99999"):
        type_scheduler(qtbot, window, bad)
        assert message.isVisible(), bad
        assert bad in message.text() and "allowed" in message.text()
        assert "\n" not in message.text()
        assert not run.isEnabled() and window.controls.spec() is None
        assert not child(window, "specMessage").isVisible()  # said once, under the field
    type_scheduler(qtbot, window, "tcp://127.0.0.1:8786")
    assert not message.isVisible() and run.isEnabled()
    assert window.controls.spec().scheduler == "tcp://127.0.0.1:8786"
    start_method = child(window, "startMethodCombo")
    assert not start_method.isEnabled() and "scheduler" in start_method.toolTip()
    type_scheduler(qtbot, window, "")
    assert window.controls.spec().scheduler is None and start_method.isEnabled()


@pytest.mark.timeout(30)
def test_start_method_is_disabled_where_it_does_not_apply(window):
    combo = child(window, "startMethodCombo")
    strategies = child(window, "strategyCombo")
    unused = ["sequential", "thread-pool"]
    unused += [s for s, info in STRATEGIES.items() if info.own_start_method and is_available(s)]
    assert len(unused) >= 2
    for strategy in unused:
        choose(strategies, strategy)
        assert not combo.isEnabled(), strategy
        assert combo.toolTip().startswith("Not used"), strategy
    for strategy in ("pool-map", "shared-counter", "process"):
        choose(strategies, strategy)
        assert combo.isEnabled(), strategy
        assert not combo.toolTip().startswith("Not used")
    if is_available("joblib"):
        assert "loky" in _tip_for(window, "joblib")


def _tip_for(w: MainWindow, strategy: str) -> str:
    choose(child(w, "strategyCombo"), strategy)
    return child(w, "startMethodCombo").toolTip()


@pytest.mark.timeout(60)
def test_options_are_remembered_between_launches(qtbot):
    first = create_window()
    qtbot.addWidget(first)
    choose(child(first, "strategyCombo"), "shared-counter")
    choose(child(first, "lockCombo"), "none")
    child(first, "forceRaceCheck").setChecked(True)
    child(first, "delaySpin").setValue(0.02)
    child(first, "traceCheck").setChecked(True)
    child(first, "workersSpin").setValue(3)
    if is_available("dask"):
        choose(child(first, "strategyCombo"), "dask")
        type_scheduler(qtbot, first, "tcp://10.0.0.5:8786")
        choose(child(first, "strategyCombo"), "shared-counter")
    first.close()

    second = create_window()
    qtbot.addWidget(second)
    assert child(second, "strategyCombo").currentData() == "shared-counter"
    assert child(second, "lockCombo").currentData() == "none"
    assert child(second, "forceRaceCheck").isChecked()
    assert child(second, "delaySpin").value() == pytest.approx(0.02)
    assert child(second, "traceCheck").isChecked()
    assert child(second, "workersSpin").value() == 3  # what was chosen, not the proposal
    spec = second.controls.spec()
    assert (spec.lock, spec.force_race, spec.trace, spec.workers) == ("none", True, True, 3)
    if is_available("dask"):
        assert child(second, "schedulerEdit").text() == "tcp://10.0.0.5:8786"
    assert child(second, "startMethodCombo").currentData() == default_start_method()
    second.close()
