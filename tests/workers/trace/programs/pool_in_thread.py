"""A pool made, and used, in a thread of the program."""

import threading
from multiprocessing import Pool


def inc(x):
    return x + 1


def work(results):
    with Pool(2) as pool:  # <pool>
        results.append(sum(pool.map(inc, range(40))))  # <map>


if __name__ == "__main__":
    results = []
    thread = threading.Thread(target=work, args=(results,))
    thread.start()
    thread.join()
    print("thread's pool", results)
