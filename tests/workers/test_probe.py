"""The probe's packets stay small (atomic pipe writes) however many chunks a worker ran."""

from __future__ import annotations

import pickle
import select

from mpscope.workers.events import Progress, TaskSpan
from mpscope.workers.probe import MAX_SPANS_PER_PACKET, _merge_spans


def test_many_tiny_chunks_merge_into_a_bounded_packet() -> None:
    spans = [(i, 1, i * 1e-5, i * 1e-5 + 5e-6) for i in range(10_000)]
    merged = _merge_spans(3, spans)
    assert len(merged) <= MAX_SPANS_PER_PACKET
    assert sum(s.items for s in merged) == 10_000
    assert sum(s.tasks for s in merged) == 10_000
    packet = (Progress(3, 10_000, 1.0, 0.5), *merged)
    assert len(pickle.dumps(packet)) < select.PIPE_BUF


def test_spans_far_apart_stay_separate() -> None:
    spans = [(0, 100, 0.0, 0.1), (200, 100, 0.5, 0.6)]
    merged = _merge_spans(0, spans)
    assert merged == [TaskSpan(0, 0, 100, 0.0, 0.1, 1), TaskSpan(0, 200, 100, 0.5, 0.6, 1)]


def test_worst_case_packet_fits_in_one_atomic_pipe_write() -> None:
    spans = [
        (10**12 + i, 10**9, 1e6 + i, 1e6 + i + 0.5) for i in range(0, 10 * MAX_SPANS_PER_PACKET, 10)
    ]
    merged = _merge_spans(10**6, spans)
    packet = (Progress(10**6, 10**15, 1e6, 1e6), *merged)
    assert len(pickle.dumps(packet)) < select.PIPE_BUF
