"""``python -m mpscope.workers``: the headless CLI (``mpscope run`` without the GUI launcher)."""

import sys

from mpscope.workers.cli import main

if __name__ == "__main__":
    sys.exit(main())
