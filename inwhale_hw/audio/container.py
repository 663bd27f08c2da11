"""The inwhale coded container (``.iwc``): any audio codec's codes plus what decoding needs.

Codecs without a standard file format (DPCM, delta modulation, CVSD, third-party plugins)
are stored in this small format, so that ``inwhale-hw decode`` can rebuild the exact
quantizer from the registry by name and parameters.  Layout, all integers little-endian::

    offset  size  field
    0       8     magic  89 49 57 43 0D 0A 1A 0A   ("\\x89IWC\\r\\n\\x1a\\n", PNG-style: the
                  high byte and CR LF / SUB catch 7-bit and text-mode transfer damage)
    8       4     u32 header_len
    12      n     header: UTF-8 JSON object, header_len bytes, padded with spaces (writers
                  leave 64 bytes of room so a streaming writer can patch in the final counts)
    12+n    m     payload: quantizer.pack_codes(codes), codes of shape (frames,) for mono
                  or (frames, channels), frames interleaved by channel

Header keys (version 1), all required::

    {"format": "inwhale-coded", "version": 1,
     "codec": "<registered name>", "params": {<name>: <value>, ...},
     "rate": <Hz>, "channels": <int>, "frames": <int>, "payload_bytes": m,
     "bits_per_sample": <float>, "writer": "inwhale_hw <version>"}

Parameter values are JSON scalars; an enum is stored by member name and a tuple as a
list (both convert back through the parameter's own validation).  Reading is strict: a
wrong magic or version, a header that is not a JSON object with those keys, or a payload
whose length differs from ``payload_bytes`` raises
:class:`~inwhale_hw.errors.AudioFormatError`.
"""

from __future__ import annotations

import enum
import io
import json
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from ..errors import AudioFormatError
from .limits import check_header

__all__ = [
    "MAGIC", "EXTENSION", "VERSION", "ContainerHeader", "build_container", "read_container",
    "read_container_header", "header_json", "jsonable_params", "HEADER_SLACK",
]

MAGIC = b"\x89IWC\r\n\x1a\n"
EXTENSION = ".iwc"
VERSION = 1
_MAX_HEADER = 1 << 20
#: spaces written after the JSON text: room for a streaming writer to patch in the final counts
HEADER_SLACK = 64


@dataclass(frozen=True)
class ContainerHeader:
    """The decoded header of an ``.iwc`` file."""

    codec: str
    params: dict[str, Any]
    rate: int
    channels: int
    frames: int
    payload_bytes: int
    bits_per_sample: float
    writer: str = ""


def jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameter values as JSON scalars/lists (enums by name, tuples as lists)."""
    return {key: _jsonable(value) for key, value in params.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def header_json(header: ContainerHeader) -> bytes:
    """The UTF-8 JSON header text for ``header`` (keys sorted, compact)."""
    doc = {
        "format": "inwhale-coded",
        "version": VERSION,
        "codec": header.codec,
        "params": jsonable_params(header.params),
        "rate": header.rate,
        "channels": header.channels,
        "frames": header.frames,
        "payload_bytes": header.payload_bytes,
        "bits_per_sample": header.bits_per_sample,
        "writer": header.writer,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")


def build_container(header: ContainerHeader, payload: bytes) -> bytes:
    """Serialize ``header`` and ``payload`` in the layout of the module docstring."""
    if len(payload) != header.payload_bytes:
        raise AudioFormatError(
            f"container payload is {len(payload)} bytes but the header says {header.payload_bytes}"
        )
    text = header_json(header) + b" " * HEADER_SLACK
    return MAGIC + struct.pack("<I", len(text)) + text + payload


def read_container(blob: bytes, name: str = "<bytes>") -> tuple[ContainerHeader, bytes]:
    """Parse an ``.iwc`` file; return its header and payload."""
    header, offset = read_container_header(io.BytesIO(blob), name, len(blob))
    return header, blob[offset:]


def read_container_header(handle: BinaryIO, name: str, size: int) -> tuple[ContainerHeader, int]:
    """Parse the header of the ``.iwc`` file open as ``handle`` (``size`` bytes long).

    Returns the header and the payload's offset; the payload length is checked against the
    file size.  The JSON text may end in whitespace (streaming writers reserve room).
    """
    handle.seek(0)
    pre = handle.read(12)
    if pre[:8] != MAGIC:
        raise AudioFormatError(f"{name}: not an inwhale coded container (magic {pre[:8]!r}, expected {MAGIC!r})")
    if len(pre) < 12:
        raise AudioFormatError(f"{name}: inwhale container truncated inside its 12-byte preamble")
    (header_len,) = struct.unpack_from("<I", pre, 8)
    if header_len > _MAX_HEADER or 12 + header_len > size:
        raise AudioFormatError(
            f"{name}: inwhale container header declares {header_len} bytes but only "
            f"{max(size - 12, 0)} follow (truncated or corrupt; at most {_MAX_HEADER})"
        )
    try:
        doc = json.loads(handle.read(header_len).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AudioFormatError(f"{name}: inwhale container header is not valid UTF-8 JSON ({exc})") from None
    header = _header_from(doc, name)
    payload = size - 12 - header_len
    if payload != header.payload_bytes:
        raise AudioFormatError(
            f"{name}: inwhale container payload has {payload} bytes, header declares "
            f"{header.payload_bytes} ({'truncated' if payload < header.payload_bytes else 'trailing data'})"
        )
    return header, 12 + header_len


_REQUIRED = {
    "format": str,
    "version": int,
    "codec": str,
    "params": dict,
    "rate": int,
    "channels": int,
    "frames": int,
    "payload_bytes": int,
    "bits_per_sample": (int, float),
}


def _header_from(doc: Any, name: str) -> ContainerHeader:
    if not isinstance(doc, dict):
        raise AudioFormatError(f"{name}: inwhale container header must be a JSON object, got {type(doc).__name__}")
    for key, kind in _REQUIRED.items():
        if key not in doc:
            raise AudioFormatError(f"{name}: inwhale container header lacks the key {key!r}")
        value = doc[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise AudioFormatError(f"{name}: inwhale container header key {key!r} has invalid value {value!r}")
    if doc["format"] != "inwhale-coded" or doc["version"] != VERSION:
        raise AudioFormatError(
            f"{name}: inwhale container format {doc['format']!r} version {doc['version']!r} is not "
            f"supported; allowed: 'inwhale-coded' version {VERSION}"
        )
    check_header(name, rate=doc["rate"], channels=doc["channels"])
    for key in ("frames", "payload_bytes"):
        if doc[key] < 0:
            raise AudioFormatError(f"{name}: inwhale container header {key}={doc[key]!r}; expected >= 0")
    return ContainerHeader(
        codec=doc["codec"],
        params=doc["params"],
        rate=doc["rate"],
        channels=doc["channels"],
        frames=doc["frames"],
        payload_bytes=doc["payload_bytes"],
        bits_per_sample=float(doc["bits_per_sample"]),
        writer=str(doc.get("writer", "")),
    )
