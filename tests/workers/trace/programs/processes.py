"""Plain multiprocessing.Process: exit codes 0, 3, killed by SIGKILL, and a subclass."""

import os
import sys
from multiprocessing import Process


def fine():
    print("fine runs", flush=True)


def three():
    sys.exit(3)


def killed():
    os.kill(os.getpid(), 9)


class Loader(Process):
    def run(self):
        print("loader runs", flush=True)


if __name__ == "__main__":
    for target in (fine, three, killed):
        proc = Process(target=target)
        proc.start()  # <start>
        proc.join()
        print(target.__name__, "exit code", proc.exitcode)
    loader = Loader()
    loader.start()  # <loader>
    loader.join()
    print("loader exit code", loader.exitcode)
