"""Linear delta modulation (``delta``) and the shared sequential-codec machinery.

The independent reference is a scalar implementation written here straight from the two
equations of linear DM (Python ints, one sample at a time); the packing reference is a
bit-by-bit packer on Python ints.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

import inwhale_hw
from inwhale_hw.errors import AudioFormatError, InputError, ParameterError
from inwhale_hw.plugins.delta.model import DeltaModulation
from inwhale_hw.testing import check_quantizer

RATE = 64000


def reference_dm(x: np.ndarray, step: int) -> tuple[list[int], list[int]]:
    """b[k] = +1 if x[k] >= y[k-1] else -1;  y[k] = clamp(y[k-1] + b[k]*D, -32768, 32767)."""
    y, codes, out = 0, [], []
    for v in (int(s) for s in x):
        b = 1 if v - y >= 0 else -1
        y = min(max(y + b * step, -32768), 32767)
        codes.append(1 if b == 1 else 0)
        out.append(y)
    return codes, out


def speech_like(n: int, seed: int, rate: int = RATE) -> np.ndarray:
    """Glottal pulses (pitch gliding 110-190 Hz) through three formant resonators, syllable
    envelope, noise bursts for fricatives; peaks near -3 dBFS."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    pitch = 150 + 40 * np.sin(2 * np.pi * 1.3 * t)
    phase = np.cumsum(pitch / rate)
    pulses = (np.diff(np.floor(phase), prepend=0) > 0).astype(float)
    voiced = pulses
    for f, bw in ((700, 130), (1220, 70), (2600, 160)):
        r = np.exp(-np.pi * bw / rate)
        voiced = signal.lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / rate), r * r], voiced)
    envelope = np.clip(np.sin(2 * np.pi * 3.1 * t), 0, None) ** 0.7
    hiss = signal.lfilter([1, -0.9], [1], rng.normal(0, 1, n)) * (np.sin(2 * np.pi * 2.3 * t + 1) > 0.8)
    mix = voiced / np.abs(voiced).max() * envelope + 0.15 * hiss / np.abs(hiss).max()
    return np.round(mix / np.abs(mix).max() * 23000).astype(np.int16)


