"""Audio in blocks: read any file as int16 blocks, resample on the fly, write PCM block by block.

This is the streaming form of :mod:`.pcm` (python-soundfile's ``blocks()`` is the model):
memory is bounded by the block (:data:`BLOCK_FRAMES` frames, 2^16), not by the file.

* :func:`open_audio` opens a file; :meth:`AudioStream.blocks` yields int16 ``(n, channels)``
  blocks after exactly the conversion :mod:`.pcm` states (``read_audio`` is this stream
  collected, so one call and any block size give the same bits).  TPDF dither draws its two
  uniform variables per sample as consecutive pairs from one seeded generator, so it too is
  independent of the block size.
* :class:`StreamResampler` is :func:`scipy.signal.resample_poly` (Kaiser beta 5, reduced ratio
  ``up/down``) computed block by block: ``resample_poly`` is ``upfirdn`` of a zero-padded
  filter followed by a trim; each output sample is a dot product over the input samples under
  the filter, so computing the outputs of a block from an input window that holds all of them
  (plus ``len(h) / up`` samples of history) gives the same float64 values, bit for bit
  (tested over random block sizes).
* :class:`PcmWriter` writes int16 blocks as 16-bit PCM, atomically.  A ``.wav`` output whose
  data would pass the 4 GiB RIFF limit is written as RF64 (EBU Tech 3306), which libsndfile,
  ffmpeg and sox read; RF64 and W64 inputs are read like any other file.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import soundfile as sf

from ..errors import AudioFormatError, ParameterError
from .atomic import atomic_path, write_failure
from .pcm import (
    _INT16_SUBTYPES,
    ROUNDING_TEXT,
    Conversion,
    _check_finite,
    _one_line,
    _open_info,
    check_rate,
    float_to_int16,
)

__all__ = [
    "BLOCK_FRAMES",
    "AudioStream",
    "StreamResampler",
    "PcmWriter",
    "open_audio",
    "blocks",
    "resampled_length",
    "rebuffer",
]

BLOCK_FRAMES = 1 << 16
#: the largest data chunk a plain RIFF WAVE file can hold
_RIFF_LIMIT = 0xFFFFFFFF - 64


def resampled_length(frames: int, src: int, dst: int) -> int:
    """Frames ``resample_poly`` returns for ``frames`` input frames: ``ceil(frames * dst / src)``."""
    g = math.gcd(src, dst)
    up, down = dst // g, src // g
    return -(-frames * up // down)


class StreamResampler:
    """``resample_poly(x, up, down, axis=0)`` of float64 ``(n, channels)`` blocks, block by block.

    :meth:`push` returns the output samples that are complete; :meth:`flush` the rest.  The
    concatenation equals the one-shot ``resample_poly`` bit for bit (see the module docstring).
    """

    def __init__(self, src: int, dst: int, channels: int) -> None:
        from scipy.signal import firwin  # imported on use: scipy.signal takes ~1 s to import

        g = math.gcd(src, dst)
        self.up, self.down = dst // g, src // g
        up, down = self.up, self.down
        max_rate = max(up, down)
        half_len = 10 * max_rate
        h = firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0)) * up
        pre_pad = down - half_len % down
        # resample_poly appends zeros to h until upfirdn's output covers the trim; extra zero
        # taps change no output value, so len(h) + pre_pad + down covers every case.
        self._h = np.concatenate([np.zeros(pre_pad), h, np.zeros(down)])
        self._skip = (half_len + pre_pad) // down  # outputs resample_poly trims at the start
        self._buf = np.zeros((0, channels))
        self._buf_start = 0  # global input index of _buf[0] (a multiple of down)
        self._pushed = 0
        self._next = self._skip  # next output index in upfirdn coordinates
        self._channels = channels

    def _compute(self, stop: int) -> np.ndarray:
        """Outputs ``[self._next, stop)`` (upfirdn coordinates) from the buffer."""
        from scipy.signal import upfirdn

        if stop <= self._next:
            return np.zeros((0, self._channels))
        up, down, taps = self.up, self.down, len(self._h)
        lo = max(0, -(-(self._next * down - taps + 1) // up))
        lo -= lo % down
        lo = max(lo, self._buf_start)
        hi = min(self._pushed, (stop - 1) * down // up + 1)
        window = self._buf[lo - self._buf_start : hi - self._buf_start]
        y = upfirdn(self._h, window, up, down, axis=0)
        first = lo * up // down
        out = y[self._next - first : stop - first]
        if out.shape[0] != stop - self._next:  # past the end of x: upfirdn stops early
            out = np.concatenate([out, np.zeros((stop - self._next - out.shape[0], self._channels))])
        self._next = stop
        keep = max(0, -(-(self._next * down - taps + 1) // up))
        keep -= keep % down
        keep = max(keep, self._buf_start)
        self._buf = self._buf[keep - self._buf_start :]
        self._buf_start = keep
        return out

    def push(self, x: np.ndarray) -> np.ndarray:
        """Add input ``x`` (n, channels) float64; return the outputs now complete."""
        self._buf = np.concatenate([self._buf, np.asarray(x, dtype=np.float64)])
        self._pushed += x.shape[0]
        # output m needs inputs up to floor(m * down / up); all are present while < pushed
        return self._compute(-(-self._pushed * self.up // self.down))

    def flush(self) -> np.ndarray:
        """The remaining outputs (inputs past the end count as zero, as in ``resample_poly``)."""
        return self._compute(self._skip + resampled_length(self._pushed, self.down, self.up))


def rebuffer(chunks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Regroup ``(n, ...)`` chunks into blocks of exactly ``size`` rows (the last may be shorter)."""
    pending: list[np.ndarray] = []
    held = 0
    for chunk in chunks:
        pending.append(chunk)
        held += chunk.shape[0]
        if held >= size:
            joined = np.concatenate(pending)
            cut = held - held % size
            for first in range(0, cut, size):
                yield joined[first : first + size]
            pending, held = [joined[cut:]], held - cut
    if held:
        yield np.concatenate(pending)


