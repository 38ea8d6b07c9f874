"""A pool's worker killed under it (SIGKILL) while busy: the pool replaces it, and terminate()
ends the pool, as map_async(...).get() would otherwise wait for ever (CPython gh-96062)."""

import os
import time
from multiprocessing import Pool, SimpleQueue

started = None


def remember(queue):
    global started
    started = queue


def slow(x):
    started.put(os.getpid())
    time.sleep(30)
    return x


if __name__ == "__main__":
    queue = SimpleQueue()
    pool = Pool(2, initializer=remember, initargs=(queue,))  # <pool>
    pending = pool.map_async(slow, range(2), chunksize=1)  # <map>
    busy = {queue.get(), queue.get()}  # both workers are in a task (neither waits on the queue)
    victim = pool._pool[0].pid
    os.kill(victim, 9)
    while victim in [worker.pid for worker in pool._pool]:
        time.sleep(0.01)
    print("the pool replaced its killed worker; its task will never end:", not pending.ready())
    pool.terminate()
    pool.join()
