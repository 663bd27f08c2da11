"""``inwhale-hw sqnr`` with the block formats: bits per weight with scales, SQNR against gguf's
own round trip, and weights read from a GGUF file."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from inwhale_hw.cli import cli

gq = pytest.importorskip("gguf.quants", reason="gguf (test extra) is the reference")
import gguf  # noqa: E402


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqnrf") / "w.npy"
    np.save(path, np.random.default_rng(0).standard_normal((128, 512)).astype(np.float32))
    return path


def _sqnr(x, xh):
    x, xh = x.astype(np.float64).ravel(), xh.astype(np.float64).ravel()
    return 10 * math.log10(float(np.dot(x, x)) / float(np.dot(x - xh, x - xh)))


def test_bits_per_weight_and_sqnr_against_gguf(weights):
    res = run("sqnr", weights, "--json", "-q", "q4=gguf", "-p", "q4.type=Q4_0", "-q", "q8=gguf", "-p", "q8.type=Q8_0",
              "-q", "mxfp4=mx", "-q", "mxg=mx", "-p", "mxg.flavor=gguf", "-q", "nf4=bnb", "-q", "int8=affine")
    assert res.exit_code == 0, res.output
    r = {e["label"]: e for e in json.loads(res.output)["results"]}
    x = np.load(weights)
    assert r["q4"]["bits_per_weight"] == 4.5 and r["q8"]["bits_per_weight"] == 8.5
    assert r["mxfp4"]["bits_per_weight"] == 4.25
    assert r["nf4"]["bits_per_weight"] == pytest.approx(4 + 8 / 64 + 32 / (64 * 256) + 32 / x.size, abs=1e-12)
    assert round(r["nf4"]["bits_per_weight"], 3) == 4.127
    assert r["int8"]["bits_per_weight"] == pytest.approx(8 + 32 / x.size)
    T = gguf.GGMLQuantizationType
    for label, t in (("q4", T.Q4_0), ("q8", T.Q8_0), ("mxg", T.MXFP4)):
        ref = gq.dequantize(gq.quantize(x, t), t)
        assert r[label]["sqnr_db"] == pytest.approx(_sqnr(x, ref), abs=1e-9), label
    text = run("sqnr", weights, "-q", "q4=gguf")
    assert "bpw" in text.output and "4.500" in text.output


def test_gguf_file_tensor(tmp_path):
    x = np.random.default_rng(1).standard_normal((8, 64)).astype(np.float32)
    path = tmp_path / "m.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    q8 = gq.quantize(x, gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("blk.0.w", q8, raw_shape=q8.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("blk.0.f", x)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    res = run("sqnr", path, "--key", "blk.0.w", "--json", "-q", "g=gguf", "-p", "g.type=Q8_0")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["shape"] == [8, 64]
    (r,) = out["results"]
    # re-quantizing Q8_0-decoded weights with Q8_0 reproduces them up to the fp16 rounding of the new scale
    assert r["sqnr_db"] is None or r["sqnr_db"] > 60
    res = run("sqnr", path, "--key", "blk.0.f", "--json", "-q", "g=gguf")
    assert json.loads(res.output)["results"][0]["sqnr_db"] == pytest.approx(
        _sqnr(x, gq.dequantize(gq.quantize(x, gguf.GGMLQuantizationType.Q4_0), gguf.GGMLQuantizationType.Q4_0)), abs=1e-9)
    bad = CliRunner().invoke(cli, ["sqnr", str(path), "--key", "nope", "-q", "gguf"])
    assert bad.exit_code == 1 and "no tensor 'nope'" in bad.output and "blk.0.w" in bad.output
