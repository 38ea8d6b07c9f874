"""The hooks installed by hand, from the mpscope package (no bootstrap on the path): spawned
workers load them back from the package as they unpickle their first task."""

import multiprocessing

from mpscope.workers.trace import hooks

hooks.install()


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(2) as pool:  # <pool>
        print(sum(pool.map(square, range(50))))
