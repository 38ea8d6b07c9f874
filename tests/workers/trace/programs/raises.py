"""A job that raises, uncaught: python raises.py [pool|process-executor|thread-executor]"""

import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
from multiprocessing import Pool


def fragile(x):
    if x == 3:
        raise ValueError(f"cannot take {x}")
    return x


if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "pool"
    if kind == "pool":
        with Pool(2) as pool:
            print(pool.map(fragile, range(8)))
    elif kind == "process-executor":
        with ProcessPoolExecutor(2) as ex:
            print(list(ex.map(fragile, range(8))))
    else:
        with ThreadPoolExecutor(2) as ex:
            future = ex.submit(fragile, 3)
            wait([future])  # done before result() is asked: the traceback is always the same
            print(future.result())
