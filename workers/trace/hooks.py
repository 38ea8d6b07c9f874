"""What ``mpscope trace`` puts into every Python process of the traced program: ``install()``.

``bootstrap/sitecustomize.py`` calls ``install()`` at the start of each process of the program
(the main one, spawn children, the forkserver; fork children inherit it), with this folder
loaded as the package ``_mpscope_trace`` so that it works under a Python where mpscope is not
installed. It only costs an import hook: the standard-library modules to watch are hooked when
the program imports them (``multiprocessing.process`` and ``.pool``, ``concurrent.futures``'
``process`` and ``thread``), so a program that never imports them never loads the rest of this
package, and one that does gets them hooked before it can use them.

The hook modules (``hook_*``) import only the standard library and each other, relatively.
What they send is in ``packets``; how, in ``hook_sender``. Nothing here prints, and nothing
here may raise into the program: a hook that cannot be put in place is simply left out.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import Any

# standard-library module -> (hook module, function that hooks it)
PATCHES = {
    "multiprocessing.process": ("hook_process", "patch"),
    "multiprocessing.pool": ("hook_pool", "patch"),
    "concurrent.futures.process": ("hook_futures", "patch_process_executor"),
    "concurrent.futures.thread": ("hook_futures", "patch_thread_executor"),
}
_done: set[str] = set()
_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def install() -> None:
    """Hook the modules already imported, and the others as the program imports them; flush
    what is left to send at exit. Idempotent."""
    if any(isinstance(finder, _HookOnImport) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _HookOnImport())
    atexit.register(_at_exit)
    if sys.version_info < (3, 11):
        sys.excepthook = _without_hook_frames(sys.excepthook)
    for name in PATCHES:
        module = sys.modules.get(name)
        if module is not None:
            _hook(name, module)


def _hook(name: str, module: Any) -> None:
    """Apply the hook for ``name`` (once); a failure leaves that module unwatched."""
    if name in _done:
        return
    _done.add(name)
    hook_module, function = PATCHES[name]
    try:
        hooks = __import__(f"{__package__}.{hook_module}", fromlist=[function])
        getattr(hooks, function)(module)
    except Exception:  # noqa: BLE001 - a hook that cannot go in is left out
        return


def _without_hook_frames(excepthook: Any) -> Any:
    """Python 3.10 keeps a hook's own frame in the traceback of an error the standard library
    raises through it (3.11+ lets the hook take it off: ``trim_own_frame``): an uncaught one
    prints without the hooks' frames all the same."""

    def hook(kind: Any, value: Any, tb: Any) -> Any:
        try:
            tb = _strip(tb)
            _strip_chain(value)
        except Exception:  # noqa: BLE001 - print it as it is, then
            pass
        return excepthook(kind, value, tb)

    return hook


def _strip_chain(exc: Any) -> None:
    """Strip the tracebacks of ``exc`` and of the exceptions chained to it."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        one = todo.pop()
        if one is None or id(one) in seen:
            continue
        seen.add(id(one))
        one.__traceback__ = _strip(one.__traceback__)
        todo += [one.__cause__, one.__context__]


def _strip(tb: Any) -> Any:
    """``tb`` without the entries of the hooks' own frames."""

    def ours(entry: Any) -> bool:
        return bool(entry.tb_frame.f_code.co_filename.startswith(_HERE))

    while tb is not None and ours(tb):
        tb = tb.tb_next
    entry = tb
    while entry is not None and entry.tb_next is not None:
        if ours(entry.tb_next):
            entry.tb_next = entry.tb_next.tb_next
        else:
            entry = entry.tb_next
    return tb


def _at_exit() -> None:
    sender = sys.modules.get(f"{__package__}.hook_sender")
    if sender is not None:
        try:
            sender.at_exit()
        except Exception:  # noqa: BLE001 - the program is exiting: nothing may stop it
            return


class _HookOnImport:
    """A meta path finder that finds nothing itself: for a module to watch it asks the
    finders after it, and has that module hooked as soon as its loader has run it."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        """The spec the other finders give for ``fullname``, its loader's ``exec_module``
        extended (on that loader object only) to hook the module once it has run."""
        if fullname not in PATCHES or fullname in _done:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or isinstance(loader, type) or not hasattr(loader, "__dict__"):
            return spec  # a class acting as loader (builtin, frozen): left as it is
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            if getattr(module, "__name__", None) == fullname:
                loader.__dict__.pop("exec_module", None)
                _hook(fullname, module)

        loader.exec_module = exec_module  # type: ignore[method-assign]  # this loader only
        return spec
