"""A user's own job: their function and inputs, resolved in the conductor, checked against the loop.

``mpscope run --job TARGET [--inputs SOURCE]`` names a function (``package.module:function``
or ``path/to/file.py:function``) and, optionally, its inputs (a ``module:name`` or
``file.py:name`` naming a sequence, an iterable or a zero-argument callable returning one).
Both are imported only here, in the conductor, and by the workers that unpickle the function
by reference: never in the window's or the command line's own process, so a module that
crashes, hangs, prints or exits on import cannot take them down.

Whatever cannot run is refused before any worker starts, in one line (``OwnJobRefused``): a
module not found (naming the folder searched), no such attribute, not callable, the wrong
number of arguments for the strategy, a function that cannot be sent to worker processes,
inputs that are not iterable or do not fit in memory. There is no closed form to check a
result against: the results are compared, item by item, with the plain loop's
(``check_results``; as a multiset where results arrive in any order).
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import math
import os
import pickle
import re
import sys
import sysconfig
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from mpscope.workers.target_scan import TargetScanError, is_file_target, split_target
from mpscope.workers.workloads import OWN_WORKLOAD

# a user's job whose module and inputs take longer than this to load is refused (seconds;
# $MPSCOPE_IMPORT_LIMIT_S sets another)
IMPORT_LIMIT_S = float(os.environ.get("MPSCOPE_IMPORT_LIMIT_S", "60"))


class OwnJobRefused(Exception):
    """The user's job or inputs cannot run; str() is one line saying why and what to do."""

    def __init__(self, line: str, detail: str = "") -> None:
        super().__init__(line)
        self.detail = detail  # the user's own traceback, when their code raised


def _import_module(left: str, what: str) -> ModuleType:
    """Import the module ``left`` names (a dotted name or a .py path), as a script would."""
    cwd = os.getcwd()
    if is_file_target(left):
        path = Path(left).expanduser()
        path = (Path(cwd) / path).resolve() if not path.is_absolute() else path.resolve()
        if not path.is_file():
            raise OwnJobRefused(f"{what}: no such file: {left} (looked in {cwd})")
        name = path.stem
        if not name.isidentifier():
            raise OwnJobRefused(
                f"{what}: {path.name} is not a module name: rename it "
                f"(for example {name.replace('-', '_').replace(' ', '_')}.py)"
            )
        taken = sys.modules.get(name)
        taken_file = getattr(taken, "__file__", None)
        if taken is not None and (taken_file is None or Path(taken_file).resolve() != path):
            raise OwnJobRefused(
                f"{what}: {path.name} would be imported as {name!r}, a name Python already "
                f"uses ({taken_file or 'built in'}): rename the file"
            )
        folder = str(path.parent)
        module_name = name
    else:
        folder = cwd
        module_name = left
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the workers inherit it, as a script's folder
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise OwnJobRefused(
                f"{what}: module {module_name!r} not found (searched {folder} and the installed "
                "packages)"
            ) from None
        raise _raised_on_import(module_name, exc) from None
    except BaseException as exc:  # noqa: BLE001 - the user's module may do anything on import
        raise _raised_on_import(module_name, exc) from None


_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# not the user's code: mpscope's own packages, Python's library and installed packages
_NOT_USERS = (
    *(os.path.join(_PACKAGE, part) + os.sep for part in ("workers", "gui", "resources")),
    *{sysconfig.get_paths()[key] + os.sep for key in ("stdlib", "purelib", "platlib")},
)


def where_in_user_code(tb: str) -> str:
    """`` (etl.py:57 in parse_row)``: the innermost frame of ``tb`` outside mpscope and
    Python's own library, so a job's failure names the user's file and line; "" if none."""
    for path, line, function in reversed(_FRAME.findall(tb)):
        if not path.startswith(_NOT_USERS) and not path.startswith("<"):
            return f" ({os.path.basename(path)}:{line} in {function})"
    return ""


def _raised_on_import(module_name: str, exc: BaseException) -> OwnJobRefused:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, SystemExit):
        return OwnJobRefused(f"importing {module_name} called sys.exit({exc.code!r})", tb)
    line = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return OwnJobRefused(f"importing {module_name} raised {line}{where_in_user_code(tb)}", tb)


