"""Static PTQ: ``prepare`` -> ``calibrate`` (streaming) -> ``convert``, and one-call ``quantize``.

``prepare(model, config)`` picks the tensors to observe: every float, non-initializer input and
output of a node whose type is in ``config.op_types`` (and not in ``exclude_nodes``), as
onnxruntime's calibrator does.  ``calibrate(batches)`` runs the *float* model on each batch
with a runner and updates one observer per tensor; only the observers persist between batches.
``convert()`` turns the observed ranges into scales and zero points and writes the QDQ model
(:func:`~inwhale_hw.ptq.qdq.to_qdq`).

The runner is a factory ``runner(model, names) -> run`` where ``run(feeds)`` returns a dict
``{tensor name: array}`` holding at least the observed tensors ``names``.  The default runs the float graph on the project's own simulator
(:mod:`inwhale_hw.accel`); its float Conv / Gemm / MatMul sum in a different order than
onnxruntime's MLAS, so ranges can differ from onnxruntime's in the last bit.  Pass any other
engine (for example an onnxruntime session over :func:`observed_model`, which makes the
observed tensors graph outputs) to calibrate on its
numbers; the quantizer itself never calls onnxruntime.

Calibration data: an array (one input; split in ``batch``-sized slices), a dict of arrays, or an
iterable of arrays / dicts (one batch each).  The two-pass histogram needs to read the batches
twice: pass a list, an array or a zero-argument callable that returns a fresh iterator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..errors import InputError, ParameterError
from .config import PTQConfig
from .histogram import TwoPassHistogram
from .observers import HistogramObserver, make_observer
from .qdq import to_qdq
from .qoperator import to_qoperator

__all__ = ["PreparedModel", "prepare", "quantize", "observed_model", "simulator_runner", "load_float_model", "save_model",
           "iter_batches"]


def load_float_model(model: Any):
    """A ModelProto from a path or ModelProto (copied), with shape inference applied."""
    import onnx

    if isinstance(model, onnx.ModelProto):
        proto = onnx.ModelProto.FromString(model.SerializeToString())
    else:
        try:
            proto = onnx.load(str(model))
        except Exception as exc:  # noqa: BLE001 - onnx raises several types for unreadable files
            raise InputError(f"float model {str(model)!r} cannot be read as ONNX: {exc}") from None
    try:
        return onnx.shape_inference.infer_shapes(proto)
    except Exception:  # noqa: BLE001 - shape inference is a help, not a requirement
        return proto


def _float_tensors(proto) -> set[str]:
    types = {v.name: v.type.tensor_type.elem_type for v in [*proto.graph.value_info, *proto.graph.input, *proto.graph.output]}
    return {n for n, t in types.items() if t in (1, 10)}


def _select(proto, config: PTQConfig) -> list[str]:
    inits = {t.name for t in proto.graph.initializer}
    floats = _float_tensors(proto)
    names: list[str] = []
    for n in proto.graph.node:
        if n.op_type in config.op_types and n.name not in config.exclude_nodes:
            for t in [*n.input, *n.output]:
                if t and t not in inits and t in floats and t not in names:
                    names.append(t)
    return names


def observed_model(proto, names: list[str]):
    """A copy of ``proto`` whose graph outputs include the tensors ``names`` (for a runner)."""
    import onnx

    out = onnx.ModelProto.FromString(proto.SerializeToString())
    have = {o.name for o in out.graph.output}
    infos = {v.name: v for v in [*out.graph.value_info, *out.graph.input]}
    for t in names:
        if t not in have:
            out.graph.output.append(infos[t] if t in infos else onnx.helper.make_tensor_value_info(t, 1, None))
    return out


def simulator_runner(proto, names: list[str]) -> Callable[[dict], dict]:
    """Run the float graph on :mod:`inwhale_hw.accel`'s executors; every tensor comes back."""
    from ..accel.loader import load_model
    from ..accel.simulate import execute

    graph = load_model(proto, role="float")
    return lambda feeds: execute(graph, feeds).tensors


def iter_batches(data: Any, input_names: list[str], batch: int) -> Iterator[dict]:
    """Feed dicts from calibration data (an array, a dict of arrays, an iterable or a callable)."""
    if isinstance(data, np.ndarray) or isinstance(data, dict):
        feeds = data if isinstance(data, dict) else {input_names[0]: data}
        n = len(next(iter(feeds.values())))
        for i in range(0, n, batch):
            yield {k: np.asarray(v[i : i + batch]) for k, v in feeds.items()}
        return
    for item in (data() if callable(data) else data):
        if isinstance(item, dict):
            yield {k: np.asarray(v) for k, v in item.items()}
        elif len(input_names) == 1:
            yield {input_names[0]: np.asarray(item)}
        else:
            raise InputError(f"the model has inputs {input_names}: give each batch as a dict of arrays")


