"""Every way of giving a Pool work: python pool_methods.py [fork|spawn|forkserver]"""

import multiprocessing
import sys
import time


def square(x):
    time.sleep(0.002)
    return x * x


def add(a, b):
    time.sleep(0.002)
    return a + b


def wait_for_all(barrier):
    barrier.wait()  # every worker is up before the first task: all of them get some


def main(method):
    ctx = multiprocessing.get_context(method)
    barrier = ctx.Barrier(2)
    got = []
    with ctx.Pool(2, initializer=wait_for_all, initargs=(barrier,)) as pool:  # <pool>
        print("map", sum(pool.map(square, range(100), chunksize=5)))  # <map>
        print("starmap", sum(pool.starmap(add, zip(range(30), range(30)))))  # <starmap>
        print("imap", sum(pool.imap(square, range(20))))  # <imap>
        print("imap chunks", sum(pool.imap(square, range(20), chunksize=3)))  # <imap-chunks>
        print("unordered", sorted(pool.imap_unordered(square, range(10))))  # <unordered>
        print("apply", pool.apply(square, (7,)))  # <apply>
        asyncs = [pool.apply_async(square, (i,), callback=got.append) for i in range(6)]  # <async>
        print("apply_async", [r.get() for r in asyncs], sorted(got))
        print("map_async", pool.map_async(square, range(12)).get())  # <map-async>
        print("starmap_async", pool.starmap_async(add, [(1, 2), (3, 4)]).get())  # <starmap-async>


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fork")
