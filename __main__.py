"""``python -m mpscope``: what the ``mpscope`` console script does (commands, or the window)."""

import sys

from mpscope.gui.main import main

if __name__ == "__main__":
    sys.exit(main())
