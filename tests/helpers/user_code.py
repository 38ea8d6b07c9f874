"""The tests' stand-in for a user's module: it writes the pid of every process that imports
it to a marker file, so a test can prove mpscope's own process never did."""

from __future__ import annotations

from pathlib import Path

MARK_VARIABLE = "MPSCOPE_TEST_MARK"  # the environment variable naming the marker file

# the first lines of every test's user module
RECORDS_ITS_IMPORTERS = f"""
import os

MARK = os.environ.get("{MARK_VARIABLE}")
if MARK:  # who imported me
    with open(MARK, "a") as mark:
        mark.write(f"{{os.getpid()}}\\n")
"""


def importers(marker: Path) -> set[int]:
    """The pids that imported the user's module (none if it was never imported)."""
    return {int(line) for line in marker.read_text().split()} if marker.exists() else set()
