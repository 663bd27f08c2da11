"""``dpcm``: closed-loop DPCM with a fixed-point linear predictor and an optional Jayant step.

Per channel, with int16 input ``x[n]``, reconstruction ``y[n]`` (``y[n] = 0`` for ``n < 0``),
predictor coefficients ``c_i = C_i / 2**F`` (``C_i`` raw integers of the format
``QFormat(coeff_int_bits, coeff_frac_bits)``, quantized from the given reals with HALF_EVEN)
and step ``D[n]`` (an unsigned fixed-point number with 8 fractional bits)::

    p[n] = round(sum_{i=1..N} C_i * y[n-i] / 2**F)          prediction, ``rounding``
    e[n] = x[n] - p[n]                                       residual (exact integer)
    r_k  = round(L_k * D[n])                                 reconstruction level k, ``rounding``
    k[n] = the k whose r_k is nearest to e[n]; ties go to the smaller |r_k|, then the smaller k
    y[n] = sat16(p[n] + r_k[n])                              reconstruction, saturated to int16
    D[n+1] = clamp(round(D[n] * M[m(k[n])]), step_min, step_max)   only with adapt="jayant"

(Jayant & Noll, *Digital Coding of Waveforms*, 1984, ch. 6 "Differential PCM"; the step
adaptation of N. S. Jayant, "Adaptive quantization with a one-word memory", Bell Syst. Tech.
J. 52 (1973) 1119-1144.)

``L_k`` are the quantizer's levels in units of the step, 8 fractional bits, for the signed
index ``k = -2**(bits-1) .. 2**(bits-1) - 1``: ``midtread`` ``L_k = k`` (has a zero level),
``midrise`` ``L_k = k + 1/2`` (symmetric), ``table`` the given ``levels`` (2**bits strictly
increasing reals, quantized HALF_EVEN).  Multipliers ``M`` (8 fractional bits, HALF_EVEN) are
indexed by ``m(k) = k if k >= 0 else -1 - k``, the level's distance from the middle of the
table; the defaults are Jayant's DPCM values for 2-4 bits, (0.8, 1.6), (0.9, 0.9, 1.25, 1.75),
(0.9, 0.9, 0.9, 0.9, 1.2, 1.6, 2.0, 2.4), extended for 5-8 bits by our rule: the inner half 0.9,
the outer half evenly spaced from 1.2 to 2.4.  All arithmetic is on integers; the encoder
runs the decoder's recursion, so its reconstruction equals the decoder output exactly.

Bitstream: the code of a sample is its index ``k`` as a ``bits``-bit field, two's complement
(``code_format="twos"``, ``k mod 2**bits``) or offset binary (``"offset"``,
``k + 2**(bits-1)``).  :meth:`DPCM.pack_codes` writes the codes of frames interleaved by
channel as one bit string, each code most significant bit first, filling bytes from the MSB;
a final partial byte is padded with zero bits (``bits=8``: one byte per code).

Speed: the encoder is a per-sample loop per channel on Python integers (each decision needs
the previous reconstruction).  The decoder is vectorized where the recursion allows it: a table
lookup for a fixed step, a clamp-add prefix scan for the predictor ``y[n-1]`` (coefficient
exactly 1), a clip for a zero predictor; otherwise it loops.  Figures in
``benchmarks/bench_dpcm_cvsd.py``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from inwhale_hw import Param
from inwhale_hw.hardware import Golden, check_vector_options
from inwhale_hw.errors import AudioFormatError, InwhaleError, ParameterError
from inwhale_hw.fixed import Overflow, QFormat, Rounding, quantize

from inwhale_hw.codec import LOOP_ROUNDINGS, SequentialCodec, as_frames, restore_shape, rounding_bias
from inwhale_hw.scan import clamp_add_frames

from .loops import encode_channel, predict_channel, residuals_adaptive

__all__ = ["DPCM", "JAYANT_MULTIPLIERS"]

#: fractional bits of the levels, the step and the multipliers
LEVEL_FRAC, STEP_FRAC, MULT_FRAC = 8, 8, 8
STEP_FORMAT = QFormat(16, STEP_FRAC, signed=False)
JAYANT_MULTIPLIERS = {
    2: (0.8, 1.6),
    3: (0.9, 0.9, 1.25, 1.75),
    4: (0.9, 0.9, 0.9, 0.9, 1.2, 1.6, 2.0, 2.4),
}


def default_multipliers(bits: int) -> tuple[float, ...]:
    """Jayant's table for 2-4 bits; for more, 0.9 on the inner half, 1.2..2.4 on the outer."""
    if bits in JAYANT_MULTIPLIERS:
        return JAYANT_MULTIPLIERS[bits]
    half = 1 << (bits - 2)
    return (0.9,) * half + tuple(np.linspace(1.2, 2.4, half).tolist())


