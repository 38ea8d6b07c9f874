"""A program that uses a pool, then exits with code 3."""

import sys
from multiprocessing import Pool


def half(x):
    return x / 2


if __name__ == "__main__":
    with Pool(2) as pool:
        print(sum(pool.map(half, range(10))))
    sys.exit(3)
