# amaranth: UnusedElaboratable=no
"""DPCM datapaths: rtl(x) == ref(x) for the codes AND the state after every sample, in Amaranth's
simulator and, as generated Verilog, in Icarus Verilog.

Two references: the plugin's golden model through the hardware protocol (its own chunk
functions stepped one sample at a time with the state loads applied), and an independent
reference written here from the equations of :mod:`inwhale_hw.plugins.dpcm.model` in exact rational
arithmetic (:class:`fractions.Fraction`): parameters put on their grids with Python's
half-even ``round``, every level's reconstruction computed, the nearest one found by brute
force over all levels (ties: smaller magnitude, then smaller index).

Vectors: the default set (1 s of the bundled speech, 0.25 s of music, full-scale edge cases,
state loads at the segment starts) for the default configuration; a short set for other
configurations.  Coverage is asserted: the adapted step reaches both of its limits and the
reconstruction saturates at both int16 rails.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from inwhale_hw.plugins.dpcm import hardware as dpcm_hardware
import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

import inwhale_hw
from inwhale_hw.errors import ParameterError
from inwhale_hw.fixed import Rounding
from inwhale_hw.hdl import dpcm as hdl_dpcm
from inwhale_hw.hdlsim.stimulus import bundled
from inwhale_hw.plugins.dpcm import hardware as dpcm_hardware
from inwhale_hw.hdlsim import golden_vectors, run_amaranth, run_icarus
from inwhale_hw.hdlsim.verify import compare

SIMULATORS = ("amaranth", "icarus")
BLOCKS = ("encoder", "decoder")
ROUND = {
    Rounding.FLOOR: math.floor,
    Rounding.CEIL: math.ceil,
    Rounding.HALF_UP: lambda v: math.floor(v + Fraction(1, 2)),
    Rounding.HALF_DOWN: lambda v: math.ceil(v - Fraction(1, 2)),
}
JAYANT = {2: (0.8, 1.6), 3: (0.9, 0.9, 1.25, 1.75), 4: (0.9, 0.9, 0.9, 0.9, 1.2, 1.6, 2.0, 2.4)}
SHORT = dict(speech_seconds=0.05, music_seconds=0.02, edge_length=64)
CONFIGS = {
    "fixed-step": dict(adapt="none", step=4000.0),
    "order2-midtread-floor": dict(coeffs=(1.8, -0.81), quantizer="midtread", bits=3, rounding=Rounding.FLOOR,
                                  step=200.0, step_min=8.0, step_max=8192.0),
    "table-2bit-offset-ceil": dict(bits=2, quantizer="table", levels=(-3.25, -0.75, 0.5, 2.875), code_format="offset",
                                   rounding=Rounding.CEIL, step=300.0, step_min=3.0, step_max=20000.0),
    "5bit-order3-halfdown": dict(bits=5, coeffs=(0.5, 0.25, 0.125), coeff_int_bits=1, coeff_frac_bits=8,
                                 rounding=Rounding.HALF_DOWN, step=16.0,
                                 multipliers=(0.85,) * 8 + (1.1, 1.3, 1.5, 1.7, 1.9, 2.1, 2.3, 2.5)),
    "8bit-fixed-offset": dict(bits=8, adapt="none", quantizer="midtread", coeffs=(0.96875,), step=64.0,
                              code_format="offset"),
}


def _grid(value, frac_bits: int) -> Fraction:
    return Fraction(round(Fraction(value) * 2**frac_bits), 2**frac_bits)


def fraction_reference(q, block: str, inputs) -> dict[str, np.ndarray]:
    """The DPCM equations in Fractions; returns the outputs, the state after every sample and
    the number of samples whose reconstruction saturated high and low."""
    rnd = ROUND[q.rounding]
    bits, size = q.bits, 1 << q.bits
    half = size // 2
    coeffs = [_grid(c, q.coeff_frac_bits) for c in q.coeffs]
    if q.quantizer == "table":
        levels = [_grid(v, 8) for v in q.levels]
    else:
        offset = Fraction(1, 2) if q.quantizer == "midrise" else Fraction(0)
        levels = [k + offset for k in range(-half, half)]
    adaptive = q.adapt == "jayant"
    mults = [_grid(m, 8) for m in (q.multipliers or JAYANT[bits])] if adaptive else None
    smin, smax = _grid(q.step_min, 8), _grid(q.step_max, 8)
    history, step = [0] * len(coeffs), _grid(q.step, 8)
    n = len(inputs["i"])
    out = {"o": np.zeros(n, np.int64), **{f"history__{i}": np.zeros(n, np.int64) for i in range(len(coeffs))}}
    if adaptive:
        out["step"] = np.zeros(n, np.int64)
    clamps = [0, 0]
    recon = [rnd(lv * step) for lv in levels]
    for t in range(n):
        if inputs["load"][t]:
            history = [int(inputs[f"load_history__{i}"][t]) for i in range(len(coeffs))]
            if adaptive:
                step = Fraction(int(inputs["load_step"][t]), 256)
        if adaptive:
            recon = [rnd(lv * step) for lv in levels]
        p = rnd(sum(c * h for c, h in zip(coeffs, history)))
        x = int(inputs["i"][t])
        if block == "encoder":
            k = min(range(size), key=lambda j: (abs(x - p - recon[j]), abs(recon[j]), j))
        else:
            k = x if q.code_format == "offset" else (x + half) % size
        total = p + recon[k]
        clamps[0] += total > 32767
        clamps[1] += total < -32768
        y = min(max(total, -32768), 32767)
        history = [y] + history[:-1]
        signed_k = k - half
        if adaptive:
            m = signed_k if signed_k >= 0 else -1 - signed_k
            step = min(max(Fraction(rnd(step * mults[m] * 256), 256), smin), smax)
            out["step"][t] = step * 256
        out["o"][t] = (signed_k % size if q.code_format == "twos" else k) if block == "encoder" else y
        for i, h in enumerate(history):
            out[f"history__{i}"][t] = h
    return {**out, "clamps": np.array(clamps)}


_CACHE: dict = {}


def _vectors(name: str, block: str):
    """(quantizer, component, golden Vectors, Fraction reference) for a configuration, made
    once (the component is elaborated afresh by every simulator run)."""
    key = (name, block)
    if key not in _CACHE:
        q = inwhale_hw.get_quantizer("dpcm", **({} if name == "default" else CONFIGS[name]))
        component = q.datapath(block)
        inputs = None if name == "default" else dpcm_hardware.vectors(q, block, **SHORT)
        vectors = golden_vectors(q, block, component, inputs)
        _CACHE[key] = (q, component, vectors, fraction_reference(q, block, vectors.inputs))
    return _CACHE[key]


def _check(name: str, block: str, simulator: str, require_tool) -> int:
    _, component, vectors, frac = _vectors(name, block)
    if simulator == "icarus":
        require_tool("iverilog")
    runner = run_amaranth if simulator == "amaranth" else run_icarus
    n = len(vectors.inputs["i"])
    run = runner(component, vectors.inputs, outputs=n)
    report = compare(f"dpcm {name} {block}", vectors, run)
    assert report.ok, report
    assert report.vectors_checked == n
    for key, expected in frac.items():
        if key != "clamps":
            assert np.array_equal(run.outputs[key], expected), f"{key} differs from the Fraction reference"
    return n


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("block", BLOCKS)
def test_default_codes_and_state_every_sample(block, simulator, require_tool):
    assert _check("default", block, simulator, require_tool) >= 13000


@pytest.mark.parametrize("block", BLOCKS)
def test_default_vectors_cover_speech_music_loads_step_limits_and_both_rails(block):
    q, _, vectors, frac = _vectors("default", block)
    d = q.design
    # four signal segments from loaded states, then the directed predictor-tie histories
    assert np.count_nonzero(vectors.inputs["load"]) == 4 + dpcm_hardware.TIE_COUNT
    assert len(vectors.inputs["i"]) >= 8000 + 2000  # 1 s of speech and 0.25 s of music at 8 kHz
    assert vectors.expected["step"].min() == d.step_min and vectors.expected["step"].max() == d.step_max
    high, low = frac["clamps"]
    assert high > 0 and low > 0, "the reconstruction never saturated at both rails"


def test_golden_model_agrees_with_one_shot_codec():
    q, _, vectors, _ = _vectors("default", "encoder")
    first = int(np.flatnonzero(vectors.inputs["load"])[1])  # the first segment starts from reset
    x = vectors.inputs["i"][:first].astype(np.int16)
    codes, y = q.encode_with_reconstruction(x)
    assert np.array_equal(vectors.expected["o"][:first], codes)
    assert np.array_equal(vectors.expected["history__0"][:first], y)
    assert np.array_equal(q.decode(codes), y)


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_configurations_codes_and_state_every_sample(name, block, simulator, require_tool):
    assert _check(name, block, simulator, require_tool) > 1000


@pytest.mark.parametrize("block", BLOCKS)
def test_configurations_reach_both_rails(block):
    for name in CONFIGS:
        frac = _vectors(name, block)[3]
        assert all(frac["clamps"] > 0), (name, frac["clamps"])


def test_stream_backpressure_gaps_and_reset():
    """Random input gaps and output stalls lose nothing; a stalled output holds still; the
    sync reset restores the model's initial state."""
    q = inwhale_hw.get_quantizer("dpcm")
    x = bundled("speech", 8000, 0.05)
    codes, y = q.encode_with_reconstruction(x.astype(np.int16))
    dut = q.datapath("encoder")
    m = Module()
    m.domains.sync = domain = ClockDomain("sync")
    m.submodules.dut = dut
    sim = Simulator(m)
    sim.add_clock(1e-8, domain="sync")
    rng = np.random.default_rng(3)
    got, states = [], []

    async def testbench(ctx):
        taken, stalled = 0, None
        for _ in range(4 * len(x)):
            valid, ready = bool(rng.random() < 0.7), bool(rng.random() < 0.6)
            ctx.set(dut.i.valid, valid and taken < len(x))
            ctx.set(dut.i.payload, int(x[min(taken, len(x) - 1)]))
            ctx.set(dut.o.ready, ready)
            if stalled is not None:  # an offered output stays until taken
                assert ctx.get(dut.o.valid) and ctx.get(dut.o.payload) == stalled
            if ctx.get(dut.o.valid) and not ready:  # a full output register takes no input
                assert not ctx.get(dut.i.ready)
            if ctx.get(dut.o.valid):
                if ready:
                    got.append(ctx.get(dut.o.payload))
                    states.append(ctx.get(dut.history[0]))
                stalled = None if ready else ctx.get(dut.o.payload)
            if ctx.get(dut.i.valid) and ctx.get(dut.i.ready):
                taken += 1
            await ctx.tick()
        ctx.set(domain.rst, 1)
        await ctx.tick()
        ctx.set(domain.rst, 0)
        assert ctx.get(dut.history[0]) == 0 and ctx.get(dut.step) == q.design.step
        assert not ctx.get(dut.o.valid)

    sim.add_testbench(testbench)
    sim.run()
    assert len(got) > len(x) // 2
    assert got == codes[: len(got)].tolist() and states == y[: len(got)].tolist()


def test_bad_configurations_are_parameter_errors():
    q = inwhale_hw.get_quantizer("dpcm")
    with pytest.raises(ParameterError, match="'gray'"):
        hdl_dpcm.DPCMEncoder(q.design, code_format="gray")
    with pytest.raises(ParameterError, match="design="):
        hdl_dpcm.DPCMDecoder(object())
    with pytest.raises(ParameterError, match="strictly increasing"):
        hdl_dpcm.DPCMEncoder(q.design._replace(levels=q.design.levels[::-1]))
    with pytest.raises(ParameterError, match="'pipeline'"):
        q.datapath("encoder", pipeline=2)
    with pytest.raises(ParameterError, match="'middle'"):
        q.datapath("middle")
