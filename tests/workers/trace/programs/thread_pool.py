"""multiprocessing.dummy.Pool: the same API, with threads."""

import threading
import time
from multiprocessing.dummy import Pool


def square(x):
    time.sleep(0.001)
    return x * x


if __name__ == "__main__":
    everyone = threading.Barrier(3)  # every thread is up before the first task: all get some
    with Pool(3, initializer=everyone.wait) as pool:  # <pool>
        print("map", sum(pool.map(square, range(60), chunksize=4)))  # <map>
        print("imap", list(pool.imap(square, range(5))))  # <imap>
        print("apply_async", pool.apply_async(square, (9,)).get())  # <apply-async>
        pool.close()
        pool.join()
