"""LockLanes: one lane per counter worker (waiting / holding / working / done), and the lock as
a token that glides to whoever holds it.

Painted by hand (one widget, one ``paintEvent``) so that a frame costs one repaint whatever
the number of workers. The token's position and the lanes' "just wrote" flashes are eased
on the wall clock the view passes in, not on run time: at 0.1x a hand-over still takes a
fraction of a second to watch, and at 1x a lock passed 20 times a second still reads as
movement rather than flicker. With no lock there is no token: the rail says so.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from mpscope.gui.counter.timeline import (
    DONE,
    HOLDING,
    READ,
    STEP,
    WAITING,
    CounterFrame,
    LaneState,
    lane_text,
)
from mpscope.gui.palette import blend, is_dark, scaled_font, worker_color

HEADER_H = 26
LANE_MIN_H, LANE_MAX_H = 14, 52  # many workers share the height; a few get roomy lanes
LANE_GOOD_H = 44  # what a lane asks for (sizeHint)
ROOMY_LANES = 8  # the widget's minimum height keeps this many lanes at LANE_GOOD_H - 14
NAME_W = 128
RAIL_W = 112
TOKEN_W, TOKEN_H = 88, 24
EASE_S = 0.08  # the token covers ~63% of the way to its target in this much wall time
FLASH_S = 0.35  # a write's highlight fades over this much wall time
HELD_FADE_S = 0.25  # a released token keeps its holder's colour this long
DOCK = -1.0  # the token's place before anyone took the lock

# state colours the palette has no role for: (light theme, dark theme)
LOST = "lost"  # a write that lost an update (no lock)
STATE_COLORS = {
    WAITING: ("#a15c00", "#ffcc80"),
    READ: ("#a15c00", "#ffcc80"),  # waiting at the barrier
    DONE: ("#1b7f3b", "#7bd88f"),
    LOST: ("#b3261e", "#ff8a80"),
}


def state_color(phase: str | None, worker: int, palette: QPalette) -> QColor:
    """The colour of a lane's state pill."""
    if phase in (HOLDING, STEP):
        return worker_color(worker)
    pair = STATE_COLORS.get(phase or "")
    if pair is None:
        text = palette.color(QPalette.ColorRole.Text)
        return blend(text, palette.color(QPalette.ColorRole.Base), 0.45)
    return QColor(pair[1] if is_dark(palette) else pair[0])


def made_text(made: int, increments: int) -> str:
    """'7/10', or '73k/100k' when the counts are long (rounded down: 99,999 is not 100k)."""
    if increments < 10_000:
        return f"{made:,}/{increments:,}"
    return f"{_short(made)}/{_short(increments)}"


def _short(n: int) -> str:
    if n >= 10_000_000:
        return f"{n // 1_000_000:,}M"
    if n >= 1_000_000:
        return f"{math.floor(n / 100_000) / 10:.1f}M"
    return f"{n // 1000:,}k" if n >= 10_000 else f"{n:,}"


class LaneStyle:
    """Colours and fonts of one palette and font, worked out once (painting runs 40 times a
    second, and blending colours in Python is most of what a paint costs)."""

    def __init__(self, palette: QPalette, font: QFont) -> None:
        self.palette = palette
        self.base = palette.color(QPalette.ColorRole.Base)
        self.text = palette.color(QPalette.ColorRole.Text)
        self.note = blend(self.text, self.base, 0.4)
        self.track = blend(self.text, self.base, 0.85)
        self.rail = blend(self.text, self.base, 0.8)
        self.lost = QColor(STATE_COLORS[LOST][1 if is_dark(palette) else 0])
        self.font = QFont(font)
        self.small = scaled_font(font, -1.0)
        self.cramped = scaled_font(font, -2.0)
        self.bold = QFont(font)
        self.bold.setBold(True)
        self.bold_cramped = QFont(self.cramped)
        self.bold_cramped.setBold(True)
        self.pid = scaled_font(font, -2.5)
        self._tints: dict[tuple[str, int], tuple[QColor, QColor]] = {}
        self._backs: dict[int, QColor] = {}

    def tint(self, phase: str | None, worker: int) -> tuple[QColor, QColor]:
        """(border, fill) of a state pill."""
        key = (phase or "", worker)
        found = self._tints.get(key)
        if found is None:
            border = state_color(phase, worker, self.palette)
            found = self._tints[key] = (border, blend(border, self.base, 0.8))
        return found

    def lane_back(self, worker: int, flash: float) -> QColor:
        """A lane's background, brighter for ``flash`` (0..1) after a write."""
        if flash > 0:
            return blend(worker_color(worker), self.base, 0.93 - 0.25 * flash)
        back = self._backs.get(worker)
        if back is None:
            back = self._backs[worker] = blend(worker_color(worker), self.base, 0.93)
        return back


