"""The user's last choices, remembered between launches (QSettings, an INI file per user).

Only what a user would expect back is stored: the strategy, workload, sizes and worker
settings, the strategy's own options (lock mode, delay, scheduler...), the window's geometry.
An injected fault is deliberately *not* remembered: a demo crash should not follow the user
into their next session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from mpscope.workers.strategies import STRATEGIES
from mpscope.workers.strategy import Option

ORGANIZATION = "mpscope"
APPLICATION = "mpscope"


def open_settings() -> QSettings:
    """The per-user settings store (the same INI format on every platform)."""
    return QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
    )


@dataclass
class ControlChoices:
    """What the controls panel shows; ``None`` means "never chosen: use the default"."""

    strategy: str | None = None
    workload: str | None = None
    items: dict[str, int] = field(default_factory=dict)  # workload id -> items the user typed
    workers: int | None = None
    chunksize: int | None = None  # 0 or None: auto
    start_method: str | None = None
    grain: int | None = None
    sleep_ms: float | None = None
    # the user's own function ("module:function" or "file.py:function") and its inputs
    job: str | None = None
    inputs: str | None = None
    advanced_open: bool = False
    # the strategies' own options (gui.strategy_options), by RunSpec field: lock, delay_s...
    options: dict[str, Any] = field(default_factory=dict)


def _all_options() -> list[Option]:
    return [option for s in STRATEGIES.values() for option in s.options]


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _float_or_none(value: object) -> float | None:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def _flag(value: object) -> bool:
    return str(value).lower() == "true"


def load_choices(settings: QSettings | None = None) -> ControlChoices:
    """The choices saved by the last session (defaults where nothing or garbage was saved)."""
    s = settings or open_settings()
    s.beginGroup("controls")
    try:
        items: dict[str, int] = {}
        s.beginGroup("items")
        for key in s.childKeys():
            value = _int_or_none(s.value(key))
            if value is not None and value > 0:
                items[key] = value
        s.endGroup()

        def text(key: str) -> str | None:
            value = s.value(key)
            return str(value) if value not in (None, "") else None

        def option_value(option: Option) -> Any:
            if option.kind == "switch":
                return _flag(s.value(option.field))
            if option.kind == "seconds":
                return _float_or_none(s.value(option.field))
            return text(option.field)

        return ControlChoices(
            strategy=text("strategy"),
            workload=text("workload"),
            items=items,
            workers=_int_or_none(s.value("workers")),
            chunksize=_int_or_none(s.value("chunksize")),
            start_method=text("start_method"),
            grain=_int_or_none(s.value("grain")),
            sleep_ms=_float_or_none(s.value("sleep_ms")),
            job=text("job"),
            inputs=text("inputs"),
            advanced_open=_flag(s.value("advanced_open")),
            options={o.field: option_value(o) for o in _all_options() if s.contains(o.field)},
        )
    finally:
        s.endGroup()


def save_choices(choices: ControlChoices, settings: QSettings | None = None) -> None:
    """Store ``choices`` (written to disk at once, so a crash does not lose them)."""
    s = settings or open_settings()
    s.beginGroup("controls")
    for key in (
        "strategy",
        "workload",
        "workers",
        "chunksize",
        "start_method",
        "grain",
        "sleep_ms",
        "job",
        "inputs",
    ):
        value = getattr(choices, key)
        if value is None:
            s.remove(key)
        else:
            s.setValue(key, value)
    s.setValue("advanced_open", "true" if choices.advanced_open else "false")
    for option in _all_options():
        value = choices.options.get(option.field)
        if option.kind == "switch":
            s.setValue(option.field, "true" if value else "false")
        elif value is None:
            s.remove(option.field)
        else:
            s.setValue(option.field, value)
    s.remove("items")
    s.beginGroup("items")
    for workload, items in choices.items.items():
        s.setValue(workload, items)
    s.endGroup()
    s.endGroup()
    s.sync()


def load_window_state(settings: QSettings | None = None) -> tuple[QByteArray | None, ...]:
    """(geometry, window state, splitter state) saved by the last session, None if absent."""
    s = settings or open_settings()
    out: list[QByteArray | None] = []
    for key in ("window/geometry", "window/state", "window/splitter"):
        value = s.value(key)
        out.append(value if isinstance(value, QByteArray) and not value.isEmpty() else None)
    return tuple(out)


def save_window_state(
    geometry: QByteArray, state: QByteArray, splitter: QByteArray, settings: QSettings | None = None
) -> None:
    """Remember the window's geometry, its state and the splitter's position."""
    s = settings or open_settings()
    s.setValue("window/geometry", geometry)
    s.setValue("window/state", state)
    s.setValue("window/splitter", splitter)
    s.sync()
