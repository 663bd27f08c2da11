"""Coded files: G.711 WAV/raw interop with libsndfile and ffmpeg, the .iwc container for any
codec, the wav_encode/wav_decode protocol, detection and strictness, atomic writes."""

from __future__ import annotations

import enum
import os
import struct
import subprocess

import numpy as np
import pytest
import soundfile as sf

from inwhale_hw import Param, Quantizer, get_quantizer, list_quantizers
from inwhale_hw.audio import coded, container, wav
from inwhale_hw.audio.pcm import Audio
from inwhale_hw.audio.wav import WavPayload
from inwhale_hw.errors import AudioFormatError, ParameterError, UnknownQuantizerError, UnsupportedError
from inwhale_hw.registry import QuantizerRegistry

SF_SUBTYPE = {"mulaw": "ULAW", "alaw": "ALAW"}


def _pcm(frames: int, channels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(-32768, 32768, (frames, channels)).astype(np.int16)
    x[:4, 0] = [-32768, 32767, 0, -1]
    return x


@pytest.mark.parametrize("law", ["mulaw", "alaw"])
@pytest.mark.parametrize("flavor", ["itu", "audioop", "libsndfile"])
@pytest.mark.parametrize("channels", [1, 2])
def test_our_g711_wav_is_decoded_by_libsndfile_like_us(tmp_path, law, flavor, channels):
    x = _pcm(3001, channels)
    q = get_quantizer(law, flavor=flavor)
    path = tmp_path / "ours.wav"
    result = coded.write_coded(path, Audio(x, 8000), q)
    assert result.payload_bytes == x.size
    info = sf.info(path)
    assert (info.subtype, info.channels, info.samplerate, info.frames) == (SF_SUBTYPE[law], channels, 8000, 3001)
    theirs, _ = sf.read(path, dtype="int16", always_2d=True)
    ours = coded.read_coded(path).audio.samples
    assert np.array_equal(ours, theirs)
    assert np.array_equal(ours[:, 0] if channels == 1 else ours, q.decode(q.encode(x[:, 0] if channels == 1 else x)))


@pytest.mark.parametrize("law", ["mulaw", "alaw"])
@pytest.mark.parametrize("channels", [1, 2])
def test_libsndfile_g711_wav_is_decoded_by_us_like_libsndfile(tmp_path, law, channels):
    x = _pcm(2000, channels, seed=1)
    path = tmp_path / "theirs.wav"
    sf.write(path, x, 8000, subtype=SF_SUBTYPE[law])
    decoded = coded.read_coded(path)
    theirs, _ = sf.read(path, dtype="int16", always_2d=True)
    assert decoded.codec == law and decoded.container == "wav"
    assert np.array_equal(decoded.audio.samples, theirs)
    # and our libsndfile flavor writes the very same file, byte for byte
    ours = tmp_path / "ours.wav"
    coded.write_coded(ours, Audio(x, 8000), get_quantizer(law, flavor="libsndfile"))
    assert ours.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("law", ["mulaw", "alaw"])
def test_ffmpeg_decodes_our_g711_wav_like_us(tmp_path, require_tool, law):
    ffmpeg = require_tool("ffmpeg")
    x = _pcm(4000, 2, seed=2)
    path = tmp_path / "ours.wav"
    coded.write_coded(path, Audio(x, 8000), get_quantizer(law))
    out = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-f", "s16le", "-acodec", "pcm_s16le", "-"],
        check=True, capture_output=True,
    ).stdout
    theirs = np.frombuffer(out, "<i2").reshape(-1, 2)
    assert np.array_equal(coded.read_coded(path).audio.samples, theirs)


@pytest.mark.parametrize("law, ext", [("mulaw", ".ul"), ("alaw", ".al")])
def test_raw_files_hold_libsndfile_data_bytes(tmp_path, law, ext):
    x = _pcm(999, 1, seed=3)
    sf.write(tmp_path / "ref.wav", x, 8000, subtype=SF_SUBTYPE[law])
    ref = (tmp_path / "ref.wav").read_bytes()
    data_start = ref.index(b"data") + 8
    raw = tmp_path / f"a{ext}"
    coded.write_coded(raw, Audio(x, 8000), get_quantizer(law, flavor="libsndfile"))
    assert raw.read_bytes() == ref[data_start : data_start + 999]
    decoded = coded.read_coded(raw)
    assert decoded.audio.rate == 8000 and decoded.codec == law
    assert np.array_equal(decoded.audio.samples, sf.read(tmp_path / "ref.wav", dtype="int16", always_2d=True)[0])
    assert coded.read_coded(raw, raw_rate=16000, raw_channels=1).audio.rate == 16000
    with pytest.raises(AudioFormatError, match="not a whole number of 2-channel frames"):
        coded.read_coded(raw, raw_channels=2)