def _a(value: Any) -> str:
    """``a list``, ``an int``: the value's type with its article."""
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def _attribute(text: str, what: str) -> tuple[Any, str]:
    """The object ``module:name`` or ``file.py:name`` names, and its name."""
    try:
        left, name = split_target(text)
    except TargetScanError as exc:
        raise OwnJobRefused(f"{what}: {exc}") from None
    module = _import_module(left, what)
    try:
        return getattr(module, name), name
    except AttributeError:
        functions = sorted(
            n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_")
        )
        listed = f"; its functions: {', '.join(functions[:8])}" if functions else ""
        raise OwnJobRefused(f"{what}: {left} has no attribute {name!r}{listed}") from None


def load_function(target: str) -> Callable[..., Any]:
    """The function ``target`` names, imported here (in the conductor)."""
    value, name = _attribute(target, f"job {target}")
    if not callable(value):
        raise OwnJobRefused(f"job {target}: {name} is {_a(value)}, not a function: name a function")
    return value  # type: ignore[no-any-return]


def load_inputs(source: str | None, items: int) -> Sequence[Any]:
    """The job's items: ``range(items)`` with no source, else the source's items (its first
    ``items`` when ``items`` is not 0), built once into a list."""
    if source is None:
        return range(items or OWN_WORKLOAD.default_items)
    what = f"inputs {source}"
    value, name = _attribute(source, what)
    if callable(value) and not isinstance(value, type):
        try:
            value = value()
        except TypeError as exc:
            if "argument" in str(exc):
                raise OwnJobRefused(
                    f"{what}: {name}() needs arguments; name a sequence, an iterable or a "
                    "function of no arguments that returns one"
                ) from None
            raise _raised_on_import(f"{name}()", exc) from None
        except BaseException as exc:  # noqa: BLE001 - the user's code
            raise _raised_on_import(f"{name}()", exc) from None
    if isinstance(value, (str, bytes)):
        raise OwnJobRefused(f"{what}: {name} is {_a(value)}: name a sequence or iterable of items")
    try:
        iterator = iter(value)
    except TypeError:
        raise OwnJobRefused(
            f"{what}: {name} is {_a(value)}, not iterable: name a sequence, an "
            "iterable or a function of no arguments that returns one"
        ) from None
    try:
        listed = list(itertools.islice(iterator, items) if items else iterator)
    except MemoryError:
        raise OwnJobRefused(
            f"{what}: its items do not fit in memory: use fewer items (--items N takes the first N)"
        ) from None
    except BaseException as exc:  # noqa: BLE001 - the user's generator may raise
        raise _raised_on_import(f"iterating {name}", exc) from None
    if not listed:
        raise OwnJobRefused(f"{what}: {name} has no items")
    return listed


def check_callable_with(
    function: Callable[..., Any], first: Any, spread: bool, strategy: str, target: str
) -> None:
    """Refuse a function that cannot take one item as ``strategy`` passes it."""
    if spread and not isinstance(first, tuple):
        raise OwnJobRefused(
            f"{strategy} unpacks each item into arguments and the first input is {_a(first)}: "
            "give --inputs whose items are tuples, or use pool-map"
        )
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # a builtin with no signature: let it run
    arguments = first if spread else (first,)
    try:
        signature.bind(*arguments)
    except TypeError:
        name = getattr(function, "__name__", target)
        passed = len(arguments)
        other = "pool-map" if spread else "pool-starmap with --inputs of argument tuples"
        params = ", ".join(
            str(p.replace(annotation=inspect.Parameter.empty))
            for p in signature.parameters.values()
        )
        raise OwnJobRefused(
            f"job {target}: {strategy} calls {name} with {passed} argument"
            f"{'' if passed == 1 else 's'} per item and {name}({params}) does not take "
            f"{passed}: use {other}"
        ) from None


