"""CVSD (Bluetooth Core v5.x Vol 2 Part B §9.2), bit for bit against a reference written here.

The reference follows the spec equations one sample at a time in exact rational arithmetic
(:class:`fractions.Fraction`): ``h`` and ``beta`` are the exact fractions of Table 9.2, each
product is rounded to the ``2**-frac_bits`` grid with the stated rounding, ``alpha`` is found
by looking at the list of the last K bits.  The 8 kHz path is checked against
``scipy.signal.resample_poly`` run with our quantized filter as its window.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import signal

import inwhale_hw
from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.fixed import Rounding
from inwhale_hw.plugins.cvsd.model import CVSD
from inwhale_hw.plugins.cvsd.resample8 import design_filter
from inwhale_hw.testing import check_quantizer

RATE = 64000

ROUND = {
    Rounding.FLOOR: math.floor,
    Rounding.CEIL: math.ceil,
    Rounding.HALF_UP: lambda v: math.floor(v + Fraction(1, 2)),
    Rounding.HALF_DOWN: lambda v: math.ceil(v - Fraction(1, 2)),
}

BLUETOOTH = dict(J=4, K=4, step_min=10, step_max=1280, accum_decay_shift=5, step_decay_shift=10,
                 y_min=-32768, y_max=32767, frac_bits=10, rounding=Rounding.HALF_UP)


class ReferenceCVSD:
    """§9.2 equations, one sample at a time, Fractions; ``step(bit_or_none, x)`` -> (bit, out)."""

    def __init__(self, J, K, step_min, step_max, accum_decay_shift, step_decay_shift, y_min, y_max,
                 frac_bits, rounding):
        self.J, self.K = J, K
        self.dmin, self.dmax = Fraction(step_min), Fraction(step_max)
        self.h = 1 - Fraction(1, 2**accum_decay_shift)
        self.beta = 1 - Fraction(1, 2**step_decay_shift)
        self.ymin, self.ymax = Fraction(y_min), Fraction(y_max)
        self.lsb = Fraction(1, 2**frac_bits)
        self.rnd = ROUND[rounding]
        self.xhat = Fraction(0)
        self.delta = self.dmin
        self.history: list[int] = []

    def grid(self, v: Fraction) -> Fraction:
        return self.rnd(v / self.lsb) * self.lsb

    def step(self, x=None, bit=None):
        if bit is None:
            b = 1 if x - self.xhat >= 0 else -1          # b(k) = sgn(x(k) - x^(k-1))
        else:
            b = -1 if bit else 1                          # negative numbers are sent as 1
        self.history.append(b)
        last = self.history[-self.K:]
        alpha = any(len(set(last[i:i + self.J])) == 1 for i in range(len(last) - self.J + 1))
        if alpha:
            self.delta = min(self.delta + self.dmin, self.dmax)
        else:
            self.delta = max(self.grid(self.beta * self.delta), self.dmin)
        yhat = self.xhat + b * self.delta
        y = min(yhat, self.ymax) if yhat >= 0 else max(yhat, self.ymin)
        self.xhat = self.grid(self.h * y)                 # x^(k) = h y(k)
        return (1 if b < 0 else 0), max(min(self.rnd(self.xhat), 32767), -32768)


def reference_encode(x, **params):
    ref = ReferenceCVSD(**{**BLUETOOTH, **params})
    pairs = [ref.step(x=int(v)) for v in x]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def reference_decode(bits, **params):
    ref = ReferenceCVSD(**{**BLUETOOTH, **params})
    return [ref.step(bit=int(b))[1] for b in bits]


def speech_like(n: int, seed: int, rate: int = RATE) -> np.ndarray:
    """Glottal pulses (110-190 Hz) through three formant resonators, syllable envelope, hiss."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    phase = np.cumsum((150 + 40 * np.sin(2 * np.pi * 1.3 * t)) / rate)
    voiced = (np.diff(np.floor(phase), prepend=0) > 0).astype(float)
    for f, bw in ((700, 130), (1220, 70), (2600, 160)):
        r = np.exp(-np.pi * bw / rate)
        voiced = signal.lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / rate), r * r], voiced)
    envelope = np.clip(np.sin(2 * np.pi * 3.1 * t + 0.4), 0, None) ** 0.7
    hiss = signal.lfilter([1, -0.9], [1], rng.normal(0, 1, n)) * (np.sin(2 * np.pi * 2.3 * t + 1) > 0.8)
    mix = voiced / np.abs(voiced).max() * envelope + 0.15 * hiss / np.abs(hiss).max()
    return np.round(mix / np.abs(mix).max() * 23000).astype(np.int16)