@dataclass
class AudioStream:
    """An opened audio file, read block by block as int16 ``(n, channels)`` at ``rate`` Hz.

    ``frames`` is the frame count the stream will deliver (after resampling), from the file's
    header; a file cut short delivers fewer (``frames_read`` says how many, after reading).
    ``conversion`` is complete once :meth:`blocks` has been exhausted (saturation counts).
    """

    path: Path
    rate: int
    channels: int
    frames: int
    source_rate: int
    conversion: Conversion
    dither: bool = False
    seed: int | None = None
    block_frames: int = BLOCK_FRAMES
    frames_read: int = 0

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    def _converted(self, floats: np.ndarray, rng: np.random.Generator | None, at: int) -> np.ndarray:
        if rng is not None:
            pairs = rng.uniform(-0.5, 0.5, floats.shape + (2,))
            floats = floats + pairs.sum(axis=-1) / 32768.0
        samples, count, first = float_to_int16(floats)
        if count:
            conv = self.conversion
            where = (first[0] + at, first[1]) if first else None
            self.conversion = replace(
                conv, saturated=conv.saturated + count, first_saturated=conv.first_saturated or where
            )
        return samples

    def _source(self) -> Iterator[np.ndarray]:
        exact16 = self.conversion.source_subtype in _INT16_SUBTYPES
        at = 0
        try:
            with sf.SoundFile(str(self.path)) as handle:
                while True:
                    data = handle.read(self.block_frames, dtype="int16" if exact16 else "float64", always_2d=True)
                    if not data.shape[0]:
                        return
                    if not exact16:
                        try:
                            _check_finite(data, str(self.path))
                        except AudioFormatError as exc:
                            raise AudioFormatError(f"{exc} (in the block starting at frame {at})") from None
                    at += data.shape[0]
                    yield data
        except sf.LibsndfileError as exc:
            raise AudioFormatError(f"{self.path}: libsndfile could not decode the audio ({_one_line(exc)})") from None

    def blocks(self, progress: Callable[[int], None] | None = None) -> Iterator[np.ndarray]:
        """Yield int16 ``(n, channels)`` blocks of at most ``block_frames`` frames."""
        self.frames_read = 0
        if not self.conversion.converted:
            for block in self._source():
                self.frames_read += block.shape[0]
                if progress:
                    progress(block.shape[0])
                yield np.ascontiguousarray(block)
            return
        exact16 = self.conversion.source_subtype in _INT16_SUBTYPES
        rng = np.random.default_rng(self.seed) if self.dither else None
        resampler = (
            StreamResampler(self.source_rate, self.rate, self.channels) if self.source_rate != self.rate else None
        )
        out_at = 0

        def floats() -> Iterator[np.ndarray]:
            for block in self._source():
                if progress:
                    progress(block.shape[0])
                x = block.astype(np.float64) / 32768.0 if exact16 else block
                yield resampler.push(x) if resampler else x
            if resampler:
                yield resampler.flush()

        for x in rebuffer((f for f in floats() if f.shape[0]), self.block_frames):
            samples = self._converted(x, rng, out_at)
            out_at += samples.shape[0]
            self.frames_read = out_at
            yield samples


