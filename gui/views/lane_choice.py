"""Which worker lanes a view shows one by one when a run has too many to show them all.

Up to ``MANY_LANES`` workers, every view shows every lane, as it always did. Past that (a
64-core machine's 64 workers), 64 tangled curves and a 64-entry legend read as nothing, so
the throughput plot shows the total and a few lanes: by default the slowest and the fastest
few (fewest and most items done), or the ones the user picked from the plot's lane menu
(``LaneChoiceButton``). The choice is held in a ``LaneChoice``; the ranking keeps a lane it
already shows while the lane stays near its end of the ranking, so lanes running at nearly
the same pace do not swap places in the legend at every redraw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from mpscope.gui.naming import named
from mpscope.gui.palette import worker_color
from mpscope.gui.run_model import RunModel
from mpscope.workers.units import format_count

MANY_LANES = 8  # up to this many workers, views show every lane one by one
EXTREMES_EACH = 3  # by default: the 3 slowest and the 3 fastest lanes
MAX_PICKED = 8  # the user may pick this many lanes at most (a legend that stays short)
LIST_ROWS_SHOWN = 14  # the lane list's height, in rows (it scrolls past that)


def lane_count(model: RunModel) -> int:
    """How many lanes the run has or will have: its K once started, or more (a replacement
    worker numbers itself K, K+1, ...)."""
    started = model.started
    return max(started.workers if started is not None else 0, len(model.lanes))


def condensed(model: RunModel) -> bool:
    """True if the run has more lanes than views show one by one."""
    return lane_count(model) > MANY_LANES


def extremes(
    done: Mapping[int, float], each: int = EXTREMES_EACH, keep: Iterable[int] = ()
) -> list[int]:
    """The ``each`` slowest and ``each`` fastest lanes by items ``done``, sorted by index.

    A lane in ``keep`` (shown already) stays while it ranks among the ``2 x each`` slowest
    (or fastest); the places left go to the lanes that rank first. Ties go to the lower index.
    """
    if len(done) <= 2 * each:
        return sorted(done)
    kept = set(keep)
    ascending = sorted(done, key=lambda i: (done[i], i))
    descending = sorted(done, key=lambda i: (-done[i], i))
    chosen: list[int] = []
    for ranking in (ascending, descending):
        near = [i for i in ranking[: 2 * each] if i in kept and i not in chosen]
        side = near[:each]
        for index in ranking:
            if len(side) >= each:
                break
            if index not in side and index not in chosen:
                side.append(index)
        chosen += side
    return sorted(chosen)


class LaneChoice(QObject):
    """The lanes a condensed view shows: the slowest and fastest (auto) or the user's pick."""

    # emitted when the user picks or drops a lane, or goes back to the slowest and fastest
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.picked: list[int] = []  # empty: auto, the slowest and the fastest
        self._auto_shown: list[int] = []

    @property
    def auto(self) -> bool:
        """True while the view shows the slowest and the fastest lanes."""
        return not self.picked

    def shown(self, done: Mapping[int, float]) -> list[int]:
        """The lanes to show, given every lane's items done so far."""
        if self.picked:
            return [i for i in self.picked if i in done]
        self._auto_shown = extremes(done, keep=self._auto_shown)
        return self._auto_shown

    def set_lane(self, index: int, shown: bool, showing: Iterable[int]) -> None:
        """Show or hide lane ``index``; the lanes ``showing`` now become the user's pick.

        Dropping the last picked lane goes back to the slowest and the fastest. A pick past
        ``MAX_PICKED`` lanes is refused (the menu does not offer it).
        """
        picked = [i for i in showing if i != index]
        if shown:
            if len(picked) >= MAX_PICKED:
                return
            picked.append(index)
        picked.sort()
        if picked != self.picked:
            self.picked = picked
            self.changed.emit()

    def set_auto(self) -> None:
        """Show the slowest and the fastest lanes again."""
        self._auto_shown = []
        if self.picked:
            self.picked = []
            self.changed.emit()

    def reset(self) -> None:
        """A new run: back to the slowest and the fastest, quietly."""
        self.picked = []
        self._auto_shown = []


