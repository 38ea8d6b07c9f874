"""The consumer's cheap reads of a run's channels behave as the stdlib's calls do."""

from __future__ import annotations

import multiprocessing as mp
import queue
import time

import pytest

from mpscope.workers.channel_reader import ConnectionReader, QueueReader


@pytest.mark.timeout(30)
def test_queue_reader_reads_in_order_and_frees_the_queue_s_room() -> None:
    q = mp.get_context("spawn").Queue(maxsize=2)
    reader = QueueReader(q)
    try:
        with pytest.raises(queue.Empty):
            reader.get_nowait()
        for round_ in range(3):  # without the room given back, the third put would fail
            q.put((round_, "a"), timeout=5)
            q.put((round_, "b"), timeout=5)
            got = []
            deadline = time.monotonic() + 5
            while len(got) < 2 and time.monotonic() < deadline:
                try:
                    got.append(reader.get_nowait())
                except queue.Empty:
                    time.sleep(0.01)
            assert got == [(round_, "a"), (round_, "b")]
        with pytest.raises(queue.Empty):
            reader.get_nowait()
    finally:
        q.close()
        q.join_thread()


@pytest.mark.timeout(30)
def test_connection_reader_waits_for_a_message_then_reads_it() -> None:
    receiver, sender = mp.Pipe(duplex=False)
    reader = ConnectionReader(receiver)
    try:
        t0 = time.monotonic()
        assert not reader.readable(0.2)
        assert time.monotonic() - t0 >= 0.15  # it waited, as asked
        sender.send(("verdict", 1))
        assert reader.readable(5.0)
        assert reader.recv() == ("verdict", 1)
        assert not reader.readable()
        sender.close()
        assert reader.readable(5.0)  # the end of the stream is news too
        with pytest.raises(EOFError):
            reader.recv()
    finally:
        receiver.close()