class LockLanes(QWidget):
    """Worker lanes with their state, increments made, and the lock token on a rail."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("counterLanes")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.lock = "whole"
        self.increments = 1
        self.pids: dict[int, int] = {}
        self.frame: CounterFrame | None = None
        self.token_pos = DOCK  # drawn position, in lanes (DOCK: above the first)
        self.token_target = DOCK
        self._held_until = -math.inf  # wall time the token's fill fades after a release
        self._flash_at: dict[int, float] = {}  # worker -> wall time of its latest write
        self._writes: dict[int, int] = {}
        self._wall = 0.0
        self._texts: list[str] = []
        self._workers = 0
        self._style: LaneStyle | None = None

    # -- feeding -----------------------------------------------------------------------------------
    def set_run(self, workers: int, increments: int, lock: str) -> None:
        """A new run: ``workers`` lanes, ``increments`` each, this lock mode."""
        self.lock = lock
        self.increments = max(increments, 1)
        self.pids = {}
        self.frame = None
        self.token_pos = self.token_target = DOCK
        self._held_until = -math.inf
        self._flash_at.clear()
        self._writes.clear()
        self._workers = workers
        self.setMinimumHeight(HEADER_H + min(workers, ROOMY_LANES) * (LANE_GOOD_H - 14) + 4)
        self.updateGeometry()
        self.update()

    def show_frame(self, frame: CounterFrame, wall: float, pids: dict[int, int]) -> None:
        """Show ``frame``; ``wall`` is the wall clock now (for easing and flashes). Repaints
        only if something visible changed (most frames of a slow run change nothing here)."""
        was_moving = self.animating()
        before = (self.frame, self.token_pos, self.pids)
        dt = max(wall - self._wall, 0.0)
        self._wall = wall
        self.pids = pids
        for worker, lane in enumerate(frame.lanes):
            if lane.writes != self._writes.get(worker, 0):
                if lane.writes > self._writes.get(worker, 0):
                    self._flash_at[worker] = wall
                self._writes[worker] = lane.writes
        if frame.holder is not None:
            self._held_until = wall + HELD_FADE_S
        rests = frame.holder if frame.holder is not None else frame.last_holder
        self.token_target = DOCK if rests is None else float(rests)
        if dt > 0:
            self.token_pos += (self.token_target - self.token_pos) * (1 - math.exp(-dt / EASE_S))
        if abs(self.token_target - self.token_pos) < 0.01:
            self.token_pos = self.token_target
        self.frame = frame
        texts = [lane_text(lane, self.lock, frame.t) for lane in frame.lanes]
        texts_changed = texts != self._texts
        if texts_changed:
            self._texts = texts
            self.setToolTip(self.summary())
            self.setAccessibleDescription(self.summary())
        previous, token_pos, pids_before = before
        changed = (
            previous is None
            or texts_changed
            or previous.lanes != frame.lanes
            or (previous.holder, previous.last_holder) != (frame.holder, frame.last_holder)
            or token_pos != self.token_pos
            or pids_before != pids
        )
        if changed or was_moving or self.animating():
            self.update()

    def animating(self) -> bool:
        """True while the token is still gliding or a flash still fading."""
        if self.token_pos != self.token_target:
            return True
        held = self.frame is not None and self.frame.holder is not None
        if not held and self._wall < self._held_until:  # a released token's colour fading
            return True
        return any(self._wall - t < FLASH_S for t in self._flash_at.values())

    def summary(self) -> str:
        """One line per worker: what it is doing."""
        return "\n".join(f"worker {i}: {text}" for i, text in enumerate(self._texts))

    # -- geometry ----------------------------------------------------------------------------------
    def _lane_h(self) -> float:
        workers = max(self._workers, 1)
        return min(max((self.height() - HEADER_H - 4) / workers, LANE_MIN_H), LANE_MAX_H)

    def lane_rect(self, worker: float) -> QRectF:
        """The rectangle of lane ``worker`` (fractional: between two lanes; DOCK: the header)."""
        h = self._lane_h()
        return QRectF(0, HEADER_H + worker * h, self.width(), h)

    def token_rect(self) -> QRectF:
        """Where the token is drawn now."""
        pos = self.token_pos
        if pos >= 0:
            center_y = self.lane_rect(pos).center().y()
        else:  # in the dock, or gliding out of it towards the first lane
            first = self.lane_rect(0).center().y()
            center_y = HEADER_H / 2 + (first - HEADER_H / 2) * max(1 + pos, 0.0)
        x = self.width() - RAIL_W / 2 - TOKEN_W / 2 - 4
        return QRectF(x, center_y - TOKEN_H / 2, TOKEN_W, TOKEN_H)

    def sizeHint(self) -> QSize:
        """Room for a few comfortable lanes."""
        workers = max(self._workers or 2, 1)
        return QSize(520, HEADER_H + workers * LANE_GOOD_H + 4)

    # -- painting ----------------------------------------------------------------------------------
    def style_of_lanes(self) -> LaneStyle:
        """The cached colours and fonts (made again when the palette or font changed)."""
        if self._style is None:
            self._style = LaneStyle(self.palette(), self.font())
        return self._style

    def changeEvent(self, event: QEvent) -> None:
        """A new palette (light / dark) or font: work the colours out again."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._style = None
            self.update()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Lanes, then the rail and the token on top."""
        style = self.style_of_lanes()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), style.base)
        painter.setFont(style.small)
        painter.setPen(style.note)
        rail_x = self.width() - RAIL_W
        painter.drawText(QRectF(8, 0, NAME_W, HEADER_H), Qt.AlignmentFlag.AlignVCenter, "process")
        painter.drawText(
            QRectF(NAME_W + 8, 0, rail_x - NAME_W - 16, HEADER_H),
            Qt.AlignmentFlag.AlignVCenter,
            "state · increments made",
        )
        frame = self.frame
        lanes = frame.lanes if frame is not None else ()
        for worker in range(max(self._workers, len(lanes))):
            lane = lanes[worker] if worker < len(lanes) else LaneState(None, 0.0, 0, 0, 0, None)
            self._paint_lane(painter, worker, lane, style)
        self._paint_rail(painter, rail_x, style)
        painter.end()

    def _paint_lane(
        self, painter: QPainter, worker: int, lane: LaneState, style: LaneStyle
    ) -> None:
        rect = self.lane_rect(worker).adjusted(4, 1, -RAIL_W - 4, -1)
        cramped = rect.height() < 26  # many workers: smaller type, no pid line
        font = style.cramped if cramped else style.font
        color = worker_color(worker)
        flash = 0.0
        if worker in self._flash_at:
            flash = max(0.0, 1.0 - (self._wall - self._flash_at[worker]) / FLASH_S)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.lane_back(worker, flash))
        painter.drawRoundedRect(rect, 5, 5)
        # name: a colour dot, "worker i", its pid
        painter.setBrush(color)
        painter.drawEllipse(QPointF(rect.left() + 12, rect.center().y()), 5, 5)
        painter.setFont(style.bold_cramped if cramped else style.bold)
        painter.setPen(style.text)
        pid = self.pids.get(worker)
        name_rect = QRectF(rect.left() + 22, rect.top(), NAME_W - 22, rect.height())
        if pid and rect.height() >= 40:
            half = rect.height() / 2
            painter.drawText(
                name_rect.adjusted(0, 0, 0, -half), Qt.AlignmentFlag.AlignBottom, f"worker {worker}"
            )
            painter.setFont(style.pid)
            painter.setPen(style.note)
            painter.drawText(
                name_rect.adjusted(0, half, 0, 0), Qt.AlignmentFlag.AlignTop, f"pid {pid}"
            )
        else:
            painter.drawText(name_rect, Qt.AlignmentFlag.AlignVCenter, f"worker {worker}")
        # the state pill: a fixed width, so the bars beside it never shift
        painter.setFont(font)
        metrics = painter.fontMetrics()
        count_w = metrics.horizontalAdvance(made_text(self.increments, self.increments)) + 8
        room = rect.right() - (rect.left() + NAME_W) - count_w - 40
        pill_w = min(max(room * 0.6, 120.0), 300.0)
        pill_h = min(22.0, rect.height() - 4)
        pill = QRectF(rect.left() + NAME_W, rect.center().y() - pill_h / 2, pill_w, pill_h)
        border, fill = style.tint(LOST if lane.overwrote else lane.phase, worker)
        painter.setBrush(fill)
        painter.setPen(QPen(border, 1.2))
        painter.drawRoundedRect(pill, pill_h / 2, pill_h / 2)
        painter.setPen(style.text)
        label = lane_text(lane, self.lock, self.frame.t if self.frame else None)
        painter.drawText(
            pill.adjusted(10, 0, -6, 0),
            Qt.AlignmentFlag.AlignVCenter,
            metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(pill.width() - 16)),
        )
        # increments made
        bar_left = pill.right() + 12
        bar_w = max(rect.right() - bar_left - count_w - 6, 20.0)
        bar = QRectF(bar_left, rect.center().y() - 4, bar_w, 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.track)
        painter.drawRoundedRect(bar, 4, 4)
        share = min(lane.made / self.increments, 1.0)
        if share > 0:
            painter.setBrush(color)
            painter.drawRoundedRect(QRectF(bar.left(), bar.top(), bar.width() * share, 8), 4, 4)
        painter.setPen(style.text)
        painter.drawText(
            QRectF(bar.right() + 6, rect.top(), count_w, rect.height()),
            Qt.AlignmentFlag.AlignVCenter,
            made_text(lane.made, self.increments),
        )

    def _paint_rail(self, painter: QPainter, rail_x: float, style: LaneStyle) -> None:
        if self.lock == "none":
            rect = QRectF(rail_x, 0, RAIL_W - 4, HEADER_H)
            painter.setFont(style.small)
            painter.setPen(style.lost)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no lock")
            return
        bottom = self.lane_rect(max(self._workers, 1)).top()
        center_x = rail_x + RAIL_W / 2 - 4
        painter.setPen(QPen(style.rail, 2, Qt.PenStyle.DotLine))
        painter.drawLine(QPointF(center_x, HEADER_H / 2), QPointF(center_x, bottom - 4))
        token = self.token_rect()
        held = self.frame is not None and self.frame.holder is not None
        fill_share = 1.0 if held else max(0.0, (self._held_until - self._wall) / HELD_FADE_S)
        owner = self.frame.holder if held and self.frame else None
        if owner is None and self.token_target >= 0:
            owner = int(self.token_target)
        color = worker_color(owner) if owner is not None else style.note
        painter.setPen(QPen(color, 2))
        painter.setBrush(blend(color, style.base, 1.0 - 0.85 * fill_share))
        painter.drawRoundedRect(token, TOKEN_H / 2, TOKEN_H / 2)
        ink = style.base if fill_share > 0.5 else style.text
        self._paint_padlock(painter, QPointF(token.left() + 16, token.center().y()), ink, held)
        painter.setFont(style.small)
        painter.setPen(ink)
        label = "held" if held else ("lock" if self.token_target <= DOCK else "free")
        painter.drawText(token.adjusted(26, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter, label)

    @staticmethod
    def _paint_padlock(painter: QPainter, center: QPointF, color: QColor, closed: bool) -> None:
        """A small padlock: a body and a shackle (open when the lock is free)."""
        painter.setPen(QPen(color, 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        shackle = QPainterPath()
        lift = 0.0 if closed else -2.5
        shackle.moveTo(center.x() - 3.5, center.y() - 1)
        shackle.lineTo(center.x() - 3.5, center.y() - 4 + lift)
        shackle.arcTo(QRectF(center.x() - 3.5, center.y() - 8 + lift, 7, 7), 180, -180)
        shackle.lineTo(center.x() + 3.5, center.y() - 1 + (0 if closed else -3))
        painter.drawPath(shackle)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(center.x() - 5.5, center.y() - 1.5, 11, 8), 1.5, 1.5)
