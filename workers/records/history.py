"""The run history: every finished run in an SQLite file in the user's data directory.

One file, ``history.sqlite3``, in ``$MPSCOPE_DATA_DIR`` if set, else the user data folder
platformdirs names for mpscope: ``$XDG_DATA_HOME/mpscope`` where that variable holds an
absolute path (Linux, other Unix and macOS), else ``~/.local/share/mpscope`` on Linux and other
Unix, ``~/Library/Application Support/mpscope`` on macOS; on Windows ``%LOCALAPPDATA%\\mpscope``.

Each row keeps the full ``mpscope run --json`` record, the machine it was measured on
(hostname, cores, Python, platform) and when, so runs from two machines can be compared.
Writes are transactions (a crash mid-write rolls back to the last commit: SQLite's journal).
A file that is not an mpscope history (garbage, another program's database, a damaged one)
is renamed aside with a timestamp, never deleted, and a fresh store is started; ``notice``
then says so in one line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import socket
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs.api import PlatformDirsABC

from mpscope.workers.events import RunStatus
from mpscope.workers.spec import cpu_count

APP_DIR = "mpscope"
FILE_NAME = "history.sqlite3"
DATA_DIR_ENV = "MPSCOPE_DATA_DIR"
APPLICATION_ID = 0x6D707363  # "mpsc": SQLite's header field naming the owning application
SCHEMA_VERSION = 1
SIDECARS = ("-journal", "-wal", "-shm")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    strategy TEXT NOT NULL,
    workload TEXT NOT NULL,
    items INTEGER NOT NULL,
    workers INTEGER NOT NULL,
    status TEXT NOT NULL,
    wall_s REAL,
    hostname TEXT,
    batch TEXT,
    source TEXT NOT NULL,
    record TEXT NOT NULL,
    machine TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_batch ON runs (batch);
"""


class HistoryError(Exception):
    """The history store cannot be used; str() is one line saying why."""


def data_dir() -> Path:
    """Where mpscope keeps its data: $MPSCOPE_DATA_DIR, else the platform's user data folder."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    local = os.environ.get("LOCALAPPDATA")
    if sys.platform == "win32" and local:
        # the variable as set (platformdirs asks the shell for the folder it normally names):
        # pointing it elsewhere moves mpscope's data, as $XDG_DATA_HOME does on Linux
        return Path(local) / APP_DIR
    return Path(_platform_dirs()(APP_DIR, appauthor=False).user_data_dir)


def _platform_dirs() -> type[PlatformDirsABC]:
    """platformdirs' folders for the platform ``sys.platform`` names at this call.

    ``platformdirs.user_data_dir`` uses the class it picked once, at import: asking per call
    lets one machine check the folder of every platform.
    """
    if sys.platform == "win32":
        from platformdirs.windows import Windows

        return Windows
    if sys.platform == "darwin":
        from platformdirs.macos import MacOS

        return MacOS
    from platformdirs.unix import Unix

    return Unix


def default_path() -> Path:
    """The history file's default location."""
    return data_dir() / FILE_NAME


def machine_info() -> dict[str, Any]:
    """This machine, as stored beside every run: hostname, cores, Python, platform."""
    return {
        "hostname": socket.gethostname(),
        "cpu_count": cpu_count(),
        "logical_cpus": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


def now_iso() -> str:
    """The current time, UTC, ISO 8601 to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class StoredRun:
    """One run read back from the store."""

    id: int
    recorded_at: str
    record: dict[str, Any]  # the mpscope run --json record (plus "repeat" in a comparison)
    machine: dict[str, Any]
    batch: str | None  # the comparison it belonged to, if any
    source: str  # "local", or where it was imported from

    def export_record(self) -> dict[str, Any]:
        """The record with its machine and time attached (what a JSON export holds)."""
        return {**self.record, "machine": self.machine, "recorded_at": self.recorded_at}


def _problem_with(path: Path) -> str | None:
    """Why the existing file at ``path`` is not a usable history store, or None if it is.

    Raises HistoryError for a store written by a newer mpscope (left untouched).
    """
    try:
        conn = sqlite3.connect(path, timeout=5.0)
    except sqlite3.Error as exc:
        raise HistoryError(f"history {path} cannot be opened: {exc}") from None
    try:  # closed here, not left to the garbage collector (3.13 warns of that)
        check = conn.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            return f"damaged (quick_check: {check[0] if check else 'no answer'})"
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        return f"not an SQLite database ({exc})"
    finally:
        conn.close()
    if app_id == 0 and not tables:
        return None  # an empty database: made ours below
    if app_id != APPLICATION_ID:
        return "another program's SQLite database, not an mpscope history"
    if version > SCHEMA_VERSION:
        raise HistoryError(
            f"history {path} was written by a newer mpscope (format {version}; this one reads "
            f"up to {SCHEMA_VERSION}); it was left untouched"
        )
    if "runs" not in tables:
        return "an mpscope history without its runs table (damaged)"
    return None


def _move_aside(path: Path) -> Path:
    """Rename ``path`` (and its journal files) to ``path.bad-TIMESTAMP``; return the new path."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.bad-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.bad-{stamp}-{n}")
    path.rename(target)
    for suffix in SIDECARS:
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


