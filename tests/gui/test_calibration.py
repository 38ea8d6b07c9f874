"""Proposed problem sizes: a few seconds of sequential work here, within the memory cap."""

from __future__ import annotations

import pytest

from mpscope.gui import main_window
from mpscope.gui.app import create_window
from mpscope.gui.calibration import (
    TARGET_SEQUENTIAL_S,
    ItemProposals,
    measure_seconds_per_item,
    memory_cap,
    nice_floor,
)
from mpscope.workers.workloads import DEFAULT_GRAIN, WORKLOADS


@pytest.mark.parametrize(
    ("n", "nice"),
    [(0.3, 1), (1, 1), (7, 5), (37_123, 25_000), (20_000, 20_000), (99_999, 50_000), (1e7, 1e7)],
)
def test_nice_floor_rounds_down_to_1_2_2_5_or_5(n, nice):
    assert nice_floor(n) == nice


def test_without_measurements_the_workloads_own_defaults_are_proposed():
    proposals = ItemProposals()
    assert not proposals.calibrated
    for workload in ("square", "poly-pair", "square-plus", "increment"):
        assert proposals.propose(workload) == min(
            WORKLOADS[workload].default_items, nice_floor(memory_cap(workload))
        )
    # heavy scales with its grain; sleep follows its milliseconds
    assert proposals.propose("heavy", grain=DEFAULT_GRAIN) == WORKLOADS["heavy"].default_items
    assert proposals.propose("heavy", grain=4 * DEFAULT_GRAIN) < proposals.propose("heavy")
    assert proposals.propose("sleep", sleep_ms=10.0) == nice_floor(TARGET_SEQUENTIAL_S / 0.0101)
    assert proposals.propose("sleep", sleep_ms=100.0) < proposals.propose("sleep", sleep_ms=10.0)


def test_measured_costs_give_a_few_seconds_of_sequential_work():
    proposals = ItemProposals({"heavy": 100e-6, "square": 1e-6})
    n = proposals.propose("heavy", grain=DEFAULT_GRAIN)
    assert TARGET_SEQUENTIAL_S / 2.5 <= n * 100e-6 <= TARGET_SEQUENTIAL_S
    assert "measured at start-up" in proposals.explain("heavy", DEFAULT_GRAIN, 10.0)
    # a cheap job is capped so a full result list (Pool.map) stays within memory
    cheap = ItemProposals({"square": 1e-9})
    assert cheap.propose("square") == nice_floor(memory_cap("square"))
    assert "1.5 GiB" in cheap.explain("square", DEFAULT_GRAIN, 10.0)
    # the shared counter's increment is not "work": its size is never calibrated
    assert ItemProposals({"increment": 1e-9}).propose("increment") == 10


def test_measuring_a_job_gives_its_relative_cost():
    square = measure_seconds_per_item("square", budget_s=0.01)
    heavy = measure_seconds_per_item("heavy", budget_s=0.01)
    assert 0 < square < heavy  # 2,000 loop iterations per item cost more than one x**2


@pytest.mark.timeout(60)
def test_the_window_shows_calibrated_sizes_once_measured(qtbot, monkeypatch):
    monkeypatch.setenv("MPSCOPE_NO_CALIBRATION", "0")
    monkeypatch.setattr(main_window, "measure_all", lambda: {"heavy": 50e-6, "square": 1e-6})
    window = create_window()
    qtbot.addWidget(window)
    controls = window.controls
    controls.strategy_combo.setCurrentIndex(controls.strategy_combo.findData("pool-map"))
    controls.workload_combo.setCurrentIndex(controls.workload_combo.findData("heavy"))
    expected = ItemProposals({"heavy": 50e-6}).propose("heavy", DEFAULT_GRAIN)
    qtbot.waitUntil(lambda: controls.proposals.calibrated, timeout=10_000)
    assert controls.items_edit.text() == f"{expected:,}"
    assert "measured at start-up" in controls.items_edit.toolTip()
