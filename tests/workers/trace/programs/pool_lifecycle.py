"""Three ways a Pool ends: close and join, terminate, a pool left to the garbage collector."""

import gc
from multiprocessing import Pool


def double(x):
    return 2 * x


def left_to_gc():
    pool = Pool(2)  # <gc-pool>
    print("gc pool", sum(pool.map(double, range(50))))
    # no close, no terminate: the pool is collected when this function returns


if __name__ == "__main__":
    closing = Pool(2)  # <close-pool>
    print("closed pool", sum(closing.map(double, range(50))))
    closing.close()
    closing.join()

    ending = Pool(3)  # <terminate-pool>
    print("terminated pool", ending.apply(double, (21,)))
    ending.terminate()
    ending.join()

    left_to_gc()
    gc.collect()
    print("done")
