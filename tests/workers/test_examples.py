"""The jobs in examples/ run under mpscope as their docstrings say, from the repository's root:
``mpscope run --job examples/x.py:function --inputs examples/x.py:items``, checked against the
plain loop (a few items each, so the file stays quick)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from engine_steps import mpscope

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROOT = EXAMPLES.parent  # the commands in the examples' docstrings run from here


def _run_json(job: str, inputs: str, strategy: str, items: int) -> dict[str, Any]:
    """``mpscope run`` of an example, from the repository's root; its JSON record."""
    proc = mpscope(
        "run",
        "--job",
        f"examples/{job}",
        "--inputs",
        f"examples/{inputs}",
        "--strategy",
        strategy,
        "--workers",
        "2",
        "--items",
        str(items),
        "--json",
        cwd=ROOT,
        timeout=50,
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    record: dict[str, Any] = json.loads(proc.stdout)
    assert record["status"] == "finished", record
    assert record["job"] == f"examples/{job}" and record["inputs"] == f"examples/{inputs}"
    assert record["strategy"] == strategy
    assert record["check"] == "sequential", record
    assert record["correct"] is True, record.get("check_line")
    assert record["items"] == items and record["result"] == items  # one result per item
    return record


@pytest.mark.timeout(60)
def test_the_examples_are_where_the_docs_say() -> None:
    for name in ("word_count.py", "fetch_pages.py", "numpy_blocks.py"):
        text = (EXAMPLES / name).read_text()
        assert f"--job examples/{name}:" in text, name  # its docstring says how to run it
        assert 'if __name__ == "__main__":' in text, name  # and it runs on its own


@pytest.mark.timeout(60)
def test_word_count_runs_in_worker_processes() -> None:
    _run_json("word_count.py:count_words", "word_count.py:documents", "pool-map", 200)


@pytest.mark.timeout(60)
def test_fetch_pages_runs_in_threads() -> None:
    _run_json("fetch_pages.py:fetch", "fetch_pages.py:urls", "thread-pool", 20)


@pytest.mark.timeout(60)
def test_numpy_blocks_runs_in_threads() -> None:
    pytest.importorskip("numpy")
    _run_json("numpy_blocks.py:smooth", "numpy_blocks.py:blocks", "thread-pool", 10)


@pytest.mark.timeout(60)
def test_numpy_pairs_are_unpacked_by_pool_starmap() -> None:
    pytest.importorskip("numpy")
    record = _run_json("numpy_blocks.py:smooth_pair", "numpy_blocks.py:pairs", "pool-starmap", 10)
    assert sum(w["items"] for w in record["per_worker"]) == 10  # each (seed, size) tuple, once
