"""concurrent.futures: python executors.py [fork|spawn|forkserver]"""

import multiprocessing
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed


def square(x):
    time.sleep(0.002)
    return x * x


def wait_for_all(barrier):
    barrier.wait()  # every worker is up before the first task: all of them get some


if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1] if len(sys.argv) > 1 else "fork")
    up = ctx.Barrier(2)
    with ProcessPoolExecutor(2, ctx, wait_for_all, (up,)) as ex:  # <process-executor>
        print("map", sum(ex.map(square, range(40), chunksize=4)))  # <process-map>
        futures = [ex.submit(square, i) for i in range(8)]  # <process-submit>
        print("submit", sorted(f.result() for f in as_completed(futures)))
    threads_up = threading.Barrier(3)
    with ThreadPoolExecutor(3, initializer=threads_up.wait) as tex:  # <thread-executor>
        print("thread map", list(tex.map(square, range(12))))  # <thread-map>
        print("thread submit", tex.submit(square, 12).result())  # <thread-submit>
