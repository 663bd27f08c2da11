"""Accelerator hardware block sets ``mac`` and ``requant``: hook, block wiring, stimulus, golden model.

``hardware.py`` builds the blocks of :mod:`inwhale_hw.hdl` (PE, MAC array, requantizers) and
implements the hardware-model protocol; ``vectors.py`` makes stimulus; ``golden.py`` computes
the expected outputs from :mod:`inwhale_hw.nn`.
"""

from __future__ import annotations

from inwhale_hw import hookimpl

from .hardware import ACCEL_BLOCKS

__all__ = ["register_hardware"]


@hookimpl
def register_hardware(registry) -> None:
    """Register the ``mac`` and ``requant`` block sets."""
    for cls in ACCEL_BLOCKS.values():
        registry.add(cls)
