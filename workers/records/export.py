"""Results as a table, CSV and JSON; reading a JSON export back (from this or another machine).

The JSON export is one object: ``{"format": "mpscope-results", "version": 1, "machine": {...},
"runs": [...], "summary": [...], "skipped": [...], "verdict": "..."}``; each run is an
``mpscope run --json`` record (plus "repeat", and "machine" / "recorded_at" when it came from
the history). ``mpscope compare --json`` prints the same object, so its output imports too.
Files are written atomically (a temporary file renamed into place). A bad import file gives
one line naming the problem (ResultsFileError) and nothing is imported.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from mpscope.workers.compare.plan import Skipped
from mpscope.workers.compare.summary import (
    JobKey,
    baselines,
    hostname_of,
    run_speedup,
    summarize,
)
from mpscope.workers.events import ENDED_STATUSES, RunStatus
from mpscope.workers.records.history import machine_info, now_iso

FORMAT = "mpscope-results"
FORMAT_VERSION = 1
MAX_IMPORT_BYTES = 200 * 2**20

# (key, heading) of the results table, in display order
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("strategy", "strategy"),
    ("workload", "workload"),
    ("items", "items"),
    ("workers", "workers"),
    ("chunksize", "chunksize"),
    ("start_method", "start method"),
    ("repeat", "repeat"),
    ("status", "status"),
    ("wall_s", "wall s"),
    ("cpu_s", "CPU s"),
    ("items_per_s", "items/s"),
    ("speedup", "speed-up"),
    ("correct", "correct"),
    ("hostname", "machine"),
    ("recorded_at", "recorded"),
)


class ResultsFileError(ValueError):
    """A results file that cannot be imported; str() is one line naming the problem."""


def results_table(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per run with the TABLE_COLUMNS keys; speed-up against its job's sequential median."""
    base = baselines(runs)
    return [table_row(run, base) for run in runs]


def table_row(run: dict[str, Any], base: dict[JobKey, float]) -> dict[str, Any]:
    """One run's row (TABLE_COLUMNS keys), its speed-up against the baselines ``base``."""
    row = {key: run.get(key) for key, _ in TABLE_COLUMNS}
    row["speedup"] = run_speedup(run, base)
    row["hostname"] = hostname_of(run)
    return row


