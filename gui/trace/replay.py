"""TraceReplay: a saved trace at any moment, as the model of the packets up to that moment.

The state at time T is a ``TraceModel`` fed, in time order, every packet whose ``t`` is at most
T: what the program had told by then, pools, calls, workers, notes and all. Moving forward
feeds the packets in between to the same model (cheap: playing is a few packets a frame);
moving back starts a new model and feeds it from the start (a fold is a few microseconds a
packet, so even a long trace rebuilds in a fraction of a second). ``whole`` is the trace folded
to its end: which pools there will be and when each is made, for the list and the time axes.
No Qt here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from mpscope.workers.trace.model import TraceModel
from mpscope.workers.trace.packets import Packet


class TraceReplay:
    """The packets of one trace in time order, and the model at the moment ``at`` names."""

    def __init__(self, packets: Iterable[Packet]) -> None:
        timed = [p for p in packets if isinstance(p.get("t"), (int, float))]
        self.packets = sorted(timed, key=lambda p: float(p["t"]))  # stable: ties keep order
        self.times = [float(p["t"]) for p in self.packets]
        self.whole = TraceModel()
        self.whole.feed_all(self.packets)
        self.start = self.times[0] if self.times else 0.0
        self.end = max(self.whole.t_last, self.start)
        self.model = TraceModel()
        self._fed = 0  # packets[:_fed] are in self.model
        self.t = self.start

    @property
    def duration(self) -> float:
        """Seconds from the first packet to the last."""
        return self.end - self.start

    @property
    def at_end(self) -> bool:
        """True when the moment shown is the trace's end (every packet is in)."""
        return self.t >= self.end

    def seek(self, t: float) -> TraceModel:
        """Move to ``t`` (on the packets' clock, clamped to the trace) and return the model
        of that moment; a new model object if it had to start over (going back)."""
        t = min(max(t, self.start), self.end)
        upto = bisect.bisect_right(self.times, t)
        if upto < self._fed:
            self.model = TraceModel()
            self._fed = 0
        self.model.feed_all(self.packets[self._fed : upto])
        self._fed = upto
        self.t = t
        return self.model
