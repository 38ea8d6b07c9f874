"""Playhead: where in a run the counter view is, moving at a chosen speed on a wall clock.

At 1x during a live run it follows the run (a little behind "now", so the events of that
moment have arrived); at a slower speed, or after the run, it replays the recorded timeline:
``position = anchor + (clock() - anchor_wall) x speed``, never past ``limit`` (the live edge,
or the end of the run). The clock is injectable, so tests move time by hand instead of
sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SPEEDS = (1.0, 0.5, 0.25, 0.1)  # the speeds a user can pick


class Playhead:
    """A position in run seconds that advances at ``speed`` x the wall clock while playing."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.speed = 1.0
        self.playing = True
        self._anchor = 0.0
        self._anchor_wall = clock()

    def position(self, limit: float) -> float:
        """The position now, at most ``limit`` (where the known timeline ends)."""
        pos = self._anchor
        if self.playing:
            pos += (self.clock() - self._anchor_wall) * self.speed
        return min(pos, limit)

    def seek(self, position: float) -> None:
        """Jump to ``position``; playing (or paused) goes on from there."""
        self._anchor = position
        self._anchor_wall = self.clock()

    def settle(self, limit: float) -> float:
        """The position now; if it ran into ``limit``, it waits there (re-anchored), so that
        a limit moving on later (the live edge) does not make it jump."""
        pos = self.position(limit)
        if self.playing and pos >= limit:
            self.seek(limit)
        return pos

    def set_speed(self, speed: float, limit: float) -> None:
        """Go on from where it is at ``speed``."""
        self.seek(self.position(limit))
        self.speed = speed

    def set_playing(self, playing: bool, limit: float) -> None:
        """Pause or resume where it is."""
        self.seek(self.position(limit))
        self.playing = playing
