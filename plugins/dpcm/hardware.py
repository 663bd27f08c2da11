"""DPCM's hardware: block wiring, verification vectors and the golden reference with state.

``datapath`` builds :class:`inwhale_hw.hdl.dpcm.DPCMEncoder` / ``DPCMDecoder`` for the
quantizer's integer design; ``vectors`` makes the stimulus; ``reference`` steps the model one
sample at a time and reports the predictor history (and the step, when adaptive) after every
sample; :func:`golden` adds the coverage counters ``predictor_ties`` (samples whose
predictor sum sits exactly half-way between two outputs, where the rounding mode decides),
``rail_high``/``rail_low`` (reconstruction on an int16 rail) and, when adaptive,
``step_max``/``step_min`` (step at a limit).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from inwhale_hw.errors import ParameterError
from inwhale_hw.hardware import Golden
from inwhale_hw.hdl.dpcm import DPCMEncoder, DPCMDecoder
from inwhale_hw.hdlsim.stimulus import INT16_MAX, INT16_MIN, append_codes, bundled, edge_pcm, half_period, load_points, stepwise

__all__ = ["datapath", "vectors", "reference", "golden", "tie_histories"]

#: elements of the directed predictor-tie segment at the end of the vectors
TIE_COUNT = 64

def datapath(quantizer: Any, block: str, **params: Any) -> DPCMEncoder | DPCMDecoder:
    """The component for a :class:`~inwhale_hw.plugins.dpcm.model.DPCM` quantizer's ``block``."""
    cls = {"encoder": DPCMEncoder, "decoder": DPCMDecoder}.get(block)
    if cls is None:
        raise ParameterError(f"dpcm: block {block!r} is not allowed; expected one of 'encoder', 'decoder'")
    if params:
        raise ParameterError(
            f"dpcm {block}: hardware parameter {sorted(params)[0]!r} is not allowed; the datapath has no "
            "hardware-only options"
        )
    return cls(quantizer.design, code_format=quantizer.code_format)


RATE = 8000


