"""ReplayBar: the replay's time slider, its Play button, and playing at the trace's own pace.

The slider counts seconds since the program started (the trace's first packet), labelled with
the time it stands at; Play moves it on in real time (1x) until the end. The window owns the
keys (Space plays or pauses, Left / Right step, Home / End jump) so that they work wherever
the focus is; ``step()`` and ``toggle()`` are what they call.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget
from superqt import QLabeledDoubleSlider

from mpscope.gui.naming import named

PLAY_FRAME_MS = 40  # the moment moves on 25 times a second while playing
STEPS = 200  # Left / Right move the slider by this fraction of the trace
MIN_STEP_S = 0.01


class ReplayBar(QWidget):
    """Play / Pause, and a slider over the trace's time with the moment it stands at."""

    # emitted when the moment shown changes (the user moved the slider, a step, or playing):
    # seconds since the program started
    moved = Signal(float)
    # emitted when playing starts (True) or stops (False)
    playing_changed = Signal(bool)

    def __init__(self, duration_s: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replayBar")
        self.duration_s = max(duration_s, 0.0)
        self.step_s = max(self.duration_s / STEPS, MIN_STEP_S)
        self.play_button = named(QPushButton("▶ Play"), "replayPlayButton")
        self.play_button.setToolTip("Replay the trace from here at its own pace (Space)")
        self.play_button.clicked.connect(self.toggle)
        # wide enough for either word: the bar does not move when the text changes
        metrics = self.play_button.fontMetrics()
        self.play_button.setMinimumWidth(metrics.horizontalAdvance("⏸ Pause") + 28)
        self.slider = named(QLabeledDoubleSlider(Qt.Orientation.Horizontal), "replaySlider")
        self.slider.setRange(0.0, self.duration_s)
        self.slider.setDecimals(2)
        self.slider.setValue(self.duration_s)
        self.slider.setToolTip(
            "The moment the views show, in seconds since the program started: drag it, or use "
            "Left / Right to step, Home / End to jump (the number can be typed too)"
        )
        self.slider.valueChanged.connect(self._on_slider)
        self.total = named(QLabel(f"of {self.duration_s:.2f} s"), "replayTotal")
        self.total.setToolTip("The whole trace: from the program's first packet to its last")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.total)
        self._timer = QTimer(self)
        self._timer.setInterval(PLAY_FRAME_MS)
        self._timer.timeout.connect(self._advance)
        self._clock = (0.0, 0.0)  # (monotonic time, position) when playing last started
        self._advancing = False  # the slider moves because the replay plays

    @property
    def position(self) -> float:
        """The moment shown, in seconds since the program started."""
        return float(self.slider.value())

    @property
    def playing(self) -> bool:
        """True while Play moves the moment on."""
        return self._timer.isActive()

    def seek(self, seconds: float) -> None:
        """Move to ``seconds`` (clamped to the trace); emits ``moved`` if it changed."""
        seconds = min(max(seconds, 0.0), self.duration_s)
        if abs(seconds - self.position) > 1e-9:
            self.slider.setValue(seconds)

    def step(self, steps: int) -> None:
        """Move by ``steps`` steps (negative: back); pauses a replay that plays."""
        self.pause()
        self.seek(self.position + steps * self.step_s)

    def toggle(self) -> None:
        """Play if paused (from the start if at the end), else pause."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Move the moment on in real time until the end."""
        if self.playing:
            return
        if self.position >= self.duration_s:
            self.seek(0.0)
        self._clock = (time.monotonic(), self.position)
        self._timer.start()
        self.play_button.setText("⏸ Pause")
        self.playing_changed.emit(True)

    def pause(self) -> None:
        """Stop where it is."""
        if not self.playing:
            return
        self._timer.stop()
        self.play_button.setText("▶ Play")
        self.playing_changed.emit(False)

    def _advance(self) -> None:
        started, from_s = self._clock
        target = from_s + (time.monotonic() - started)
        if target >= self.duration_s:
            self.pause()
            target = self.duration_s
        self._advancing = True
        try:
            self.slider.setValue(target)
        finally:
            self._advancing = False

    def _on_slider(self, value: float) -> None:
        if self.playing and not self._advancing:  # moved by hand while playing: play on from there
            self._clock = (time.monotonic(), float(value))
        self.moved.emit(float(value))