def open_audio(
    path: str | os.PathLike,
    *,
    rate: int | None = None,
    dither: bool = False,
    seed: int | None = None,
    block_frames: int = BLOCK_FRAMES,
) -> AudioStream:
    """Open ``path`` for block reading as int16, optionally resampled to ``rate`` Hz.

    Raises :class:`~inwhale_hw.errors.AudioFormatError` for a missing, empty, non-audio or
    frameless file; NaN/inf samples raise while reading.
    """
    path = Path(path)
    if rate is not None:
        rate = check_rate(rate, "target sample rate")
    if isinstance(block_frames, bool) or not isinstance(block_frames, int) or block_frames < 1:
        raise ParameterError(f"block size {block_frames!r} is not allowed; expected an integer >= 1 frames")
    info = _open_info(path)
    if info.frames == 0:
        raise AudioFormatError(f"{path}: contains no audio frames ({info.format} {info.subtype})")
    src = int(info.samplerate)
    exact16 = info.subtype in _INT16_SUBTYPES
    resampling = rate is not None and rate != src
    base = Conversion(source_rate=src, source_subtype=info.subtype, source_format=info.format)
    if resampling or not exact16:
        base = replace(
            base, converted=True, rounding=ROUNDING_TEXT, dithered=dither,
            dither_seed=seed if dither else None, resampled_to=rate if resampling else None,
        )
    out_rate = rate if resampling else src
    frames = resampled_length(int(info.frames), src, out_rate) if resampling else int(info.frames)
    return AudioStream(
        path, out_rate, int(info.channels), frames, src, base, dither=dither, seed=seed, block_frames=block_frames
    )


def blocks(path: str | os.PathLike, block_frames: int = BLOCK_FRAMES, **options) -> Iterator[np.ndarray]:
    """int16 ``(n, channels)`` blocks of ``path`` (``options``: ``rate``, ``dither``, ``seed``)."""
    yield from open_audio(path, block_frames=block_frames, **options).blocks()


_PCM_FORMATS = {"wav": "WAV", "flac": "FLAC", "aif": "AIFF", "aiff": "AIFF", "au": "AU", "caf": "CAF", "w64": "W64", "rf64": "RF64"}


class PcmWriter:
    """Write int16 blocks as 16-bit PCM to ``path`` (container by extension), atomically.

    ``frames_hint`` (the expected frame count) picks RF64 for a ``.wav`` whose data would pass
    4 GiB.  Use as a context manager; the file appears under its name only on success.
    """

    def __init__(self, path: str | os.PathLike, rate: int, channels: int, frames_hint: int = 0) -> None:
        self.path = Path(path)
        ext = self.path.suffix.lower().lstrip(".")
        fmt = _PCM_FORMATS.get(ext)
        if fmt is None:
            raise AudioFormatError(
                f"{self.path}: unsupported PCM output container {('.' + ext) if ext else '(no extension)'!r}; "
                f"allowed: {', '.join('.' + e for e in _PCM_FORMATS)}"
            )
        if fmt == "WAV" and frames_hint * channels * 2 > _RIFF_LIMIT:
            fmt = "RF64"
        self.format = fmt
        self.rate, self.channels = int(rate), int(channels)
        self.frames = 0
        self._stack = contextlib.ExitStack()
        self._handle: sf.SoundFile | None = None

    def __enter__(self) -> "PcmWriter":
        self._tmp = tmp = self._stack.enter_context(atomic_path(self.path))
        try:
            self._handle = self._stack.enter_context(
                sf.SoundFile(str(tmp), "w", self.rate, self.channels, "PCM_16", format=self.format)
            )
        except sf.LibsndfileError as exc:
            self._stack.__exit__(type(exc), exc, exc.__traceback__)
            raise self._failure(exc) from None
        return self

    def _failure(self, exc: BaseException) -> Exception:
        """libsndfile's error as one line naming the user's path (never the temporary name)."""
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[-1].replace(str(self._tmp), "the file")
        return write_failure(self.path, self._tmp, text)

    def write(self, block: np.ndarray) -> None:
        block = np.asarray(block)
        if block.dtype != np.int16:
            raise ParameterError(f"PcmWriter: samples must be int16, got {block.dtype}")
        try:
            self._handle.write(block)
        except sf.LibsndfileError as exc:
            raise self._failure(exc) from None
        self.frames += block.shape[0]

    def __exit__(self, *exc_info) -> bool:
        try:
            return self._stack.__exit__(*exc_info)
        except sf.LibsndfileError as exc:  # closing flushes the header
            raise self._failure(exc) from None
