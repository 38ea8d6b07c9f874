"""What the live views draw of a run: growable numpy buffers, one pair per worker lane.

A run's figures (counts, pids, start times, the chunk running now, the outcome) live once, in
the engine's RunTally (``workers.tally``); these buffers keep only the time series the plots
need, which the tally does not: each lane's progress samples and the task spans it computed,
keyed by the same worker index as the tally's figures. Times are seconds since the run's start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


class GrowableArray:
    """Rows appended to a preallocated numpy array that doubles when full."""

    def __init__(self, columns: int, capacity: int = 256) -> None:
        self._data = np.empty((capacity, columns), dtype=np.float64)
        self._size = 0

    def append(self, row: Sequence[float]) -> None:
        """Add one row."""
        if self._size == len(self._data):
            bigger = np.empty((2 * len(self._data), self._data.shape[1]), dtype=np.float64)
            bigger[: self._size] = self._data[: self._size]
            self._data = bigger
        self._data[self._size] = row
        self._size += 1

    def view(self) -> np.ndarray:
        """The filled rows (a view: do not keep it across appends)."""
        return self._data[: self._size]

    def __len__(self) -> int:
        return self._size


@dataclass
class LaneSeries:
    """One worker lane's drawing data: its progress samples and the task spans it computed."""

    index: int
    progress: GrowableArray = field(default_factory=lambda: GrowableArray(2))  # t, done
    # t0, t1, items, first, tasks (tasks > 1: short chunks the probe merged into one span)
    spans: GrowableArray = field(default_factory=lambda: GrowableArray(5))

    def add_progress(self, t: float, done: int) -> None:
        """A progress sample at ``t``; the series never goes back (a late, lower count holds)."""
        samples = self.progress.view()
        if len(samples):
            done = max(done, int(samples[-1, 1]))
        self.progress.append((t, done))

    @property
    def last_t(self) -> float:
        """Time of the latest progress sample (0 before any)."""
        samples = self.progress.view()
        return float(samples[-1, 0]) if len(samples) else 0.0

    def done_at(self, times: np.ndarray, started_t: float | None) -> np.ndarray:
        """Items done by each of ``times``, the lane having started at ``started_t``.

        0 before the lane started, linear between samples, held after the latest one (a lane
        reports only when its count moves).
        """
        samples = self.progress.view()
        if not len(samples):
            return np.zeros(np.shape(times))
        t, done = samples[:, 0], samples[:, 1]
        if started_t is not None and started_t < t[0]:
            t = np.concatenate(([started_t], t))
            done = np.concatenate(([0.0], done))
        return np.interp(times, t, done, left=0.0, right=done[-1])
