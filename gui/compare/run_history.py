"""RunHistory: the window's side of the history store (``mpscope.workers.records.history``).

It opens the store once, keeps the stored runs in memory for the history view, stores each run
that ends, deletes and clears, and turns every ``HistoryError`` into one line for the user
instead of an exception. A store that cannot be opened at all (a read-only disk, a file from a
newer mpscope) is replaced by an in-memory one for this session, and ``notice`` says so: runs
are still compared and listed, just not kept.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from mpscope.workers.compare.summary import (
    CellKey,
    CellSummary,
    cell_key,
    hostname_of,
    is_baseline,
    is_good,
    job_key,
    summarize,
)
from mpscope.workers.records.history import HistoryError, HistoryStore, StoredRun, machine_info
from mpscope.workers.spec import RunSpec, problem_of

IN_MEMORY = ":memory:"


def same_problem(record: dict[str, Any], spec: RunSpec) -> bool:
    """True if ``record`` computed the job ``spec`` describes (``problem_of``: workload,
    items, the job's parameters, the user's function and inputs)."""
    return all(record.get(name) == value for name, value in problem_of(spec).items())


class RunHistory(QObject):
    """Every stored run, newest last in ``runs``; changes announced by ``changed``."""

    # fires after runs were added, deleted or cleared (the argument: how many runs are stored)
    changed = Signal(int)
    # fires just before ``changed`` when runs were added: the new StoredRuns, oldest first (a
    # long history's table adds their rows instead of redoing every row)
    added = Signal(list)
    # fires with a one-line message when a store operation failed (nothing was changed)
    failed = Signal(str)

    def __init__(self, path: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.machine = machine_info()
        self.notice: str | None = None
        try:
            self._store = HistoryStore(path)
            self.notice = self._store.notice
        except HistoryError as exc:
            self._store = HistoryStore(IN_MEMORY)
            self.notice = f"{exc}; runs are kept for this session only"
        self.persistent = str(self._store.path) != IN_MEMORY
        self.runs: list[StoredRun] = []
        self._closed = False
        self._reload()

    @property
    def location(self) -> str:
        """Where the runs are kept, for the user."""
        return str(self._store.path) if self.persistent else "memory (not kept after you quit)"

    def _reload(self) -> None:
        try:
            self.runs = self._store.runs()
        except HistoryError as exc:
            self.runs = []
            self.failed.emit(str(exc))

    def add(self, record: dict[str, Any], batch: str | None = None) -> StoredRun | None:
        """Store one run of this machine; the stored run, or None if storing failed."""
        return next(iter(self.add_many([record], batch=batch)), None)

    def add_many(
        self, records: list[dict[str, Any]], batch: str | None = None, source: str = "local"
    ) -> list[StoredRun]:
        """Store several runs at once (all or none); the stored runs ([] if it failed)."""
        if self._closed or not records:
            return []
        try:
            ids = self._store.add_many(records, machine=self.machine, batch=batch, source=source)
            stored = [run for run in (self._store.get(i) for i in ids) if run is not None]
        except HistoryError as exc:
            self.failed.emit(str(exc))
            return []
        self.runs.extend(stored)
        self.added.emit(stored)
        self.changed.emit(len(self.runs))
        return stored

    def delete(self, ids: list[int]) -> int:
        """Delete runs by id; how many were deleted (0 and ``failed`` if it failed)."""
        if self._closed or not ids:
            return 0
        try:
            deleted = self._store.delete(ids)
        except HistoryError as exc:
            self.failed.emit(str(exc))
            return 0
        gone = set(ids)
        self.runs = [run for run in self.runs if run.id not in gone]
        self.changed.emit(len(self.runs))
        return deleted

    def clear(self) -> int:
        """Delete every run; how many there were."""
        if self._closed:
            return 0
        try:
            deleted = self._store.clear()
        except HistoryError as exc:
            self.failed.emit(str(exc))
            return 0
        self.runs = []
        self.changed.emit(0)
        return deleted

    def sequential_wall_s(self, spec: RunSpec) -> float | None:
        """Wall time of the latest correct sequential run of ``spec``'s job on this machine."""
        host = self.machine.get("hostname")
        for run in reversed(self.runs):
            record = run.export_record()
            if (
                is_baseline(record.get("strategy"))
                and is_good(record)
                and hostname_of(record) == host
                and same_problem(record, spec)
            ):
                return float(record["wall_s"])
        return None

    def repeats_of(self, record: dict[str, Any]) -> CellSummary | None:
        """The stored runs of ``record``'s setting on this machine, summed up.

        ``record`` is a run's flat record (``RunTally.summary()``); its setting is its
        ``cell_key`` here (strategy, job, N, K, chunksize, start method, this machine). The
        setting's runs and the job's sequential runs go through ``summarize``, so the spread
        (``speedup_min`` / ``speedup_max`` over ``ok`` good runs) is the Compare page's own.
        None if no run of the setting is stored.
        """
        key = _key_or_none({**record, "machine": self.machine})
        if key is None:
            return None
        chosen: list[dict[str, Any]] = []
        for run in self.runs:
            stored = run.export_record()
            other = _key_or_none(stored)
            if other is not None and (
                other == key or (is_baseline(other[5]) and job_key(stored) == key[:5])
            ):
                chosen.append(stored)
        return next(
            (cell for cell in summarize(chosen) if _cell_key_of(cell) == key[5:]),
            None,
        )

    def close(self) -> None:
        """Close the store (the window is closing); later calls do nothing."""
        if not self._closed:
            self._closed = True
            self._store.close()


def _key_or_none(record: dict[str, Any]) -> CellKey | None:
    """``cell_key(record)``, or None for a record that lacks a field of it (a partial import)."""
    try:
        return cell_key(record)
    except KeyError:
        return None


def _cell_key_of(cell: CellSummary) -> tuple[Any, ...]:
    """The setting part of a summary's key (strategy, workers, chunksize, start method)."""
    return (cell.strategy, cell.workers, cell.chunksize, cell.start_method)
