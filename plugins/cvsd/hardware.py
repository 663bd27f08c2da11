"""CVSD's hardware: block wiring, verification vectors and the golden reference with state.

``datapath`` builds :class:`inwhale_hw.hdl.cvsd.CVSDEncoder` / ``CVSDDecoder`` from the
quantizer's integer parameters (64 kHz only: the 8x resampler is not built in hardware);
``vectors`` makes the stimulus; ``reference`` runs the §9.2 recursions of :mod:`.loops`; and
:func:`golden` adds the coverage counters ``rail_high``/``rail_low`` (x^ at the leak of a rail of y),
``step_max``/``step_min`` (δ at a limit) and ``run_hits`` (samples ending a run of J equal bits).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from inwhale_hw.errors import ParameterError, UnsupportedError, VerificationError
from inwhale_hw.hardware import Golden
from inwhale_hw.hdl.cvsd import CVSDEncoder, CVSDDecoder
from inwhale_hw.hdlsim.stimulus import INT16_MAX, INT16_MIN, append_codes, bundled, edge_pcm, half_period, load_points
from inwhale_hw.codec import rounding_bias

from .loops import ChannelState, decode_channel, encode_channel

__all__ = ["datapath", "vectors", "reference", "golden"]

def datapath(quantizer: Any, block: str, **params: Any) -> CVSDEncoder | CVSDDecoder:
    """The component for a :class:`~inwhale_hw.plugins.cvsd.model.CVSD` quantizer's ``block``."""
    cls = {"encoder": CVSDEncoder, "decoder": CVSDDecoder}.get(block)
    if cls is None:
        raise ParameterError(f"cvsd: block {block!r} is not allowed; expected one of 'encoder', 'decoder'")
    if params:
        raise ParameterError(
            f"cvsd {block}: hardware parameter {sorted(params)[0]!r} is not allowed; the datapath has no "
            "hardware-only options"
        )
    if quantizer.input_rate != 64000:
        raise UnsupportedError(
            f"cvsd {block}: input_rate={quantizer.input_rate} has no datapath (the 8x polyphase resampler "
            "is not built in hardware); use input_rate=64000 and resample outside the block"
        )
    return cls(quantizer._raw, rounding_bias(quantizer.rounding, quantizer.frac_bits))


RATE = 64000
STATE = ("xhat", "delta", "last_bit", "run", "age")


def _load_states(raw: Any) -> list[dict[str, int]]:
    """States loaded at the segment starts, each one a bit history can produce: the reset
    state; a mixed state (x^ inside the range, δ between its limits, a one-bit run, no recent
    run of J); each rail with the extreme step just after a run of J equal bits."""
    kj = raw.k_minus_j
    mixed_age = kj + 1 if raw.j > 1 else 0
    return [
        dict(xhat=0, delta=raw.step_min, last_bit=0, run=0, age=kj + 1),
        dict(xhat=-(1234567 % raw.y_max), delta=(raw.step_min + raw.step_max) // 2, last_bit=1, run=1,
             age=mixed_age),
        dict(xhat=raw.y_max, delta=raw.step_max, last_bit=0, run=raw.j, age=0),
        dict(xhat=raw.y_min, delta=raw.step_min, last_bit=1, run=raw.j, age=0),
    ]


def vectors(quantizer: Any, block: str, speech_seconds: float = 1.0, music_seconds: float = 0.1,
            edge_length: int = 512) -> dict[str, np.ndarray]:
    """Speech and music at 64 kHz (1 s and 0.1 s by default), :func:`edge_pcm` with a square
    wave long enough for δ to climb from δmin to δmax and y to reach each rail, then silence
    long enough for δ to decay back to δmin (alternating bits; at most 20000 samples); for the
    decoder those signals' bits, then ``4 * edge_length`` seeded random bits and runs of ones
    and of zeros as long as the square wave's half-period.  A state load at each segment
    start (reset, a mixed state, each rail with the extreme step)."""
    raw = quantizer._raw
    hp = raw.step_max // raw.step_min + half_period(raw.step_max >> raw.frac_bits)
    decay = min(int(np.ceil(np.log(raw.step_max / raw.step_min) * (1 << raw.beta_shift))) + 100, 20000)
    segments = (bundled("speech", RATE, speech_seconds), bundled("music", RATE, music_seconds),
                edge_pcm(hp, edge_length), np.zeros(decay, dtype=np.int64))
    pcm = np.concatenate(segments)
    ports = {"i": pcm, "load": np.zeros(len(pcm), dtype=np.int64)}
    for name in STATE:
        ports[f"load_{name}"] = np.zeros(len(pcm), dtype=np.int64)
    for start, state in zip(load_points(*segments), _load_states(raw)):
        ports["load"][start] = 1
        for name, value in state.items():
            ports[f"load_{name}"][start] = value
    if block == "encoder":
        return ports
    extra = np.concatenate([np.random.default_rng(13).integers(0, 2, 4 * edge_length),
                            np.ones(hp, dtype=np.int64), np.zeros(hp, dtype=np.int64)])
    return append_codes(ports, reference(quantizer, "encoder", ports)["o"], extra)


