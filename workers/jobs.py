"""The per-item job functions of every workload.

They live at module level so that every start method (fork, forkserver, spawn) can pickle them
by reference. Each takes the item as its first positional argument, named ``x``: the in-worker
probe reads that argument from the running frame to see how far a worker is inside a chunk,
so no job pays for per-item bookkeeping.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from typing import Any


def square(x: int) -> int:
    """The seed's ``job(x)``: ``x**2``."""
    return x**2


def func1(x: int) -> int:
    """The seed's ``func1`` body for one item: ``i + i**1 + i**2``."""
    return x + x**1 + x**2


def func2(x: int) -> int:
    """The seed's ``func2`` body for one item: ``i + i*1 + i*2``."""
    return x + x * 1 + x * 2


def poly_pair(x: int) -> int:
    """Both of the seed's functions for one item, as its sequential loop (In [4]) does."""
    return x + x**1 + x**2 + (x + x * 1 + x * 2)


def square_plus(x: int, var: int) -> int:
    """The seed's two-argument ``job(x, var)`` for ``starmap``: ``x**2 + var``."""
    return x**2 + var


def heavy(x: int, grain: int = 2000) -> int:
    """CPU-bound pure-Python arithmetic: ``grain`` iterations of ``acc += x*j + 1``.

    Its sum over ``j`` is ``x*grain*(grain-1)/2 + grain``, so the workload has a closed form.
    """
    acc = 0
    for j in range(grain):
        acc += x * j + 1
    return acc


def sleep_item(x: int, ms: float = 10.0) -> int:
    """I/O-bound stand-in: sleep ``ms`` milliseconds (releasing the GIL), return 1."""
    time.sleep(ms / 1000.0)
    return 1


def faulty(x: Any, *rest: Any, job: Callable[..., int], at: int, kind: str) -> int:
    """Run ``job`` but inject a fault when item ``at`` is reached (for demos and tests).

    ``kind`` is ``raise`` (the job raises), ``exit`` (the worker calls ``os._exit(70)``) or
    ``kill`` (the worker SIGKILLs itself). Only used when a run asks for a fault.
    """
    if x == at:
        if kind == "raise":
            raise ValueError(f"injected fault: job raised at item {at}")
        if kind == "exit":
            os._exit(70)
        if kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
    return job(x, *rest)
