"""``cvsd``: continuously variable slope delta modulation, Bluetooth parameters by default.

Bluetooth Core Specification v5.x, Vol 2, Part B, §9.2 "CVSD codec".  With input ``x(k)``,
output bit ``b(k)`` (+1/-1), accumulator ``y(k)``, step size ``delta(k)``, accumulator decay
``h``, step decay ``beta`` and the syllabic companding flag ``alpha``::

    x^(k)    = h * y(k)
    b(k)     = sgn(x(k) - x^(k-1))                     sgn(v) = +1 for v >= 0, else -1
    alpha    = 1 if J bits in the last K output bits are equal, else 0
    delta(k) = min(delta(k-1) + delta_min, delta_max)  if alpha = 1
               max(beta * delta(k-1), delta_min)       if alpha = 0
    y^(k)    = x^(k-1) + b(k) * delta(k)
    y(k)     = min(y^(k), y_max) if y^(k) >= 0 else max(y^(k), y_min)

Table 9.2 defaults: h = 1 - 1/32, beta = 1 - 1/1024, J = K = 4, delta_min = 10,
delta_max = 1280, y_min = -2**15 (the table allows -2**15 or -2**15 + 1), y_max = 2**15 - 1;
64 kbit/s from 64 k samples/s.  On air a negative ``b(k)`` is the bit 1 and a positive one the
bit 0 ("negative numbers are mapped on 1"), sent in the order generated.

What the spec leaves open, and what we chose:

* Arithmetic: ``y``, ``x^`` and ``delta`` are integers scaled by ``2**frac_bits``
  (default 10 fractional bits: a 26-bit accumulator and a 21-bit step register).
  ``h = 1 - 2**-accum_decay_shift`` and ``beta = 1 - 2**-step_decay_shift`` are exact, and the
  products are ``round((v * (2**s - 1)) / 2**s)`` with ``rounding`` (default HALF_UP, i.e. add
  half an LSB and shift right arithmetically).  Only the constant-bias modes FLOOR, CEIL,
  HALF_UP and HALF_DOWN are offered (a bias added before an arithmetic shift, as a datapath
  does it).  Parameters under which ``beta * delta`` would stop decaying above ``delta_min``
  (too few fractional bits) are rejected.
* "J bits in the last K output bits are equal": a run of J equal consecutive bits lying
  within the last K bits (the current bit included).  With J = K (the Bluetooth default) this
  is "the last K bits are all equal"; for J < K the literal "any J of the K" reading would
  differ.  Bits before the start of the stream count as no run.
* Initial state: ``y(-1) = x^(-1) = 0``, ``delta(-1) = delta_min``.
* The decoder outputs ``x^(k)`` (the accumulator after the decay, the encoder's estimate)
  rounded to int16 with ``rounding``.

8 kHz in/out (``input_rate=8000``): input is upsampled by 8 with the exact integer
polyphase filter of :mod:`~inwhale_hw.plugins.cvsd.resample8` (resample_poly's default filter,
Q1.15 coefficients), saturated to int16, and coded at 64 kHz; the decoder decodes at 64 kHz
and decimates by 8 with the same filter.  Each 8 kHz sample then gives one code: the byte
holding its 8 CVSD bits, the first-generated bit in the MSB (``bit_order="msb"``) or LSB
(``"lsb"``).  The resampler has 10 samples of lookahead, so streaming objects hold back the
last 10 codes (or samples) until more input or ``flush``.

Bitstream (``pack_codes``): at 64 kHz, codes are single bits packed eight to a byte in
``bit_order``, frames interleaved by channel, a final partial byte padded with zeros; at
8 kHz, the code bytes themselves, interleaved by channel.  For mono both give the same bytes
for the same 64 kHz bit sequence.

Speed: the encoder and the accumulator/step recursions of the decoder are sequential
(each step size and each rounding depends on the previous one), so they run as per-channel
loops on Python integers; ``alpha`` is computed vectorized from the bit history in the
decoder.  Measured in ``benchmarks/bench_dpcm_cvsd.py``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from inwhale_hw import Param
from inwhale_hw.hardware import Golden, check_vector_options
from inwhale_hw.quantizer import check_frames_channels
from inwhale_hw.errors import ParameterError
from inwhale_hw.fixed import Rounding, shift_right

from inwhale_hw.codec import (
    BIT_ORDERS,
    LOOP_ROUNDINGS,
    SequentialCodec,
    as_frames,
    pack_bits,
    restore_shape,
    rounding_bias,
    unpack_bits,
)

from . import kernels
from .loops import FACTOR, ChannelState, RawParams, decode_channel, encode_channel
from .resample8 import Downsampler, Upsampler

__all__ = ["CVSD"]

class _Stream(NamedTuple):
    """Codec state: one :class:`ChannelState` per channel, plus the resampler at 8 kHz."""

    channels: tuple[ChannelState, ...]
    resampler: Upsampler | Downsampler | None


class CVSD(SequentialCodec):
    """CVSD of Bluetooth Core v5.x Vol 2 Part B §9.2, in exact fixed-point integer arithmetic."""

    name = "cvsd"
    summary = "CVSD adaptive delta modulation (Bluetooth §9.2 parameters), 64 kHz or 8 kHz in/out"
    kind = "audio"
    references = (
        "Bluetooth Core Specification v5.x, Vol 2, Part B, §9.2 CVSD codec (equations, Table 9.2)",
        "J. A. Greefkes, K. Riemens, Code modulation with digitally controlled companding for "
        "speech transmission, Philips Tech. Rev. 31 (1970) 335-353",
    )
    params = (
        Param("input_rate", 64000, "PCM rate in and out: 64000 (native) or 8000 (8x resampled)", int,
              choices=(64000, 8000)),
        Param("bit_order", "msb", "bit packing: first-generated bit in the MSB or the LSB", str, choices=BIT_ORDERS),
        Param("J", 4, "run length that raises the step (J equal bits)", int, min=1, max=16),
        Param("K", 4, "bit history examined for a run of J", int, min=1, max=16),
        Param("step_min", 10, "delta_min, minimum step and step increment", int, min=1, max=32767),
        Param("step_max", 1280, "delta_max, maximum step", int, min=1, max=32767),
        Param("accum_decay_shift", 5, "s in h = 1 - 2**-s (accumulator leak)", int, min=1, max=16),
        Param("step_decay_shift", 10, "s in beta = 1 - 2**-s (step decay)", int, min=1, max=20),
        Param("y_min", -32768, "accumulator negative saturation y_min", int, min=-32768, max=-1),
        Param("y_max", 32767, "accumulator positive saturation y_max", int, min=1, max=32767),
        Param("frac_bits", 10, "fractional bits of the accumulator and step registers", int, min=0, max=24),
        Param("rounding", Rounding.HALF_UP, "rounding of h*y, beta*delta and of the int16 output", Rounding,
              choices=LOOP_ROUNDINGS),
    )
    code_dtype = np.uint8
    blocks = ("encoder", "decoder")

    # -- hardware (inwhale_hw.hdl.cvsd: one-sample-per-clock stream blocks at 64 kHz) -------------

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

    def _check_params(self) -> None:
        owner = f"quantizer {self.name!r}"
        if self.J > self.K:
            raise ParameterError(f"{owner}: J={self.J} is not allowed with K={self.K}; expected J <= K")
        if self.step_min > self.step_max:
            raise ParameterError(
                f"{owner}: step_min={self.step_min} is not allowed with step_max={self.step_max}; "
                "expected step_min <= step_max"
            )
        f, s = self.frac_bits, self.step_decay_shift
        smallest = (self.step_min << f) + 1
        if ((smallest * ((1 << s) - 1) + rounding_bias(self.rounding, s)) >> s) >= smallest:
            raise ParameterError(
                f"{owner}: frac_bits={f} is not allowed with step_decay_shift={s}, step_min={self.step_min} "
                f"and rounding={self.rounding.name}: beta * delta rounds back to delta above step_min, so "
                "the step would never decay; use more frac_bits or FLOOR rounding"
            )
        hs, bs = self.accum_decay_shift, self.step_decay_shift
        self._raw = RawParams(
            frac_bits=f, j=self.J, k_minus_j=self.K - self.J,
            step_min=self.step_min << f, step_max=self.step_max << f,
            y_min=self.y_min << f, y_max=self.y_max << f,
            h_mul=(1 << hs) - 1, h_shift=hs, h_bias=rounding_bias(self.rounding, hs),
            beta_mul=(1 << bs) - 1, beta_shift=bs, beta_bias=rounding_bias(self.rounding, bs),
        )
        # the numba kernels (same bits) when installed and every intermediate fits int64
        self._compiled = kernels.ENABLED and kernels.fits_int64(self._raw)
        self._wide = self.input_rate == 8000
        self.code_range = (0, 255) if self._wide else (0, 1)

    @property
    def bits_per_sample(self) -> float:
        return 8.0 if self._wide else 1.0

    @property
    def required_rate(self) -> int:
        """64 kHz natively (Vol 2, Part B, §9.2), or 8 kHz through the 8x resampler."""
        return self.input_rate

    # -- state and chunks -----------------------------------------------------------------------

    def _start(self, channels: int) -> _Stream:
        raw = self._raw
        first = ChannelState(0, raw.step_min, -1, 0, raw.k_minus_j + 1)
        return _Stream((first,) * channels, None)

    def _encode_chunk(self, frames: np.ndarray, state: _Stream) -> tuple[np.ndarray, _Stream]:
        if self._wide:
            up = state.resampler or Upsampler(FACTOR, frames.shape[1], self.rounding)
            bits, channels, _ = self._encode_native(up.process(frames), state.channels)
            return self._bits_to_bytes(bits), _Stream(channels, up)
        bits, channels, _ = self._encode_native(frames, state.channels)
        return bits, _Stream(channels, None)

    def _finish_encode(self, state: _Stream, channels: int) -> np.ndarray:
        if not self._wide or state.resampler is None:
            return np.zeros((0, channels), dtype=np.int64)
        bits, _, _ = self._encode_native(state.resampler.finish(), state.channels)
        return self._bits_to_bytes(bits)

    def _decode_chunk(self, codes: np.ndarray, state: _Stream) -> tuple[np.ndarray, _Stream]:
        if self._wide:
            down = state.resampler or Downsampler(FACTOR, codes.shape[1], self.rounding)
            pcm, channels = self._decode_native(self._bytes_to_bits(codes), state.channels)
            return down.process(pcm), _Stream(channels, down)
        pcm, channels = self._decode_native(codes, state.channels)
        return pcm, _Stream(channels, None)

    def _finish_decode(self, state: _Stream, channels: int) -> np.ndarray:
        if not self._wide or state.resampler is None:
            return np.zeros((0, channels), dtype=np.int64)
        return state.resampler.finish()

    # -- the 64 kHz codec -----------------------------------------------------------------------

    def _encode_native(self, frames: np.ndarray, states) -> tuple[np.ndarray, tuple, np.ndarray]:
        """Bits, new channel states and x^ (raw) for 64 kHz int frames."""
        bits = np.empty(frames.shape, dtype=np.int64)
        est = np.empty(frames.shape, dtype=np.int64)
        new = []
        for ch, st in enumerate(states):
            if self._compiled:
                b, e, st = kernels.encode_channel(frames[:, ch], st, self._raw)
            else:
                b, e, st = encode_channel(frames[:, ch].tolist(), st, self._raw)
            bits[:, ch], est[:, ch] = b, e
            new.append(st)
        return bits, tuple(new), est

    def _decode_native(self, bits: np.ndarray, states) -> tuple[np.ndarray, tuple]:
        """int16-range PCM and new channel states for 64 kHz bit frames."""
        est = np.empty(bits.shape, dtype=np.int64)
        new = []
        for ch, st in enumerate(states):
            e, st = (kernels.decode_channel if self._compiled else decode_channel)(bits[:, ch], st, self._raw)
            est[:, ch] = e
            new.append(st)
        return self._output(est), tuple(new)

    def _output(self, est: np.ndarray) -> np.ndarray:
        return np.clip(shift_right(est, self.frac_bits, self.rounding), -32768, 32767)

    def _bits_to_bytes(self, bits: np.ndarray) -> np.ndarray:
        groups = bits.reshape(-1, FACTOR, bits.shape[1])
        order = np.arange(FACTOR)
        weights = (1 << (FACTOR - 1 - order)) if self.bit_order == "msb" else (1 << order)
        return np.einsum("ngc,g->nc", groups, weights)

    def _bytes_to_bits(self, codes: np.ndarray) -> np.ndarray:
        order = np.arange(FACTOR)
        shifts = (FACTOR - 1 - order) if self.bit_order == "msb" else order
        bits = (codes[:, None, :] >> shifts[None, :, None]) & 1
        return bits.reshape(-1, codes.shape[1])

    # -- extras ---------------------------------------------------------------------------------

    def encode_with_reconstruction(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """One-shot encode returning ``(codes, reconstruction)``: the encoder's own estimate
        ``x^(k)`` as int16 at the input rate (decimated by 8 for ``input_rate=8000``)."""
        arr = self._check_pcm(x)
        frames = as_frames(arr)
        channels = frames.shape[1]
        states = self._start(channels).channels
        if self._wide:
            up = Upsampler(FACTOR, channels, self.rounding)
            native = np.concatenate([up.process(frames), up.finish()])
            bits, _, est = self._encode_native(native, states)
            down = Downsampler(FACTOR, channels, self.rounding)
            pcm = self._output(est)
            recon = np.concatenate([down.process(pcm), down.finish()])
            codes = self._bits_to_bytes(bits)
        else:
            codes, _, est = self._encode_native(frames, states)
            recon = self._output(est)
        return restore_shape(codes, arr.ndim, self.code_dtype), restore_shape(recon, arr.ndim, np.int16)

    def pack_codes(self, codes: np.ndarray) -> bytes:
        """64 kHz: bits eight to a byte in ``bit_order``; 8 kHz: the code bytes.  Frames
        interleaved by channel in both cases."""
        if self._wide:
            return super().pack_codes(codes)
        return pack_bits(np.asarray(codes), self.bit_order)

    def unpack_codes(self, data: bytes, frames: int, channels: int) -> np.ndarray:
        check_frames_channels(frames, channels, f"{self.name}.unpack_codes")
        if self._wide:
            return super().unpack_codes(data, frames, channels)
        bits = unpack_bits(data, frames * channels, self.bit_order, self.name)
        return bits.reshape(frames, channels) if channels > 1 else bits