def reference(quantizer: Any, block: str, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs and state after every sample from the model, loads applied.

    Encoder: the model's §9.2 loop ``encode_channel`` (what its chunk function runs), one
    sample at a time.  Decoder: the model's ``decode_channel`` over each stretch between loads
    gives x^ and the outputs (through the model's int16 rounding); the other state after every
    sample comes from the same recursion stepped by ``encode_channel`` on an input that forces
    the received bit (+32767 always gives 0; -32768 gives 1 unless x^ sits exactly at
    ``-32768 << frac_bits``, when that one sample is stepped by ``decode_channel``), and the two
    must agree on every x^ and on the final state (VerificationError otherwise).  ``last_bit``
    reads 0 where the model's is -1 (no bit yet; ``run`` is then 0).
    """
    raw = quantizer._raw
    values = np.asarray(inputs["i"], dtype=np.int64)
    load = np.asarray(inputs["load"])
    out = np.empty(len(values), dtype=np.int64)
    observed = {name: np.empty(len(values), dtype=np.int64) for name in STATE}
    state = quantizer._start(1).channels[0]
    bounds = sorted({0, len(values), *np.flatnonzero(load).tolist()})
    low = INT16_MIN << raw.frac_bits
    for a, b in zip(bounds, bounds[1:]):
        if load[a]:
            s = {name: int(inputs[f"load_{name}"][a]) for name in STATE}
            state = ChannelState(s["xhat"], s["delta"], s["last_bit"] if s["run"] else -1, s["run"], s["age"])
        if block == "decoder":
            decoded, end = decode_channel(values[a:b], state, raw)
        for n in range(a, b):
            v = int(values[n])
            if block == "encoder":
                (out[n],), _, state = encode_channel([v], state, raw)
            elif v and state.xhat <= low:
                (out[n],), state = decode_channel(values[n : n + 1], state, raw)
            else:
                _, (out[n],), state = encode_channel([INT16_MIN if v else INT16_MAX], state, raw)
            for name, field in zip(STATE, (state.xhat, state.delta, max(state.last_bit, 0), state.run, state.age)):
                observed[name][n] = field
        if block == "decoder" and (decoded != out[a:b].tolist() or end != state):
            raise VerificationError(f"cvsd model: decoder and encoder recursions disagree on samples {a}..{b - 1}")
    if block == "decoder":
        out = quantizer._output(out.reshape(-1, 1)).reshape(-1)
    return {"o": out, **observed}


def golden(quantizer: Any, block: str, inputs: Mapping[str, np.ndarray]) -> Golden:
    """:func:`reference` and its coverage counters (see the module docstring)."""
    outputs = reference(quantizer, block, inputs)
    raw = quantizer._raw
    # x^ = leak(y) with y clamped to [y_min, y_max]: the rails as x^ sees them
    top, bottom = ((y * raw.h_mul + raw.h_bias) >> raw.h_shift for y in (raw.y_max, raw.y_min))
    return Golden(outputs, {
        "rail_high": int(np.count_nonzero(outputs["xhat"] == top)),
        "rail_low": int(np.count_nonzero(outputs["xhat"] == bottom)),
        "step_max": int(np.count_nonzero(outputs["delta"] == raw.step_max)),
        "step_min": int(np.count_nonzero(outputs["delta"] == raw.step_min)),
        "run_hits": int(np.count_nonzero(outputs["age"] == 0)),
    })
