"""RedrawPacer: full rate while drawing is cheap, slower when it would eat the run's CPU."""

from __future__ import annotations

from mpscope.gui.redraw_pacer import RedrawPacer


class FakeClock:
    """Wall and CPU time that advance as the test says."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def __call__(self) -> tuple[float, float]:
        return self.wall, self.cpu

    def spend(self, wall_s: float, cpu_share: float) -> None:
        self.wall += wall_s
        self.cpu += wall_s * cpu_share


def _drive(pacer: RedrawPacer, clock: FakeClock, share: float, frames: int) -> int:
    interval = pacer.next_interval_ms()
    for _ in range(frames):
        clock.spend(interval / 1000, share)
        interval = pacer.next_interval_ms()
    return interval


def test_cheap_redraws_run_at_the_full_rate():
    clock = FakeClock()
    pacer = RedrawPacer(budget=0.10, max_hz=25, min_hz=5, clock=clock)
    assert _drive(pacer, clock, share=0.03, frames=50) == 40


def test_expensive_redraws_slow_down_to_the_floor_and_no_further():
    clock = FakeClock()
    pacer = RedrawPacer(budget=0.10, max_hz=25, min_hz=5, clock=clock)
    assert _drive(pacer, clock, share=0.60, frames=50) == 200


def test_the_rate_recovers_when_drawing_gets_cheap_again_and_reset_starts_fresh():
    clock = FakeClock()
    pacer = RedrawPacer(budget=0.10, max_hz=25, min_hz=5, clock=clock)
    _drive(pacer, clock, share=0.60, frames=30)
    assert pacer.hz < 6
    assert _drive(pacer, clock, share=0.02, frames=60) == 40
    _drive(pacer, clock, share=0.60, frames=30)
    pacer.reset()
    assert pacer.next_interval_ms() == 40


def test_a_share_near_the_budget_settles_between_the_bounds():
    clock = FakeClock()
    pacer = RedrawPacer(budget=0.10, max_hz=25, min_hz=5, clock=clock)
    # a cost of 8 ms CPU per frame: 10 % of a core at 80 ms per frame
    interval = pacer.next_interval_ms()
    for _ in range(200):
        clock.wall += interval / 1000
        clock.cpu += 0.008
        interval = pacer.next_interval_ms()
    assert 60 <= interval <= 110
