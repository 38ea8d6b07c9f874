"""RunStatusBar: the status bar's run state, elapsed time and whole-machine CPU use."""

from __future__ import annotations

import psutil
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel, QStatusBar

from mpscope.gui.naming import named
from mpscope.gui.run_controller import RunController
from mpscope.workers.events import RunStatus

CPU_SAMPLE_MS = 1000

# what the status bar says for each state (a state still in progress ends in an ellipsis)
STATE_TEXT = {
    RunStatus.IDLE: "idle",
    RunStatus.STARTING: "starting…",
    RunStatus.RUNNING: "running",
    RunStatus.STOPPING: "stopping…",
    RunStatus.FINISHED: "finished",
    RunStatus.FAILED: "failed",
    RunStatus.CANCELLED: "cancelled",
}


def elapsed_text(seconds: float) -> str:
    """Elapsed time to a tenth of a second: it changes at most ten times a second."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:04.1f} s"


class RunStatusBar(QObject):
    """Puts three permanent labels in ``bar``: state, elapsed time, machine CPU %. (Not a
    widget itself: an empty one would lie over the bar's messages.)"""

    def __init__(self, bar: QStatusBar, controller: RunController) -> None:
        super().__init__(bar)
        self.controller = controller
        self.state_label = named(QLabel(), "statusState")
        self.state_label.setProperty("role", "badge")
        self.state_label.setToolTip("What the run is doing")
        self.state_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.elapsed_label = named(QLabel(), "statusElapsed")
        self.elapsed_label.setToolTip("Time since Run was pressed (start-up included)")
        # a fixed width: a changing text must not re-lay out the status bar at every tick
        self.elapsed_label.setFixedWidth(
            self.elapsed_label.fontMetrics().horizontalAdvance("00 min 00.0 s  ")
        )
        self.cpu_label = named(QLabel(), "statusCpu")
        self.cpu_label.setToolTip(
            "CPU use of the whole machine, all cores together (other programs included)"
        )
        self.cpu_label.setMinimumWidth(self.cpu_label.fontMetrics().horizontalAdvance("CPU 100%  "))
        # permanent widgets (on the right): a temporary message shown on the left never
        # overlaps them
        bar.addPermanentWidget(self.state_label)
        bar.addPermanentWidget(self.elapsed_label)
        bar.addPermanentWidget(self.cpu_label)
        self._cpu_timer = QTimer(self)
        self._cpu_timer.setInterval(CPU_SAMPLE_MS)
        self._cpu_timer.timeout.connect(self.sample_cpu)
        psutil.cpu_percent(interval=None)  # the first call only sets the reference point
        self._cpu_timer.start()
        self._reserve_state_width()
        controller.state_changed.connect(self.show_state)
        self.show_state(controller.state)
        self.cpu_label.setText("CPU –")

    def _reserve_state_width(self) -> None:
        """The state badge as wide as its widest word: the labels beside it never shift."""
        self.state_label.ensurePolished()
        widest = 0
        for text in STATE_TEXT.values():
            self.state_label.setText(text)
            widest = max(widest, self.state_label.sizeHint().width())
        self.state_label.setMinimumWidth(widest)

    def show_state(self, state: str) -> None:
        """Show ``state``: one of the controller's states (a RunStatus, or its word)."""
        status = RunStatus(state)
        self.state_label.setText(STATE_TEXT[status])
        self.state_label.setProperty("state", status.value)  # the style sheet's selector
        self.state_label.style().unpolish(self.state_label)
        self.state_label.style().polish(self.state_label)
        self.refresh()

    def refresh(self) -> None:
        """Update the elapsed time (the window's redraw timer calls this)."""
        idle = self.controller.state == RunStatus.IDLE
        text = "" if idle else elapsed_text(self.controller.elapsed_s)
        if text != self.elapsed_label.text():
            self.elapsed_label.setText(text)

    def sample_cpu(self) -> None:
        """Whole-machine CPU % since the previous sample."""
        self.cpu_label.setText(f"CPU {psutil.cpu_percent(interval=None):.0f}%")
