"""Weight-only quantization of MatMul / Gemm weights to int4 (or 8-bit) groups: RTN or GPTQ.

Each selected weight ``W`` (an initializer of shape ``(K, N)``: MatMul's second input, or a
Gemm's B with ``transB = 0``) is replaced by ``DequantizeLinear(W_q, scale, zero_point,
axis=0, block_size=g)`` (ONNX opset 21 blocked quantization; int4 / uint4 storage, IR version
10), so the float operator sees ``s (q - z)``.  GPTQ's Hessian ``H = 2 sum x^T x`` comes from the
float model's inputs to that operator over the calibration batches, accumulated batch by batch
(memory ``K^2`` per layer, not the number of batches); see :mod:`inwhale_hw.ptq.gptq`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError
from .config import GPTQConfig, WeightOnlyConfig
from .gptq import gptq, hessian_update, rtn
from .static import _batches, load_float_model, save_model, simulator_runner

__all__ = ["quantize_weight_only", "weight_targets"]


def weight_targets(proto, config: WeightOnlyConfig) -> list[tuple[str, str, str]]:
    """``(node name, activation input, weight initializer)`` of the operators to quantize."""
    from onnx import numpy_helper

    inits = {t.name: t for t in proto.graph.initializer}
    out = []
    for n in proto.graph.node:
        if n.name in config.exclude_nodes or n.op_type not in ("MatMul", "Gemm") or n.input[1] not in inits:
            continue
        if n.op_type == "Gemm" and any(a.name in ("transA", "transB") and a.i for a in n.attribute):
            continue
        w = numpy_helper.to_array(inits[n.input[1]])
        if w.ndim == 2 and w.shape[0] % config.group_size == 0:
            out.append((n.name, n.input[0], n.input[1]))
    return out


def _hessians(proto, targets, data: Any, runner, batch: int) -> dict[str, np.ndarray]:
    inputs = [i.name for i in proto.graph.input if i.name not in {t.name for t in proto.graph.initializer}]
    names = sorted({a for _, a, _ in targets})
    run = (runner or simulator_runner)(proto, names)
    hs: dict[str, np.ndarray | None] = {a: None for a in names}
    for feeds in _batches(data, inputs, batch):
        out = run(feeds)
        for a in names:
            hs[a] = hessian_update(hs[a], out[a])
    if any(h is None for h in hs.values()):
        raise ParameterError("GPTQ needs at least one calibration batch")
    return hs  # type: ignore[return-value]


def quantize_weight_only(model: Any, config: WeightOnlyConfig | None = None, calibration_data: Any = None,
                         output: Any = None, *, runner=None, batch: int = 64):
    """RTN (``WeightOnlyConfig``) or GPTQ (``GPTQConfig``, needs ``calibration_data``)."""
    from onnx import TensorProto, helper, numpy_helper

    config = config or WeightOnlyConfig()
    proto = load_float_model(model)
    g = proto.graph
    targets = weight_targets(proto, config)
    is_gptq = isinstance(config, GPTQConfig)
    if is_gptq and calibration_data is None:
        raise ParameterError("GPTQ needs calibration_data (the layer inputs give its Hessian)")
    hs = _hessians(proto, targets, calibration_data, runner, batch) if is_gptq else {}
    inits = {t.name: t for t in g.initializer}
    bits, sym = config.bits, config.symmetric
    qtype = {(4, True): TensorProto.INT4, (4, False): TensorProto.UINT4,
             (8, True): TensorProto.INT8, (8, False): TensorProto.UINT8}[(bits, sym)]
    rename, new_inits, dq_nodes, done = {}, [], [], set()
    for _, act, wname in targets:
        if wname in done:
            continue
        done.add(wname)
        w = numpy_helper.to_array(inits[wname]).astype(np.float64)
        if is_gptq:
            q, s, z = gptq(w, hs[act], config.group_size, bits, sym, damp=config.damp,
                           block_size=config.block_size, act_order=config.act_order)
        else:
            q, s, z = rtn(w, config.group_size, bits, sym)
        new_inits += [helper.make_tensor(f"{wname}_quantized", qtype, q.shape, q.ravel().tolist()),
                      numpy_helper.from_array(s.astype(np.float32), f"{wname}_scale"),
                      helper.make_tensor(f"{wname}_zero_point", qtype, z.shape, z.ravel().tolist())]
        out = f"{wname}_DequantizeLinear_Output"
        dq_nodes.append(helper.make_node("DequantizeLinear", [f"{wname}_quantized", f"{wname}_scale",
                                         f"{wname}_zero_point"], [out], name=f"{wname}_DequantizeLinear",
                                         axis=0, block_size=config.group_size))
        rename[wname] = out
    for n in g.node:
        for i, name in enumerate(n.input):
            if name in rename:
                n.input[i] = rename[name]
    nodes = dq_nodes + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    kept = [t for t in g.initializer if t.name not in rename]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    for o in proto.opset_import:
        if o.domain in ("", "ai.onnx") and o.version < 21:
            o.version = 21
    proto.ir_version = max(proto.ir_version, 10)
    if output is not None:
        save_model(proto, output)
    return proto