def _load_states(design: Any, order: int) -> list[tuple[tuple[int, ...], int]]:
    """States loaded at the starts of the vector segments: the reset state, both rails with the
    extreme steps, and a mixed history with a middle step."""
    mixed = tuple(((-1) ** i * (12345 + 7 * i)) for i in range(order))
    return [
        ((0,) * order, design.step),
        (mixed, (design.step_min + design.step_max) // 2),
        ((INT16_MAX,) * order, design.step_max),
        ((INT16_MIN,) * order, design.step_min),
    ]


def _sideband(quantizer: Any, values: np.ndarray, starts: np.ndarray) -> dict[str, np.ndarray]:
    """The ``load`` ports: a load of the :func:`_load_states` at each start index."""
    d = quantizer.design
    order, n = len(d.coeffs), len(values)
    ports = {"i": values, "load": np.zeros(n, dtype=np.int64)}
    ports.update({f"load_history__{i}": np.zeros(n, dtype=np.int64) for i in range(order)})
    if d.multipliers is not None:
        ports["load_step"] = np.zeros(n, dtype=np.int64)
    for start, (history, step) in zip(starts, _load_states(d, order)):
        ports["load"][start] = 1
        for i, h in enumerate(history):
            ports[f"load_history__{i}"][start] = h
        if "load_step" in ports:
            ports["load_step"][start] = step
    return ports


def tie_histories(coeffs: tuple[int, ...], shift: int, count: int, seed: int = 13) -> list[tuple[int, ...]]:
    """``count`` int16 histories ``y`` whose predictor sum is a rounding tie:
    ``sum_i C_i y_i = 2^(F-1) (mod 2^F)`` (``F = shift``), so HALF_UP and HALF_DOWN differ there.

    All but one history value are seeded random; the remaining one, ``y_j`` for the
    coefficient with the fewest trailing zero bits ``v`` (``C_j = 2^v u``, ``u`` odd), solves
    the congruence: ``y_j = ((t / 2^v) u^-1 mod 2^(F-v)) + k 2^(F-v)`` with ``t`` the target
    minus the other terms, whenever ``2^v`` divides ``t`` and a solution lies in int16 (else
    the other values are drawn again).  Empty when no tie exists (``F = 0``, all ``C_i = 0``,
    or every ``C_i`` a multiple of ``2^F``).
    """
    nonzero = [i for i, c in enumerate(coeffs) if c % (1 << shift)] if shift else []
    if not nonzero:
        return []
    j = min(nonzero, key=lambda i: (coeffs[i] & -coeffs[i]).bit_length())
    v = (coeffs[j] & -coeffs[j]).bit_length() - 1
    modulus = 1 << (shift - v)
    inverse = pow((coeffs[j] >> v) % modulus, -1, modulus) if modulus > 1 else 0
    rng = np.random.default_rng(seed)
    found: list[tuple[int, ...]] = []
    for _ in range(64 * count):
        if len(found) == count:
            break
        y = [int(x) for x in rng.integers(INT16_MIN, INT16_MAX + 1, len(coeffs))]
        target = ((1 << (shift - 1)) - sum(c * h for i, (c, h) in enumerate(zip(coeffs, y)) if i != j)) % (1 << shift)
        if target % (1 << v):
            continue
        base = ((target >> v) * inverse) % modulus
        low, high = -(-(INT16_MIN - base) // modulus), (INT16_MAX - base) // modulus
        if low > high:
            continue
        y[j] = base + int(rng.integers(low, high + 1)) * modulus
        found.append(tuple(y))
    return found


def _tie_segment(quantizer: Any) -> dict[str, np.ndarray]:
    """:data:`TIE_COUNT` random PCM samples, each coded from a loaded tie history (and the
    initial step)."""
    d = quantizer.design
    histories = tie_histories(d.coeffs, d.coeff_shift, TIE_COUNT)
    n = len(histories)
    ports = {"i": np.random.default_rng(17).integers(INT16_MIN, INT16_MAX + 1, n), "load": np.ones(n, dtype=np.int64)}
    ports.update({f"load_history__{i}": np.asarray([h[i] for h in histories], dtype=np.int64).reshape(n)
                  for i in range(len(d.coeffs))})
    if d.multipliers is not None:
        ports["load_step"] = np.full(n, d.step, dtype=np.int64)
    return ports


def vectors(quantizer: Any, block: str, speech_seconds: float = 1.0, music_seconds: float = 0.25,
            edge_length: int = 512) -> dict[str, np.ndarray]:
    """Speech and music at 8 kHz (1 s and 0.25 s by default) and :func:`edge_pcm` (its square
    wave long enough for the initial step's outermost level to cross the int16 range); for the
    decoder those signals' codes, then seeded random codes (``2 * edge_length``), runs of the
    outermost codes each as long as the square wave's half-period, and alternating innermost
    codes.  A state load at the start of each segment (the reset state at 0, a mixed state half
    way through the speech, each rail with the extreme steps before music and edges), then
    :data:`TIE_COUNT` samples each coded from a predictor tie (:func:`tie_histories`) for the
    configured coefficients."""
    d = quantizer.design
    speech = bundled("speech", RATE, speech_seconds)
    first = speech[: len(speech) // 2]
    largest = (max(abs(v) for v in d.levels) * d.step) >> d.level_shift
    hp = half_period(largest)
    segments = (first, speech[len(first):], bundled("music", RATE, music_seconds), edge_pcm(hp, edge_length))
    ports = _sideband(quantizer, np.concatenate(segments), load_points(*segments))
    ties = _tie_segment(quantizer)
    ports = {key: np.concatenate([value, ties[key]]).astype(np.int64) for key, value in ports.items()}
    if block == "encoder":
        return ports
    size, half = 1 << quantizer.bits, 1 << (quantizer.bits - 1)
    to_code = {"twos": lambda k: k % size, "offset": lambda k: k + half}[quantizer.code_format]
    extra = np.concatenate([
        np.random.default_rng(11).integers(0, size, 2 * edge_length),
        np.full(hp, to_code(half - 1)), np.full(hp, to_code(-half)),
        np.tile([to_code(0), to_code(-1)], hp),
    ])
    return append_codes(ports, reference(quantizer, "encoder", ports)["o"], extra)


def reference(quantizer: Any, block: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The model's outputs and state after every sample for stream inputs ``inputs``, running
    the codec's own chunk functions one sample at a time with the loads applied."""
    d = quantizer.design
    order, adaptive = len(d.coeffs), d.multipliers is not None
    loads = {}
    for n in np.flatnonzero(np.asarray(inputs["load"])).tolist():
        history = tuple(int(inputs[f"load_history__{i}"][n]) for i in range(order))
        loads[n] = ((history, int(inputs["load_step"][n]) if adaptive else d.step),)

    def observe(state) -> dict[str, int]:
        ((history, step),) = state
        ports = {f"history__{i}": int(h) for i, h in enumerate(history)}
        if adaptive:
            ports["step"] = int(step)
        return ports

    direction = "encode" if block == "encoder" else "decode"
    return stepwise(quantizer, direction, np.asarray(inputs["i"]), loads, observe)


def golden(quantizer: Any, block: str, inputs: Mapping[str, np.ndarray]) -> Golden:
    """:func:`reference` and its coverage counters (see the module docstring)."""
    outputs = reference(quantizer, block, inputs)
    d = quantizer.design
    order = len(d.coeffs)
    after = np.stack([outputs[f"history__{i}"] for i in range(order)], axis=1)
    before = np.vstack([np.zeros((1, order), dtype=np.int64), after[:-1]])
    load = np.flatnonzero(np.asarray(inputs["load"]))
    if len(load):
        before[load] = np.stack([np.asarray(inputs[f"load_history__{i}"])[load] for i in range(order)], axis=1)
    acc = before @ np.asarray(d.coeffs, dtype=np.int64)
    shift = d.coeff_shift
    ties = int(np.count_nonzero((acc & ((1 << shift) - 1)) == (1 << (shift - 1)))) if shift else 0
    y = after[:, 0]
    counters = {
        "predictor_ties": ties,
        "rail_high": int(np.count_nonzero(y == INT16_MAX)),
        "rail_low": int(np.count_nonzero(y == INT16_MIN)),
    }
    if "step" in outputs:
        counters["step_max"] = int(np.count_nonzero(outputs["step"] == d.step_max))
        counters["step_min"] = int(np.count_nonzero(outputs["step"] == d.step_min))
    return Golden(outputs, counters)
