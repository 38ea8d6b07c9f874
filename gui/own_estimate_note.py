"""The estimate shown under the user's function before a run: its cost per item here, and
from what N processes pay off (``mpscope.workers.own_estimate``, measured in a process of
its own, on the window's helper thread; a newer request or closing the window ends it)."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from PySide6.QtWidgets import QLabel, QWidget

from mpscope.gui.background import Background
from mpscope.gui.naming import named
from mpscope.workers.own_estimate import Estimate, estimate_own_job
from mpscope.workers.own_job import OwnJobRefused
from mpscope.workers.spec import ResolvedSpec

MEASURING = "timing a few items…"


class OwnEstimateNote(QLabel):
    """A one-line note that measures the user's job whenever it is asked to (``request``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "ownEstimateNote")
        self.setWordWrap(True)
        self.setProperty("role", "note")
        self.setToolTip(
            "Measured before you run, in a process of its own: a few items of your function "
            "timed one by one, and what starting the worker processes and sending them a "
            "task costs on this machine. An estimate: large results, or a function that "
            "releases the GIL, change the real figures."
        )
        self._helper = Background("mpscope-estimate", self)
        self._stop = threading.Event()
        self._asked: tuple[str, str | None, str, int, bool] | None = None
        self.estimate: Estimate | None = None

    def request(self, spec: ResolvedSpec, spread: bool) -> None:
        """Measure ``spec``'s job (the user's function), unless that exact job is measured."""
        assert spec.job is not None
        asked = (spec.job, spec.inputs, spec.start_method, max(spec.workers, 2), spread)
        if asked == self._asked:
            return
        self._asked = asked
        self._stop.set()  # the measurement under way, if any, is for another job
        self._stop = stop = threading.Event()
        self.estimate = None
        self.setText(MEASURING)
        job, inputs, method, workers, _ = asked
        self._helper.submit(
            estimate_own_job,
            job,
            inputs,
            method,
            workers,
            spread,
            stop.is_set,
            on_done=lambda future: self._show(future, asked),
        )

    def clear(self) -> None:
        """Nothing to estimate (not the user's function, or it is not valid yet)."""
        self._stop.set()
        self._asked = None
        self.estimate = None
        self.setText("")

    def pause(self) -> None:
        """A run starts: end a measurement still under way (it would take CPU from the run);
        the next ``request`` measures again. A finished estimate stays shown."""
        if self.estimate is None and self._asked is not None:
            self._stop.set()
            self._asked = None
            self.setText("")

    def shutdown(self) -> None:
        """End any measurement at once (the window closes)."""
        self._stop.set()
        self._helper.shutdown()

    def _show(self, future: Future[Estimate | None], asked: tuple[object, ...]) -> None:
        if asked != self._asked:
            return  # an answer to an older request
        try:
            estimate = future.result()
        except OwnJobRefused as exc:
            self.setText(f"no estimate: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - never let a measurement take the window down
            self.setText(f"no estimate: {type(exc).__name__}: {exc}")
            return
        if estimate is not None:
            self.estimate = estimate
            self.setText(f"Estimate: {estimate.line()}")
