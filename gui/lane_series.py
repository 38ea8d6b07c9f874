"""What the live views draw of a run: growable numpy buffers, one pair per worker lane.

A run's figures (counts, pids, start times, the chunk running now, the outcome) live once, in
the engine's RunTally (``workers.tally``); these buffers keep only the time series the plots
need, which the tally does not: each lane's progress samples and the task spans it computed,
keyed by the same worker index as the tally's figures. Times are seconds since the run's start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

# rows a series keeps at most: an hour-long run's buffers stay bounded (a lane's task spans at
# 5 floats a row: 320 KiB; 64 lanes: 20 MiB), its older rows thinned to make room
ROW_LIMIT = 8192


def drop_alternate(rows: np.ndarray) -> np.ndarray:
    """Every other row (the first and the last kept): samples of a series that a line joins."""
    kept = rows[::2]
    if len(rows) % 2 == 0 and len(rows):
        kept = np.concatenate((kept, rows[-1:]))
    return kept


def merge_spans(rows: np.ndarray) -> np.ndarray:
    """Neighbouring task spans merged in pairs (t0, t1, items, first, tasks): the merged span
    runs from the first's start to the second's end and counts both, so nothing is lost from
    a lane's items or tasks, only the gap between two old spans."""
    pairs = len(rows) // 2
    even, odd = rows[0 : 2 * pairs : 2], rows[1 : 2 * pairs : 2]
    merged = np.column_stack(
        (even[:, 0], odd[:, 1], even[:, 2] + odd[:, 2], even[:, 3], even[:, 4] + odd[:, 4])
    )
    return np.concatenate((merged, rows[2 * pairs :]))


class GrowableArray:
    """Rows appended to a preallocated numpy array that doubles when full, up to ``limit``
    rows: past it, the older half is thinned (``thin``: by default every other row dropped)
    so the newest rows stay at full resolution and memory stays bounded however long a run."""

    def __init__(
        self,
        columns: int,
        capacity: int = 256,
        limit: int = ROW_LIMIT,
        thin: Callable[[np.ndarray], np.ndarray] = drop_alternate,
    ) -> None:
        self._data = np.empty((min(capacity, limit), columns), dtype=np.float64)
        self._size = 0
        self._limit = limit
        self._thin = thin
        self.thinned = 0  # how many times the older rows were thinned

    def append(self, row: Sequence[float]) -> None:
        """Add one row."""
        if self._size == len(self._data):
            if self._size >= self._limit:
                self._make_room()
            else:
                bigger = np.empty(
                    (min(2 * len(self._data), self._limit), self._data.shape[1]),
                    dtype=np.float64,
                )
                bigger[: self._size] = self._data[: self._size]
                self._data = bigger
        self._data[self._size] = row
        self._size += 1

    def _make_room(self) -> None:
        half = self._size // 2
        older = self._thin(self._data[:half])
        newer = self._data[half : self._size].copy()
        self._data[: len(older)] = older
        self._data[len(older) : len(older) + len(newer)] = newer
        self._size = len(older) + len(newer)
        self.thinned += 1

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
    spans: GrowableArray = field(default_factory=lambda: GrowableArray(5, thin=merge_spans))

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
