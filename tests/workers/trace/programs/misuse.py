"""Errors the standard library raises at the program, uncaught:
python misuse.py [no-workers|join-running|submit-after-shutdown|unpicklable-process]"""

import multiprocessing
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "no-workers":
        multiprocessing.Pool(0)
    elif kind == "join-running":
        pool = multiprocessing.Pool(1)
        pool.join()
    elif kind == "submit-after-shutdown":
        ex = ProcessPoolExecutor(1)
        ex.shutdown()
        ex.submit(print, 1)
    else:
        ctx = multiprocessing.get_context("spawn")
        ctx.Process(target=print, args=(threading.Lock(),)).start()
