"""What ``run``, ``compare`` and the benchmarks share: one-line errors, the options that make a
RunSpec (written once, here) and the strategies' own options, made from the registry."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from mpscope.workers.spec import (
    DEFAULT_TICK_S,
    RunSpec,
    available_start_methods,
    default_start_method,
)
from mpscope.workers.strategies import all_strategies
from mpscope.workers.strategy import Option, Strategy
from mpscope.workers.units import parse_count
from mpscope.workers.workloads import DEFAULT_GRAIN, DEFAULT_SLEEP_MS

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class BadInput(Exception):
    """One-line bad-input message; exits 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports bad input as one line (no usage dump) and exits 2."""

    def error(self, message: str) -> NoReturn:
        """Raise BadInput instead of printing the usage and exiting."""
        raise BadInput(f"{self.prog}: {message} (see {self.prog} --help)")


def count(name: str) -> Callable[[str], int]:
    """A parser of counts written as 10000000, 10,000,000, 1e7 or 10M."""

    def parse(text: str) -> int:
        try:
            return parse_count(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{name} {exc}") from None

    parse.__name__ = name
    return parse


def chunksize(text: str) -> int | None:
    """A chunksize: a count, or ``auto`` (None)."""
    if text.strip().lower() == "auto":
        return None
    try:
        return parse_count(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"chunksize {text!r} is invalid: allowed a whole number >= 1, or auto"
        ) from None


def whole(name: str) -> Callable[[str], int]:
    """A parser of whole numbers whose error names ``name``."""

    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} {text!r} is not a whole number") from None

    parse.__name__ = name
    return parse


def seconds(name: str) -> Callable[[str], float]:
    """A parser of seconds whose error names ``name``."""

    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} {text!r} is not a number of seconds"
            ) from None

    parse.__name__ = name
    return parse


# the RunSpec fields of a job, and the argparse destinations that give them
SPEC_FIELDS = {
    "workload": "workload",
    "items": "items",
    "chunksize": "chunksize",
    "start_method": "start_method",
    "grain": "grain",
    "sleep_ms": "sleep_ms",
    "tick_s": "tick",
    "job": "job",
    "inputs": "inputs",
    "check": "check",
}


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments that make a RunSpec's job (``spec_fields`` reads them back)."""
    parser.add_argument(
        "--workload", "-w", default=None, help="workload id (see workloads; default: the "
        "strategy's own, square for most)",
    )  # fmt: skip
    parser.add_argument(
        "--job",
        "-j",
        default=None,
        metavar="TARGET",
        help="your own function instead of a workload: package.module:function (importable "
        "from this folder) or path/to/file.py:function; imported only by mpscope's worker "
        "processes",
    )
    parser.add_argument(
        "--inputs",
        default=None,
        metavar="SOURCE",
        help="the job's items: NAME (in the job's own module), module:name or file.py:name "
        "naming a sequence, an iterable or a function of no arguments returning one (default: "
        "range(N)); pool-starmap unpacks each item as arguments; with --items N, its first N",
    )
    parser.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="do not compare the job's results with the plain loop's (said to be unchecked)",
    )
    parser.add_argument(
        "--items",
        "-n",
        type=count("items"),
        default=None,
        help="number of items N (10000000, 10,000,000, 1e7 or 10M; default: the workload's)",
    )
    parser.add_argument(
        "--chunksize",
        "-c",
        type=chunksize,
        default=None,
        help="items per task for pool strategies, or auto (default)",
    )
    parser.add_argument(
        "--start-method",
        "-m",
        default=None,
        help=f"how workers start: {', '.join(available_start_methods())} "
        f"(default {default_start_method()})",
    )
    parser.add_argument(
        "--grain", type=whole("grain"), default=DEFAULT_GRAIN, help="heavy: iterations per item"
    )
    parser.add_argument(
        "--sleep-ms", type=float, default=DEFAULT_SLEEP_MS, help="sleep: milliseconds per item"
    )
    parser.add_argument(
        "--tick",
        type=seconds("tick"),
        default=DEFAULT_TICK_S,
        metavar="SECONDS",
        help=f"how often each worker reports its progress, 0.005..1 s (default "
        f"{DEFAULT_TICK_S:g}); a longer tick makes the live view coarser and the probe's own "
        "CPU smaller",
    )


def spec_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The RunSpec fields ``add_spec_arguments``'s arguments gave."""
    return {name: getattr(args, dest) for name, dest in SPEC_FIELDS.items()}


def _argument(option: Option) -> dict[str, Any]:
    """argparse's keywords for one strategy option."""
    if option.kind == "switch":
        return {"action": "store_true", "default": None}
    parse: Callable[[str], Any] = seconds(option.flag[2:]) if option.kind == "seconds" else str
    return {"type": parse, "default": None, "metavar": option.metavar}


def add_strategy_options(parser: argparse.ArgumentParser) -> None:
    """Every strategy's own options, one group per strategy that has any."""
    for strategy in all_strategies().values():
        if not strategy.options:
            continue
        group = parser.add_argument_group(
            strategy.id, f"{strategy.description} (these apply to {strategy.id} only)"
        )
        for option in strategy.options:
            group.add_argument(
                option.flag, dest=option.field, help=option.help, **_argument(option)
            )


def _options(strategies: Iterable[Strategy]) -> dict[str, tuple[Option, list[str]]]:
    """Each option field -> (the option, the strategies that take it)."""
    out: dict[str, tuple[Option, list[str]]] = {}
    for strategy in strategies:
        for option in strategy.options:
            out.setdefault(option.field, (option, []))[1].append(strategy.id)
    return out


def option_fields(args: argparse.Namespace, strategy: str) -> dict[str, Any]:
    """The RunSpec fields of the strategy options given; BadInput naming any given to a
    strategy that does not take it."""
    fields: dict[str, Any] = {}
    foreign: dict[str, list[str]] = {}
    for name, (option, owners) in _options(all_strategies().values()).items():
        value = getattr(args, name, None)
        if value is None or value is False:
            continue
        if strategy in owners:
            fields[name] = value
        else:
            foreign.setdefault(", ".join(owners), []).append(option.flag)
    for owner_list, flags in foreign.items():
        verb = "applies" if len(flags) == 1 else "apply"
        raise BadInput(
            f"mpscope: {', '.join(flags)} {verb} to {owner_list} only, not to {strategy}"
        )
    return fields


def run_spec(args: argparse.Namespace, strategy: str | None) -> RunSpec:
    """The RunSpec the arguments of ``run`` (or a benchmark) ask for."""
    if getattr(args, "job", None) and getattr(args, "workload", None):
        raise BadInput(f"mpscope: --workload {args.workload} and --job: give one of them")
    return RunSpec(
        strategy=strategy,
        workers=getattr(args, "workers", None),
        inject=getattr(args, "inject", None),
        **spec_fields(args),
        **option_fields(args, strategy or ""),
    )
