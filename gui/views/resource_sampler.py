"""ResourceSampler: CPU % per worker lane and memory per process of a live run, via psutil.

It samples on its own QTimer a few times per second while the run is live and stops when
the run ends. Worker processes come and go at any moment: a process that vanished or that
may not be read is dropped quietly. Each sample costs well under a millisecond per process.
"""

from __future__ import annotations

import psutil
from PySide6.QtCore import QObject, QTimer, Signal

from mpscope.gui.lane_series import GrowableArray
from mpscope.gui.run_model import RunModel

SAMPLE_INTERVAL_MS = 250
# a run's first second is sampled faster, so a short run still gets a CPU line
START_INTERVAL_MS = 100
START_PHASE_S = 1.0
CONDUCTOR = -1  # series key of the conductor process (lanes use their index)
ALL_WORKERS = -2  # series key of every worker together (CPU and RSS summed per sample)
# past this many processes a sample costs several ms of the window's thread (psutil reads
# /proc for each): they are sampled half as often
MANY_PROCESSES = 16
MIB = 2**20
MIN_CPU_INTERVAL_S = 0.15  # CPU times tick in 10 ms steps: shorter intervals are mostly noise


class WorkersTick:
    """One sample's figures of every worker together: CPU % and RSS summed (None: none came;
    a thread-pool's workers have no memory of their own)."""

    def __init__(self) -> None:
        self.cpu: float | None = None
        self.rss: float | None = None

    def add_cpu(self, percent: float) -> None:
        """One worker's CPU % this sample."""
        self.cpu = (self.cpu or 0.0) + percent

    def add_rss(self, mib: float) -> None:
        """One worker process's RSS this sample."""
        self.rss = (self.rss or 0.0) + mib