def test_raw_extension_must_match_the_law(tmp_path):
    with pytest.raises(AudioFormatError, match=r"\.ul file holds the codes of WAV format tag 7; codec 'alaw' has tag 6"):
        coded.write_coded(tmp_path / "x.ul", Audio(_pcm(10, 1), 8000), get_quantizer("alaw"))
    assert not (tmp_path / "x.ul").exists()


def test_every_registered_audio_codec_round_trips_through_iwc(tmp_path):
    x = _pcm(1200, 2, seed=4) // 4
    for name in list_quantizers("audio"):
        q = get_quantizer(name)
        path = tmp_path / f"{name}.iwc"
        coded.write_coded(path, Audio(x, 8000), q)
        decoded = coded.read_coded(path)
        assert decoded.codec == name and decoded.container == "iwc" and decoded.params == q.params
        assert np.array_equal(decoded.audio.samples, q.decode(q.encode(x))), name


class Shade(enum.Enum):
    DARK = 1
    LIGHT = 2


class Nibble(Quantizer):
    """Test-only 4-bit codec: two codes per byte, an enum and a tuple parameter."""

    name = "nibble"
    summary = "test codec: top 4 bits"
    kind = "audio"
    params = (Param("shade", Shade.DARK, "enum", Shade), Param("taps", (1, 2), "tuple", tuple))

    @property
    def bits_per_sample(self) -> float:
        return 4.0

    def encode(self, x):
        x = self._check_pcm(x)
        return ((x.astype(np.int32) + 32768) >> 12).astype(np.uint8)

    def decode(self, codes):
        c = self._check_codes(codes, 0, 15)
        return ((c.astype(np.int32) << 12) - 32768 + (2048 if self.shade is Shade.LIGHT else 0)).astype(np.int16)

    def pack_codes(self, codes):
        flat = np.asarray(codes, dtype=np.uint8).reshape(-1)
        flat = np.concatenate([flat, np.zeros(len(flat) % 2, np.uint8)])
        return ((flat[0::2] << 4) | flat[1::2]).tobytes()

    def unpack_codes(self, data, frames, channels):
        b = np.frombuffer(data, np.uint8)
        flat = np.stack([b >> 4, b & 15], axis=1).reshape(-1)[: frames * channels]
        return flat.reshape(frames, channels) if channels > 1 else flat


class Blocky(Nibble):
    """Test-only block codec using the wav_encode / wav_decode protocol (tag 0xFFF0)."""

    name = "blocky"
    wav_format_tag = 0xFFF0

    def wav_encode(self, pcm, rate):
        codes = self.encode(pcm)
        data = struct.pack("<H", 0xB10C) + self.pack_codes(codes)
        frames = len(codes)
        return WavPayload(data, frames, block_align=len(data), bits_per_sample=4, extension=struct.pack("<H", frames), samples_per_block=frames)

    def wav_decode(self, fmt, data, frames):
        assert data[:2] == struct.pack("<H", 0xB10C) and struct.unpack("<H", fmt.extension)[0] == frames
        codes = self.unpack_codes(data[2:], frames, fmt.channels)
        return self.decode(codes)


def _registry() -> QuantizerRegistry:
    reg = QuantizerRegistry()
    reg.add(Nibble)
    reg.add(Blocky)
    return reg


def test_iwc_rebuilds_enum_and_tuple_parameters(tmp_path):
    reg = _registry()
    q = coded.make_codec("nibble", {"shade": "light", "taps": "3,4,5"}, reg)
    x = _pcm(301, 3, seed=5)
    path = tmp_path / "n.iwc"
    written = coded.write_coded(path, Audio(x, 22050), q)
    assert written.payload_bytes == (301 * 3 + 1) // 2
    decoded = coded.read_coded(path, registry=reg)
    assert decoded.params == {"shade": Shade.LIGHT, "taps": (3, 4, 5)}
    assert decoded.audio.rate == 22050
    assert np.array_equal(decoded.audio.samples, q.decode(q.encode(x)))
    with pytest.raises(UnsupportedError, match="'nibble' has no standard WAV format.*-o out.iwc"):
        coded.write_coded(tmp_path / "n.wav", Audio(x, 22050), q)
    assert not (tmp_path / "n.wav").exists()


def test_wav_needs_whole_byte_codes_without_the_protocol(tmp_path):
    class TaggedNibble(Nibble):
        name = "tagged"
        wav_format_tag = 0xFFF1

    reg = QuantizerRegistry()
    reg.add(TaggedNibble)
    with pytest.raises(UnsupportedError, match="4 bits per sample and no wav_encode/wav_decode.*write .iwc"):
        coded.write_coded(tmp_path / "t.wav", Audio(_pcm(8, 1), 8000), coded.make_codec("tagged", {}, reg))
    assert not (tmp_path / "t.wav").exists()
    assert coded.default_extension(coded.make_codec("tagged", {}, reg)) == ".iwc"
    (tmp_path / "f.wav").write_bytes(
        wav.build_wav(0xFFF1, 1, 8000, 1, 4, b"\x00" * 8, 16)
    )
    with pytest.raises(AudioFormatError, match="belongs to codec 'tagged', which has 4-bit codes and implements no wav_decode"):
        coded.read_coded(tmp_path / "f.wav", registry=reg)


