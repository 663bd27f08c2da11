"""Delta modulation's hardware: block wiring, verification vectors and the golden reference.

``datapath`` builds :class:`inwhale_hw.hdl.delta.DeltaEncoder` / ``DeltaDecoder`` for the
quantizer's step; ``vectors`` makes the stimulus (bundled speech and music, full-scale edge
cases, state loads); ``reference`` steps the model one sample at a time and reports ``y``
after every sample; :func:`golden` adds the coverage counters ``rail_high``/``rail_low``
(samples whose reconstruction sits on an int16 rail) and ``loads``.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from inwhale_hw.errors import ParameterError
from inwhale_hw.hardware import Golden
from inwhale_hw.hdl.delta import DeltaEncoder, DeltaDecoder
from inwhale_hw.hdlsim.stimulus import INT16_MAX, INT16_MIN, append_codes, bundled, edge_pcm, half_period, load_points, stepwise

__all__ = ["datapath", "vectors", "reference", "golden"]

def datapath(quantizer: Any, block: str, **params: Any) -> DeltaEncoder | DeltaDecoder:
    """The component for a :class:`~inwhale_hw.plugins.delta.model.DeltaModulation`'s ``block``."""
    cls = {"encoder": DeltaEncoder, "decoder": DeltaDecoder}.get(block)
    if cls is None:
        raise ParameterError(f"delta: block {block!r} is not allowed; expected one of 'encoder', 'decoder'")
    if params:
        raise ParameterError(
            f"delta {block}: hardware parameter {sorted(params)[0]!r} is not allowed; the datapath has no "
            "hardware-only options"
        )
    return cls(quantizer.step)


RATE = 8000


def vectors(quantizer: Any, block: str, speech_seconds: float = 1.0, music_seconds: float = 0.25,
            edge_length: int = 512) -> dict[str, np.ndarray]:
    """Speech and music at 8 kHz (1 s and 0.25 s by default), :func:`edge_pcm` with a square
    wave long enough for the step to cross the int16 range; for the decoder those signals'
    bits, then ``4 * edge_length`` seeded random bits and runs of ones and of zeros as long as
    the square wave's half-period.  A state load at each segment start (0, -12345, the
    positive rail, and the negative rail before the decoder's extra bits)."""
    hp = half_period(quantizer.step)
    segments = (bundled("speech", RATE, speech_seconds), bundled("music", RATE, music_seconds),
                edge_pcm(hp, edge_length))
    pcm = np.concatenate(segments)
    ports = {"i": pcm, "load": np.zeros(len(pcm), dtype=np.int64), "load_y": np.zeros(len(pcm), dtype=np.int64)}
    for start, y in zip(load_points(*segments), (0, -12345, INT16_MAX)):
        ports["load"][start], ports["load_y"][start] = 1, y
    if block == "encoder":
        return ports
    extra = np.concatenate([np.random.default_rng(17).integers(0, 2, 4 * edge_length),
                            np.ones(hp, dtype=np.int64), np.zeros(hp, dtype=np.int64)])
    ports = append_codes(ports, reference(quantizer, "encoder", ports)["o"], extra)
    ports["load"][len(pcm)], ports["load_y"][len(pcm)] = 1, INT16_MIN
    return ports


def reference(quantizer: Any, block: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The model's outputs and ``y`` after every sample (its chunk functions, one sample at a
    time, loads applied)."""
    loads = {int(n): np.array([int(inputs["load_y"][n])], dtype=np.int64)
             for n in np.flatnonzero(np.asarray(inputs["load"]))}
    direction = "encode" if block == "encoder" else "decode"
    return stepwise(quantizer, direction, np.asarray(inputs["i"]), loads, lambda state: {"y": int(state[0])})


def golden(quantizer: Any, block: str, inputs: Mapping[str, np.ndarray]) -> Golden:
    """:func:`reference` and its coverage counters (see the module docstring)."""
    outputs = reference(quantizer, block, inputs)
    y = outputs["y"]
    return Golden(outputs, {
        "rail_high": int(np.count_nonzero(y == INT16_MAX)),
        "rail_low": int(np.count_nonzero(y == INT16_MIN)),
        "loads": int(np.count_nonzero(inputs["load"])),
    })
