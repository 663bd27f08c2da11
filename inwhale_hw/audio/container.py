"""The inwhale coded container (``.iwc``): any audio codec's codes plus what decoding needs.

Codecs without a standard file format (DPCM, delta modulation, CVSD, third-party plugins)
are stored in this small format, so that ``inwhale-hw decode`` can rebuild the exact
quantizer from the registry by name and parameters.  Layout, all integers little-endian::

    offset  size  field
    0       8     magic  89 49 57 43 0D 0A 1A 0A   ("\\x89IWC\\r\\n\\x1a\\n", PNG-style: the
                  high byte and CR LF / SUB catch 7-bit and text-mode transfer damage)
    8       4     u32 header_len
    12      n     header: UTF-8 JSON object, header_len bytes
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
import json
import struct
from dataclasses import dataclass
from typing import Any

from ..errors import AudioFormatError
from .limits import check_header

__all__ = ["MAGIC", "EXTENSION", "VERSION", "ContainerHeader", "build_container", "read_container"]

MAGIC = b"\x89IWC\r\n\x1a\n"
EXTENSION = ".iwc"
VERSION = 1
_MAX_HEADER = 1 << 20


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


def build_container(header: ContainerHeader, payload: bytes) -> bytes:
    """Serialize ``header`` and ``payload`` in the layout of the module docstring."""
    if len(payload) != header.payload_bytes:
        raise AudioFormatError(
            f"container payload is {len(payload)} bytes but the header says {header.payload_bytes}"
        )
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
    text = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return MAGIC + struct.pack("<I", len(text)) + text + payload


def read_container(blob: bytes, name: str = "<bytes>") -> tuple[ContainerHeader, bytes]:
    """Parse an ``.iwc`` file; return its header and payload."""
    if blob[:8] != MAGIC:
        raise AudioFormatError(f"{name}: not an inwhale coded container (magic {blob[:8]!r}, expected {MAGIC!r})")
    if len(blob) < 12:
        raise AudioFormatError(f"{name}: inwhale container truncated inside its 12-byte preamble")
    (header_len,) = struct.unpack_from("<I", blob, 8)
    if header_len > _MAX_HEADER or 12 + header_len > len(blob):
        raise AudioFormatError(
            f"{name}: inwhale container header declares {header_len} bytes but only "
            f"{max(len(blob) - 12, 0)} follow (truncated or corrupt; at most {_MAX_HEADER})"
        )
    try:
        doc = json.loads(blob[12 : 12 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AudioFormatError(f"{name}: inwhale container header is not valid UTF-8 JSON ({exc})") from None
    header = _header_from(doc, name)
    payload = blob[12 + header_len :]
    if len(payload) != header.payload_bytes:
        raise AudioFormatError(
            f"{name}: inwhale container payload has {len(payload)} bytes, header declares "
            f"{header.payload_bytes} ({'truncated' if len(payload) < header.payload_bytes else 'trailing data'})"
        )
    return header, payload


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
