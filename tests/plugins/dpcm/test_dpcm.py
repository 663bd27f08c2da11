"""Closed-loop DPCM, bit for bit against a reference written here from the equations.

The reference works in exact rational arithmetic (:class:`fractions.Fraction`): it quantizes
the coefficients, levels, step and multipliers itself (Python's ``round`` on a Fraction is
half-to-even), forms the prediction as an exact sum, and picks the reconstruction level by
brute force over every level with the stated tie rule.  It shares no code with the plugin.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import signal

import inwhale_hw
from inwhale_hw.errors import AudioFormatError, InputError, ParameterError
from inwhale_hw.fixed import Rounding
from inwhale_hw.plugins.dpcm.model import DPCM
from inwhale_hw.testing import check_quantizer

ROUND = {
    Rounding.FLOOR: math.floor,
    Rounding.CEIL: math.ceil,
    Rounding.HALF_UP: lambda v: math.floor(v + Fraction(1, 2)),
    Rounding.HALF_DOWN: lambda v: math.ceil(v - Fraction(1, 2)),
}
JAYANT = {2: (0.8, 1.6), 3: (0.9, 0.9, 1.25, 1.75), 4: (0.9, 0.9, 0.9, 0.9, 1.2, 1.6, 2.0, 2.4)}
DEFAULTS = dict(coeffs=(0.9,), coeff_frac_bits=14, bits=4, quantizer="midrise", levels=None, step=64.0,
                adapt="jayant", multipliers=None, step_min=2.0, step_max=4096.0, rounding=Rounding.HALF_UP,
                code_format="twos")


def _grid(value, frac_bits: int) -> Fraction:
    """A real on the 2**-frac_bits grid, ties to even (Python's round on a Fraction)."""
    return Fraction(round(Fraction(value) * 2**frac_bits), 2**frac_bits)


class ReferenceDPCM:
    """p = rnd(sum c_i y[n-i]); k = argmin |e - rnd(L_k D)|; y = sat16(p + r_k); D <- rnd(D M)."""

    def __init__(self, **params):
        p = {**DEFAULTS, **params}
        self.rnd = ROUND[p["rounding"]]
        self.c = [_grid(c, p["coeff_frac_bits"]) for c in p["coeffs"]]
        self.bits = p["bits"]
        half = 2 ** (self.bits - 1)
        if p["quantizer"] == "table":
            self.levels = [_grid(v, 8) for v in p["levels"]]
        else:
            offset = Fraction(1, 2) if p["quantizer"] == "midrise" else 0
            self.levels = [k + offset for k in range(-half, half)]
        self.step = _grid(p["step"], 8)
        self.adaptive = p["adapt"] == "jayant"
        self.mults = [_grid(m, 8) for m in (p["multipliers"] or JAYANT.get(self.bits, ()))]
        self.smin, self.smax = _grid(p["step_min"], 8), _grid(p["step_max"], 8)
        self.twos = p["code_format"] == "twos"
        self.y = [0] * len(self.c)  # y[n-1], y[n-2], ...

    def _finish(self, k: int, r: int, pred: int) -> tuple[int, int]:
        y = max(-32768, min(32767, pred + r))
        self.y = [y] + self.y[:-1]
        signed = k - 2 ** (self.bits - 1)
        if self.adaptive:
            m = signed if signed >= 0 else -1 - signed
            self.step = min(max(Fraction(self.rnd(self.step * self.mults[m] * 256), 256), self.smin), self.smax)
        code = signed % 2**self.bits if self.twos else k
        return code, y

    def _prediction(self) -> int:
        return self.rnd(sum(c * y for c, y in zip(self.c, self.y)))

    def encode_sample(self, x: int) -> tuple[int, int]:
        pred = self._prediction()
        e = x - pred
        recon = [self.rnd(level * self.step) for level in self.levels]
        k = min(range(len(recon)), key=lambda i: (abs(e - recon[i]), abs(recon[i]), i))
        return self._finish(k, recon[k], pred)

    def decode_sample(self, code: int) -> int:
        half = 2 ** (self.bits - 1)
        k = ((code + half) % 2**self.bits) if self.twos else code
        pred = self._prediction()
        return self._finish(k, self.rnd(self.levels[k] * self.step), pred)[1]


def reference_encode(x, **params):
    ref = ReferenceDPCM(**params)
    pairs = [ref.encode_sample(int(v)) for v in x]
    return [c for c, _ in pairs], [y for _, y in pairs]


def reference_decode(codes, **params):
    ref = ReferenceDPCM(**params)
    return [ref.decode_sample(int(c)) for c in codes]


def speech_like(n: int, seed: int, rate: int = 8000) -> np.ndarray:
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


def edge_signal(n: int = 240) -> np.ndarray:
    """Silence, a full-scale square wave, steps and both rails, back to back."""
    k = np.arange(n)
    parts = [
        np.zeros(n),
        np.where((k // 7) % 2 == 0, 32767, -32768),
        np.repeat([0, 20000, -20000, 5, -5, 32767, -32768, 0], n // 8),
        np.full(n, 32767),
        np.full(n, -32768),
    ]
    return np.concatenate(parts).astype(np.int16)


def snr_db(x: np.ndarray, y: np.ndarray) -> float:
    x = x.astype(float)
    return 10 * np.log10(np.sum(x * x) / np.sum((x - y.astype(float)) ** 2))


CASES = {
    "defaults": {},
    "order2_3bit": {"coeffs": (1.8, -0.81), "bits": 3},
    "unit_predictor_fixed_midtread": {"coeffs": (1,), "adapt": "none", "quantizer": "midtread", "bits": 5, "step": 150.5},
    "zero_predictor_table_offset": {"coeffs": (0,), "bits": 2, "quantizer": "table", "levels": (-3.1, -0.7, 0.6, 2.9),
                                    "adapt": "none", "step": 700.0, "code_format": "offset"},
    "order3_8bit_floor": {"coeffs": (1.2, -0.5, 0.2), "bits": 8, "adapt": "none", "step": 40.0,
                          "rounding": Rounding.FLOOR},
    "coarse_coeffs_ceil": {"coeffs": (0.93, 0.01), "coeff_frac_bits": 4, "rounding": Rounding.CEIL},
    "coarse_coeffs_half_down": {"coeffs": (0.93, 0.01), "coeff_frac_bits": 4, "rounding": Rounding.HALF_DOWN},
    "jayant_2bit": {"bits": 2, "step": 300.0, "step_min": 8.0, "step_max": 9000.0},
    "order4_wide_format": {"coeffs": (2.5, -2.2, 0.8, -0.1), "coeff_int_bits": 3, "coeff_frac_bits": 12,
                           "multipliers": (0.85, 0.95, 1.1, 1.3, 1.5, 1.7, 1.9, 2.2)},
    "table_jayant_6bit": {"bits": 6, "quantizer": "table", "levels": tuple(np.sinh(np.linspace(-3, 3, 64)) * 4),
                          "multipliers": tuple(np.linspace(0.8, 2.0, 32)), "step_min": 4.0},
}


# -- bit-exactness against the reference ------------------------------------------------------

@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_reference_on_speech_and_edges(case):
    params = CASES[case]
    bits = params.get("bits", 4)
    n = 400 if bits >= 6 else 1500
    x = np.concatenate([speech_like(n, seed=len(case)), edge_signal(n // 5)])
    codes, recon = reference_encode(x, **params)
    q = DPCM(**params)
    ours, ours_recon = q.encode_with_reconstruction(x)
    assert ours.tolist() == codes
    assert ours_recon.tolist() == recon
    assert q.decode(ours).tolist() == recon


@pytest.mark.parametrize("case", ["defaults", "unit_predictor_fixed_midtread", "order3_8bit_floor", "jayant_2bit"])
def test_decoder_matches_reference_on_random_codes(case):
    params = CASES[case]
    bits = params.get("bits", 4)
    codes = np.random.default_rng(bits).integers(0, 2**bits, 600)
    assert DPCM(**params).decode(codes).tolist() == reference_decode(codes, **params)


def test_rounding_choice_changes_the_bits():
    """Guard: the coarse-coefficient cases really exercise the rounding of the prediction."""
    x = speech_like(1500, seed=1)
    streams = {r: tuple(DPCM(coeffs=(0.93, 0.01), coeff_frac_bits=4, rounding=r).encode(x).tolist()) for r in ROUND}
    assert len(set(streams.values())) == len(ROUND)


def test_coefficients_are_quantized_half_even():
    q = DPCM(coeffs=(0.9, -0.40625, 1.03125), coeff_frac_bits=4)
    assert q.coefficients == (0.875, -0.375, 1.0)  # 14.4 -> 14, -6.5 -> -6, 16.5 -> 16


def test_channels_are_independent():
    x = np.stack([speech_like(1200, 2), edge_signal(240)], axis=1)
    q = DPCM(coeffs=(1.8, -0.81), bits=3)
    codes = q.encode(x)
    decoded = q.decode(codes)
    for ch in range(2):
        ref_codes, ref_y = reference_encode(x[:, ch], coeffs=(1.8, -0.81), bits=3)
        assert codes[:, ch].tolist() == ref_codes
        assert decoded[:, ch].tolist() == ref_y


# -- properties -------------------------------------------------------------------------------

@pytest.mark.parametrize("case", sorted(CASES))
def test_encoder_tracks_decoder(case):
    x = np.stack([speech_like(3000, 3), speech_like(3000, 4)[::-1]], axis=1)
    q = DPCM(**CASES[case])
    codes, recon = q.encode_with_reconstruction(x)
    assert np.array_equal(recon, q.decode(codes))


@pytest.mark.parametrize("case", ["defaults", "order2_3bit", "unit_predictor_fixed_midtread", "zero_predictor_table_offset"])
@pytest.mark.parametrize("seed", range(2))
def test_streaming_any_chunking_equals_one_shot(case, seed):
    rng = np.random.default_rng(seed)
    x = np.stack([speech_like(2500, seed), np.resize(edge_signal(100), 2500)], axis=1)
    q = DPCM(**CASES[case])
    codes = q.encode(x)
    decoded = q.decode(codes)
    cuts = np.unique(np.concatenate([[0, 1, 2, 3, len(x)], rng.integers(0, len(x), 25)]))
    enc, dec = q.encoder(), q.decoder()
    parts = [enc.encode(x[a:b]) for a, b in zip(cuts[:-1], cuts[1:])] + [enc.flush()]
    assert np.array_equal(np.concatenate(parts), codes)
    parts = [dec.decode(codes[a:b]) for a, b in zip(cuts[:-1], cuts[1:])] + [dec.flush()]
    assert np.array_equal(np.concatenate(parts), decoded)


@pytest.mark.parametrize("params, bound", [({}, 36.0), ({"coeffs": (1.8, -0.81)}, 50.0)])
def test_sine_1khz_at_64khz_snr_bound(params, bound):
    """1 kHz at 64 kHz, amplitude 10000.  Measured: defaults (4-bit Jayant, c = 0.9) 39.4 dB,
    the second-order predictor 2 cos(w) ~ 1.8, -0.81 gives 55.6 dB."""
    t = np.arange(32000)
    x = np.round(10000 * np.sin(2 * np.pi * 1000 * t / 64000)).astype(np.int16)
    q = DPCM(**params)
    y = q.decode(q.encode(x))
    assert snr_db(x[200:], y[200:]) >= bound


# -- containers -------------------------------------------------------------------------------

def _reference_pack(codes: list[int], bits: int) -> bytes:
    stream = "".join(format(c, f"0{bits}b") for c in codes)
    stream += "0" * (-len(stream) % 8)
    return bytes(int(stream[i:i + 8], 2) for i in range(0, len(stream), 8))


@pytest.mark.parametrize("bits", [2, 3, 4, 5, 7, 8])
@pytest.mark.parametrize("shape", [(13,), (16,), (9, 2)])
def test_pack_codes_matches_bit_string_reference(bits, shape):
    codes = np.random.default_rng(bits).integers(0, 2**bits, shape).astype(np.uint8)
    q = DPCM(bits=bits)
    data = q.pack_codes(codes)
    assert data == _reference_pack(codes.reshape(-1).tolist(), bits)
    channels = 1 if codes.ndim == 1 else codes.shape[1]
    assert np.array_equal(q.unpack_codes(data, shape[0], channels), codes)


def test_unpack_truncated_data_is_a_format_error():
    with pytest.raises(AudioFormatError, match="3 bytes, 4 needed"):
        DPCM(bits=3).unpack_codes(b"\x00" * 3, 10, 1)


# -- conformance and bad input ------------------------------------------------------------------

@pytest.mark.parametrize("case", ["defaults", "order2_3bit", "unit_predictor_fixed_midtread", "zero_predictor_table_offset"])
def test_conformance(case):
    check_quantizer(DPCM, CASES[case])


def test_registered_and_cli_strings():
    q = inwhale_hw.get_quantizer("dpcm", coeffs="1.8,-0.81", bits="3", rounding="floor", levels=None)
    assert q.coefficients == (29491 / 16384, -13271 / 16384)  # round(1.8 * 2**14), round(-0.81 * 2**14)


@pytest.mark.parametrize(
    "params, quoted",
    [
        ({"coeffs": (2.5,)}, "2.5"),
        ({"coeffs": (float("nan"),)}, "nan"),
        ({"coeffs": ()}, r"\(\)"),
        ({"coeffs": tuple([0.1] * 33)}, "0.1"),
        ({"coeffs": "x,y"}, "'x,y'"),
        ({"bits": 9}, "9"),
        ({"bits": 1}, "1"),
        ({"quantizer": "table"}, "levels"),
        ({"quantizer": "table", "bits": 2, "levels": (1, 2, 3)}, r"\(1, 2, 3\)"),
        ({"quantizer": "table", "bits": 2, "levels": (1, 3, 2, 4)}, r"\(1, 3, 2, 4\)"),
        ({"levels": (1, 2, 3, 4)}, r"\(1, 2, 3, 4\)"),
        ({"multipliers": (1.0, 2.0)}, r"\(1.0, 2.0\)"),
        ({"adapt": "none", "multipliers": (1.0,) * 8}, "multipliers"),
        ({"step": 1.0, "step_min": 2.0}, "step=1.0"),
        ({"adapt": "none", "step": 0.5}, "step=0.5"),
        ({"rounding": "half_even"}, "half_even"),
        ({"code_format": "sign"}, "'sign'"),
    ],
)
def test_bad_parameters_quote_the_value(params, quoted):
    with pytest.raises(ParameterError, match=quoted):
        DPCM(**params)


def test_bad_codes_and_pcm_are_input_errors():
    with pytest.raises(InputError, match="value 16"):
        DPCM().decode(np.array([0, 16]))
    with pytest.raises(InputError, match="value 8"):
        DPCM(bits=3).decode(np.array([[0, 8]]))
    with pytest.raises(InputError, match="dtype float64"):
        DPCM().encode(np.array([0.25]))

