"""Run by tests/plugins/test_bnb_formats.py under a Python that has bitsandbytes and torch:
``python bnb_reference.py OUT.npz SEED`` writes bitsandbytes' own NF4/FP4 (+ double quant)
results on seeded data, and its dynamic map, for the test to compare with."""
import sys, numpy as np, torch, bitsandbytes.functional as F
rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
x = rng.standard_normal(64*256*3).astype(np.float32) * rng.uniform(0.001, 10, (64*3, 1)).astype(np.float32).repeat(256, 0).reshape(-1)
out = {"x": x}
for qt in ("nf4", "fp4"):
    q, st = F.quantize_4bit(torch.from_numpy(x), blocksize=64, quant_type=qt, compress_statistics=True)
    out[qt + "_q"] = q.numpy().reshape(-1); out[qt + "_absmax_q"] = st.absmax.numpy(); out[qt + "_offset"] = st.offset.numpy()
    out[qt + "_absmax2"] = st.state2.absmax.numpy(); out[qt + "_code"] = st.code.numpy()
    out[qt + "_deq"] = F.dequantize_4bit(q, st).numpy()
    q1, st1 = F.quantize_4bit(torch.from_numpy(x), blocksize=64, quant_type=qt)
    out[qt + "_absmax"] = st1.absmax.numpy()
out["dynamic"] = F.create_dynamic_map().numpy()
y = rng.uniform(-1, 1, 256 * 200).astype(np.float32)
qy, sy = F.quantize_blockwise(torch.from_numpy(y), blocksize=256)
out["bw_x"], out["bw_q"], out["bw_absmax"] = y, qy.numpy(), sy.absmax.numpy()
np.savez(sys.argv[1], **out)
