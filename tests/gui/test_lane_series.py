"""The live views' buffers stay bounded however long a run goes, and lose nothing from totals."""

from __future__ import annotations

import numpy as np

from mpscope.gui.lane_series import ROW_LIMIT, GrowableArray, LaneSeries


def test_an_hour_of_progress_samples_stays_bounded_with_the_newest_at_full_resolution() -> None:
    lane = LaneSeries(0)
    samples = 3600 * 20  # an hour at the probe's fastest rate, 20 reports a second
    for i in range(samples):
        lane.add_progress(i / 20, i)
    rows = lane.progress.view()
    assert len(rows) <= ROW_LIMIT
    assert lane.progress.thinned > 0
    assert rows[0, 0] == 0.0 and rows[-1, 1] == samples - 1  # the whole run is still there
    assert np.all(np.diff(rows[:, 0]) > 0) and np.all(np.diff(rows[:, 1]) >= 0)
    newest = rows[-ROW_LIMIT // 4 :, 0]
    assert np.allclose(np.diff(newest), 1 / 20)  # the last minutes are every sample
    # what the throughput plot reads stays right: items done at any time, interpolated
    assert abs(lane.done_at(np.array([1800.0]), 0.0)[0] - 1800 * 20) < 20 * 20


def test_thinned_task_spans_keep_every_item_and_task_of_the_lane() -> None:
    lane = LaneSeries(0)
    spans = 50_000
    for i in range(spans):
        lane.spans.append((i * 0.1, i * 0.1 + 0.08, 7, 7 * i, 1))
    rows = lane.spans.view()
    assert len(rows) <= ROW_LIMIT
    assert rows[:, 2].sum() == 7 * spans and rows[:, 4].sum() == spans
    assert rows[0, 0] == 0.0 and rows[-1, 1] == (spans - 1) * 0.1 + 0.08
    assert np.all(rows[:, 1] > rows[:, 0]) and np.all(np.diff(rows[:, 0]) > 0)


def test_a_short_run_keeps_every_row_as_it_came() -> None:
    series = GrowableArray(2)
    for i in range(1000):
        series.append((i, 2 * i))
    assert series.thinned == 0
    assert series.view().tolist() == [[i, 2 * i] for i in range(1000)]
