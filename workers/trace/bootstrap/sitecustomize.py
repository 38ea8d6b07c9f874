"""mpscope trace's foot in the door: runs at the start of every Python process of a traced program.

``mpscope trace`` puts this folder first on the program's ``PYTHONPATH``, so Python's ``site``
imports this file as ``sitecustomize`` in the program and in every process it starts (spawn
children and the forkserver start Python afresh; fork children inherit what it did). With
``$MPSCOPE_TRACE_SOCKET`` set, it loads the hooks from the folder above by their file path, as
the private package ``_mpscope_trace`` (the program may run under a Python where mpscope is not
installed), and installs them. Then, set or not, it hands over to the ``sitecustomize`` that
would have run without it (Debian's, a venv's, the user's), which it hides no longer: that one
is ``sys.modules["sitecustomize"]`` afterwards, and this folder leaves ``sys.path``.

Nothing here prints or raises because of mpscope: whatever goes wrong loading the hooks leaves
the program unwatched, never broken.
"""

import os
import sys


def _install_hooks() -> None:
    if not os.environ.get("MPSCOPE_TRACE_SOCKET"):
        return
    try:
        import importlib.util

        trace_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        package = sys.modules.get("_mpscope_trace")
        if package is None:
            spec = importlib.util.spec_from_file_location(
                "_mpscope_trace",
                os.path.join(trace_dir, "__init__.py"),
                submodule_search_locations=[trace_dir],
            )
            if spec is None or spec.loader is None:
                return
            package = importlib.util.module_from_spec(spec)
            sys.modules["_mpscope_trace"] = package
            spec.loader.exec_module(package)
        hooks = importlib.import_module("_mpscope_trace.hooks")
        hooks.install()
    except Exception:  # noqa: BLE001 - unwatched, never broken
        return


def _chain() -> None:
    """Import the ``sitecustomize`` further along ``sys.path``, as if this one were not there;
    its errors are reported by ``site`` as they would be without mpscope."""
    here = os.path.dirname(os.path.abspath(__file__))
    mine = sys.modules.pop("sitecustomize", None)
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    try:
        import sitecustomize  # type: ignore[import-not-found]  # noqa: F401  (the next one)
    except ImportError as exc:
        if exc.name != "sitecustomize":
            raise
        if mine is not None:
            sys.modules["sitecustomize"] = mine


_install_hooks()
_chain()