def edge_signals(n: int = 1200) -> dict[str, np.ndarray]:
    k = np.arange(n)
    return {
        "silence": np.zeros(n, np.int16),
        "square_full_scale": np.where((k // 64) % 2 == 0, 32767, -32768).astype(np.int16),
        "square_fast": np.where((k // 4) % 2 == 0, 32767, -32768).astype(np.int16),
        "steps": np.repeat(np.array([0, 20000, -20000, 7, -7, 32767, -32768, 0], np.int16), n // 8),
        "rail_high": np.full(n, 32767, np.int16),
        "rail_low": np.full(n, -32768, np.int16),
        "noise": np.random.default_rng(11).integers(-32768, 32768, n).astype(np.int16),
    }


def snr_db(x: np.ndarray, y: np.ndarray) -> float:
    x = x.astype(float)
    return 10 * np.log10(np.sum(x * x) / np.sum((x - y.astype(float)) ** 2))


# -- bit-exactness against the reference ------------------------------------------------------

@pytest.mark.parametrize("name", sorted(edge_signals()))
def test_bluetooth_defaults_match_reference_on_edge_signals(name):
    x = edge_signals()[name]
    bits, out = reference_encode(x)
    q = CVSD()
    codes, recon = q.encode_with_reconstruction(x)
    assert codes.tolist() == bits
    assert recon.tolist() == out
    assert q.decode(codes).tolist() == out


def test_bluetooth_defaults_match_reference_on_speech():
    x = speech_like(12000, seed=2)
    bits, out = reference_encode(x)
    q = CVSD()
    codes = q.encode(x)
    assert codes.tolist() == bits
    assert q.decode(codes).tolist() == out


@pytest.mark.parametrize(
    "params",
    [
        {"rounding": Rounding.FLOOR},
        {"rounding": Rounding.CEIL, "frac_bits": 12},
        {"rounding": Rounding.HALF_DOWN, "y_min": -32767},
        {"J": 3, "K": 5, "frac_bits": 6},
        {"J": 1, "K": 1, "step_min": 3, "step_max": 300},
        {"J": 2, "K": 7, "accum_decay_shift": 3, "step_decay_shift": 6, "y_min": -20000, "y_max": 9000},
        {"frac_bits": 0, "rounding": Rounding.FLOOR, "step_min": 20, "step_max": 2000},
        *({"frac_bits": 2, "step_decay_shift": 4, "rounding": r} for r in ROUND),
    ],
    ids=lambda p: ",".join(f"{k}={getattr(v, 'name', v)}" for k, v in p.items()),
)
def test_other_parameters_match_reference(params):
    x = np.concatenate([speech_like(3000, seed=5), edge_signals(800)["square_fast"], edge_signals(800)["steps"]])
    bits, out = reference_encode(x, **params)
    q = CVSD(**params)
    codes = q.encode(x)
    assert codes.tolist() == bits
    assert q.decode(codes).tolist() == out


def test_rounding_choice_changes_the_bits():
    """Guard for the test above: with 2 fractional bits each rounding gives other bits, so the
    reference comparison really exercises the rounding of h*y and beta*delta."""
    x = np.concatenate([speech_like(3000, seed=5), edge_signals(800)["square_fast"], edge_signals(800)["steps"]])
    streams = {r: tuple(CVSD(frac_bits=2, step_decay_shift=4, rounding=r).encode(x).tolist()) for r in ROUND}
    assert len(set(streams.values())) == len(ROUND)


def test_decoder_matches_reference_on_random_bits():
    """Any bit pattern decodes as the spec says, including long runs that hit both rails."""
    rng = np.random.default_rng(3)
    bits = np.concatenate([rng.integers(0, 2, 1500), np.zeros(400, int), np.ones(400, int), rng.integers(0, 2, 300)])
    assert CVSD().decode(bits.astype(np.uint8)).tolist() == reference_decode(bits)


def test_channels_are_independent():
    x = np.stack([speech_like(2500, 1), edge_signals(2500)["square_full_scale"]], axis=1)
    q = CVSD()
    codes = q.encode(x)
    decoded = q.decode(codes)
    for ch in range(2):
        bits, out = reference_encode(x[:, ch])
        assert codes[:, ch].tolist() == bits
        assert decoded[:, ch].tolist() == out


def test_bit_polarity_follows_the_spec():
    """A rising input gives b = +1, sent as 0; a falling input b = -1, sent as 1."""
    q = CVSD()
    assert q.encode(np.full(8, 20000, np.int16)).tolist() == [0] * 8
    assert q.encode(np.full(8, -20000, np.int16)).tolist() == [1] * 8


# -- the 8 kHz path ---------------------------------------------------------------------------

def test_filter_is_resample_polys_default_quantized():
    taps = signal.firwin(161, 1 / 8, window=("kaiser", 5.0))
    c = design_filter(8)
    assert len(c) == 161 and c.dtype.kind == "i"
    assert np.max(np.abs(c / 2**15 - taps)) <= 2**-16
    assert abs(int(c.sum()) - 2**15) <= 8


def _bytes_from_bits(bits: list[int], msb_first: bool) -> list[int]:
    out = []
    for start in range(0, len(bits), 8):
        group = bits[start:start + 8]
        out.append(sum(b << (7 - i if msb_first else i) for i, b in enumerate(group)))
    return out


@pytest.mark.parametrize("bit_order", ["msb", "lsb"])
def test_8khz_encode_matches_resample_poly_and_reference(bit_order):
    x = np.concatenate([speech_like(300, 4, rate=8000), np.full(20, 32767, np.int16), np.full(20, -32768, np.int16)])
    c = design_filter(8).astype(float)
    up = signal.resample_poly(x.astype(float), 8, 1, window=c)
    up = np.clip(np.floor(up / 2**15 + 0.5), -32768, 32767)   # HALF_UP, saturate
    bits, _ = reference_encode(up)
    q = CVSD(input_rate=8000, bit_order=bit_order)
    codes = q.encode(x)
    assert codes.shape == x.shape and codes.dtype == np.uint8
    assert codes.tolist() == _bytes_from_bits(bits, bit_order == "msb")


def test_8khz_decode_matches_reference_and_resample_poly():
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 256, 250).astype(np.uint8)
    bits = [int(b) for byte in codes.tolist() for b in format(byte, "08b")]
    z = np.array(reference_decode(bits), dtype=float)
    down = signal.resample_poly(z, 1, 8, window=design_filter(8).astype(float))
    expected = np.clip(np.floor(down / 2**15 + 0.5), -32768, 32767)
    assert CVSD(input_rate=8000).decode(codes).tolist() == expected.tolist()


def test_8khz_mono_packing_equals_64khz_bit_packing():
    x8 = speech_like(400, 6, rate=8000)
    q8 = CVSD(input_rate=8000)
    codes8 = q8.encode(x8)
    bits = q8._bytes_to_bits(codes8.reshape(-1, 1).astype(np.int64)).reshape(-1)
    assert q8.pack_codes(codes8) == CVSD().pack_codes(bits.astype(np.uint8))


# -- properties -------------------------------------------------------------------------------

@pytest.mark.parametrize("params", [{}, {"input_rate": 8000}, {"input_rate": 8000, "bit_order": "lsb"}])
def test_encoder_tracks_decoder(params):
    x = np.stack([speech_like(4000, 7), speech_like(4000, 8)[::-1]], axis=1)
    q = CVSD(**params)
    codes, recon = q.encode_with_reconstruction(x)
    assert np.array_equal(recon, q.decode(codes))


@pytest.mark.parametrize("params", [{}, {"input_rate": 8000}])
@pytest.mark.parametrize("seed", range(3))
def test_streaming_any_chunking_equals_one_shot(params, seed):
    rng = np.random.default_rng(seed)
    x = np.stack([speech_like(3000, seed), edge_signals(3000)["noise"]], axis=1)
    q = CVSD(**params)
    codes = q.encode(x)
    decoded = q.decode(codes)
    cuts = np.unique(np.concatenate([[0, 1, 2, 13, len(x)], rng.integers(0, len(x), 25)]))
    enc, dec = q.encoder(), q.decoder()
    streamed = [enc.encode(x[a:b]) for a, b in zip(cuts[:-1], cuts[1:])] + [enc.flush()]
    assert np.array_equal(np.concatenate(streamed), codes)
    parts = [dec.decode(codes[a:b]) for a, b in zip(cuts[:-1], cuts[1:])] + [dec.flush()]
    assert np.array_equal(np.concatenate(parts), decoded)


def test_sine_1khz_at_64khz_snr_bound():
    """1 kHz, amplitude 10000 (-10.3 dBFS, below slope overload: 2*pi*1000*A/64000 = 982 <
    delta_max = 1280): measured 19.5 dB over the full 32 kHz band; we require >= 18 dB."""
    t = np.arange(32000)
    x = np.round(10000 * np.sin(2 * np.pi * 1000 * t / RATE)).astype(np.int16)
    q = CVSD()
    y = q.decode(q.encode(x))
    assert snr_db(x[2000:], y[2000:]) >= 18.0


def test_sine_1khz_8khz_path_snr_bound():
    """The same tone through the 8 kHz path (the decimator removes out-of-band granular noise):
    measured 30.7 dB; we require >= 27 dB."""
    t = np.arange(4000)
    x = np.round(10000 * np.sin(2 * np.pi * 1000 * t / 8000)).astype(np.int16)
    q = CVSD(input_rate=8000)
    y = q.decode(q.encode(x))
    assert snr_db(x[200:-20], y[200:-20]) >= 27.0


# -- conformance and bad input ------------------------------------------------------------------

@pytest.mark.parametrize("params", [{}, {"input_rate": 8000}, {"bit_order": "lsb", "J": 2, "K": 6}])
def test_conformance(params):
    check_quantizer(CVSD, params)


def test_registered():
    assert isinstance(inwhale_hw.get_quantizer("cvsd", input_rate="8000"), CVSD)


@pytest.mark.parametrize(
    "params, quoted",
    [
        ({"J": 5, "K": 4}, "J=5"),
        ({"step_min": 300, "step_max": 200}, "step_min=300"),
        ({"input_rate": 16000}, "16000"),
        ({"rounding": "half_even"}, "half_even"),
        ({"frac_bits": 0}, "frac_bits=0"),
        ({"y_min": 5}, "5"),
        ({"bit_order": "big"}, "'big'"),
    ],
)
def test_bad_parameters_quote_the_value(params, quoted):
    with pytest.raises(ParameterError, match=quoted):
        CVSD(**params)


@pytest.mark.parametrize("params, bad, message", [
    ({}, np.array([0, 2]), "value 2"),
    ({"input_rate": 8000}, np.array([0, 256]), "value 256"),
    ({}, np.array([0.0, 1.0]), "dtype float64"),
])
def test_bad_codes_are_input_errors(params, bad, message):
    with pytest.raises(InputError, match=message):
        CVSD(**params).decode(bad)


def test_bad_pcm_is_an_input_error():
    with pytest.raises(InputError, match="value -40000"):
        CVSD().encode(np.array([0, -40000]))

