"""Weight-only quantization of MatMul / Gemm weights to int4 (or 8-bit) groups: RTN or GPTQ.

Each selected weight ``W`` (an initializer of shape ``(K, N)``: MatMul's second input, or a
Gemm's B with ``transB = 0``) is replaced by ``DequantizeLinear(W_q, scale, zero_point,
axis=0, block_size=g)`` (ONNX opset 21 blocked quantization; int4 / uint4 storage, IR version
10), so the float operator sees ``s (q - z)``.  GPTQ's Hessian ``H = 2 sum x^T x`` comes from the
float model's inputs to that operator over the calibration batches, accumulated batch by batch
(memory ``K^2`` per layer, not the number of batches); see :mod:`inwhale_hw.ptq.gptq`.

With ``output = "matmul_nbits"`` a MatMul becomes com.microsoft ``MatMulNBits`` (onnxruntime
contrib op spec): ``B`` is ``W^T`` as unsigned codes (symmetric: ``q + 2^(b-1)``, the default
zero point), shape ``(N, K / g, g b / 8)``, two 4-bit codes per byte with the lower ``k`` in the
low nibble; ``scales`` ``(N * K / g)``; asymmetric zero points packed the same way per row.
Gemm weights keep the DequantizeLinear form.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ParameterError
from .config import GPTQConfig, WeightOnlyConfig
from .gptq import gptq, hessian_update, rtn
from .static import iter_batches, load_float_model, save_model, simulator_runner

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


def _pack(codes: np.ndarray, bits: int) -> np.ndarray:
    """Pack unsigned codes along the last axis: 4-bit pairs (low nibble first) or bytes."""
    codes = codes.astype(np.uint8)
    if bits == 8:
        return codes
    if codes.shape[-1] % 2:
        codes = np.concatenate([codes, np.zeros(codes.shape[:-1] + (1,), np.uint8)], axis=-1)
    return (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)


def _matmul_nbits(node, wname: str, q, s, z, config):
    """The MatMulNBits node and its initializers for ``y = x W`` (module doc)."""
    from onnx import helper, numpy_helper

    k, n = q.shape
    g, bits = config.group_size, config.bits
    codes = (q + (1 << (bits - 1))) if config.symmetric else q
    blob = _pack(codes.T.reshape(n, k // g, g), bits)
    inits = [numpy_helper.from_array(blob, f"{wname}_nbits"),
             numpy_helper.from_array(s.T.reshape(-1).astype(np.float32), f"{wname}_nbits_scales")]
    inputs = [node.input[0], f"{wname}_nbits", f"{wname}_nbits_scales"]
    if not config.symmetric:
        inits.append(numpy_helper.from_array(_pack(z.T, bits).reshape(-1), f"{wname}_nbits_zero_points"))
        inputs.append(f"{wname}_nbits_zero_points")
    new = helper.make_node("MatMulNBits", inputs, list(node.output), name=f"{node.name}_nbits", domain="com.microsoft",
                           K=k, N=n, bits=bits, block_size=g, accuracy_level=1)
    return new, inits


def _hessians(proto, targets, data: Any, runner, batch: int) -> dict[str, np.ndarray]:
    inputs = [i.name for i in proto.graph.input if i.name not in {t.name for t in proto.graph.initializer}]
    names = sorted({a for _, a, _ in targets})
    run = (runner or simulator_runner)(proto, names)
    hs: dict[str, np.ndarray | None] = {a: None for a in names}
    for feeds in iter_batches(data, inputs, batch):
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
    rename, new_inits, dq_nodes, done, nbits = {}, [], [], set(), {}
    ops = {n.name: n for n in g.node}
    users = {}
    for n in g.node:
        for i in n.input:
            users[i] = users.get(i, 0) + 1
    for node_name, act, wname in targets:
        if wname in done:
            continue
        done.add(wname)
        w = numpy_helper.to_array(inits[wname]).astype(np.float64)
        if is_gptq:
            q, s, z = gptq(w, hs[act], config.group_size, bits, sym, damp=config.damp,
                           block_size=config.block_size, act_order=config.act_order)
        else:
            q, s, z = rtn(w, config.group_size, bits, sym)
        node = ops[node_name]
        if config.output == "matmul_nbits" and node.op_type == "MatMul" and users[wname] == 1:
            nbits[node_name], extra = _matmul_nbits(node, wname, q, s, z, config)
            new_inits += extra
            rename[wname] = None
            continue
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
            if rename.get(name):
                n.input[i] = rename[name]
    nodes = dq_nodes + [nbits.get(n.name, n) for n in g.node]
    del g.node[:]
    g.node.extend(nodes)
    kept = [t for t in g.initializer if t.name not in rename]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    if dq_nodes:
        for o in proto.opset_import:
            if o.domain in ("", "ai.onnx") and o.version < 21:
                o.version = 21
        proto.ir_version = max(proto.ir_version, 10)
    if nbits and not any(o.domain == "com.microsoft" for o in proto.opset_import):
        proto.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    if output is not None:
        save_model(proto, output)
    return proto
