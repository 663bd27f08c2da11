"""IMA ADPCM WAV files for the tests, through the one RIFF reader/writer (``inwhale_hw.audio``).

``build_ima_wav`` is ``encode_to_bytes`` of the ``ima-adpcm`` codec into a WAV;
``parse_ima_wav`` is ``decode_blob`` (``audio/wav.py`` walks the chunks, the codec's
streaming WAV decoder decodes and reports what it recovered); ``notes`` are those reports
without the file-name prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inwhale_hw.audio import coded, wav
from inwhale_hw.audio.atomic import atomic_write_bytes
from inwhale_hw.audio.pcm import Audio
from inwhale_hw.errors import AudioFormatError

NAME = "x.wav"


@dataclass(frozen=True)
class ImaWav:
    pcm: np.ndarray
    rate: int
    block_align: int
    samples_per_block: int
    notes: tuple[str, ...]


def _codec(**params):
    return coded.make_codec("ima-adpcm", {k: v for k, v in params.items() if v is not None})


def build_ima_wav(pcm, rate, block_align=None, encoder="search", nodes=None) -> bytes:
    pcm = np.asarray(pcm)
    frames = pcm.reshape(-1, 1) if pcm.ndim == 1 else pcm
    q = _codec(encoder=encoder, block_size=block_align, trellis_nodes=nodes)
    return coded.encode_to_bytes(Audio(frames, rate), q, "wav")[0]


def write_ima_wav(path, pcm, rate, block_align=None, encoder="search") -> Path:
    atomic_write_bytes(path, build_ima_wav(pcm, rate, block_align, encoder))
    return Path(path)


def parse_ima_wav(blob: bytes, name: str = NAME, flavor: str = "standard") -> ImaWav:
    fmt = wav.read_wav(blob, name).fmt
    if fmt.format_tag != 0x0011:
        raise AudioFormatError(f"{name}: format tag 0x{fmt.format_tag:04X} is not IMA ADPCM (0x0011)")
    result = coded.decode_blob(blob, name, codec=_codec(flavor=flavor))
    notes = tuple(n.split(": ", 1)[1] for n in result.warnings)
    spb = (fmt.block_align - 4 * fmt.channels) * 2 // fmt.channels + 1
    return ImaWav(result.audio.samples, result.audio.rate, fmt.block_align, spb, notes)


def read_ima_wav(path, flavor: str = "standard") -> ImaWav:
    return parse_ima_wav(Path(path).read_bytes(), str(path), flavor)
