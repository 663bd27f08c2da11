"""Conformance checks for plugin authors.

Call :func:`check_quantizer` from your own pytest suite::

    from inwhale_hw.testing import check_quantizer

    def test_conforms():
        check_quantizer(MyQuantizer)

It raises ``AssertionError`` naming the first broken rule, and returns a
:class:`ConformanceReport` listing every check that ran.  Rules checked:

* class attributes: non-empty ``name`` and ``summary``, ``kind`` in ``("audio", "tensor")``,
  ``references`` a tuple of strings, ``params`` a tuple of :class:`~inwhale_hw.Param`;
* parameters: an unknown keyword and every out-of-range or out-of-choices value raise
  :class:`~inwhale_hw.errors.ParameterError` quoting the bad value;
* round trip: ``decode(encode(x))`` keeps the shape of ``x``; audio codes are integers of
  ``code_dtype`` with the input's shape and decoded samples are ``sample_dtype``; mono and
  stereo, including the int16 extremes; tensor quantizers take 1-D, 2-D and 4-D arrays (whose
  last axis is a multiple of ``last_axis_multiple`` when the quantizer declares one: block formats);
* audio code range and decoding: every code lies in the range ``code_dtype`` and
  ``bits_per_sample`` declare (:func:`inwhale_hw.audio.guard.code_range`), and no channel of a
  non-constant input decodes to a constant (a decoder returning all zeros fails);
* determinism: repeated calls and fresh instances give identical bits;
* streaming: over several seeded random chunkings (including 1-sample chunks) the streaming
  encoder and decoder give exactly the one-shot result;
* bad input: NaN and inf raise :class:`~inwhale_hw.errors.InputError`, and so do out-of-range
  codes (and, for tensor quantizers, non-integer codes; for audio codecs, 3-D arrays and
  out-of-range samples);
* audio containers: ``unpack_codes(pack_codes(c))`` returns ``c``.

For hardware, :func:`check_hardware` runs one block of a hardware model
(:mod:`inwhale_hw.hardware`) in Amaranth's simulator against the model's own reference::

    from inwhale_hw.testing import check_hardware

    def test_hardware():
        check_hardware(MyBlocks(), "neg")

It checks that ``block`` is declared, ``datapath`` returns a Component, ``vectors`` gives the
same stimulus for the same seed, ``reference`` covers every output port with integer coverage
counters, and that every simulated output equals the reference; it raises ``AssertionError``
quoting the first mismatching vectors and returns the :class:`~inwhale_hw.hdlsim.Report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .errors import InputError, InwhaleError, ParameterError
from .hardware import HardwareModel
from .hdlsim.ports import describe
from .hdlsim.protocol import build_block, golden_vectors
from .hdlsim.verify import Report, verify
from .params import Param
from .quantizer import KINDS, Quantizer

__all__ = ["check_quantizer", "check_hardware", "ConformanceReport"]


@dataclass
class ConformanceReport:
    """The checks :func:`check_quantizer` ran, in order."""

    quantizer: str
    checks: list[str] = field(default_factory=list)

    def passed(self, what: str) -> None:
        self.checks.append(what)


def check_quantizer(
    cls: type[Quantizer],
    params: dict[str, Any] | None = None,
    *,
    signal: np.ndarray | None = None,
    seed: int = 0,
    chunkings: int = 4,
) -> ConformanceReport:
    """Check that ``cls`` (constructed with ``params``) follows the quantizer protocol.

    A quantizer with ``fit(x)`` is refitted on each input and compared with a fresh instance
    fitted once, so ``fit`` must restart calibration (accumulate in a separate method, e.g.
    scikit-learn's ``partial_fit``).

    ``signal`` overrides the test input (audio: int16 PCM, tensor: float array); by default a
    seeded mix of noise, a sine and the int16 extremes (audio) or N(0, 1) values (tensor).
    """
    params = dict(params or {})
    report = ConformanceReport(getattr(cls, "name", repr(cls)))
    _check_class(cls, report)
    _check_parameters(cls, params, report)
    rng = np.random.default_rng(seed)
    q = cls(**params)
    inputs = [signal] if signal is not None else _default_inputs(cls.kind, rng, getattr(q, "last_axis_multiple", 1))
    for x in inputs:
        label = f"shape {np.shape(x)}"
        q.fit(x)
        codes = q.encode(x)
        _check_round_trip(q, x, codes, label, report)
        _check_determinism(cls, params, q, x, codes, label, report)
        for _ in range(chunkings):
            _check_streaming(q, x, codes, rng, label, report)
        if cls.kind == "audio":
            _check_packing(q, codes, len(x) if q.pads_frames else len(codes), label, report)
    _check_bad_input(q, report)
    return report


def _fail(cls: Any, message: str) -> AssertionError:
    return AssertionError(f"quantizer {getattr(cls, 'name', cls)!r}: {message}")


def _check_class(cls: type[Quantizer], report: ConformanceReport) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Quantizer)):
        raise AssertionError(f"{cls!r} is not a subclass of inwhale_hw.Quantizer")
    if not isinstance(cls.name, str) or not cls.name.strip():
        raise _fail(cls, "class attribute 'name' must be a non-empty string")
    if not isinstance(cls.summary, str) or not cls.summary.strip():
        raise _fail(cls, "class attribute 'summary' must be a non-empty string")
    if cls.kind not in KINDS:
        raise _fail(cls, f"kind {cls.kind!r} is not one of {KINDS}")
    if not isinstance(cls.references, tuple) or not all(isinstance(r, str) for r in cls.references):
        raise _fail(cls, "class attribute 'references' must be a tuple of strings")
    specs = cls.param_specs()
    if not isinstance(specs, tuple) or not all(isinstance(p, Param) for p in specs):
        raise _fail(cls, "class attribute 'params' must be a tuple of inwhale_hw.Param")
    report.passed("class attributes")


def _expect_parameter_error(cls: type[Quantizer], params: dict[str, Any], bad: Any, what: str) -> None:
    try:
        cls(**params)
    except ParameterError as exc:
        if repr(bad) not in str(exc) and str(bad) not in str(exc):
            raise _fail(cls, f"ParameterError for {what} does not quote the bad value {bad!r}: {exc}")
        return
    except Exception as exc:  # noqa: BLE001
        raise _fail(cls, f"{what} raised {type(exc).__name__} instead of ParameterError: {exc}") from exc
    raise _fail(cls, f"{what} was accepted; expected ParameterError")


def _check_parameters(cls: type[Quantizer], params: dict[str, Any], report: ConformanceReport) -> None:
    bogus = "no_such_parameter_xyz"
    _expect_parameter_error(cls, {**params, bogus: 1}, bogus, f"unknown parameter {bogus!r}")
    for spec in cls.param_specs():
        for bad in _bad_values(spec):
            _expect_parameter_error(cls, {**params, spec.name: bad}, bad, f"{spec.name}={bad!r}")
    report.passed("parameter validation")


def _bad_values(spec: Param) -> list[Any]:
    bad: list[Any] = []
    if spec.choices is not None and spec.type is str:
        bad.append("not-a-valid-choice")
    if spec.min is not None and spec.type in (int, float):
        bad.append(spec.type(spec.min) - 1)
    if spec.max is not None and spec.type in (int, float):
        bad.append(spec.type(spec.max) + 1)
    return bad


def _default_inputs(kind: str, rng: np.random.Generator, multiple: int = 1) -> list[np.ndarray]:
    if kind == "audio":
        n = 2053
        t = np.arange(n)
        tone = 12000 * np.sin(2 * np.pi * 440 * t / 8000)
        noise = rng.normal(0, 3000, n)
        mono = np.clip(np.round(tone + noise), -32768, 32767).astype(np.int16)
        mono[:6] = [-32768, 32767, 0, -1, 1, -32768]
        stereo = np.stack([mono, rng.integers(-32768, 32768, n).astype(np.int16)], axis=1)
        return [mono, stereo]
    if multiple > 1:  # block formats: the last axis holds whole blocks
        return [rng.normal(0, 1, 16 * multiple), rng.normal(0, 1, (24, 2 * multiple)), rng.normal(0, 0.1, (4, 3, 2, multiple))]
    return [rng.normal(0, 1, 4096), rng.normal(0, 1, (64, 48)), rng.normal(0, 0.1, (8, 4, 3, 3))]


def _check_round_trip(q: Quantizer, x: np.ndarray, codes: np.ndarray, label: str, report: ConformanceReport) -> None:
    if not isinstance(codes, np.ndarray) or codes.dtype.kind not in "iu":
        raise _fail(q, f"encode() must return an integer ndarray, got {type(codes).__name__} {getattr(codes, 'dtype', '')}")
    decoded = q.decode(codes)
    if not isinstance(decoded, np.ndarray):
        raise _fail(q, f"decode() must return an ndarray, got {type(decoded).__name__}")
    # codecs coding frames in groups (G.722: pairs; MS-ADPCM: blocks) set ``pads_frames`` and
    # may return more frames than they were given (the padding of the last group)
    pads = q.pads_frames and decoded.ndim == np.ndim(x) and len(decoded) >= len(x)
    if (decoded[: len(x)] if pads else decoded).shape != np.shape(x):
        raise _fail(q, f"{label}: decode(encode(x)) has shape {decoded.shape}, expected {np.shape(x)}")
    if q.kind == "audio":
        if not pads and codes.shape != np.shape(x):
            raise _fail(q, f"{label}: audio codes have shape {codes.shape}; expected one code per sample {np.shape(x)}")
        if codes.dtype != np.dtype(q.code_dtype):
            raise _fail(q, f"{label}: codes dtype {codes.dtype}, declared code_dtype {np.dtype(q.code_dtype)}")
        if decoded.dtype != np.dtype(q.sample_dtype):
            raise _fail(q, f"{label}: decoded dtype {decoded.dtype}, declared sample_dtype {np.dtype(q.sample_dtype)}")
        _check_audio_ranges(q, x, codes, decoded, label)
    report.passed(f"round trip {label}")


def _check_audio_ranges(q: Quantizer, x: np.ndarray, codes: np.ndarray, decoded: np.ndarray, label: str) -> None:
    """Codes inside the range ``code_dtype``/``bits_per_sample`` declare; decoding not degenerate."""
    from .audio.guard import code_range

    lo, hi = code_range(q)
    if codes.size and (int(codes.min()) < lo or int(codes.max()) > hi):
        bad = int(codes.min()) if int(codes.min()) < lo else int(codes.max())
        raise _fail(
            q, f"{label}: code {bad} is outside [{lo}, {hi}], the range of code_dtype "
            f"{np.dtype(q.code_dtype)} at bits_per_sample={float(q.bits_per_sample):g}"
        )
    x = np.asarray(x).astype(np.int64)  # int16 ptp of the rails would wrap
    decoded = np.asarray(decoded).astype(np.int64)
    for ch in range(1 if x.ndim == 1 else x.shape[1]):
        xin = x if x.ndim == 1 else x[:, ch]
        out = decoded if decoded.ndim == 1 else decoded[:, ch]
        if np.ptp(xin) > 0 and np.ptp(out) == 0:
            raise _fail(
                q, f"{label}: decoding is degenerate: channel {ch} decodes to the constant {int(out[0])} "
                "for a non-constant input"
            )


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


def _check_determinism(cls, params, q, x, codes, label, report) -> None:
    if not _same(q.encode(x), codes):
        raise _fail(q, f"{label}: encode() is not deterministic across calls")
    fresh = cls(**params)
    fresh.fit(x)
    if not _same(fresh.encode(x), codes):
        raise _fail(q, f"{label}: a fresh instance with the same parameters encodes differently")
    if not _same(q.decode(codes), fresh.decode(codes)):
        raise _fail(q, f"{label}: decode() differs between instances")
    report.passed(f"determinism {label}")


def _random_chunks(n: int, rng: np.random.Generator) -> list[int]:
    cuts = sorted(set(rng.integers(0, n + 1, size=rng.integers(1, 12)).tolist()) | {0, n})
    if n > 3:
        cuts = sorted(set(cuts) | {1, 2})
    return cuts


def _stream(make: Callable[[], Any], method: str, data: np.ndarray, cuts: list[int]) -> np.ndarray:
    obj = make()
    parts = [getattr(obj, method)(data[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
    parts.append(obj.flush())
    return np.concatenate(parts, axis=0)


def _check_streaming(q, x, codes, rng, label, report) -> None:
    x = np.asarray(x)
    cuts = _random_chunks(len(x), rng)
    streamed = _stream(q.encoder, "encode", x, cuts)
    if not _same(streamed, codes):
        raise _fail(q, f"{label}: streaming encoder with chunk boundaries {cuts} differs from encode()")
    decoded = q.decode(codes)
    streamed_dec = _stream(q.decoder, "decode", codes, _random_chunks(len(codes), rng))
    if not _same(streamed_dec, decoded):
        raise _fail(q, f"{label}: streaming decoder differs from decode()")
    report.passed(f"streaming {label} cuts={cuts}")


def _check_packing(q: Quantizer, codes: np.ndarray, frames: int, label: str, report: ConformanceReport) -> None:
    """``frames``: the audio frame count the codes hold (the containers' convention)."""
    channels = 1 if codes.ndim == 1 else codes.shape[1]
    data = q.pack_codes(codes)
    back = q.unpack_codes(data, frames, channels)
    if not _same(np.asarray(back), codes):
        raise _fail(q, f"{label}: unpack_codes(pack_codes(codes)) does not return the codes")
    report.passed(f"packing {label}")


def _expect_input_error(q: Quantizer, fn: Callable[[], Any], what: str) -> None:
    try:
        fn()
    except InputError:
        return
    except Exception as exc:  # noqa: BLE001
        raise _fail(q, f"{what} raised {type(exc).__name__} instead of InputError: {exc}") from exc
    raise _fail(q, f"{what} was accepted; expected InputError")


def _check_bad_input(q: Quantizer, report: ConformanceReport) -> None:
    _expect_input_error(q, lambda: q.encode(np.array([0.0, np.nan])), "encode() of NaN")
    _expect_input_error(q, lambda: q.encode(np.array([0.0, np.inf])), "encode() of inf")
    if q.kind == "audio":
        _expect_input_error(q, lambda: q.encode(np.zeros((2, 2, 2), dtype=np.int16)), "encode() of a 3-D array")
        _expect_input_error(q, lambda: q.encode(np.array([0, 40000], dtype=np.int32)), "encode() of 40000")
        _expect_input_error(q, lambda: q.decode(np.array([-1], dtype=np.int64)), "decode() of code -1")
        _expect_input_error(q, lambda: q.decode(np.array([1 << 40], dtype=np.int64)), "decode() of code 2**40")
    else:
        _expect_input_error(q, lambda: q.decode(np.array([1 << 40], dtype=np.int64)), "decode() of code 2**40")
        _expect_input_error(q, lambda: q.decode(np.array([0.5])), "decode() of non-integer codes")
    report.passed("bad input errors")


def check_hardware(
    model: HardwareModel, block: str, *, seed: int = 0, hw: dict[str, Any] | None = None, **opts: Any
) -> Report:
    """Simulate ``model``'s ``block`` in Amaranth on its vectors; assert it matches ``reference``.

    ``hw`` holds hardware-only options for ``datapath``; ``seed`` and ``opts`` go to ``vectors``.
    """
    where = f"{type(model).__name__} block {block!r}"
    if not isinstance(model, HardwareModel):
        raise AssertionError(
            f"{type(model).__name__} is not a hardware model: it needs name, blocks, datapath, vectors and reference"
        )
    if block not in tuple(model.blocks):
        raise AssertionError(f"{where}: not among the declared blocks {tuple(model.blocks)}")
    try:
        component = build_block(model, block, **(hw or {}))
        harness = describe(component)
        first = golden_vectors(model, block, harness, seed=seed, **opts)
        again = golden_vectors(model, block, harness, seed=seed, **opts)
    except InwhaleError as exc:
        raise AssertionError(f"{where}: {type(exc).__name__}: {exc}") from exc
    for key, values in first.inputs.items():
        if not _same(values, again.inputs[key]):
            raise AssertionError(f"{where}: vectors(seed={seed}) gave different stimulus for {key!r} on a second call")
    for key, values in first.expected.items():
        if not _same(values, again.expected[key]):
            raise AssertionError(f"{where}: reference gave different outputs for {key!r} on a second call")
    bad = [k for k, v in first.coverage.items() if not isinstance(v, int) or v < 0]
    if bad:
        raise AssertionError(f"{where}: coverage counters {bad} are not non-negative integers")
    report = verify(component, vectors=first, simulator="amaranth")
    report.design = f"{model!r} {block}"
    report.coverage = dict(first.coverage)
    if not report.ok:
        raise AssertionError(f"{where}: the datapath differs from the reference\n{report}")
    return report
