# amaranth: UnusedElaboratable=no
"""Linear delta modulation datapaths: rtl(x) == ref(x) for the bits or PCM AND the
reconstruction ``y`` after every sample, in Amaranth's simulator and in Icarus Verilog.

References: the plugin's golden model through the hardware protocol, and the two-line
recursion of Jayant & Noll §8.2 written here (``b = x >= y``; ``y = sat16(y +- D)``), state
loads applied.  Vectors: 1 s of the bundled speech and 0.25 s of music at 8 kHz, full-scale
edges (the reconstruction walks into both rails), loads at the segment starts.
"""

from __future__ import annotations

import numpy as np
import pytest

import inwhale_hw
from inwhale_hw.errors import ParameterError
from inwhale_hw.hdl import delta as hdl_delta
from inwhale_hw.plugins.delta import hardware as delta_hardware
from inwhale_hw.hdlsim import golden_vectors, run_amaranth, run_icarus
from inwhale_hw.hdlsim.verify import compare

BLOCKS = ("encoder", "decoder")


def recursion_reference(step: int, block: str, inputs) -> dict[str, np.ndarray]:
    y, out, ys = 0, [], []
    for value, load, load_y in zip(inputs["i"].tolist(), inputs["load"].tolist(), inputs["load_y"].tolist()):
        if load:
            y = load_y
        up = value >= y if block == "encoder" else value == 1
        y = min(y + step, 32767) if up else max(y - step, -32768)
        out.append(int(up) if block == "encoder" else y)
        ys.append(y)
    return {"o": np.array(out), "y": np.array(ys)}


_CACHE: dict = {}


def _vectors(step: int, block: str):
    if (step, block) not in _CACHE:
        q = inwhale_hw.get_quantizer("delta", step=step)
        component = q.datapath(block)
        inputs = None if step == 512 else delta_hardware.vectors(q, block, 0.05, 0.02, 64)
        vectors = golden_vectors(q, block, component, inputs)
        _CACHE[step, block] = (component, vectors, recursion_reference(step, block, vectors.inputs))
    return _CACHE[step, block]


@pytest.mark.parametrize("simulator", ("amaranth", "icarus"))
@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("step", (512, 3000))
def test_bits_and_reconstruction_every_sample(step, block, simulator, require_tool):
    component, vectors, ref = _vectors(step, block)
    if simulator == "icarus":
        require_tool("iverilog")
    runner = run_amaranth if simulator == "amaranth" else run_icarus
    n = len(vectors.inputs["i"])
    run = runner(component, vectors.inputs, outputs=n)
    report = compare(f"delta step={step} {block}", vectors, run)
    assert report.ok, report
    assert report.vectors_checked == n >= (8000 + 2000 if step == 512 else 1000)
    assert np.array_equal(run.outputs["o"], ref["o"]) and np.array_equal(run.outputs["y"], ref["y"])


@pytest.mark.parametrize("block", BLOCKS)
def test_vectors_reach_both_rails_and_load(block):
    _, vectors, ref = _vectors(512, block)
    assert ref["y"].max() == 32767 and ref["y"].min() == -32768
    assert np.count_nonzero(vectors.inputs["load"]) == (3 if block == "encoder" else 4)


def test_bad_configurations_are_parameter_errors():
    with pytest.raises(ParameterError, match="step=0"):
        hdl_delta.DeltaEncoder(0)
    with pytest.raises(ParameterError, match="'pipeline'"):
        inwhale_hw.get_quantizer("delta").datapath("encoder", pipeline=1)