def edge_signals() -> dict[str, np.ndarray]:
    n = 1500
    k = np.arange(n)
    return {
        "silence": np.zeros(n, np.int16),
        "square_full_scale": np.where((k // 40) % 2 == 0, 32767, -32768).astype(np.int16),
        "square_fast": np.where((k // 3) % 2 == 0, 32767, -32768).astype(np.int16),
        "steps": np.repeat(np.array([0, 20000, -20000, 5, -5, 32767, -32768, 0], np.int16), n // 8),
        "rail_high": np.full(n, 32767, np.int16),
        "rail_low": np.full(n, -32768, np.int16),
        "noise": np.random.default_rng(7).integers(-32768, 32768, n).astype(np.int16),
    }


def snr_db(x: np.ndarray, y: np.ndarray) -> float:
    x = x.astype(float)
    return 10 * np.log10(np.sum(x * x) / np.sum((x - y.astype(float)) ** 2))


@pytest.mark.parametrize("step", [1, 37, 512, 4096, 32767])
@pytest.mark.parametrize("name", sorted(edge_signals()))
def test_matches_reference_on_edge_signals(name, step):
    x = edge_signals()[name]
    q = DeltaModulation(step=step)
    ref_codes, ref_y = reference_dm(x, step)
    codes = q.encode(x)
    assert codes.tolist() == ref_codes
    assert q.decode(codes).tolist() == ref_y


@pytest.mark.parametrize("step", [64, 512, 2000])
def test_matches_reference_on_speech(step):
    x = speech_like(20000, seed=step)
    ref_codes, ref_y = reference_dm(x, step)
    q = DeltaModulation(step=step)
    codes, recon = q.encode_with_reconstruction(x)
    assert codes.tolist() == ref_codes
    assert recon.tolist() == ref_y
    assert q.decode(codes).tolist() == ref_y


def test_channels_are_independent():
    x = np.stack([speech_like(3000, 1), edge_signals()["square_full_scale"][:3000].repeat(2)[:3000]], axis=1)
    q = DeltaModulation(step=300)
    codes = q.encode(x)
    for ch in range(2):
        assert codes[:, ch].tolist() == reference_dm(x[:, ch], 300)[0]
        assert q.decode(codes)[:, ch].tolist() == reference_dm(x[:, ch], 300)[1]


def test_encoder_tracks_decoder():
    x = np.stack([speech_like(8000, 3), speech_like(8000, 4)[::-1]], axis=1)
    q = DeltaModulation(step=700)
    codes, recon = q.encode_with_reconstruction(x)
    assert np.array_equal(recon, q.decode(codes))
    assert recon.dtype == np.int16


@pytest.mark.parametrize("seed", range(3))
def test_streaming_any_chunking_equals_one_shot(seed):
    rng = np.random.default_rng(seed)
    x = np.stack([speech_like(5000, seed), edge_signals()["noise"].repeat(4)[:5000]], axis=1)
    q = DeltaModulation(step=900)
    codes = q.encode(x)
    cuts = np.unique(np.concatenate([[0, len(x)], rng.integers(0, len(x), 30)]))
    enc, dec = q.encoder(), q.decoder()
    streamed = [enc.encode(x[a:b]) for a, b in zip(cuts[:-1], cuts[1:])] + [enc.flush()]
    assert np.array_equal(np.concatenate(streamed), codes)
    decoded = [dec.decode(codes[a:b]) for a, b in zip(cuts[:-1], cuts[1:])] + [dec.flush()]
    assert np.array_equal(np.concatenate(decoded), q.decode(codes))


def test_sine_1khz_snr_bound():
    """1 kHz at 64 kHz, amplitude 4000 (below the slope limit D*64000/(2*pi*1000) = 5215 for
    D = 512): granular noise only, about 1.5*(A/D)**2 -> 19.6 dB; we require >= 18 dB."""
    t = np.arange(64000)
    x = np.round(4000 * np.sin(2 * np.pi * 1000 * t / RATE)).astype(np.int16)
    q = DeltaModulation(step=512)
    y = q.decode(q.encode(x))
    assert snr_db(x[100:], y[100:]) >= 18.0


def test_slope_overload_is_the_spec_behaviour():
    """A full-scale step is followed at exactly D per sample: 32767 // 512 + 1 samples to reach it."""
    x = np.full(100, 32767, np.int16)
    y = DeltaModulation(step=512).decode(DeltaModulation(step=512).encode(x))
    assert y[:64].tolist() == [512 * (k + 1) for k in range(63)] + [32767]


def _reference_pack(codes: list[int], msb_first: bool) -> bytes:
    out = bytearray()
    for start in range(0, len(codes), 8):
        byte = 0
        for i, bit in enumerate(codes[start:start + 8]):
            byte |= bit << (7 - i if msb_first else i)
        out.append(byte)
    return bytes(out)


@pytest.mark.parametrize("bit_order", ["msb", "lsb"])
@pytest.mark.parametrize("shape", [(21,), (16,), (13, 2), (8, 3)])
def test_pack_codes_matches_bitwise_reference(bit_order, shape):
    rng = np.random.default_rng(sum(shape))
    codes = rng.integers(0, 2, shape).astype(np.uint8)
    q = DeltaModulation(bit_order=bit_order)
    data = q.pack_codes(codes)
    assert data == _reference_pack(codes.reshape(-1).tolist(), bit_order == "msb")
    channels = 1 if codes.ndim == 1 else codes.shape[1]
    assert np.array_equal(q.unpack_codes(data, shape[0], channels), codes)


def test_pack_codes_first_code_position():
    codes = np.array([1, 0, 0, 0, 0, 0, 0, 0, 1], np.uint8)
    assert DeltaModulation(bit_order="msb").pack_codes(codes) == b"\x80\x80"
    assert DeltaModulation(bit_order="lsb").pack_codes(codes) == b"\x01\x01"


def test_unpack_truncated_data_is_a_format_error():
    with pytest.raises(AudioFormatError, match="2 bytes, 3 needed"):
        DeltaModulation().unpack_codes(b"\x00\x00", 17, 1)


@pytest.mark.parametrize("params", [{}, {"bit_order": "lsb"}, {"step": 1}, {"step": 32767}])
def test_conformance(params):
    check_quantizer(DeltaModulation, params)


def test_registered_with_alias():
    assert isinstance(inwhale_hw.get_quantizer("dm", step=3), DeltaModulation)


@pytest.mark.parametrize("bad", [0, -5, 40000, "x", 2.5])
def test_bad_step_quotes_value(bad):
    with pytest.raises(ParameterError, match=repr(bad).replace(".", r"\.")):
        DeltaModulation(step=bad)


def test_bad_bit_order_quotes_value():
    with pytest.raises(ParameterError, match="'middle'"):
        DeltaModulation(bit_order="middle")


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([0, 32768]), "value 32768"),
        (np.array([0.5]), "dtype float64"),
        (np.zeros((2, 2, 2), np.int16), r"got \(2, 2, 2\)"),
    ],
)
def test_bad_pcm_is_an_input_error(bad, message):
    with pytest.raises(InputError, match=message):
        DeltaModulation().encode(bad)


def test_bad_codes_are_an_input_error():
    with pytest.raises(InputError, match="value 2"):
        DeltaModulation().decode(np.array([0, 1, 2]))


def test_stream_rejects_channel_change_and_use_after_flush():
    enc = DeltaModulation().encoder()
    enc.encode(np.zeros((4, 2), np.int16))
    with pytest.raises(InputError, match=r"shape \(4, 3\)"):
        enc.encode(np.zeros((4, 3), np.int16))
    enc.flush()
    with pytest.raises(InputError, match="already flushed"):
        enc.encode(np.zeros((4, 2), np.int16))