def results_document(
    runs: Sequence[dict[str, Any]],
    *,
    machine: dict[str, Any] | None = None,
    skipped: Sequence[Skipped] = (),
    verdict: str | None = None,
) -> dict[str, Any]:
    """The JSON export (and ``mpscope compare --json``) object for ``runs``."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": now_iso(),
        "machine": machine or machine_info(),
        "runs": list(runs),
        "summary": [cell.as_dict() for cell in summarize(runs)],
        "skipped": [s.as_dict() for s in skipped],
        "verdict": verdict,
    }


def _write_atomically(path: Path | str, text: str) -> None:
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_json(path: Path | str, runs: Sequence[dict[str, Any]], **document: Any) -> None:
    """Write ``runs`` as a JSON export (``document``: machine, skipped, verdict)."""
    _write_atomically(path, json.dumps(results_document(runs, **document), indent=1) + "\n")


def write_csv_to(out: TextIO, runs: Sequence[dict[str, Any]]) -> None:
    """The results table as CSV (a heading row of TABLE_COLUMNS keys; empty cell: no value)."""
    writer = csv.DictWriter(out, fieldnames=[key for key, _ in TABLE_COLUMNS])
    writer.writeheader()
    for row in results_table(runs):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})


def write_csv(path: Path | str, runs: Sequence[dict[str, Any]]) -> None:
    """Write the results table of ``runs`` to a CSV file."""
    buffer = io.StringIO()
    write_csv_to(buffer, runs)
    _write_atomically(path, buffer.getvalue())


# -- import ---------------------------------------------------------------------------------
def _is_int(value: object, low: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _is_number(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _run_problem(run: object) -> str | None:
    """What is wrong with one imported run, or None."""
    if not isinstance(run, dict):
        return f"is a JSON {type(run).__name__}, expected an object"
    for key in ("strategy", "workload"):
        if not isinstance(run.get(key), str) or not run[key]:
            return f"{key} is {run.get(key)!r}, expected a name"
    for key in ("items", "workers"):
        if not _is_int(run.get(key)):
            return f"{key} is {run.get(key)!r}, expected a whole number >= 1"
    if run.get("status") not in ENDED_STATUSES:
        return f"status is {run.get('status')!r}, expected one of {', '.join(ENDED_STATUSES)}"
    if run["status"] == RunStatus.FINISHED:
        if not _is_number(run.get("wall_s")) or not run["wall_s"]:
            return f"wall_s is {run.get('wall_s')!r}, expected seconds > 0"
        if not isinstance(run.get("correct"), bool):
            return f"correct is {run.get('correct')!r}, expected true or false"
    for key in ("cpu_s", "items_per_s"):
        if run.get(key) is not None and not _is_number(run[key]):
            return f"{key} is {run[key]!r}, expected a number >= 0"
    if run.get("chunksize") is not None and not _is_int(run["chunksize"]):
        return f"chunksize is {run['chunksize']!r}, expected a whole number >= 1 or null"
    if run.get("repeat") is not None and not _is_int(run["repeat"]):
        return f"repeat is {run['repeat']!r}, expected a whole number >= 1"
    if run.get("machine") is not None and not isinstance(run["machine"], dict):
        return f"machine is {run['machine']!r}, expected an object"
    return None


def _load(path: Path) -> Any:
    name = path.name
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise ResultsFileError(f"{name}: too large for a results file (over 200 MiB)")
        raw = path.read_bytes()
    except OSError as exc:
        raise ResultsFileError(f"{name}: cannot be read: {exc.strerror or exc}") from None
    if not raw.strip():
        raise ResultsFileError(f"{name}: the file is empty")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ResultsFileError(f"{name}: not a JSON export (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise ResultsFileError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise ResultsFileError(f"{name}: not a results file (JSON nested too deeply)") from None


def read_json(path: Path | str) -> list[dict[str, Any]]:
    """The runs of a JSON export, each with its "machine"; ResultsFileError if anything is off.

    Either every run is returned or none (the whole file is checked first).
    """
    path = Path(path)
    name = path.name
    doc = _load(path)
    if not isinstance(doc, dict):
        raise ResultsFileError(
            f"{name}: not an mpscope export (a JSON {type(doc).__name__}, expected an object)"
        )
    if doc.get("format") != FORMAT:
        found = f"format {doc['format']!r}" if "format" in doc else "no format marker"
        raise ResultsFileError(f"{name}: not an mpscope export ({found}, expected {FORMAT!r})")
    version = doc.get("version")
    if not isinstance(version, int) or not _is_int(version):
        raise ResultsFileError(f"{name}: version is {version!r}, expected a whole number")
    if version > FORMAT_VERSION:
        raise ResultsFileError(
            f"{name}: written by a newer mpscope (version {version}; this one reads "
            f"up to {FORMAT_VERSION})"
        )
    runs = doc.get("runs")
    if not isinstance(runs, list):
        raise ResultsFileError(f'{name}: "runs" is {type(runs).__name__}, expected a list')
    machine = doc.get("machine")
    if machine is not None and not isinstance(machine, dict):
        raise ResultsFileError(f'{name}: "machine" is {machine!r}, expected an object')
    out: list[dict[str, Any]] = []
    for number, run in enumerate(runs, 1):
        problem = _run_problem(run)
        if problem:
            raise ResultsFileError(f"{name}: run {number} {problem}")
        record = dict(run)
        if record.get("machine") is None and machine is not None:
            record["machine"] = machine
        out.append(record)
    return out