class HistoryStore:
    """The run history (one SQLite file); open it, add runs, read, delete, clear, close.

    ``notice`` is a one-line message if the file found there was unusable and was moved
    aside (show it to the user), else None. Operations raise HistoryError on failure, and on
    a store that was closed. Use it as a context manager, or close() it: its connection is
    never left for the garbage collector.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.notice: str | None = None
        self._conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size > 0:
                problem = _problem_with(self.path)
                if problem:
                    moved = _move_aside(self.path)
                    self.notice = (
                        f"history {self.path} was {problem}; it was kept as {moved.name} "
                        "and a fresh history was started"
                    )
            self._conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            self._create_schema(self._conn)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"history {self.path} cannot be used: {exc}") from None

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        """Make the tables and mark the file as an mpscope history (idempotent, one transaction).

        On failure the connection is closed before the error goes on.
        """
        try:
            conn.executescript(
                "BEGIN IMMEDIATE;" + _SCHEMA
                + f"PRAGMA application_id = {APPLICATION_ID};"
                + f"PRAGMA user_version = {SCHEMA_VERSION};COMMIT;"
            )  # fmt: skip
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
            self._conn = None
            raise

    @property
    def closed(self) -> bool:
        """True once close() was called (or opening failed): every operation then raises."""
        return self._conn is None

    def _connection(self) -> sqlite3.Connection:
        """The open connection; HistoryError once the store is closed."""
        if self._conn is None:
            raise HistoryError(f"history {self.path} is closed")
        return self._conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Everything inside commits together or not at all."""
        conn = self._connection()
        if not conn.in_transaction:
            conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if conn.in_transaction:
            conn.execute("COMMIT")

    def add(
        self,
        record: dict[str, Any],
        *,
        machine: dict[str, Any] | None = None,
        batch: str | None = None,
        source: str = "local",
    ) -> int:
        """Store one run record; returns its id."""
        return self.add_many([record], machine=machine, batch=batch, source=source)[0]

    def add_many(
        self,
        records: Iterable[dict[str, Any]],
        *,
        machine: dict[str, Any] | None = None,
        batch: str | None = None,
        source: str = "local",
    ) -> list[int]:
        """Store several records in one transaction (all or none); returns their ids.

        A record's own "machine" / "recorded_at" keys (an imported run) win over ``machine``
        (default: this machine) and now.
        """
        here = machine or machine_info()
        ids: list[int] = []
        try:
            with self._transaction() as conn:
                for record in records:
                    row = dict(record)
                    owner = row.pop("machine", None)
                    owner = owner if isinstance(owner, dict) else here
                    when = row.pop("recorded_at", None)
                    cursor = conn.execute(
                        "INSERT INTO runs (recorded_at, strategy, workload, items, workers, "
                        "status, wall_s, hostname, batch, source, record, machine) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            when if isinstance(when, str) else now_iso(),
                            row["strategy"],
                            row["workload"],
                            row["items"],
                            row["workers"],
                            row.get("status", RunStatus.FINISHED.value),
                            row.get("wall_s"),
                            owner.get("hostname"),
                            batch,
                            source,
                            json.dumps(row),
                            json.dumps(owner),
                        ),
                    )
                    assert cursor.lastrowid is not None
                    ids.append(cursor.lastrowid)
        except (sqlite3.Error, TypeError, ValueError, KeyError) as exc:
            raise HistoryError(f"history: nothing was stored: {exc}") from None
        return ids

    def runs(self, batch: str | None = None, limit: int | None = None) -> list[StoredRun]:
        """Stored runs, oldest first (only ``batch``'s if given; the newest ``limit`` if given)."""
        query = "SELECT id, recorded_at, record, machine, batch, source FROM runs"
        params: list[Any] = []
        if batch is not None:
            query += " WHERE batch = ?"
            params.append(batch)
        query += " ORDER BY id DESC"
        if limit is not None:
            query += " LIMIT ?"
            params.append(limit)
        rows = self._read(query, params)
        return [
            StoredRun(row[0], row[1], json.loads(row[2]), json.loads(row[3]), row[4], row[5])
            for row in reversed(rows)
        ]

    def get(self, run_id: int) -> StoredRun | None:
        """One stored run by id, or None."""
        rows = self._read(
            "SELECT id, recorded_at, record, machine, batch, source FROM runs WHERE id = ?",
            [run_id],
        )
        if not rows:
            return None
        row = rows[0]
        return StoredRun(row[0], row[1], json.loads(row[2]), json.loads(row[3]), row[4], row[5])

    def count(self) -> int:
        """How many runs are stored."""
        return int(self._read("SELECT COUNT(*) FROM runs", [])[0][0])

    def delete(self, run_ids: Iterable[int]) -> int:
        """Delete runs by id (one transaction); returns how many were deleted."""
        ids = list(run_ids)
        try:
            with self._transaction() as conn:
                return sum(
                    conn.execute("DELETE FROM runs WHERE id = ?", (i,)).rowcount for i in ids
                )
        except sqlite3.Error as exc:
            raise HistoryError(f"history: nothing was deleted: {exc}") from None

    def clear(self) -> int:
        """Delete every run; returns how many there were."""
        try:
            with self._transaction() as conn:
                return conn.execute("DELETE FROM runs").rowcount
        except sqlite3.Error as exc:
            raise HistoryError(f"history: nothing was deleted: {exc}") from None

    def _read(self, query: str, params: list[Any]) -> list[Any]:
        try:
            return self._connection().execute(query, params).fetchall()
        except sqlite3.Error as exc:
            raise HistoryError(f"history {self.path} cannot be read: {exc}") from None

    def close(self) -> None:
        """Close the file; the store cannot be used afterwards (closing twice is harmless)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
