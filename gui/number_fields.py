"""The controls' number fields, each made with its range, default, suffix and tooltip.

One place for what each field allows (the engine's own limits) and how it reads; the controls
panel lays them out and connects them.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

from mpscope.gui import control_texts as texts
from mpscope.gui.naming import named
from mpscope.workers.spec import MAX_GRAIN, MAX_SLEEP_MS, max_workers
from mpscope.workers.workloads import DEFAULT_GRAIN, DEFAULT_SLEEP_MS

CHUNKSIZE_MAX = 2_000_000_000  # QSpinBox holds a 32-bit int


def grain_spin() -> QSpinBox:
    """heavy's loop iterations per item."""
    spin = named(QSpinBox(), "grainSpin")
    spin.setRange(0, MAX_GRAIN)
    spin.setGroupSeparatorShown(True)
    spin.setSingleStep(500)
    spin.setValue(DEFAULT_GRAIN)
    spin.setSuffix(" iterations")
    spin.setToolTip("heavy: loop iterations per item (more = more CPU per item)")
    return spin


def sleep_spin() -> QDoubleSpinBox:
    """sleep's milliseconds per item."""
    spin = named(QDoubleSpinBox(), "sleepSpin")
    spin.setRange(0.0, MAX_SLEEP_MS)
    spin.setDecimals(1)
    spin.setValue(DEFAULT_SLEEP_MS)
    spin.setSuffix(" ms per item")
    spin.setToolTip("sleep: how long each item sleeps (the GIL is released)")
    return spin


def workers_spin(cores: int) -> QSpinBox:
    """The worker count, ``cores`` at first; its suffix says "of N cores" or oversubscribed.

    Up to the engine's limit (64 on any machine): a 64-core machine's lanes can be shown here
    too, oversubscribed."""
    spin = named(QSpinBox(), "workersSpin")
    spin.setRange(1, max_workers())
    spin.setValue(cores)
    spin.setSuffix(texts.workers_suffix(cores))
    spin.valueChanged.connect(lambda k: spin.setSuffix(texts.workers_suffix(k)))
    return spin


def chunksize_spin() -> QSpinBox:
    """The chunksize, 0 shown as "auto" (the strategy's own default)."""
    spin = named(QSpinBox(), "chunksizeSpin")
    spin.setRange(0, CHUNKSIZE_MAX)
    spin.setSpecialValueText("auto")
    spin.setGroupSeparatorShown(True)
    return spin
