"""maxtasksperchild: each worker does two tasks, then the pool replaces it."""

from multiprocessing import Pool


def square(x):
    return x * x


if __name__ == "__main__":
    with Pool(2, maxtasksperchild=2) as pool:  # <pool>
        print(sum(pool.map(square, range(16), chunksize=2)))  # <map>
        pool.close()
        pool.join()
