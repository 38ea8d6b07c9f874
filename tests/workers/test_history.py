"""The run history: persists across re-opening, deletes, survives crashes and bad files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from mpscope.workers.records import history
from mpscope.workers.records.history import HistoryError, HistoryStore, data_dir, machine_info


def record(strategy: str = "pool-map", wall: float = 0.5, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "status": "finished", "strategy": strategy, "workload": "square", "items": 10**8,
        "workers": 2, "chunksize": 12_500_000, "start_method": "forkserver",
        "result": 333333328333333350000000, "expected": 333333328333333350000000,
        "correct": True, "wall_s": wall, "per_worker": [{"worker": 0, "pid": 7, "items": 5}],
    }  # fmt: skip
    return {**base, **extra}


def test_runs_persist_across_reopening(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as store:
        assert store.notice is None and store.count() == 0
        first = store.add(record("sequential", 1.0, repeat=1), batch="b1")
        more = store.add_many([record(wall=0.6), record(wall=0.4)], batch="b1")
        store.add(record("thread-pool", 0.9))
    with HistoryStore(path) as store:  # a new process would see the same: it is one file
        runs = store.runs()
        assert [r.id for r in runs] == [first, *more, more[-1] + 1]
        assert runs[0].record == record("sequential", 1.0, repeat=1)  # exact, big ints included
        assert runs[0].record["result"] == 333333328333333350000000
        assert runs[0].machine == machine_info() and runs[0].machine["cpu_count"] >= 1
        assert runs[0].recorded_at.endswith("+00:00") and runs[0].source == "local"
        assert [r.record["wall_s"] for r in store.runs(batch="b1")] == [1.0, 0.6, 0.4]
        assert [r.record["wall_s"] for r in store.runs(limit=2)] == [0.4, 0.9]
        got = store.get(first)
        assert got is not None and got.batch == "b1"
        assert store.get(9999) is None
        exported = got.export_record()
        assert exported["machine"]["hostname"] == machine_info()["hostname"]
        assert exported["recorded_at"] == got.recorded_at


def test_imported_runs_keep_their_machine_and_time(tmp_path: Path) -> None:
    other = {"hostname": "elsewhere", "cpu_count": 64}
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        (i,) = store.add_many(
            [record(machine=other, recorded_at="2020-01-02T03:04:05+00:00")], source="import:a"
        )
        stored = store.get(i)
    assert stored is not None
    assert stored.machine == other and stored.recorded_at == "2020-01-02T03:04:05+00:00"
    assert "machine" not in stored.record and stored.source == "import:a"


def test_delete_and_clear(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    with HistoryStore(path) as store:
        ids = store.add_many([record(wall=w) for w in (0.1, 0.2, 0.3, 0.4)])
        assert store.delete([ids[1], ids[3], 12345]) == 2
    with HistoryStore(path) as store:
        assert [r.record["wall_s"] for r in store.runs()] == [0.1, 0.3]
        assert store.clear() == 2
    with HistoryStore(path) as store:
        assert store.count() == 0 and store.runs() == []


def test_a_closed_store_refuses_every_operation_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    store = HistoryStore(path)
    store.add(record())
    store.close()
    store.close()  # twice is harmless
    assert store.closed
    for operation in (
        store.count, store.runs, lambda: store.get(1), lambda: store.add(record()),
        lambda: store.delete([1]), store.clear,
    ):  # fmt: skip
        with pytest.raises(HistoryError, match="is closed") as info:
            operation()
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    with HistoryStore(path) as reopened:  # nothing was lost by closing
        assert reopened.count() == 1


def test_a_failing_batch_stores_nothing(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        store.add(record(wall=0.1))
        bad = record()
        del bad["strategy"]
        with pytest.raises(HistoryError, match="nothing was stored"):
            store.add_many([record(wall=0.2), bad, record(wall=0.3)])
        assert [r.record["wall_s"] for r in store.runs()] == [0.1]
        store.add(record(wall=0.5))  # the store is still usable
        assert store.count() == 2


@pytest.mark.timeout(60)
def test_a_crash_mid_write_leaves_the_store_intact(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    script = textwrap.dedent(f"""
        import os
        from mpscope.workers.records.history import HistoryStore
        store = HistoryStore({str(path)!r})
        store.add_many([{record(wall=0.1)!r}, {record(wall=0.2)!r}])   # committed

        def runs():
            for i in range(5):
                yield {record(wall=9.0)!r}
            os._exit(9)   # the process dies inside the transaction

        store.add_many(runs())
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    assert proc.returncode == 9, proc.stderr
    assert path.with_name(path.name + "-journal").exists()  # a hot journal: the write was cut
    with HistoryStore(path) as store:
        assert store.notice is None
        assert [r.record["wall_s"] for r in store.runs()] == [0.1, 0.2]
    with closing(sqlite3.connect(path)) as conn, conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _bad_files(tmp_path: Path, path: Path) -> list[Path]:
    return sorted(p for p in tmp_path.iterdir() if p.name.startswith(path.name + ".bad-"))


def test_a_garbage_file_is_kept_aside_and_a_fresh_store_started(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    garbage = b"this is not a database\n" * 200
    path.write_bytes(garbage)
    with HistoryStore(path) as store:
        assert store.notice is not None and "\n" not in store.notice
        assert "not an SQLite database" in store.notice and "fresh" in store.notice
        (aside,) = _bad_files(tmp_path, path)
        assert aside.name in store.notice and str(path) in store.notice
        assert aside.read_bytes() == garbage  # never lost
        assert store.count() == 0
        store.add(record())
    with HistoryStore(path) as store:
        assert store.notice is None and store.count() == 1


def test_a_foreign_sqlite_database_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE users (name TEXT)")
        conn.execute("INSERT INTO users VALUES ('ada')")
    with HistoryStore(path) as store:
        assert store.notice is not None and "another program's SQLite database" in store.notice
        assert store.count() == 0
    (aside,) = _bad_files(tmp_path, path)
    with closing(sqlite3.connect(aside)) as conn, conn:
        assert conn.execute("SELECT name FROM users").fetchall() == [("ada",)]
    # a second bad file the same second gets its own name
    path.write_bytes(b"garbage")
    with HistoryStore(path) as store:
        assert store.notice is not None
    assert len(_bad_files(tmp_path, path)) == 2


def test_a_store_from_a_newer_mpscope_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path) as store:
        store.add(record())
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(f"PRAGMA user_version = {history.SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(HistoryError, match="newer mpscope") as info:
        HistoryStore(path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before and not _bad_files(tmp_path, path)


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.touch()
    with HistoryStore(path) as store:
        assert store.notice is None and store.count() == 0


def test_an_unusable_place_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HistoryError) as info:
        HistoryStore(blocker / "history.sqlite3")  # its folder is a file
    assert "\n" not in str(info.value) and "cannot be used" in str(info.value)


def test_data_dir_follows_the_environment_and_the_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MPSCOPE_DATA_DIR", str(tmp_path / "mine"))
    assert data_dir() == tmp_path / "mine"
    with HistoryStore() as store:
        assert store.path == tmp_path / "mine" / "history.sqlite3" and store.path.exists()
    monkeypatch.delenv("MPSCOPE_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "mpscope"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # the XDG spec says: ignore it
    assert data_dir() == tmp_path / ".local" / "share" / "mpscope"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert data_dir() == tmp_path / "Library" / "Application Support" / "mpscope"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert data_dir() == tmp_path / "Local" / "mpscope"