def check_picklable(function: Callable[..., Any], target: str) -> None:
    """Refuse a function worker processes cannot import by its name."""
    name = getattr(function, "__qualname__", "")
    if getattr(function, "__module__", None) == "__main__":
        raise OwnJobRefused(
            f"job {target}: {name} is defined in __main__ (a notebook or a script run "
            "directly), which worker processes cannot import: move it into a .py module"
        )
    try:
        pickle.dumps(function)
    except Exception as exc:  # noqa: BLE001 - pickle raises several types
        kind = ""
        if "<lambda>" in name:
            kind = "it is a lambda, "
        elif "<locals>" in name:
            kind = "it is a nested function, "
        raise OwnJobRefused(
            f"job {target}: worker processes cannot receive it ({kind}pickling by reference "
            f"failed: {type(exc).__name__}): define it with def at the top level of a module"
        ) from None


@dataclass
class OwnJob:
    """The user's function and its items, resolved in the conductor."""

    target: str
    function: Callable[..., Any]
    inputs: Sequence[Any]
    spread: bool  # each item is a tuple of arguments (starmap)


def resolve_own_job(
    target: str, source: str | None, items: int, spread: bool, strategy: str, by_process: bool
) -> OwnJob:
    """Import and check the user's job and inputs for ``strategy`` (OwnJobRefused if they
    cannot run); ``by_process``: its workers are processes, which get the function pickled."""
    function = load_function(target)
    inputs = load_inputs(source, items)
    check_callable_with(function, inputs[0], spread, strategy, target)
    if by_process:
        check_picklable(function, target)
    return OwnJob(target, function, inputs, spread)


def loop_results(job: OwnJob) -> list[Any]:
    """The plain loop's results: what every strategy's results are compared with."""
    function = job.function
    if job.spread:
        return [function(*item) for item in job.inputs]
    return [function(item) for item in job.inputs]


def _same(a: Any, b: Any) -> bool | None:
    """Whether two results are equal: by ``==``, or by their pickles where ``==`` says
    nothing (objects with no ``__eq__`` of their own, numpy arrays); None: cannot tell."""
    if _identity_only(a) and a is not b:  # == would only ask "the same object?": compare contents
        return _same_pickles(a, b)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - numpy arrays and the like: compare their pickles
        return _same_pickles(a, b)


def _identity_only(value: Any) -> bool:
    """True if ``value``'s type has no ``==`` of its own (it compares by identity)."""
    return getattr(type(value), "__eq__", None) is getattr(object, "__eq__", None)


def _same_pickles(a: Any, b: Any) -> bool | None:
    try:
        return pickle.dumps(a) == pickle.dumps(b)
    except Exception:  # noqa: BLE001 - pickle raises several types
        return None


def _has_nan(values: Iterable[Any]) -> bool:
    return any(isinstance(v, float) and math.isnan(v) for v in values)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Check:
    """How a run's results compare with the loop's: correct True / False / None (could not
    be compared), and one line saying so."""

    correct: bool | None
    line: str


def check_results(results: Sequence[Any], reference: Sequence[Any], ordered: bool) -> Check:
    """Compare ``results`` with the loop's ``reference``, item by item (``ordered``) or as
    a multiset."""
    if len(results) != len(reference):
        return Check(False, f"{len(results)} results, the loop gave {len(reference)}")
    if _has_nan(reference) or _has_nan(results):
        return Check(None, "results contain NaN, which equals nothing: cannot be compared")
    if ordered:
        for i, (got, want) in enumerate(zip(results, reference)):
            same = _same(got, want)
            if same is None:
                return Check(
                    None,
                    f"item {i}: a {type(got).__name__} has no == of its own and cannot be "
                    "pickled: cannot be compared",
                )
            if not same:
                return Check(False, f"item {i}: got {_short(got)}, the loop gave {_short(want)}")
        return Check(True, f"all {len(results):,} results equal the loop's")
    try:
        if results and _identity_only(results[0]):
            raise TypeError("hashed by identity")
        same = Counter(results) == Counter(reference)
    except TypeError:  # unhashable (or identity-hashed) results: their pickles as multisets
        try:
            same = sorted(map(pickle.dumps, results)) == sorted(map(pickle.dumps, reference))
        except Exception:  # noqa: BLE001
            return Check(None, "results are neither hashable nor picklable: cannot be compared")
    if same:
        return Check(True, f"all {len(results):,} results equal the loop's (in any order)")
    return Check(False, "the results differ from the loop's (compared in any order)")
