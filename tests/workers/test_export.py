"""Export of the results table (CSV, JSON) and import of a JSON export."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from mpscope.workers.records.export import (
    FORMAT,
    TABLE_COLUMNS,
    ResultsFileError,
    read_json,
    results_document,
    results_table,
    write_csv,
    write_json,
)
from mpscope.workers.records.history import HistoryStore, machine_info

BIG = 333333328333333350000000


def run(strategy: str, workers: int, wall: float, repeat: int = 1, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "status": "finished", "strategy": strategy, "workload": "square", "items": 10**8,
        "workers": workers, "chunksize": None if strategy == "sequential" else 12_500_000,
        "start_method": "forkserver", "result": BIG, "expected": BIG, "correct": True,
        "wall_s": wall, "cpu_s": wall * workers, "startup_s": 0.2, "teardown_s": 0.01,
        "items_per_s": round(10**8 / wall, 1), "probe_cpu_s": 0.001, "events": 12,
        "per_worker": [{"worker": 0, "pid": 41, "items": 10**8, "busy_s": wall, "cpu_s": None}],
        "repeat": repeat,
    }  # fmt: skip
    record.update(extra)
    return record


RUNS = [
    run("sequential", 1, 8.0, 1), run("pool-map", 2, 4.5, 1), run("thread-pool", 2, 11.0, 1),
    run("sequential", 1, 7.0, 2), run("pool-map", 2, 3.5, 2),
    {**run("thread-pool", 2, 1.0, 2), "status": "failed", "error": "worker 1 died",
     "correct": None, "wall_s": None, "items_per_s": None},
]  # fmt: skip


def test_results_table_has_a_speedup_per_run_against_the_sequential_median() -> None:
    rows = results_table(RUNS)
    assert [list(row) for row in rows] == [[key for key, _ in TABLE_COLUMNS]] * len(RUNS)
    assert [row["speedup"] for row in rows] == [
        pytest.approx(7.5 / 8.0), pytest.approx(7.5 / 4.5), pytest.approx(7.5 / 11.0),
        pytest.approx(7.5 / 7.0), pytest.approx(7.5 / 3.5), None,
    ]  # fmt: skip
    assert rows[1]["repeat"] == 1 and rows[4]["repeat"] == 2
    assert rows[5]["status"] == "failed" and rows[5]["wall_s"] is None


def test_json_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_json(path, RUNS, verdict="pool-map is 2.1x faster")
    doc = json.loads(path.read_text())
    assert doc["format"] == FORMAT and doc["version"] == 1
    assert doc["machine"] == machine_info() and doc["verdict"] == "pool-map is 2.1x faster"
    assert [(s["strategy"], s["ok"], s["runs"]) for s in doc["summary"]] == [
        ("sequential", 2, 2),
        ("pool-map", 2, 2),
        ("thread-pool", 1, 2),
    ]
    back = read_json(path)
    assert back == [{**r, "machine": machine_info()} for r in RUNS]  # exact: big ints too
    assert back[0]["result"] == BIG and isinstance(back[0]["result"], int)
    assert not list(tmp_path.glob(".results.json.*"))  # no temporary file left


def test_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    write_csv(path, RUNS)
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == [key for key, _ in TABLE_COLUMNS]
        rows = list(reader)
    expected = results_table(RUNS)
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        assert got["strategy"] == want["strategy"] and int(got["items"]) == want["items"]
        assert int(got["workers"]) == want["workers"] and int(got["repeat"]) == want["repeat"]
        for key in ("wall_s", "cpu_s", "items_per_s", "speedup"):
            assert (float(got[key]) if got[key] else None) == want[key]  # repr: exact floats
        assert got["correct"] == str(want["correct"] if want["correct"] is not None else "")
        assert got["chunksize"] == ("" if want["chunksize"] is None else str(want["chunksize"]))


def test_runs_from_another_machine_import_into_the_history(tmp_path: Path) -> None:
    other = {**machine_info(), "hostname": "big-box", "cpu_count": 64}
    exported = tmp_path / "big-box.json"
    write_json(exported, RUNS, machine=other)
    imported = read_json(exported)
    assert all(r["machine"]["hostname"] == "big-box" for r in imported)
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        store.add_many(imported, source=f"import:{exported.name}")
        store.add_many(RUNS[:2])  # and a local pair
        again = tmp_path / "mixed.json"
        write_json(again, [r.export_record() for r in store.runs()])
    mixed = read_json(again)
    here = machine_info()["hostname"]
    assert [r["machine"]["hostname"] for r in mixed] == ["big-box"] * 6 + [here] * 2
    doc = json.loads(again.read_text())
    hosts = {(s.get("hostname"), s["strategy"]) for s in doc["summary"]}
    assert ("big-box", "pool-map") in hosts and (here, "pool-map") in hosts


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "import.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


GOOD_RUN = json.dumps(run("pool-map", 2, 1.0))


@pytest.mark.parametrize(
    ("content", "names"),
    [
        ("", ["the file is empty"]),
        ('{"format": "mpscope-results", "runs": [', ["not valid JSON", "line 1"]),
        ("[1, 2, 3]", ["not an mpscope export", "list"]),
        ('{"runs": []}', ["not an mpscope export", "no format marker"]),
        ('{"format": "other-app", "version": 1, "runs": []}', ["'other-app'"]),
        ('{"format": "mpscope-results", "version": 99, "runs": []}', ["newer mpscope", "99"]),
        ('{"format": "mpscope-results", "version": "1", "runs": []}', ["version is '1'"]),
        ('{"format": "mpscope-results", "version": 1, "runs": {}}', ['"runs" is dict']),
        ('{"format": "mpscope-results", "version": 1, "runs": [' + GOOD_RUN + ", 5]}",
         ["run 2 is a JSON int"]),
        ('{"format": "mpscope-results", "version": 1, "runs": [{"workload": "square"}]}',
         ["run 1 strategy is None"]),
        ('{"format": "mpscope-results", "version": 1, "runs": ['
         + GOOD_RUN.replace('"wall_s": 1.0', '"wall_s": "fast"') + "]}",
         ["run 1 wall_s is 'fast'"]),
        ('{"format": "mpscope-results", "version": 1, "runs": ['
         + GOOD_RUN.replace('"workers": 2', '"workers": true') + "]}",
         ["run 1 workers is True"]),
        ('{"format": "mpscope-results", "version": 1, "machine": 3, "runs": []}',
         ['"machine" is 3']),
        (b"\xff\xfe\x00garbage", ["not UTF-8"]),
    ],
)  # fmt: skip
def test_bad_import_files_get_one_line_and_import_nothing(
    tmp_path: Path, content: str | bytes, names: list[str]
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ResultsFileError) as info:
        read_json(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith("import.json: ")
    for name in names:
        assert name in message


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError, match=r"nope\.json: cannot be read"):
        read_json(tmp_path / "nope.json")


def test_an_empty_runs_list_imports_nothing_quietly(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps(results_document([])))
    assert read_json(path) == []