def test_wav_protocol_for_block_codecs(tmp_path):
    reg = _registry()
    q = coded.make_codec("blocky", {}, reg)
    x = _pcm(100, 2, seed=6)
    path = tmp_path / "b.wav"
    coded.write_coded(path, Audio(x, 8000), q)
    blob = path.read_bytes()
    tag, channels, rate, byte_rate, block_align, bits, cb = struct.unpack_from("<HHIIHHH", blob, 20)
    assert (tag, channels, rate, bits, cb) == (0xFFF0, 2, 8000, 4, 2)
    assert block_align == 102 and byte_rate == 8000 * 102 // 100  # floor, the ACM rule
    decoded = coded.read_coded(path, registry=reg)
    assert decoded.codec == "blocky"
    assert np.array_equal(decoded.audio.samples, q.decode(q.encode(x)))


def test_detection_errors_name_what_is_allowed(tmp_path):
    reg = _registry()
    (tmp_path / "e.wav").write_bytes(b"")
    with pytest.raises(AudioFormatError, match="empty"):
        coded.read_coded(tmp_path / "e.wav", registry=reg)
    (tmp_path / "t.bin").write_text("hello")
    with pytest.raises(AudioFormatError, match=r"unsupported coded container.*allowed: RIFF/WAVE.*0xFFF0 blocky.*\.iwc"):
        coded.read_coded(tmp_path / "t.bin", registry=reg)
    sf.write(tmp_path / "pcm.wav", np.zeros(10, np.int16), 8000)
    with pytest.raises(AudioFormatError, match=r"plain format tag 0x0001 \(PCM\) WAV, not a coded file"):
        coded.read_coded(tmp_path / "pcm.wav", registry=reg)
    sf.write(tmp_path / "ima.wav", np.zeros(1000, np.int16), 8000, subtype="IMA_ADPCM")
    with pytest.raises(AudioFormatError, match=r"0x0011 \(IMA ADPCM\) is not supported; coded WAV format tags: 0xFFF0 blocky"):
        coded.read_coded(tmp_path / "ima.wav", registry=reg)
    with pytest.raises(AudioFormatError, match=r"unsupported coded container '\.mp3'; allowed: \.wav"):
        coded.write_coded(tmp_path / "x.mp3", Audio(_pcm(5, 1), 8000), coded.make_codec("nibble", {}, reg))
    with pytest.raises(ParameterError, match="apply only to headerless"):
        coded.read_coded(tmp_path / "pcm.wav", raw_rate=8000, registry=reg)
    with pytest.raises(UnknownQuantizerError, match="unknown codec 'opus'; available audio codecs: blocky, nibble"):
        coded.make_codec("opus", {}, reg)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b[:10], "truncated"),
        (lambda b: b + b"x", "trailing data"),
        (lambda b: b[:-3], "truncated"),
        (lambda b: b[:12] + b"{not json" + b[21:], "not valid UTF-8 JSON"),
        (lambda b: b.replace(b'"version":1', b'"version":9'), "version 9 is not supported"),
        (lambda b: b.replace(b'"frames":', b'"framez":'), "lacks the key 'frames'"),
        (lambda b: b.replace(b'"codec":"nibble"', b'"codec":"nibbl3"'), "unknown codec 'nibbl3'"),
    ],
)
def test_iwc_reader_is_strict(tmp_path, mutate, message):
    reg = _registry()
    blob, _ = coded.encode_to_bytes(Audio(_pcm(50, 1), 8000), coded.make_codec("nibble", {}, reg), "iwc")
    assert blob.startswith(container.MAGIC)
    (tmp_path / "m.iwc").write_bytes(mutate(blob))
    with pytest.raises((AudioFormatError, UnknownQuantizerError), match=message):
        coded.read_coded(tmp_path / "m.iwc", registry=reg)


def test_a_failing_encode_leaves_no_file(tmp_path):
    class Broken(Nibble):
        name = "broken"

        def encode(self, x):
            raise UnsupportedError("encoder exploded half-way")

    reg = QuantizerRegistry()
    reg.add(Broken)
    target = tmp_path / "out.iwc"
    target.write_bytes(b"old")
    with pytest.raises(UnsupportedError, match="exploded"):
        coded.write_coded(target, Audio(_pcm(10, 1), 8000), coded.make_codec("broken", {}, reg))
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["out.iwc"]