class Design(NamedTuple):
    """The parameters as raw integers of the datapath (see the module docstring)."""

    coeffs: tuple[int, ...]
    coeff_shift: int
    levels: tuple[int, ...]
    level_shift: int
    step: int
    step_min: int
    step_max: int
    multipliers: tuple[int, ...] | None
    mult_shift: int
    predict_bias: int
    level_bias: int
    mult_bias: int


class DPCM(SequentialCodec):
    """Closed-loop DPCM, order-N fixed-point predictor, 2-8 bit quantizer, optional Jayant step."""

    name = "dpcm"
    summary = "closed-loop DPCM: fixed-point order-N predictor, 2-8 bit quantizer, optional Jayant step"
    kind = "audio"
    references = (
        "N. S. Jayant, P. Noll, Digital Coding of Waveforms, Prentice-Hall 1984, ch. 6 (DPCM)",
        "N. S. Jayant, Adaptive quantization with a one-word memory, Bell Syst. Tech. J. 52 (1973) 1119-1144",
    )
    params = (
        Param("coeffs", (0.9,), "predictor coefficients c_1..c_N as reals, e.g. '1.8,-0.81'", tuple),
        Param("coeff_int_bits", 2, "integer bits (sign included) of the coefficient format", int, min=1, max=16),
        Param("coeff_frac_bits", 14, "fractional bits F of the coefficient format", int, min=0, max=30),
        Param("bits", 4, "bits per code", int, min=2, max=8),
        Param("quantizer", "midrise", "reconstruction levels: midtread, midrise or a table", str,
              choices=("midtread", "midrise", "table")),
        Param("levels", None, "quantizer='table': 2**bits increasing levels in steps", tuple, allow_none=True),
        Param("step", 64.0, "quantizer step D in int16 LSBs (the initial step when adaptive)", float,
              min=1 / 256, max=32767),
        Param("adapt", "jayant", "step adaptation: none or jayant", str, choices=("none", "jayant")),
        Param("multipliers", None, "Jayant multipliers M[0..2**(bits-1)-1]; default: Jayant's", tuple,
              allow_none=True),
        Param("step_min", 2.0, "smallest adapted step", float, min=1 / 256, max=32767),
        Param("step_max", 4096.0, "largest adapted step", float, min=1 / 256, max=32767),
        Param("rounding", Rounding.HALF_UP, "rounding of the prediction, r_k and the step update", Rounding,
              choices=LOOP_ROUNDINGS),
        Param("code_format", "twos", "code of index k: two's complement or offset binary", str,
              choices=("twos", "offset")),
    )
    code_dtype = np.uint8
    blocks = ("encoder", "decoder")

    # -- hardware (inwhale_hw.hdl.dpcm: one-sample-per-clock stream blocks, state checked per sample)

    def datapath(self, block: str, **params: Any):
        from .hardware import datapath

        return datapath(self, block, **params)

    def vectors(self, block: str, *, seed: int = 0, **opts: Any) -> dict[str, np.ndarray]:
        from .hardware import vectors

        check_vector_options(self.name, opts, ())
        return vectors(self, block)

    def reference(self, block: str, inputs: Any) -> Golden:
        from .hardware import golden

        return golden(self, block, inputs)

    # -- parameters -----------------------------------------------------------------------------

    def _check_params(self) -> None:
        owner = f"quantizer {self.name!r}"
        coeff_fmt = QFormat(self.coeff_int_bits, self.coeff_frac_bits)
        coeffs = _fixed(self.coeffs, coeff_fmt, "coeffs", owner, 1, 32)
        size = 1 << self.bits
        levels = _fixed(self._level_values(owner), QFormat(12, LEVEL_FRAC), "levels", owner, size, size)
        if any(b <= a for a, b in zip(levels, levels[1:])):
            raise ParameterError(
                f"{owner}: levels={self.levels!r} are not allowed: after rounding to {LEVEL_FRAC} fractional "
                "bits they must be strictly increasing"
            )
        steps = {name: _fixed((getattr(self, name),), STEP_FORMAT, name, owner, 1, 1)[0]
                 for name in ("step", "step_min", "step_max")}
        adaptive = self.adapt == "jayant"
        if adaptive and not steps["step_min"] <= steps["step"] <= steps["step_max"]:
            raise ParameterError(
                f"{owner}: step={self.step!r} is not allowed with step_min={self.step_min!r}, "
                f"step_max={self.step_max!r}; expected step_min <= step <= step_max"
            )
        multipliers = None
        if adaptive:
            values = self.multipliers if self.multipliers is not None else default_multipliers(self.bits)
            multipliers = _fixed(values, QFormat(8, MULT_FRAC, signed=False), "multipliers", owner,
                                 size // 2, size // 2)
        elif self.multipliers is not None:
            raise ParameterError(f"{owner}: multipliers={self.multipliers!r} are not allowed with adapt='none'")
        smallest = steps["step_min"] if adaptive else steps["step"]
        gap = min(b - a for a, b in zip(levels, levels[1:]))
        if gap * smallest < 1 << (LEVEL_FRAC + STEP_FRAC):
            raise ParameterError(
                f"{owner}: step={self.step!r} (step_min={self.step_min!r}) is not allowed with these levels: "
                "two reconstruction levels would be less than 1 LSB apart; use a larger step"
            )
        shift = LEVEL_FRAC + STEP_FRAC
        self.design = Design(
            coeffs=coeffs, coeff_shift=self.coeff_frac_bits, levels=levels, level_shift=shift,
            step=steps["step"], step_min=steps["step_min"], step_max=steps["step_max"],
            multipliers=multipliers, mult_shift=MULT_FRAC,
            predict_bias=rounding_bias(self.rounding, self.coeff_frac_bits),
            level_bias=rounding_bias(self.rounding, shift), mult_bias=rounding_bias(self.rounding, MULT_FRAC),
        )
        self.code_range = (0, size - 1)

    def _level_values(self, owner: str) -> tuple[float, ...]:
        half = 1 << (self.bits - 1)
        if self.quantizer == "table":
            if self.levels is None:
                raise ParameterError(f"{owner}: quantizer='table' needs levels= ({1 << self.bits} increasing reals)")
            return self.levels
        if self.levels is not None:
            raise ParameterError(f"{owner}: levels={self.levels!r} are only allowed with quantizer='table'")
        offset = 0.5 if self.quantizer == "midrise" else 0.0
        return tuple(k + offset for k in range(-half, half))

    @property
    def coefficients(self) -> tuple[float, ...]:
        """The predictor coefficients actually used (after quantization to the QFormat)."""
        return tuple(c / 2**self.coeff_frac_bits for c in self.design.coeffs)

    @property
    def bits_per_sample(self) -> float:
        return float(self.bits)

    # -- codes ----------------------------------------------------------------------------------

    def _to_codes(self, index: np.ndarray) -> np.ndarray:
        size = 1 << self.bits
        return index % size if self.code_format == "twos" else index + size // 2

    def _to_index(self, codes: np.ndarray) -> np.ndarray:
        size = 1 << self.bits
        if self.code_format == "offset":
            return codes - size // 2
        return np.where(codes >= size // 2, codes - size, codes)

    # -- the codec ------------------------------------------------------------------------------

    def _start(self, channels: int) -> tuple[tuple[tuple[int, ...], int], ...]:
        return (((0,) * len(self.design.coeffs), self.design.step),) * channels

    def _encode_chunk(self, frames: np.ndarray, state) -> tuple[np.ndarray, Any]:
        index, _, state = self._encode_frames(frames, state)
        return self._to_codes(index), state

    def _encode_frames(self, frames: np.ndarray, state):
        index = np.empty(frames.shape, dtype=np.int64)
        recon = np.empty(frames.shape, dtype=np.int64)
        new = []
        for ch, (history, step) in enumerate(state):
            k, y, history, step = encode_channel(frames[:, ch].tolist(), history, step, self.design)
            index[:, ch], recon[:, ch] = k, y
            new.append((history, step))
        return index, recon, tuple(new)

    def _decode_chunk(self, codes: np.ndarray, state) -> tuple[np.ndarray, Any]:
        index = self._to_index(codes) + (1 << (self.bits - 1))
        out = np.empty(codes.shape, dtype=np.int64)
        new = []
        for ch, (history, step) in enumerate(state):
            resid, step = self._residuals(index[:, ch], step)
            out[:, ch] = self._reconstruct(resid, history)
            new.append((_advance(history, out[:, ch]), step))
        return out, tuple(new)

    def _residuals(self, index: np.ndarray, step: int) -> tuple[np.ndarray, int]:
        """r[n] for table indices; a lookup for a fixed step, the Jayant recursion otherwise."""
        d = self.design
        if d.multipliers is None:
            table = (np.array(d.levels, dtype=np.int64) * step + d.level_bias) >> d.level_shift
            return table[index], step
        resid, step = residuals_adaptive(index.tolist(), step, d)
        return np.array(resid, dtype=np.int64), step

    def _reconstruct(self, resid: np.ndarray, history: tuple[int, ...]) -> np.ndarray:
        """y[n] = sat16(p[n] + r[n]), vectorized for the zero and the unit predictor."""
        d = self.design
        if not any(d.coeffs):
            return np.clip(resid, -32768, 32767)
        if d.coeffs == (1 << d.coeff_shift,):
            return clamp_add_frames(resid.reshape(-1, 1), np.array(history), -32768, 32767)[:, 0]
        return np.array(predict_channel(resid.tolist(), history, d), dtype=np.int64)

    def encode_with_reconstruction(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """One-shot encode returning ``(codes, y)``: the encoder's own int16 reconstruction."""
        arr = self._check_pcm(x)
        frames = as_frames(arr)
        index, recon, _ = self._encode_frames(frames, self._start(frames.shape[1]))
        codes = self._to_codes(index)
        return restore_shape(codes, arr.ndim, self.code_dtype), restore_shape(recon, arr.ndim, np.int16)

    # -- containers -----------------------------------------------------------------------------

    def pack_codes(self, codes: np.ndarray) -> bytes:
        """Codes of frames interleaved by channel as one MSB-first bit string of ``bits`` each."""
        flat = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1)
        fields = np.unpackbits(flat[:, None], axis=1)[:, 8 - self.bits:]
        return np.packbits(fields.reshape(-1)).tobytes()

    def unpack_codes(self, data: bytes, frames: int, channels: int) -> np.ndarray:
        count = frames * channels
        needed = -(-count * self.bits // 8)
        if len(data) < needed:
            raise AudioFormatError(
                f"{self.name}: coded data holds {len(data)} bytes, {needed} needed for {count} codes of {self.bits} bits"
            )
        bits = np.unpackbits(np.frombuffer(bytes(data[:needed]), dtype=np.uint8), count=count * self.bits)
        weights = 1 << np.arange(self.bits - 1, -1, -1)
        codes = (bits.reshape(count, self.bits) * weights).sum(axis=1).astype(np.uint8)
        return codes.reshape(frames, channels) if channels > 1 else codes


def _advance(history: tuple[int, ...], y: np.ndarray) -> tuple[int, ...]:
    """The last len(history) reconstructions, most recent first, after appending ``y``."""
    newest = y[::-1][: len(history)].tolist()
    return tuple(newest + list(history[: len(history) - len(newest)]))


def _fixed(values: Any, fmt: QFormat, name: str, owner: str, min_len: int, max_len: int) -> tuple[int, ...]:
    """``values`` (reals) as raw integers of ``fmt``, HALF_EVEN; ParameterError quoting them."""
    count = f"{min_len}" if min_len == max_len else f"{min_len} to {max_len}"
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ParameterError(f"{owner}: {name}={values!r} is not allowed; expected {count} real numbers") from None
    if not min_len <= arr.size <= max_len or not np.all(np.isfinite(arr)):
        raise ParameterError(f"{owner}: {name}={values!r} is not allowed; expected {count} finite real numbers")
    try:
        raw = quantize(arr, fmt, rounding=Rounding.HALF_EVEN, overflow=Overflow.ERROR)
    except InwhaleError:
        raise ParameterError(
            f"{owner}: {name}={values!r} is not allowed: outside the range [{float(fmt.min)}, {float(fmt.max)}] "
            f"of {fmt}"
        ) from None
    return tuple(int(v) for v in raw)
