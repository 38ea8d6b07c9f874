"""CounterVerdict: how a shared-counter run ended: expected vs actual, lost updates in words.

The figures are the engine's exact ones (``RunFinished.extra``: expected, result, lost, the
lock mode's promise, each worker's increments and lock times, and the one-sentence
explanation), not what the animation happened to sample. With ``trace`` on, the order of the
writes follows, each value in its writer's colour: the seed's 1..20 reads as two blocks.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from mpscope.gui.naming import named
from mpscope.gui.palette import blend, is_dark, worker_color
from mpscope.workers.events import RunCancelled, RunFailed, RunFinished, TerminalEvent
from mpscope.workers.units import format_count, format_seconds

TRACE_SHOWN = 100  # writes of the trace shown, about three lines (the rest is counted)
VERDICT_COLORS = {"ok": ("#1b7f3b", "#7bd88f"), "lost": ("#b3261e", "#ff8a80")}


def _label(name: str, tip: str) -> QLabel:
    label = named(QLabel(), name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setToolTip(tip)
    return label


def headline(outcome: TerminalEvent | None, value: int, expected: int) -> tuple[str, str]:
    """(text, kind) of the verdict's first line; kind is ok, lost, failed or pending."""
    if isinstance(outcome, RunFinished):
        extra = outcome.extra
        lost = int(extra.get("lost", expected - int(outcome.result)))
        head = f"Expected {format_count(expected)} · got {format_count(int(outcome.result))}"
        if lost == 0:
            return f"{head} · no update lost", "ok"
        noun = "update" if lost == 1 else "updates"
        return f"{head} · {format_count(lost)} {noun} lost", "lost"
    if isinstance(outcome, RunFailed):
        return f"The run failed: {outcome.error}", "lost"
    if isinstance(outcome, RunCancelled):
        return (
            f"Stopped: the counter had reached {format_count(value)} of {format_count(expected)}",
            "pending",
        )
    return "", "pending"


def sentence(text: str) -> str:
    """``text`` as a sentence: capital first letter, a full stop."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def worker_lines(extra: dict[str, Any], lock: str) -> list[str]:
    """One line per worker: its increments, its wait and its hold of the lock."""
    lines = []
    for row in extra.get("counter_per_worker", []):
        line = f"worker {row['worker']}: {format_count(int(row['increments']))} increments"
        waits = int(row.get("waits", 0))
        if lock == "none":
            if float(row.get("wait_s", 0.0)) > 0:
                line += f" · {format_seconds(float(row['wait_s']))} at the barrier"
        else:
            if waits:
                times = "time" if waits == 1 else "times"
                line += (
                    f" · waited {format_seconds(float(row['wait_s']))} for the lock "
                    f"({format_count(waits)} {times})"
                )
            else:
                line += " · never waited for the lock"
            line += f" · held it {format_seconds(float(row['hold_s']))}"
        lines.append(line)
    return lines


def trace_html(trace: list[list[int]], truncated: bool) -> str:
    """The writes in order, each value in its writer's colour."""
    shown = trace[:TRACE_SHOWN]
    spans = " ".join(
        f'<span style="color:{worker_color(int(w)).name()}">{int(v)}</span>' for w, v in shown
    )
    rest = len(trace) - len(shown)
    tail = f" … and {format_count(rest)} more" if rest > 0 else ""
    if truncated:
        tail += " (the trace holds the first writes only)"
    return f"<b>Writes in order</b> (colour = worker): {spans}{html.escape(tail)}"


class CounterVerdict(QWidget):
    """The end of a counter run in words and figures."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("counterVerdictPanel")
        self.headline = _label(
            "counterVerdict", "Expected (every increment asked for) against the counter's value"
        )
        font = self.headline.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 2)
        self.headline.setFont(font)
        self.explanation = _label("counterExplanation", "What happened, and why")
        self.workers = _label(
            "counterWorkers",
            "Each worker's increments, and the time it waited for and held "
            "the lock (exact figures)",
        )
        self.trace = _label("counterTrace", "The writes in the order they were made")
        self.trace.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(3)
        for label in (self.headline, self.explanation, self.workers, self.trace):
            layout.addWidget(label)
        self._kind = "pending"
        self.clear("The verdict appears when the run ends.")

    def clear(self, note: str) -> None:
        """No verdict yet: just ``note``."""
        self._kind = "pending"
        self.headline.setText(note)
        for label in (self.explanation, self.workers, self.trace):
            label.clear()
            label.hide()
        self._apply_palette()

    def show_outcome(
        self, outcome: TerminalEvent | None, value: int, expected: int, lock: str
    ) -> None:
        """Show how the run ended."""
        text, self._kind = headline(outcome, value, expected)
        self.headline.setText(text)
        extra: dict[str, Any] = outcome.extra if isinstance(outcome, RunFinished) else {}
        self.explanation.setText(sentence(str(extra.get("explanation", ""))))
        self.workers.setText("\n".join(worker_lines(extra, lock)))
        trace = extra.get("trace")
        self.trace.setText(trace_html(trace, bool(extra.get("trace_truncated"))) if trace else "")
        for label in (self.explanation, self.workers, self.trace):
            label.setVisible(bool(label.text()))
        self._apply_palette()

    @property
    def kind(self) -> str:
        """ok, lost, failed or pending."""
        return self._kind

    def _apply_palette(self) -> None:
        pal = self.palette()
        pair = VERDICT_COLORS.get(self._kind)
        if pair is None:
            text = pal.color(QPalette.ColorRole.Text)
            color = blend(text, pal.color(QPalette.ColorRole.Base), 0.35)
        else:
            color = QColor(pair[1] if is_dark(pal) else pair[0])
        self.headline.setStyleSheet(f"color: {color.name()};")

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system's light/dark palette when it changes."""
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)
