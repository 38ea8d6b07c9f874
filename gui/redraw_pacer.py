"""RedrawPacer: how often the window may redraw without stealing the run's CPU.

On a small machine the window competes with the very workers it shows: every millisecond it
spends painting is taken from them, and the measured wall time grows (the observer effect).
So the redraw rate is paced by a CPU budget: ``max_hz`` rounds of all views a second while the
GUI process stays within ``budget`` of one core, fewer (down to ``min_hz``) when painting
costs more on this machine.
The share is measured, not guessed: ``time.process_time()`` of the whole GUI process (painting,
draining the queue, sampling resources) against the wall clock, smoothed over about a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_BUDGET = 0.10  # share of one core the GUI process may use while a run is live
MAX_HZ = 4.0  # rounds of all views per second (one view per tick): the views pace themselves
MIN_HZ = 2.0
SMOOTHING = 0.3  # weight of the newest interval in the moving share


class RedrawPacer:
    """Gives the next redraw interval from the GUI process's recent CPU share."""

    def __init__(
        self,
        budget: float = DEFAULT_BUDGET,
        max_hz: float = MAX_HZ,
        min_hz: float = MIN_HZ,
        clock: Callable[[], tuple[float, float]] | None = None,
    ) -> None:
        self.budget = budget
        self._clock = clock or _wall_and_cpu
        self.min_interval_s = 1.0 / max_hz
        self.max_interval_s = 1.0 / min_hz
        self.interval_s = self.min_interval_s
        self.share = 0.0  # smoothed CPU share of one core
        self._last: tuple[float, float] | None = None

    def reset(self) -> None:
        """A run starts: begin at full rate and measure afresh."""
        self.interval_s = self.min_interval_s
        self.share = 0.0
        self._last = None

    def next_interval_ms(self) -> int:
        """Call once per redraw: the delay until the next one, in milliseconds."""
        now = self._clock()
        if self._last is not None:
            wall = now[0] - self._last[0]
            if wall > 0:
                share = (now[1] - self._last[1]) / wall
                self.share += SMOOTHING * (share - self.share)
                # proportional: the CPU a redraw costs is spread over a longer interval
                ratio = self.share / self.budget if self.budget > 0 else 1.0
                factor = min(max(ratio, 0.8), 1.5)
                self.interval_s = min(
                    max(self.interval_s * factor, self.min_interval_s), self.max_interval_s
                )
        self._last = now
        return round(self.interval_s * 1000)

    @property
    def hz(self) -> float:
        """The current redraw rate."""
        return 1.0 / self.interval_s


def _wall_and_cpu() -> tuple[float, float]:
    """(wall clock, CPU time of this whole process) in seconds."""
    return time.perf_counter(), time.process_time()
