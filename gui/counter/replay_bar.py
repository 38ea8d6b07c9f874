"""ReplayBar: play / pause, replay, speed and position of the counter animation.

Only widgets and signals: the CounterView owns the playhead and decides what each control
means (at 1x a live run is followed; a new speed after the run replays it).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QToolButton,
    QWidget,
)

from mpscope.gui.counter.playhead import SPEEDS
from mpscope.gui.naming import named
from mpscope.workers.units import format_seconds

SLIDER_STEPS = 1000


class ReplayBar(QWidget):
    """The row of animation controls above the counter."""

    # fires when the user presses Play / Pause
    play_clicked = Signal()
    # fires when the user presses Replay
    replay_clicked = Signal()
    # fires when the user picks a speed; the argument is the speed (1.0, 0.5, ...)
    speed_chosen = Signal(float)
    # fires when the user drags or steps the position slider; the argument is 0..1 of the run
    seeked = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("counterReplayBar")
        self.play_button = named(QToolButton(), "counterPlayButton")
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.play_button.setToolTip("Pause or resume the animation (at the end: play it again)")
        self.replay_button = named(QToolButton(), "counterReplayButton")
        self.replay_button.setText("Replay")
        self.replay_button.setIcon(
            self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload)
        )
        self.replay_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.replay_button.setToolTip(
            "Play the run again from its first increment, at the chosen speed"
        )
        self.speed_combo = named(QComboBox(), "counterSpeedCombo")
        for speed in SPEEDS:
            self.speed_combo.addItem(f"{speed:g}×", speed)
        self.speed_combo.setToolTip(
            "Replay speed: slow the run down to watch who waits, who holds the lock and where "
            "updates are lost.\nAt 1× a live run is followed as it happens."
        )
        self.slider = named(QSlider(Qt.Orientation.Horizontal), "counterPositionSlider")
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setToolTip("Where in the run the animation is: drag to go there")
        self.time_label = named(QLabel(), "counterTime")
        self.time_label.setToolTip("Time since the run started, of the run's known time")
        # a label whose text changes every frame gets a fixed size (both ways: only then does
        # a new text not lay the whole page out and repaint it)
        metrics = self.time_label.fontMetrics()
        widest = metrics.horizontalAdvance("999.9 ms of 999.9 ms")
        self.time_label.setFixedSize(widest + 8, metrics.height() + 4)
        speed_label = QLabel("S&peed")
        speed_label.setBuddy(self.speed_combo)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.play_button, self.replay_button, speed_label, self.speed_combo):
            row.addWidget(widget)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time_label)

        self._pause_shown: bool | None = None
        self.play_button.clicked.connect(self.play_clicked)
        self.replay_button.clicked.connect(self.replay_clicked)
        self.speed_combo.currentIndexChanged.connect(
            lambda _index: self.speed_chosen.emit(self.speed)
        )
        self.slider.valueChanged.connect(lambda value: self.seeked.emit(value / SLIDER_STEPS))
        self.set_controls(has_run=False, has_events=False, live=False, pause=True)

    @property
    def speed(self) -> float:
        """The chosen speed."""
        return float(self.speed_combo.currentData())

    def set_speed(self, speed: float) -> None:
        """Choose ``speed`` as the user would (``speed_chosen`` fires if it changed)."""
        self.speed_combo.setCurrentIndex(self.speed_combo.findData(speed))

    def show_position(self, t: float, start: float, end: float) -> None:
        """The playhead is at ``t`` of [start, end] (run seconds)."""
        if not self.slider.isSliderDown():  # the user's drag wins
            share = min(max((t - start) / max(end - start, 1e-6), 0.0), 1.0)
            self.slider.blockSignals(True)
            self.slider.setValue(round(SLIDER_STEPS * share))
            self.slider.blockSignals(False)
        self.time_label.setText(f"{format_seconds(t)} of {format_seconds(end)}")

    def set_controls(self, has_run: bool, has_events: bool, live: bool, pause: bool) -> None:
        """Enable what can be used; ``pause``: the play button offers Pause (else Play)."""
        self.replay_button.setEnabled(has_events and not live)
        self.slider.setEnabled(has_events)
        self.play_button.setEnabled(has_run)
        if pause != self._pause_shown:
            self._pause_shown = pause
            self.play_button.setText("Pause" if pause else "Play")
            icon = (
                QStyle.StandardPixmap.SP_MediaPause if pause else QStyle.StandardPixmap.SP_MediaPlay
            )
            self.play_button.setIcon(self.style().standardIcon(icon))