class ResourceSampler(QObject):
    """Samples the run's processes (and the thread-pool's threads) while the run is live.

    Series are keyed by lane index (``CONDUCTOR`` for the conductor) and hold rows of
    (seconds since the run started, value): ``cpu`` in % of one core, ``memory`` in MiB.
    Lanes that are threads of the conductor (thread-pool) get their CPU from the thread's
    own times (``psutil.Process.threads()``, matched on the native thread id) and share
    the conductor's memory, so they have no memory series of their own.
    """

    # emitted after every sample that recorded anything
    sampled = Signal()

    def __init__(
        self, model: RunModel, interval_ms: int = SAMPLE_INTERVAL_MS, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._model = model
        self._interval_ms = interval_ms
        self._timer = QTimer(self)
        self._timer.setInterval(min(START_INTERVAL_MS, interval_ms))
        self._timer.timeout.connect(self.sample)
        self._generation = model.generation
        self._known_pids: set[int] = set()
        self._processes: dict[int, psutil.Process] = {}
        self._gone: set[int] = set()
        self._last_cpu: dict[tuple[int, int | None], tuple[float, float]] = {}
        self.cpu: dict[int, GrowableArray] = {}
        self.memory: dict[int, GrowableArray] = {}
        self.samples = 0  # samples that recorded anything, this run
        self.sampled_pids: set[int] = set()
        self._tick = WorkersTick()
        model.changed.connect(self._on_model_changed)
        model.ended.connect(self._on_model_ended)

    @property
    def active(self) -> bool:
        """True while the timer samples."""
        return self._timer.isActive()

    def stop(self) -> None:
        """Stop sampling (the run ended, or the window closes)."""
        self._timer.stop()

    def clear(self) -> None:
        """Forget everything sampled (a new run)."""
        self._known_pids.clear()
        self._processes.clear()
        self._gone.clear()
        self._last_cpu.clear()
        self.cpu.clear()
        self.memory.clear()
        self.samples = 0
        self.sampled_pids.clear()
        self._generation = self._model.generation
        self._timer.setInterval(min(START_INTERVAL_MS, self._interval_ms))

    # -- following the model --------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        model = self._model
        if model.generation != self._generation:
            self.stop()
            self.clear()
        if not model.live or model.started is None:
            return
        if not self._timer.isActive():
            self._timer.start()
        pids = set(model.worker_pids().values())
        if not pids <= self._known_pids:
            self.sample()  # a worker just announced itself: show its memory at once

    def _on_model_ended(self, _state: str) -> None:
        self.stop()

    # -- sampling -------------------------------------------------------------------------------
    def _process(self, pid: int) -> psutil.Process | None:
        proc = self._processes.get(pid)
        if proc is None and pid not in self._gone:
            try:
                proc = self._processes[pid] = psutil.Process(pid)
            except psutil.Error:
                self._gone.add(pid)
        return proc

    def _cpu_percent(self, key: tuple[int, int | None], t: float, seconds: float) -> float | None:
        last = self._last_cpu.get(key)
        if last is None:
            self._last_cpu[key] = (t, seconds)
            return None
        if t - last[0] < MIN_CPU_INTERVAL_S:
            return None
        self._last_cpu[key] = (t, seconds)
        return max(0.0, 100.0 * (seconds - last[1]) / (t - last[0]))

    def _record(self, series: dict[int, GrowableArray], key: int, row: tuple[float, float]) -> None:
        array = series.get(key)
        if array is None:
            array = series[key] = GrowableArray(2, capacity=64)
        array.append(row)

    def sample(self) -> None:
        """Take one sample of every live process of the run (quietly skipping vanished ones)."""
        model = self._model
        conductor = model.conductor_pid
        if conductor is None:
            return
        t = model.now()
        lanes_by_pid: dict[int, list[int]] = {conductor: []}
        for index, pid in model.worker_pids().items():
            lanes_by_pid.setdefault(pid, []).append(index)
        steady = self._interval_ms * (2 if len(lanes_by_pid) > MANY_PROCESSES else 1)
        if t > START_PHASE_S and self._timer.interval() != steady:
            self._timer.setInterval(steady)  # past the start: the steady pace
        self._known_pids = set(lanes_by_pid)
        recorded = False
        self._tick = WorkersTick()
        for pid, lane_indexes in lanes_by_pid.items():
            proc = self._process(pid)
            if proc is None:
                continue
            try:
                recorded |= self._sample_process(proc, pid == conductor, lane_indexes, t)
            except psutil.Error:  # vanished, zombie, or not ours to read
                self._gone.add(pid)
                self._processes.pop(pid, None)
        if recorded:
            if self._tick.cpu is not None:
                self._record(self.cpu, ALL_WORKERS, (t, self._tick.cpu))
            if self._tick.rss is not None:
                self._record(self.memory, ALL_WORKERS, (t, self._tick.rss))
            self.samples += 1
            self.sampled.emit()

    def _sample_process(
        self, proc: psutil.Process, is_conductor: bool, lane_indexes: list[int], t: float
    ) -> bool:
        workers = self._model.workers
        thread_lanes = [i for i in lane_indexes if workers[i].thread is not None]
        with proc.oneshot():
            times = proc.cpu_times()
            rss_mib = proc.memory_info().rss / MIB
            threads = (
                {th.id: th.user_time + th.system_time for th in proc.threads()}
                if (thread_lanes)
                else {}
            )
        self.sampled_pids.add(proc.pid)
        own_key = CONDUCTOR if is_conductor else lane_indexes[0] if lane_indexes else None
        if own_key is None:
            return False
        self._record(self.memory, own_key, (t, rss_mib))
        process_cpu = self._cpu_percent((proc.pid, None), t, times.user + times.system)
        if not is_conductor:
            self._tick.add_rss(rss_mib)
        if process_cpu is not None:
            self._record(self.cpu, own_key, (t, process_cpu))
            if not is_conductor:
                self._tick.add_cpu(process_cpu)
            for index in lane_indexes:
                if workers[index].thread is None and index != own_key:
                    self._record(self.cpu, index, (t, process_cpu))  # a lane in the conductor
        for index in thread_lanes:
            seconds = threads.get(workers[index].thread or 0)
            if seconds is None:
                continue
            thread_cpu = self._cpu_percent((proc.pid, workers[index].thread), t, seconds)
            if thread_cpu is not None:
                self._record(self.cpu, index, (t, thread_cpu))
                self._tick.add_cpu(thread_cpu)
        return True
