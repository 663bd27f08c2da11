"""The quantizer protocol every plugin implements.

A quantizer is a bit-accurate model: integer (or float, for tensor quantizers) NumPy arrays
in, integer code arrays out, and back.  Two kinds exist:

``audio``
    PCM codecs.  ``encode`` takes int16 PCM of shape ``(n,)`` or ``(n, channels)`` and
    returns one code per sample with the same shape (dtype ``code_dtype``); ``decode``
    returns int16 of the same shape.  Packing codes into bytes (nibbles, bits) is the job of
    :meth:`Quantizer.pack_codes` / :meth:`Quantizer.unpack_codes`, used by the containers.
``tensor``
    Array quantizers for neural-network arithmetic.  ``encode`` takes real values of any shape
    (weights are often 4-D) and returns integer codes of the same shape; ``decode`` maps codes
    back to the real values they stand for.  Data-dependent calibration (an observer choosing
    the scale) lives in ``fit(x)`` returning ``self`` (a no-op unless the quantizer overrides it).

Streaming: :meth:`Quantizer.encoder` / :meth:`Quantizer.decoder` return objects whose
``encode``/``decode`` accept consecutive chunks (split along axis 0) and whose ``flush``
returns what is still pending.  The concatenation of all outputs equals the one-shot call,
for any chunking.  A stateless quantizer implements only ``encode``/``decode`` and inherits
streaming objects that call them chunk by chunk.
"""

from __future__ import annotations

import enum
import warnings
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

import numpy as np

from .errors import AudioFormatError, InputError, ParameterError, UnsupportedError
from .params import Param, bind_params

if TYPE_CHECKING:
    from .hardware import Golden

__all__ = [
    "Quantizer", "StreamEncoder", "StreamDecoder", "TensorStream", "TensorEncoder", "TensorDecoder", "KINDS",
    "check_integer_array", "check_frames_channels",
]

KINDS = ("audio", "tensor")


