"""A pool made inside a child process: python pool_in_child.py [fork|spawn|forkserver]"""

import multiprocessing
import sys


def cube(x):
    return x**3


def child():
    with multiprocessing.Pool(2) as pool:  # <pool>
        print("child's pool", sum(pool.map(cube, range(30))), flush=True)  # <map>


if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[1] if len(sys.argv) > 1 else "fork")
    proc = ctx.Process(target=child)
    proc.start()  # <start>
    proc.join()
    print("child exit code", proc.exitcode)
