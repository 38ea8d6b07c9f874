"""How joblib runs: ``Parallel(n_jobs=K, backend="loky", batch_size=C)(delayed(job)(x) ...)``.

What scikit-learn users get. joblib packs ``batch_size`` calls into one ``BatchedCalls``
task; while the tasks are made, the probed stand-in ``ProbedBatchedCalls`` takes its place
(the same calls, plus one begin/end per batch), and each loky worker attaches the in-worker
probe through the executor's initializer, exactly as the Pool strategies do. So progress,
spans and the position inside a running batch come from inside the workers.

Results stream back in order (``return_as="generator"``) and are summed as they come. loky
keeps its executor alive for reuse after ``Parallel`` returns; the run shuts it down, so
nothing outlives it. A worker killed mid-run breaks loky's executor; the watchdog, which
knows every loky worker from its creation, names it (not the siblings loky kills after).
With ``n_jobs=1`` joblib runs every call in this process, as one lane of the conductor.
"""

from __future__ import annotations

import contextlib
import pickle
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.reduction import ForkingPickler
from typing import Any

import joblib.parallel as joblib_parallel
from joblib import Parallel, delayed
from joblib.externals.loky import get_reusable_executor, reusable_executor
from joblib.externals.loky.backend import reduction as loky_reduction

from mpscope.workers.context import RunContext, WatchingContext
from mpscope.workers.probe import ProbeConfig, attach, current_lane, init_pool_worker


