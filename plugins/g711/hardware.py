"""G.711's hardware wiring: which :mod:`inwhale_hw.hdl.g711` Component each law and block builds.

The blocks are combinational or pipelined map blocks; ``verify`` checks them exhaustively
(every int16 sample, every code) against the quantizer's ``encode`` / ``decode`` (the
protocol's default reference), so this family needs no ``vectors`` / ``reference`` of its own.
"""

from __future__ import annotations

from typing import Any

from inwhale_hw.errors import ParameterError, UnsupportedError
from inwhale_hw.hdl.g711 import ALawDecoder, ALawEncoder, MuLawDecoder, MuLawEncoder

__all__ = ["datapath", "HARDWARE_PARAMS", "HARDWARE_FLAVORS", "SOFTWARE_ONLY"]

_BLOCKS = {
    ("mulaw", "encoder"): MuLawEncoder,
    ("mulaw", "decoder"): MuLawDecoder,
    ("alaw", "encoder"): ALawEncoder,
    ("alaw", "decoder"): ALawDecoder,
}

#: hardware-only parameters :func:`datapath` accepts besides the flavor
HARDWARE_PARAMS = ("pipeline",)
#: flavors with a hardware encoder; the others (rounding or nearest-level encoders) are
#: modelled in software only, their decoder is the common one
HARDWARE_FLAVORS = ("itu", "audioop", "libsndfile")
SOFTWARE_ONLY = ("sox", "ffmpeg")


def datapath(law: str, block: str, flavor: str = "itu", **params: Any) -> Any:
    """The component for ``law`` ("mulaw"/"alaw") and ``block`` ("encoder"/"decoder").

    ``params`` may hold ``pipeline`` (register stages, default 0).
    """
    cls = _BLOCKS.get((law, block))
    if cls is None:
        if law not in ("mulaw", "alaw"):
            raise ParameterError(f"G.711 datapath: law {law!r} is not allowed; expected 'mulaw' or 'alaw'")
        raise ParameterError(
            f"{law}: block {block!r} is not allowed; expected one of 'encoder', 'decoder'"
        )
    unknown = sorted(set(params) - set(HARDWARE_PARAMS))
    if unknown:
        raise ParameterError(
            f"{law} {block}: hardware parameter {unknown[0]!r} is not allowed; expected one of "
            + ", ".join(repr(p) for p in HARDWARE_PARAMS)
        )
    if flavor in SOFTWARE_ONLY:
        if block == "encoder":
            raise UnsupportedError(
                f"{law} encoder: no hardware for flavor {flavor!r}; flavors with hardware encoders: "
                + ", ".join(repr(f) for f in HARDWARE_FLAVORS)
            )
        flavor = "itu"  # every flavor shares the decoder
    return cls(flavor=flavor, **params)