class Quantizer:
    """Base class of all quantizer plugins.

    Subclasses set the class attributes below and implement :meth:`encode` and
    :meth:`decode`.  Parameters are declared in ``params``; the constructor validates them
    and stores all of them in ``self.params``, and each as an attribute of the same name
    unless that name is a method or property of the class.  ``renamed_params`` maps a
    deprecated parameter name to its new one: the old name still works for one release, with
    a :class:`DeprecationWarning`.
    Cross-parameter checks go in :meth:`_check_params`, which runs after validation.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    kind: ClassVar[str] = "audio"
    references: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    #: names of the hardware blocks :meth:`datapath` can build, e.g. ``("encoder", "decoder")``
    blocks: ClassVar[tuple[str, ...]] = ()
    #: dtype of one code (audio kind)
    code_dtype: ClassVar[Any] = np.uint8
    #: dtype of decoded samples (audio kind)
    sample_dtype: ClassVar[Any] = np.int16
    #: True when encoding one sample depends on earlier samples
    stateful: ClassVar[bool] = False
    #: deprecated parameter name -> its new name (accepted with a DeprecationWarning)
    renamed_params: ClassVar[dict[str, str]] = {}

    # -- optional hooks: declared here, overridden by the subclasses that support them -------
    #: WAVE ``wFormatTag`` of the codec's standard WAV form (audio kind); ``None``: no WAV form
    #: (see :mod:`inwhale_hw.audio.coded`)
    wav_format_tag: ClassVar[int | None] = None
    #: ``wav_encode(pcm, rate) -> audio.wav.WavPayload`` and ``wav_decode(fmt, data, frames)
    #: -> int16 PCM``, for codecs with their own WAV block layout (IMA ADPCM); ``None``: the
    #: default whole-byte payload of ``pack_codes``
    wav_encode: ClassVar[Callable[..., Any] | None] = None
    wav_decode: ClassVar[Callable[..., Any] | None] = None
    #: streaming forms of the two above (same bytes for any chunking): ``wav_encoder(rate,
    #: channels) -> (encoder, WavPayload)`` and ``wav_decoder(fmt, size, frames) -> decoder``
    #: with ``decode``/``flush``/``notes``; ``None``: the containers call the one-shot hooks
    wav_encoder: ClassVar[Callable[..., Any] | None] = None
    wav_decoder: ClassVar[Callable[..., Any] | None] = None
    #: True for codecs that code frames in groups (G.722: one octet per sample pair; MS-ADPCM:
    #: blocks): their codes are packed whole ``code_dtype`` values, not one per frame, so the
    #: code count differs from the frame count and decoding may return padding frames
    pads_frames: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        params = _renamed(type(self), params)
        values = bind_params(self.params, params, f"quantizer {self.name!r}")
        self.params = values  # type: ignore[misc]  # instance attribute shadows the spec tuple
        for key, value in values.items():
            if not _is_member(type(self), key):
                setattr(self, key, value)
        self._check_params()

    @classmethod
    def param_specs(cls) -> tuple[Param, ...]:
        """The declared parameters (``self.params`` holds the values on an instance)."""
        return cls.params

    def _check_params(self) -> None:
        """Hook for checks that involve several parameters; raise ParameterError."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_show(v)}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    # -- the bit-accurate model -------------------------------------------------------------

    def encode(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def decode(self, codes: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def fit(self, x: Any) -> "Quantizer":
        """Calibrate on ``x`` (tensor kind: an observer choosing the scale) and return ``self``.

        The default has nothing to calibrate; quantizers with data-dependent parameters override it.
        """
        return self

    @property
    def bits_per_sample(self) -> float:
        """Coded bits per input sample (per channel) for audio codecs."""
        return float(np.dtype(self.code_dtype).itemsize * 8)

    @property
    def required_rate(self) -> int | None:
        """The input sample rate in Hz the codec is defined for, or ``None`` for any rate.

        Audio front ends (``encode``, ``roundtrip``, ``listen``) resample other inputs to it and
        say so, instead of coding samples at a rate the codec does not assume.
        """
        return None

    # -- streaming ------------------------------------------------------------------------------

    def encoder(self) -> "StreamEncoder":
        """A streaming encoder; state carries across chunks."""
        return StreamEncoder(self)

    def decoder(self) -> "StreamDecoder":
        """A streaming decoder; state carries across chunks."""
        return StreamDecoder(self)

    # -- containers -----------------------------------------------------------------------------

    def pack_codes(self, codes: np.ndarray) -> bytes:
        """Serialize codes (frames interleaved by channel) for a coded file."""
        return np.ascontiguousarray(codes, dtype=np.dtype(self.code_dtype).newbyteorder("<")).tobytes()

    def unpack_codes(self, data: bytes, frames: int, channels: int) -> np.ndarray:
        """Inverse of :meth:`pack_codes`: ``frames`` x ``channels`` codes from ``data``."""
        check_frames_channels(frames, channels, f"{self.name}.unpack_codes")
        dtype = np.dtype(self.code_dtype).newbyteorder("<")
        needed = frames * channels * dtype.itemsize
        if len(data) < needed:
            raise AudioFormatError(
                f"{self.name}: coded data holds {len(data)} bytes, {needed} needed for "
                f"{frames} frames x {channels} channels"
            )
        codes = np.frombuffer(data[:needed], dtype=dtype).astype(self.code_dtype)
        return codes.reshape(frames, channels) if channels > 1 else codes

    # -- hardware ---------------------------------------------------------------------------------

    def datapath(self, block: str, **params: Any):
        """Return an Amaranth ``wiring.Component`` computing ``block`` bit-exactly."""
        raise UnsupportedError(
            f"quantizer {self.name!r} has no hardware datapath"
            + (f" for block {block!r}; available blocks: {', '.join(self.blocks)}" if self.blocks else "")
        )

    def vectors(self, block: str, *, seed: int = 0, **opts: Any) -> "Mapping[str, np.ndarray] | None":
        """Stimulus for ``block`` (see :mod:`inwhale_hw.hardware`); ``None``: the default.

        The default is every input combination of a map block of at most 16 input bits.
        Families with stream blocks or wider inputs override this.
        """
        return None

    def reference(self, block: str, vectors: "Mapping[str, np.ndarray]") -> "Golden | None":
        """Golden outputs and coverage for ``vectors``; ``None``: ``encode``/``decode``.

        The default applies ``encode`` (block ``"encoder"``) or ``decode`` (``"decoder"``) to
        the block's single input; blocks with more ports override this.
        """
        return None

    @classmethod
    def capabilities(cls) -> list[str]:
        """Short tags describing what the quantizer offers (shown by ``inwhale-hw plugins``)."""
        caps = ["encode", "decode", "stream"]
        if cls.stateful:
            caps.append("stateful")
        caps.extend(f"hdl:{b}" for b in cls.blocks)
        return caps

    # -- input checking helpers for subclasses ----------------------------------------------------

    def _check_pcm(self, x: Any) -> np.ndarray:
        """Validate int16-range PCM of shape (n,) or (n, channels); return it as an array."""
        return check_integer_array(x, f"{self.name}.encode", -32768, 32767, "int16 PCM")

    def _check_codes(self, codes: Any, lo: int, hi: int) -> np.ndarray:
        """Validate integer codes in [lo, hi] of shape (n,) or (n, channels)."""
        return check_integer_array(codes, f"{self.name}.decode", lo, hi, "codes")


def check_frames_channels(frames: Any, channels: Any, where: str) -> None:
    """Raise :class:`ParameterError` unless ``frames >= 0`` and ``channels >= 1`` are integers."""
    for name, value, low in (("frames", frames, 0), ("channels", channels, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ParameterError(f"{where}: {name}={value!r} is not allowed; expected an integer >= {low}")


def check_integer_array(x: Any, where: str, lo: int, hi: int, what: str) -> np.ndarray:
    """Return ``x`` as an integer array of shape (n,) or (n, channels) with values in [lo, hi]."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "b" or arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(np.int64)
        else:
            raise InputError(f"{where}: expected an integer array of {what}, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise InputError(f"{where}: expected shape (n,) or (n, channels), got {arr.shape}")
    if arr.size:
        amin, amax = int(arr.min()), int(arr.max())
        if amin < lo or amax > hi:
            bad = amin if amin < lo else amax
            index = int(np.flatnonzero((arr < lo) | (arr > hi))[0])
            raise InputError(
                f"{where}: value {bad} at flat index {index} is outside the {what} range [{lo}, {hi}]"
            )
    return arr


def _renamed(cls: type[Quantizer], params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with deprecated names replaced by their new ones (warning once per call)."""
    for old, new in cls.renamed_params.items():
        if old not in params:
            continue
        if new in params:
            raise ParameterError(
                f"quantizer {cls.name!r}: parameters {old!r} and {new!r} are the same setting; "
                f"pass only {new!r} ({old!r} is deprecated)"
            )
        warnings.warn(
            f"quantizer {cls.name!r}: parameter {old!r} is deprecated and will be removed in the next "
            f"release; use {new!r} (e.g. -p {new}={params[old]})",
            DeprecationWarning,
            stacklevel=4,
        )
        params = {new if key == old else key: value for key, value in params.items()}
    return params


def _is_member(cls: type, name: str) -> bool:
    """True if ``name`` is a method or property defined by ``cls`` or a base class."""
    member = getattr(cls, name, None)
    return callable(member) or isinstance(member, property)


def _show(value: Any) -> str:
    return value.name if isinstance(value, enum.Enum) else repr(value)


class _Stream:
    """Shared machinery of the default streaming objects."""

    def __init__(self, quantizer: Quantizer) -> None:
        self.quantizer = quantizer
        self._template: np.ndarray | None = None
        self._closed = False

    def _run(self, fn, chunk: Any) -> np.ndarray:
        if self._closed:
            raise InputError(f"{self.quantizer.name}: stream already flushed; start a new one")
        out = fn(chunk)
        self._template = out
        return out

    def flush(self) -> np.ndarray:
        """Return what is still pending (nothing, for a stateless quantizer) and close."""
        self._closed = True
        if self._template is None:
            return np.empty(0, dtype=self._empty_dtype())
        return self._template[:0].copy()

    def _empty_dtype(self) -> Any:
        raise NotImplementedError


class StreamEncoder(_Stream):
    """Default streaming encoder: calls ``quantizer.encode`` on each chunk."""

    def encode(self, chunk: Any) -> np.ndarray:
        return self._run(self.quantizer.encode, chunk)

    def _empty_dtype(self) -> Any:
        return self.quantizer.code_dtype


class StreamDecoder(_Stream):
    """Default streaming decoder: calls ``quantizer.decode`` on each chunk."""

    def decode(self, chunk: Any) -> np.ndarray:
        return self._run(self.quantizer.decode, chunk)

    def _empty_dtype(self) -> Any:
        return self.quantizer.sample_dtype


class TensorStream:
    """Streams chunks split along axis 0 through ``quantizer.<method>(chunk, _start=row)``.

    The row offset lets per-channel and per-group scales follow the chunks, so any chunking
    gives the one-shot result.
    """

    def __init__(self, quantizer: Any, method: str) -> None:
        self.quantizer = quantizer
        self._method = method
        self._row = 0
        self._template: np.ndarray | None = None
        self._closed = False

    def _run(self, chunk: Any) -> np.ndarray:
        name = self.quantizer.name
        if self._closed:
            raise InputError(f"{name}: stream already flushed; start a new one")
        arr = np.asarray(chunk)
        if arr.ndim == 0:
            raise InputError(f"{name}: stream chunks are slices along axis 0; got a 0-d array")
        out = getattr(self.quantizer, self._method)(arr, _start=self._row)
        self._row += arr.shape[0]
        self._template = out
        return out

    def flush(self) -> np.ndarray:
        """Nothing is pending in a stateless quantizer: an empty array; closes the stream."""
        self._closed = True
        if self._template is None:
            return np.empty(0)
        return self._template[:0].copy()


class TensorEncoder(TensorStream):
    """Streaming encoder of a tensor quantizer whose ``encode`` takes ``_start`` (the row offset)."""

    def __init__(self, quantizer: Any) -> None:
        super().__init__(quantizer, "encode")

    def encode(self, chunk: Any) -> np.ndarray:
        return self._run(chunk)


class TensorDecoder(TensorStream):
    """Streaming decoder of a tensor quantizer whose ``decode`` takes ``_start`` (the row offset)."""

    def __init__(self, quantizer: Any) -> None:
        super().__init__(quantizer, "decode")

    def decode(self, chunk: Any) -> np.ndarray:
        return self._run(chunk)