class ProbedBatchedCalls(joblib_parallel.BatchedCalls):  # type: ignore[misc]
    """joblib's ``BatchedCalls`` plus one probe begin/end per batch (nothing per call).

    Batches are made in the conductor in item order: each is numbered there with the index
    of its first item (``first``), which travels with it to the worker.
    """

    next_first = 0  # the next batch's first item (reset for every run)

    def __init__(self, *args: Any, first: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if first is None:
            first = ProbedBatchedCalls.next_first
            ProbedBatchedCalls.next_first += len(self.items)
        self.first = first

    def __call__(self) -> list[Any]:
        """Run the batch's calls, as a chunk of this worker's lane."""
        lane = current_lane()
        if lane is None or not self.items:
            result: list[Any] = super().__call__()
            return result
        func, args, _ = self.items[0]
        if lane.config.items_are_indices:
            lane.begin(func, args[0] if args else 0, len(self.items))
        else:  # a user's items: found by the sampler among the batch's first arguments
            lane.begin(func, self.first, len(self.items), [a[0] for _, a, _ in self.items])
        result = super().__call__()
        lane.end()
        return result

    def __reduce__(self) -> tuple[Any, ...]:
        _, args = super().__reduce__()
        return (_rebuild_batch, (args, self.first))


def _rebuild_batch(args: tuple[Any, ...], first: int) -> ProbedBatchedCalls:
    """Unpickle a ProbedBatchedCalls with the first item it was numbered with."""
    return ProbedBatchedCalls(*args, first=first)


@contextlib.contextmanager
def instrumented_batches() -> Iterator[None]:
    """Have joblib build its batches as ProbedBatchedCalls while the results are read."""
    saved = joblib_parallel.BatchedCalls
    joblib_parallel.BatchedCalls = ProbedBatchedCalls
    ProbedBatchedCalls.next_first = 0
    try:
        yield
    finally:
        joblib_parallel.BatchedCalls = saved


def _reduce_probe_config(config: ProbeConfig) -> tuple[Any, tuple[bytes]]:
    """Pickle the probe's config with the stdlib's pickler, inside loky's worker start.

    The config holds a queue and shared memory, whose reducers multiprocessing registers
    with its own pickler only; loky pickles a new worker's initargs with its own. Called
    while loky starts a worker, the stdlib's reducers hand their pipes and memory to loky's
    process start as they would to their own.
    """
    return pickle.loads, (bytes(ForkingPickler.dumps(config)),)


class RaiseAwareLokyBackend(joblib_parallel.LokyBackend):  # type: ignore[misc]
    """joblib's loky backend, saying how a call failed before anyone kills the workers.

    When a call raises, joblib aborts by SIGKILLing every loky worker; when a worker dies,
    loky SIGKILLs the others. The watchdog must take neither for a worker killed from
    outside: ``on_call_error`` runs before joblib's abort, ``on_broken`` before loky's kill
    (loky runs the futures' callbacks, then kills), while only the dead worker has ended.
    """

    def __init__(
        self,
        on_call_error: Callable[[], None],
        on_broken: Callable[[], None],
        on_process: Callable[[Any], None],
        **backend_kwargs: Any,
    ) -> None:
        super().__init__(**backend_kwargs)
        self._on_call_error = on_call_error
        self._on_broken = on_broken
        self._on_process = on_process

    def configure(self, *args: Any, **kwargs: Any) -> int:
        """Get loky's executor as joblib does, and see each of its workers from its creation.

        joblib does not hand a context to loky (it keeps ``context`` for its reducers), so
        the executor's own context is wrapped before its first submit starts any worker:
        then even a worker killed before the watchdog's first look is known by its pid.
        """
        n_jobs: int = super().configure(*args, **kwargs)
        executor = self._workers
        if not isinstance(executor._context, WatchingContext):
            executor._context = WatchingContext(executor._context, self._on_process)
        return n_jobs

    def submit(self, func: Any, callback: Any = None) -> Future[Any]:
        """Submit as joblib does, with our look at the outcome before joblib's callback."""
        future: Future[Any] = super().submit(func)
        future.add_done_callback(self._look_at_outcome)
        if callback is not None:
            future.add_done_callback(callback)
        return future

    def _look_at_outcome(self, future: Future[Any]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if isinstance(error, BrokenProcessPool):
            self._on_broken()
        elif error is not None:
            self._on_call_error()


def _delete_memmapping_folders() -> None:
    """Delete joblib's memmapping folders (in /dev/shm) now: the atexit hook that would is
    skipped by the conductor's os._exit, and loky's resource tracker then warns of a leak."""
    executor = reusable_executor._executor
    manager = getattr(executor, "_temp_folder_manager", None)
    if manager is not None:
        manager._clean_temporary_resources(force=True)


def _shutdown_loky() -> None:
    """Stop the executor loky keeps for reuse (``reuse=True``: that one, never a new one)."""
    get_reusable_executor(reuse=True).shutdown(wait=True)


def run_joblib(ctx: RunContext) -> int:
    """``sum(Parallel(n_jobs=K, batch_size=C, return_as="generator")(delayed(job)(x) ...))``."""
    job = ctx.job()
    n, arity, k = ctx.items, ctx.workload.arity, ctx.workers
    call = delayed(job)
    in_process = attach(ctx.probe, watch_parent=False) if k == 1 else None
    if in_process is None:
        loky_reduction.register(ProbeConfig, _reduce_probe_config)
        ctx.on_release(_delete_memmapping_folders)
    else:
        ctx.extra["note"] = "n_jobs=1: joblib runs every call in this process, with no workers"

    def call_raised() -> None:
        ctx.tearing_down = True  # the deaths that follow are joblib's own abort

    backend = RaiseAwareLokyBackend(
        call_raised,
        ctx.mark_survivors_collateral,
        ctx.register,
        initializer=init_pool_worker,
        initargs=(ctx.probe,),
    )
    ctx.start_clock()
    with instrumented_batches():
        parallel = Parallel(
            n_jobs=k, backend=backend, batch_size=ctx.chunksize, return_as="generator"
        )
        if in_process is not None:
            in_process.begin(job, 0, n)
        if arity == 2:
            total = ctx.gather(parallel(call(x, x) for x in range(n)))
        else:
            total = ctx.gather(parallel(call(x) for x in ctx.inputs()))
        if in_process is not None:
            in_process.end()
    ctx.stop_clock()
    if in_process is None:
        ctx.teardown(_shutdown_loky)
    return total