class PreparedModel:
    """A float model with one observer per selected tensor (see module doc)."""

    def __init__(self, proto, config: PTQConfig, runner=None, batch: int = 64):
        self.proto, self.config, self.batch = proto, config, batch
        inits = {t.name for t in proto.graph.initializer}
        self.input_names = [i.name for i in proto.graph.input if i.name not in inits]
        self.tensors = _select(proto, config)
        self.observers = {t: make_observer(config.calibration, config) for t in self.tensors}
        self.runner = (runner or simulator_runner)(proto, self.tensors)
        self.batches_seen = 0

    def _run(self, feeds: dict) -> dict:
        out = self.runner(feeds)
        missing = [t for t in self.tensors if t not in out]
        if missing:
            raise ParameterError(f"the calibration runner did not return tensors {missing[:5]}")
        return out

    def calibrate(self, data: Any) -> "PreparedModel":
        """Feed calibration batches (module doc); may be called again with more data."""
        hist = [t for t, o in self.observers.items() if isinstance(o, HistogramObserver)]
        if hist and self.config.two_pass_histogram:
            if isinstance(data, Iterator):
                raise InputError("two_pass_histogram needs calibration data it can read twice "
                                 "(an array, a list or a callable); set two_pass_histogram = false to stream once")
            for t in hist:
                if self.observers[t].hist.hist is not None:
                    raise ParameterError("two_pass_histogram collects all data in one calibrate() call")
            self._two_pass(data, hist)
            return self
        for feeds in iter_batches(data, self.input_names, self.batch):
            out = self._run(feeds)
            for t, obs in self.observers.items():
                obs.update(out[t])
            self.batches_seen += 1
        return self

    def _two_pass(self, data: Any, hist: list[str]) -> None:
        collectors = {t: TwoPassHistogram(self.observers[t].hist.absolute, self.observers[t].hist.bins) for t in hist}
        for feeds in iter_batches(data, self.input_names, self.batch):
            out = self._run(feeds)
            for t, obs in self.observers.items():
                if t in collectors:
                    collectors[t].first(out[t])
                else:
                    obs.update(out[t])
            self.batches_seen += 1
        for feeds in iter_batches(data, self.input_names, self.batch):
            out = self._run(feeds)
            for t, c in collectors.items():
                c.second(out[t])
        for t, c in collectors.items():
            self.observers[t].hist = c.result()

    def ranges(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{tensor: (lo, hi)}`` from the observers."""
        return {t: o.range() for t, o in self.observers.items()}

    def convert(self):
        """The QDQ ModelProto (the QOperator form when ``config.qoperator``)."""
        if not self.batches_seen:
            raise ParameterError("convert() before calibrate(): feed at least one calibration batch")
        model = to_qdq(self.proto, self.ranges(), self.config)
        return to_qoperator(model) if self.config.qoperator else model


def save_model(proto, path: Any) -> None:
    """Write ``proto`` to ``path`` under a temporary name, then rename (no partial file)."""
    import os
    from pathlib import Path

    target = Path(path)
    tmp = target.with_name(f".{target.name}.partial")
    try:
        tmp.write_bytes(proto.SerializeToString())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write quantized model {str(target)!r}: {exc}") from None


def prepare(model: Any, config: PTQConfig | None = None, calibration_data: Any = None, *,
            runner: Callable[..., Callable[[dict], dict]] | None = None, batch: int = 64) -> PreparedModel:
    """Instrument ``model`` (path or ModelProto) for ``config``; calibrate now if data is given."""
    prepared = PreparedModel(load_float_model(model), config or PTQConfig(), runner, batch)
    if calibration_data is not None:
        prepared.calibrate(calibration_data)
    return prepared


def quantize(model: Any, calibration_data: Any, config: PTQConfig | None = None, output: Any = None, *,
             runner: Callable[..., Callable[[dict], dict]] | None = None, batch: int = 64):
    """Float model -> QDQ ModelProto in one call; also saved to ``output`` when given."""
    q = prepare(model, config, calibration_data, runner=runner, batch=batch).convert()
    if output is not None:
        save_model(q, output)
    return q