def _swatch(color: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(color)
    return QIcon(pixmap)


class LaneChoiceButton(QToolButton):
    """Says which lanes a condensed plot shows ("3 slowest, 3 fastest of 64"); its menu picks.

    The menu offers "the slowest and the fastest" (the default) and a checkable, scrolling list
    of every worker with its items done; ticking a worker shows its lane, unticking hides it.
    The list is filled each time the menu opens, from the model as it is then.
    """

    def __init__(self, model: RunModel, choice: LaneChoice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "laneChoiceButton")
        self._model = model
        self.choice = choice
        self.showing: list[int] = []  # the lanes the plot shows now (the view keeps this)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setToolTip(
            "Too many workers to draw one line each: the plot shows all of them together "
            f"(total) and a few lanes, by default the {EXTREMES_EACH} slowest and the "
            f"{EXTREMES_EACH} fastest (fewest and most items done). Click to pick the lanes."
        )
        menu = QMenu(self)
        self.auto_action = menu.addAction(
            f"The {EXTREMES_EACH} slowest and the {EXTREMES_EACH} fastest"
        )
        self.auto_action.setCheckable(True)
        self.auto_action.triggered.connect(lambda _checked=False: choice.set_auto())
        menu.addSection(f"Or pick up to {MAX_PICKED} lanes")
        self.lane_list = named(QListWidget(), "laneChoiceList")
        self.lane_list.itemChanged.connect(self._on_item_changed)
        list_action = QWidgetAction(menu)
        list_action.setDefaultWidget(self.lane_list)
        menu.addAction(list_action)
        menu.aboutToShow.connect(self.fill)
        self.setMenu(menu)
        self._filling = False
        self.setText("lanes ▾")

    def show_count(self, shown: int, lanes: int, room_px: int) -> None:
        """Say which of the run's lanes the plot shows, in ``room_px`` pixels if it can."""
        each = EXTREMES_EACH
        texts: tuple[str, ...]
        if not self.choice.auto:
            texts = (f"{shown} picked of {lanes} lanes ▾", f"{shown} of {lanes} ▾")
        elif shown == 2 * each:
            texts = (
                f"{each} slowest, {each} fastest of {lanes} ▾",
                f"{each} slowest, {each} fastest ▾",
                f"{shown} of {lanes} ▾",
            )
        else:  # the run's first moments: not every worker has reported yet
            texts = (f"{shown} of {lanes} lanes ▾", f"{shown} of {lanes} ▾")
        metrics = self.fontMetrics()
        extra = self.sizeHint().width() - metrics.horizontalAdvance(self.text())
        fits = [t for t in texts if metrics.horizontalAdvance(t) + extra <= room_px]
        text = fits[0] if fits else texts[-1]
        if text != self.text():
            self.setText(text)

    def fill(self) -> None:
        """List every worker with its items done, the shown ones ticked."""
        self._filling = True
        self.lane_list.clear()
        workers = self._model.workers
        for index in sorted(self._model.lanes):
            fig = workers.get(index)
            done = fig.done if fig is not None else 0
            item = QListWidgetItem(_swatch(worker_color(index)), f"w{index} · {format_count(done)}")
            item.setData(Qt.ItemDataRole.UserRole, index)
            self.lane_list.addItem(item)
        rows = min(max(self.lane_list.count(), 1), LIST_ROWS_SHOWN)
        row_px = self.lane_list.sizeHintForRow(0) if self.lane_list.count() else 18
        self.lane_list.setFixedHeight(rows * row_px + 2 * self.lane_list.frameWidth() + 2)
        self._filling = False
        self._sync()

    def _sync(self) -> None:
        """Tick the lanes shown; past ``MAX_PICKED`` the others cannot be ticked."""
        self._filling = True
        self.auto_action.setChecked(self.choice.auto)
        full = len(self.showing) >= MAX_PICKED
        for row in range(self.lane_list.count()):
            item = self.lane_list.item(row)
            shown = int(item.data(Qt.ItemDataRole.UserRole)) in self.showing
            item.setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)
            enabled = shown or not full
            flags = item.flags()
            item.setFlags(
                flags | Qt.ItemFlag.ItemIsEnabled if enabled else flags & ~Qt.ItemFlag.ItemIsEnabled
            )
            item.setToolTip("" if enabled else f"at most {MAX_PICKED} lanes at once: untick one")
        self._filling = False

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        index = int(item.data(Qt.ItemDataRole.UserRole))
        self.choice.set_lane(index, item.checkState() == Qt.CheckState.Checked, self.showing)
        self._sync()  # the view redrew on the choice's signal: tick what it shows now


__all__ = [
    "EXTREMES_EACH",
    "MANY_LANES",
    "MAX_PICKED",
    "LaneChoice",
    "LaneChoiceButton",
    "condensed",
    "extremes",
    "lane_count",
]
