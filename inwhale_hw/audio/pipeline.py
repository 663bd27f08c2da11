"""File to file in blocks: ``encode``, ``decode`` and the round trip behind ``roundtrip``/``listen``.

Memory is bounded by the block (:data:`~.stream.BLOCK_FRAMES` frames), whatever the file's
length.  The round trip makes three streaming passes over the input, each reading it again
(so nothing of the signal is held):

1. encode: input blocks (resampled to the codec's ``required_rate`` if it has one) through
   :class:`~.coded_stream.CodedWriter` into ``coded.<ext>``;
2. decode and measure: ``coded.<ext>`` decoded block by block
   (:func:`~.coded_stream.open_coded`, with the encoding instance); a codec that ran at another
   rate is resampled back to the **input's rate** (same polyphase filter, then int16 as
   :mod:`.pcm` states) and cut to the input's length, so decoded, residual, spectrograms and
   metrics all compare like with like at the input's rate; ``decoded.wav`` is written and the
   metrics (:class:`~inwhale_hw.metrics.MetricsAccumulator`) accumulate;
3. residual: input and ``decoded.wav`` read again, ``r = input - decoded`` scaled by the gain
   :mod:`.roundtrip` defines (``auto``: from the peak ``|r|`` found in pass 2) into
   ``residual.wav``.

``observe`` callbacks see each block of pass 2 (decoded samples and the unscaled residual),
which is how the listening page draws spectrograms without holding the signal.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import soundfile as sf

from .. import __version__
from ..errors import ParameterError
from ..metrics import Metrics, MetricsAccumulator
from ..quantizer import Quantizer
from ..speech import SpeechExcerpts, check_content_hint, speech_record
from . import coded
from .atomic import atomic_write_text
from .coded_stream import CodedWriter, open_coded
from .container import jsonable_params
from .pcm import Conversion, float_to_int16
from .roundtrip import gain_for_peak
from .stream import BLOCK_FRAMES, AudioStream, PcmWriter, StreamResampler, rebuffer, resampled_length

__all__ = ["Tick", "EncodeResult", "RoundTripFiles", "resampled_blocks", "encode_file", "decode_file", "roundtrip_files"]

#: progress callback: called with the number of frames just processed
Tick = Callable[[int], None]


def _noop(_: int) -> None:
    return None


def resampled_blocks(source: Iterator[np.ndarray], src: int, dst: int, channels: int, counter: list[int]) -> Iterator[np.ndarray]:
    """int16 blocks resampled from ``src`` to ``dst`` Hz (float64, then int16 as :mod:`.pcm` states).

    ``counter`` = ``[saturated, first_frame]`` is updated with samples the filter's overshoot
    saturated.
    """
    r = StreamResampler(src, dst, channels)
    at = 0

    def floats() -> Iterator[np.ndarray]:
        for block in source:
            yield r.push(block.astype(np.float64) / 32768.0)
        yield r.flush()

    for x in floats():
        if not len(x):
            continue
        samples, count, first = float_to_int16(x)
        if count:
            if not counter[0]:
                counter[1] = at + first[0]
            counter[0] += count
        at += len(samples)
        yield samples


@dataclass(frozen=True)
class EncodeResult:
    path: Path
    container: str
    rate: int
    channels: int
    frames: int
    payload_bytes: int
    file_bytes: int
    resampled: tuple[int, int] = (0, 0)


def _at_codec_rate(stream: AudioStream, q: Quantizer, tick: Tick) -> tuple[Iterator[np.ndarray], int, int, list[int]]:
    """The stream's blocks at the codec's rate: (blocks, rate, expected frames, saturation counter)."""
    counter = [0, 0]
    blocks = stream.blocks(tick)
    rate = q.required_rate
    if rate is None or rate == stream.rate:
        return blocks, stream.rate, stream.frames, counter
    return resampled_blocks(blocks, stream.rate, rate, stream.channels, counter), rate, resampled_length(
        stream.frames, stream.rate, rate
    ), counter


def encode_file(stream: AudioStream, q: Quantizer, path: str | os.PathLike, tick: Tick = _noop) -> EncodeResult:
    """Encode ``stream`` with ``q`` into ``path`` (container by extension), block by block."""
    blocks, rate, expected, counter = _at_codec_rate(stream, q, tick)
    with CodedWriter(path, q, rate, stream.channels, expected) as writer:
        for block in blocks:
            writer.write(block)
    return EncodeResult(writer.path, writer.kind, rate, stream.channels, writer.frames, writer.payload_bytes,
                        writer.file_bytes, (counter[0], counter[1]))


def decode_file(
    path: str | os.PathLike, out: str | os.PathLike, *, raw_rate: int | None = None, raw_channels: int | None = None,
    codec: Quantizer | None = None, tick: Tick = _noop,
):
    """Decode the coded file ``path`` into PCM ``out``, block by block; returns the reader.

    ``codec`` (an instance with the file's format tag) replaces the default-parameter codec for
    coded WAV and raw files, e.g. IMA-ADPCM with ``flavor="ffmpeg"``.
    """
    reader = open_coded(path, raw_rate=raw_rate, raw_channels=raw_channels, codec=codec)
    with PcmWriter(out, reader.rate, reader.channels, reader.frames) as writer:
        for block in reader.blocks():
            writer.write(block)
            tick(len(block))
    reader.frames = writer.frames
    return reader


@dataclass
class RoundTripFiles:
    """What :func:`roundtrip_files` wrote and measured (``metrics.json`` is :meth:`summary`)."""

    codec: str
    params: dict[str, Any]
    rate: int
    channels: int
    frames: int
    codec_rate: int
    metrics: Metrics
    gain: float
    gain_mode: str
    residual_saturated: int
    coded_description: str
    paths: dict[str, Path]
    notes: list[str] = field(default_factory=list)
    speech: dict[str, Any] | None = None

    @property
    def gain_db(self) -> float:
        return 20.0 * math.log10(self.gain)

    def gain_text(self) -> str:
        return f"x{self.gain:g} ({self.gain_db:+.1f} dB, {self.gain_mode})"

    def summary(self) -> dict[str, Any]:
        """The JSON-ready record written as ``metrics.json``."""
        return {
            "codec": self.codec,
            "params": jsonable_params(self.params),
            "coded_file": self.coded_description,
            "rate": self.rate,
            "codec_rate": self.codec_rate,
            "compared_at": (
                f"{self.rate} Hz (the input's rate; the codec ran at {self.codec_rate} Hz and its output "
                f"was resampled back with the same polyphase filter)"
                if self.codec_rate != self.rate else f"{self.rate} Hz (the input's rate)"
            ),
            "channels": self.channels,
            "frames": self.frames,
            "duration_s": self.frames / self.rate,
            "metrics": self.metrics.to_dict(),
            "speech_metrics": self.speech,
            "residual": {
                "definition": "input - decoded, written as round_half_even(gain * r) saturated to int16",
                "gain": self.gain,
                "gain_db": self.gain_db,
                "gain_mode": self.gain_mode,
                "saturated_samples": self.residual_saturated,
            },
            "writer": f"inwhale_hw {__version__}",
        }


def roundtrip_files(
    open_input: Callable[[], AudioStream],
    q: Quantizer,
    out_dir: str | os.PathLike,
    *,
    gain: str | float = "auto",
    input_info: dict[str, Any] | None = None,
    observe: Callable[[np.ndarray, np.ndarray], None] | None = None,
    tick: Tick = _noop,
    content: str = "auto",
) -> RoundTripFiles:
    """The three passes of the module docstring; ``open_input()`` opens the input afresh.

    ``content`` (``auto``/``speech``/``music``) decides whether the speech metrics of
    :mod:`inwhale_hw.speech` (PESQ, STOI/ESTOI on bounded excerpts) are computed.
    """
    check_content_hint(content)
    out = Path(out_dir)
    ext = coded.default_extension(q)
    paths = {
        "decoded": out / "decoded.wav",
        "residual": out / "residual.wav",
        "coded": out / f"coded{ext}",
        "metrics": out / "metrics.json",
    }
    stream = open_input()
    enc = encode_file(stream, q, paths["coded"], tick)
    notes = []
    if enc.resampled[0]:
        notes.append(f"resampling to {enc.rate} Hz saturated {enc.resampled[0]} sample(s) (first at frame {enc.resampled[1]})")
    # pass 2: decode, resample back, measure
    reader = open_coded(paths["coded"], codec=q)
    decoded: Iterator[np.ndarray] = reader.blocks()
    if reader.rate != stream.rate:
        decoded = resampled_blocks(decoded, reader.rate, stream.rate, stream.channels, [0, 0])
    acc = MetricsAccumulator(stream.rate, stream.channels, bits_per_sample=q.bits_per_sample, code_rate=reader.rate)
    excerpts = SpeechExcerpts(stream.rate)
    source = open_input()
    with PcmWriter(paths["decoded"], stream.rate, stream.channels, stream.frames) as writer:
        pairs = zip(rebuffer(source.blocks(tick), BLOCK_FRAMES), rebuffer(decoded, BLOCK_FRAMES))
        for x, y in pairs:
            if len(y) < len(x):
                raise ParameterError(
                    f"codec {q.name!r} decoded fewer frames than the input ({acc.frames + len(y)} < {stream.frames})"
                )
            y = y[: len(x)]
            writer.write(y)
            acc.update(x, y)
            if content != "music":
                excerpts.update(x, y)
            if observe is not None:
                observe(y, x.astype(np.int32) - y.astype(np.int32))
    if acc.frames < source.frames_read:
        raise ParameterError(f"codec {q.name!r} decoded {acc.frames} frames for an input of {source.frames_read}")
    metrics = acc.result(payload_bytes=enc.payload_bytes)
    # pass 3: the residual at its gain
    g = gain_for_peak(int(metrics.max_abs_error), gain)
    saturated = 0
    with PcmWriter(paths["residual"], stream.rate, stream.channels, stream.frames) as writer, sf.SoundFile(
        str(paths["decoded"])
    ) as back:
        for x in open_input().blocks(tick):
            y = back.read(len(x), dtype="int16", always_2d=True)
            scaled = np.rint((x.astype(np.int32) - y) * g)
            saturated += int(np.count_nonzero((scaled < -32768) | (scaled > 32767)))
            writer.write(np.clip(scaled, -32768, 32767).astype(np.int16))
    trip = RoundTripFiles(
        q.name, dict(q.params), stream.rate, stream.channels, acc.frames, reader.rate, metrics, g,
        "auto" if gain == "auto" else "fixed", saturated, reader.description, paths, notes,
        speech_record(excerpts, content),
    )
    record = trip.summary()
    if input_info is not None:
        conv = stream.conversion
        record = {"input": {**input_info, "conversion": conv.to_dict() if isinstance(conv, Conversion) else None}, **record}
    record["files"] = {key: p.name for key, p in paths.items()}
    atomic_write_text(paths["metrics"], json.dumps(record, indent=2) + "\n")
    return trip
