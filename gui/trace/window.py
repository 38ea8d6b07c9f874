"""The window of ``mpscope trace`` (live) and ``mpscope open FILE`` (a replay).

On the left, the pools the program made (pick one) and its other processes; on the right, the
selected pool on the Live page's four views (throughput per worker, progress, timeline,
resources) and the calls the program made on it. Above them a line says what the window is,
and a banner says what went wrong (a worker killed under a pool: ``TraceModel.notes()``).
Live, ``LiveFeed`` drains the recorder into the window's ``TraceModel``; replayed, a
``TraceReplay`` gives the model of any moment and the ``ReplayBar`` picks the moment. The
views redraw as in the main window: one view per tick, at the pace ``RedrawPacer`` allows.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QSizePolicy, QWidget

from mpscope.gui.main import has_display
from mpscope.gui.naming import named
from mpscope.gui.redraw_pacer import RedrawPacer
from mpscope.gui.trace.live_feed import LiveFeed, Program, Recorder
from mpscope.gui.trace.pool_run import PoolRunModel, TraceSeries, event_time, pool_end
from mpscope.gui.trace.replay import TraceReplay
from mpscope.gui.trace.replay_bar import ReplayBar
from mpscope.gui.trace.trace_layout import LIVE_HELP, build_layout
from mpscope.gui.trace.trace_texts import program_name, root_process, since
from mpscope.gui.views import LiveView, ProgressView, ResourcesPlot, ThroughputPlot, TimelinePlot
from mpscope.workers.events import describe_exitcode
from mpscope.workers.trace.model import PoolTrace, TraceModel
from mpscope.workers.units import format_count

EXIT_BAD_FILE = 2
MAX_SEEK_DELAY_MS = 300
QUIET_S = 1.0  # after a change the views keep redrawing this long (a round of all four)
SIZE_SHARE = 0.9  # of the screen's available area, up to MAX_SIZE
MAX_SIZE, MIN_SIZE = (1600, 1000), (1100, 700)
IDLE_HINTS = {
    "throughputPlot": "Waiting for the program's first pool: items per second, in all and per "
    "worker",
    "timelinePlot": "Waiting for the program's first pool: a bar for every task each worker ran",
    "resourcesPlot": "Waiting for the program's first pool: CPU and memory of its processes",
}


class TraceWindow(QMainWindow):
    """A traced program's pools: the list, the selected pool on the four views, its calls."""

    def __init__(self, script: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("traceWindow")
        self.script = script
        self.setWindowTitle(f"mpscope trace — {script}")
        self.trace = TraceModel()  # the program as the window shows it (live: as it arrives)
        self.replay: TraceReplay | None = None
        self.replay_bar: ReplayBar | None = None
        self.program_over = False
        self.program_end: float | None = None  # when it ended, on the packets' clock
        self.program_exit: int | None = None
        self._ended_message = ""
        self.live_since: float | None = None  # live: when the watching began (perf_counter)
        self.model = PoolRunModel(self)
        self.series = TraceSeries()
        self.view_widgets: list[QWidget] = [
            ThroughputPlot(self.model),
            ProgressView(self.model),
            TimelinePlot(self.model),
            ResourcesPlot(self.model, series=self.series, owner_name="owner"),
        ]
        self.views = [view for view in self.view_widgets if isinstance(view, LiveView)]
        for view in self.view_widgets:  # before the first pool: what each will show
            hint, text = getattr(view, "idle_hint", None), IDLE_HINTS.get(view.objectName())
            if hint is not None and text is not None:
                hint.setText(text)
        waiting = getattr(self.view_widgets[1], "eta_label", None)  # the progress view's "idle"
        if isinstance(waiting, QLabel):
            waiting.setText("waiting for the program's first pool")
        self.parts = build_layout(self, self.view_widgets)
        self.pool_list = self.parts.pools
        self.pool_list.pool_selected.connect(lambda _key: self._show_selected())
        self.status_text = named(QLabel(), "traceStatus")
        self.status_text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status_text.setToolTip(
            "The program's pools, workers and finished tasks so far; at the end, how the "
            "program ended and where its trace was saved (mpscope open FILE replays it; "
            "Perfetto and chrome://tracing open it too)"
        )
        self.statusBar().addWidget(self.status_text, 1)
        self._build_menu()
        self.pacer = RedrawPacer()
        self.redraw_timer = QTimer(self)
        self.redraw_timer.setSingleShot(True)
        self.redraw_timer.timeout.connect(self._redraw_tick)
        self._next_view = 0
        self._quiet_at = 0.0
        self._extents: dict[str, float] = {}  # replay: where each pool's time axis ends
        self._closing = False
        self._pending_seek = 0.0
        self._seek_delay_ms = 0
        self._seek_timer = QTimer(self)
        self._seek_timer.setSingleShot(True)
        self._seek_timer.timeout.connect(self._apply_seek)
        self._size_to_screen()
        self.refresh_trace()

    # -- building -------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        self.file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Close", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Close)
        quit_action.triggered.connect(self.close)
        self.file_menu.addAction(quit_action)

    def _size_to_screen(self) -> None:
        area = self.screen().availableGeometry()
        width = max(min(round(area.width() * SIZE_SHARE), MAX_SIZE[0]), MIN_SIZE[0])
        height = max(min(round(area.height() * SIZE_SHARE), MAX_SIZE[1]), MIN_SIZE[1])
        self.resize(min(width, area.width()), min(height, area.height()))
        frame = self.frameGeometry()
        frame.moveCenter(area.center())
        self.move(frame.topLeft())

    # -- replay ---------------------------------------------------------------------------------
    def start_replay(self, replay: TraceReplay, source: str) -> None:
        """Show ``replay`` (read from ``source``), at its end, with the slider to scrub it."""
        self.replay = replay
        self.program_over = True
        self.program_end = replay.end
        self._extents = {key: _extent(pool, replay.end) for key, pool in replay.whole.pools.items()}
        bar = self.replay_bar = ReplayBar(replay.duration, self)
        self.parts.add_replay_bar(bar)
        bar.moved.connect(self._on_replay_moved)
        bar.playing_changed.connect(lambda _playing: self._kick())
        for keys, act in (
            ("Space", bar.toggle),
            ("Left", lambda: bar.step(-1)),
            ("Right", lambda: bar.step(1)),
            ("Shift+Left", lambda: bar.step(-10)),
            ("Shift+Right", lambda: bar.step(10)),
            ("Home", lambda: bar.seek(0.0)),
            ("End", lambda: bar.seek(bar.duration_s)),
        ):
            action = QAction(self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(act)
            self.addAction(action)
        self.parts.set_help(
            f"A replay of {source}: the pools {self.script} made, as its processes told them. "
            "Pick a pool on the left; drag the slider (or Space to play, Left / Right to step) "
            "to see any moment. Times on the views: seconds since the pool was made."
        )
        self.trace = replay.seek(replay.end)
        self.refresh_trace()

    @property
    def shown_at(self) -> float | None:
        """The replay's moment the window shows, in seconds since the program started."""
        return None if self.replay is None else self.replay.t - self.replay.start

    def _on_replay_moved(self, seconds: float) -> None:
        # coalesced: a drag asks for many moments; going back means folding the trace again
        # from its start, so a costly move waits as long as it took before the next one
        self._pending_seek = seconds
        if not self._seek_timer.isActive():
            self._seek_timer.start(self._seek_delay_ms)

    def _apply_seek(self) -> None:
        if self.replay is None or self._closing:
            return
        started = time.perf_counter()
        self.trace = self.replay.seek(self.replay.start + self._pending_seek)
        self.refresh_trace()
        cost_ms = (time.perf_counter() - started) * 1000
        self._seek_delay_ms = min(round(cost_ms), MAX_SEEK_DELAY_MS) if cost_ms > 20 else 0

    # -- live -------------------------------------------------------------------------------------
    def program_ended(
        self, exit_code: int | None, ended_at: float, started_at: float, out_path: Any = None
    ) -> None:
        """The program is over: freeze the clock there and say how it ended in the status bar."""
        self.program_over = True
        self.program_end, self.program_exit = ended_at, exit_code
        words = describe_exitcode(exit_code)
        if exit_code is not None and exit_code < 0:
            words = "was " + words
        message = f"{self.script} {words} after {ended_at - started_at:.1f} s"
        if out_path:
            message += f"; trace saved to {out_path}"
        self._ended_message = message
        self.refresh_trace()

    # -- showing the trace ----------------------------------------------------------------------
    @property
    def all_pools(self) -> dict[str, PoolTrace]:
        """Every pool there is to list: the whole trace's in a replay, else those seen so far."""
        return self.replay.whole.pools if self.replay is not None else self.trace.pools

    def refresh_trace(self) -> None:
        """Bring the lists, the banner, the status and the selected pool up to the trace."""
        if self._closing:
            return
        trace = self.trace
        t0 = self.replay.start if self.replay is not None else trace.t0
        if self.script == "program" and (root := root_process(trace)) is not None:
            self.script = program_name(root).split()[0]
            self.setWindowTitle(f"mpscope trace — {self.script}")
            self.parts.set_help(LIVE_HELP.format(script=self.script))
        self.pool_list.update_pools(self.all_pools, trace, t0)
        # in a replay the program is over only at the trace's end
        over = self.program_over if self.replay is None else self.replay.at_end
        self.parts.processes.update(
            trace, t0, over, self.program_exit, self.program_end if over else None
        )
        self.parts.set_notes(trace.notes())
        self.status_text.setText(self._status(trace))
        self._show_selected()

    def _show_selected(self) -> None:
        key = self.pool_list.selected_key
        pool = self.all_pools.get(key) if key is not None else None
        if pool is None:
            return
        trace = self.trace
        current = trace.pools.get(pool.key)
        model = self.model
        if self.replay is not None:
            model.moving, model.now_t = False, self.replay.t
            model.extent_t = self._extents.get(pool.key)
            program_end = self.replay.end if self.replay.at_end else None
        else:
            model.moving, model.now_t = not self.program_over, self.program_end
            program_end = self.program_end
        model.show(pool, current, program_end)
        self.series.update(trace, current or pool)
        t0 = self.replay.start if self.replay is not None else trace.t0
        self.parts.calls.show_pool(current, pool.key, t0)
        self.parts.set_pool_heading(pool, t0)
        self._kick()

    def _status(self, trace: TraceModel) -> str:
        pools = f"{len(trace.pools)} pool{'s' if len(trace.pools) != 1 else ''}"
        figures = (
            f"{pools} · {trace.workers()} workers · {format_count(trace.tasks())} tasks finished"
        )
        if self.replay is not None:
            at = since(self.replay.t, self.replay.start)
            return f"{self.script} at {at} of {self.replay.duration:.2f} s · {figures}"
        if self.program_over:
            return f"{self._ended_message} · {figures}"
        now = time.perf_counter()
        watched = max(now - (self.live_since or now), 0.0)
        return f"watching {self.script} for {watched:.1f} s · {figures}"

    # -- redrawing --------------------------------------------------------------------------------
    def _kick(self) -> None:
        """Something changed: redraw the views in turn for a while."""
        self._quiet_at = time.monotonic() + QUIET_S
        if not self.redraw_timer.isActive() and not self._closing:
            self.redraw_timer.start(0)

    def redraw(self) -> None:
        """Refresh every view now."""
        for view in self.views:
            view.refresh()

    def _redraw_tick(self) -> None:
        if self._closing:
            return
        if not self.isMinimized() and self.views:
            self._next_view %= len(self.views)
            self.views[self._next_view].refresh()
            self._next_view += 1
        playing = self.replay_bar is not None and self.replay_bar.playing
        if self.model.live or playing or time.monotonic() < self._quiet_at:
            interval = self.pacer.next_interval_ms() / len(self.views)
            self.redraw_timer.start(max(round(interval), 1))

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the timers; the program (live) goes on as it would without the window."""
        self._closing = True
        self.redraw_timer.stop()
        self._seek_timer.stop()
        if self.replay_bar is not None:
            self.replay_bar.pause()
        for feed in self.findChildren(LiveFeed):
            feed.stop()
        event.accept()


def _extent(pool: PoolTrace, trace_end: float) -> float:
    """Where a pool's time axis ends in a replay: its end, or the trace's if never closed."""
    latest = max((event_time(e) for e in pool.events), default=pool.t_open)
    end = pool_end(pool, trace_end, latest)
    return end.t if end is not None else trace_end


def guess_script(argv: Sequence[str]) -> str:
    """The script (or ``-m`` module) a command line runs, for the title ("etl.py")."""
    words = list(argv)
    if words and os.path.basename(words[0]).startswith("python"):
        words = words[1:]
    for i, word in enumerate(words):
        if word == "-m" and i + 1 < len(words):
            return words[i + 1]
        if not word.startswith("-"):
            return os.path.basename(word)
    return "program"


def _ensure_app() -> Any:
    from mpscope.gui.app import ensure_application

    return ensure_application()


def run_trace_window(recorder: Recorder, program: Program, script: str | None = None) -> None:
    """The live window: watch ``program``'s pools as ``recorder`` gathers them, until closed.

    ``recorder.drain()`` gives the packets that came since the last call; ``program.poll()``
    None while it runs, then its exit code. The window stays open once the program has ended.
    """
    app = _ensure_app()
    args = getattr(program, "args", None)
    window = TraceWindow(script or (guess_script(args) if isinstance(args, list) else "program"))
    feed = LiveFeed(window, recorder, program)
    window.show()
    feed.start()
    app.exec()
    feed.stop()


def load_replay(path: str | os.PathLike[str]) -> TraceReplay:
    """The trace file at ``path``, ready to replay (raises ``TraceFileError`` if bad)."""
    from mpscope.workers.trace.chrome import read_packets

    return TraceReplay(read_packets(Path(path)))


def replay_window(replay: TraceReplay, name: str) -> TraceWindow:
    """A window replaying ``replay`` (read from the file ``name``), at the trace's end."""
    root = root_process(replay.whole)
    script = program_name(root).split()[0] if root is not None else name
    window = TraceWindow(script)
    window.start_replay(replay, name)
    return window


def open_trace_window(path: str | os.PathLike[str]) -> int:
    """``mpscope open FILE``: replay a saved trace in the window until it is closed; 2 (and
    one line on stderr) if the file is not a trace mpscope can read, or there is no display."""
    from mpscope.workers.trace.chrome import TraceFileError

    try:
        replay = load_replay(path)
    except TraceFileError as error:
        print(f"mpscope open: {error}", file=sys.stderr)
        return EXIT_BAD_FILE
    if not has_display():
        print(
            "mpscope open: no display found: set QT_QPA_PLATFORM=offscreen to run the window "
            "without a screen",
            file=sys.stderr,
        )
        return EXIT_BAD_FILE
    app = _ensure_app()
    window = replay_window(replay, Path(path).name)
    window.show()
    app.exec()
    return 0
