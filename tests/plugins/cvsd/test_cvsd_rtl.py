# amaranth: UnusedElaboratable=no
"""CVSD datapaths (Bluetooth Core v5.x Vol 2 Part B §9.2): rtl(x) == ref(x) for the bits or PCM
AND the state (x^, δ, bit-history counters) after every sample, in Amaranth's simulator and,
as generated Verilog, in Icarus Verilog.

Two references: the plugin's golden model through the hardware protocol, and an independent
one written here from the §9.2 equations in exact rational arithmetic (:class:`Fraction`):
``h`` and ``β`` exact, each product rounded to the ``2**-frac_bits`` grid, α found by looking
for J equal bits in the list of the last K bits; the block's ``run``/``age`` ports are
derived from that list by their documented meaning.  Loaded states are turned into a bit list
with the same future (empty; J equal bits; or a one-bit run after a different bit).

Lengths: Icarus runs the default vectors (1 s of the bundled speech at 64 kHz, 0.1 s of
music, edges, δ decay; ~80k samples per block, checked against the golden model); Amaranth's
simulator (5-10x slower here) runs the same construction with 0.1 s of speech and 0.05 s of
music (~20k samples), checked against both references.  Both cover the edges in full.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module
from amaranth.sim import Simulator

import inwhale_hw
from inwhale_hw.errors import ParameterError, UnsupportedError
from inwhale_hw.fixed import Rounding
from inwhale_hw.hdl import cvsd as hdl_cvsd
from inwhale_hw.plugins.cvsd import hardware as cvsd_hardware
from inwhale_hw.hdlsim import golden_vectors, run_amaranth, run_icarus
from inwhale_hw.hdlsim.verify import compare

BLOCKS = ("encoder", "decoder")
ROUND = {
    Rounding.FLOOR: math.floor,
    Rounding.CEIL: math.ceil,
    Rounding.HALF_UP: lambda v: math.floor(v + Fraction(1, 2)),
    Rounding.HALF_DOWN: lambda v: math.ceil(v - Fraction(1, 2)),
}
AMARANTH_SIZE = dict(speech_seconds=0.1, music_seconds=0.05)
SHORT = dict(speech_seconds=0.02, music_seconds=0.01, edge_length=64)
CONFIGS = {
    "J2-K4-floor": dict(J=2, K=4, rounding=Rounding.FLOOR, step_decay_shift=7),
    "J3-K3-f12-ceil": dict(J=3, K=3, step_min=16, step_max=2560, accum_decay_shift=4, step_decay_shift=7,
                           frac_bits=12, rounding=Rounding.CEIL),
    "asymmetric-rails-f8-halfdown": dict(y_min=-32767, y_max=30000, frac_bits=8, step_decay_shift=6,
                                         rounding=Rounding.HALF_DOWN),
    "J2-K3": dict(J=2, K=3, step_min=40, step_max=1600, step_decay_shift=5),
}


def fraction_reference(q, block: str, inputs) -> dict[str, np.ndarray]:
    """§9.2 one sample at a time in Fractions; outputs, state after every sample, and how many
    samples saturated y at each rail."""
    J, K, f = q.J, q.K, q.frac_bits
    rnd = ROUND[q.rounding]
    lsb = Fraction(1, 2**f)
    h, beta = 1 - Fraction(1, 2**q.accum_decay_shift), 1 - Fraction(1, 2**q.step_decay_shift)
    dmin, dmax, ymin, ymax = Fraction(q.step_min), Fraction(q.step_max), Fraction(q.y_min), Fraction(q.y_max)

    def grid(v: Fraction) -> Fraction:
        return rnd(v / lsb) * lsb

    xhat, delta, bits = Fraction(0), dmin, []
    n = len(inputs["i"])
    out = {key: np.zeros(n, np.int64) for key in ("o", "xhat", "delta", "last_bit", "run", "age")}
    clamps = [0, 0]
    for t in range(n):
        if inputs["load"][t]:
            xhat, delta = Fraction(int(inputs["load_xhat"][t]), 2**f), Fraction(int(inputs["load_delta"][t]), 2**f)
            last, run, age = (int(inputs[f"load_{k}"][t]) for k in ("last_bit", "run", "age"))
            b = -1 if last else 1
            if run == 0:
                bits = []
            elif age == 0:
                assert run == J
                bits = [b] * J
            else:
                assert age == K - J + 1 and run < J
                bits = [-b] + [b] * run
        x = int(inputs["i"][t])
        b = (1 if x - xhat >= 0 else -1) if block == "encoder" else (-1 if x else 1)
        bits = (bits + [b])[-K:]
        alpha = any(len(set(bits[i:i + J])) == 1 for i in range(len(bits) - J + 1))
        delta = min(delta + dmin, dmax) if alpha else max(grid(beta * delta), dmin)
        yhat = xhat + b * delta
        clamps[0] += yhat > ymax
        clamps[1] += yhat < ymin
        y = min(yhat, ymax) if yhat >= 0 else max(yhat, ymin)
        xhat = grid(h * y)
        run = 1
        while run < min(J, len(bits)) and bits[-1 - run] == b:
            run += 1
        ends = [i for i in range(J - 1, len(bits)) if len(set(bits[i - J + 1:i + 1])) == 1]
        out["o"][t] = (1 if b < 0 else 0) if block == "encoder" else rnd(xhat)
        out["xhat"][t], out["delta"][t] = xhat * 2**f, delta * 2**f
        out["last_bit"][t], out["run"][t] = (1 if b < 0 else 0), run
        out["age"][t] = len(bits) - 1 - ends[-1] if ends else K - J + 1
    return {**out, "clamps": np.array(clamps)}


_CACHE: dict = {}


def _vectors(name: str, block: str):
    """(quantizer, component, golden Vectors, Fraction reference or None) for a configuration
    and vector size.  The default vectors (~80k per block) are compared with the golden model
    only; the Fraction reference checks the golden model on the same construction with less
    speech ("amaranth") and on every other configuration."""
    key = (name, block)
    if key not in _CACHE:
        config = {"default": {}, "amaranth": {}}.get(name, CONFIGS.get(name))
        q = inwhale_hw.get_quantizer("cvsd", **config)
        component = q.datapath(block)
        size = {"default": None, "amaranth": AMARANTH_SIZE}.get(name, SHORT)
        inputs = None if size is None else cvsd_hardware.vectors(q, block, **size)
        vectors = golden_vectors(q, block, component, inputs)
        frac = None if name == "default" else fraction_reference(q, block, vectors.inputs)
        _CACHE[key] = (q, component, vectors, frac)
    return _CACHE[key]


def _check(name: str, block: str, simulator: str, require_tool) -> int:
    _, component, vectors, frac = _vectors(name, block)
    if simulator == "icarus":
        require_tool("iverilog")
    runner = run_amaranth if simulator == "amaranth" else run_icarus
    n = len(vectors.inputs["i"])
    run = runner(component, vectors.inputs, outputs=n)
    report = compare(f"cvsd {name} {block}", vectors, run)
    assert report.ok, report
    assert report.vectors_checked == n
    for key, expected in (frac or {}).items():
        if key != "clamps":
            assert np.array_equal(run.outputs[key], expected), f"{key} differs from the Fraction reference"
    return n


@pytest.mark.parametrize("block", BLOCKS)
def test_default_vectors_in_icarus_every_sample(block, require_tool):
    assert _check("default", block, "icarus", require_tool) >= 64000 + 6400


@pytest.mark.parametrize("block", BLOCKS)
def test_default_construction_in_amaranth_every_sample(block, require_tool):
    assert _check("amaranth", block, "amaranth", require_tool) >= 6400 + 3200


@pytest.mark.parametrize("name", ["default", "amaranth"])
@pytest.mark.parametrize("block", BLOCKS)
def test_vectors_cover_step_limits_both_rails_and_loads(block, name):
    q, _, vectors, frac = _vectors(name, block)
    raw, expected = q._raw, vectors.expected
    assert np.count_nonzero(vectors.inputs["load"]) == 4
    assert expected["delta"].min() == raw.step_min and expected["delta"].max() == raw.step_max
    h = 1 - Fraction(1, 2**q.accum_decay_shift)
    rail = [math.floor(h * y * 2**q.frac_bits + Fraction(1, 2)) for y in (q.y_max, q.y_min)]  # x^ = h y_max, h y_min
    assert expected["xhat"].max() == rail[0] and expected["xhat"].min() == rail[1]
    assert set(expected["age"].tolist()) == {0, 1}  # alpha both set and clear (J = K)
    if frac is not None:
        assert all(frac["clamps"] > 0), "y never saturated at both rails"


def test_golden_model_agrees_with_one_shot_codec():
    q, _, vectors, _ = _vectors("amaranth", "encoder")
    first = int(np.flatnonzero(vectors.inputs["load"])[1])  # the first segment starts from reset
    x = vectors.inputs["i"][:first].astype(np.int16)
    bits, est = q.encode_with_reconstruction(x)
    assert np.array_equal(vectors.expected["o"][:first], bits)
    assert np.array_equal(q.decode(bits), est)


@pytest.mark.parametrize("simulator", ("amaranth", "icarus"))
@pytest.mark.parametrize("block", BLOCKS)
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_configurations_every_sample(name, block, simulator, require_tool):
    q, _, vectors, frac = _vectors(name, block)
    assert all(frac["clamps"] > 0)
    assert vectors.expected["delta"].min() == q._raw.step_min
    assert vectors.expected["delta"].max() == q._raw.step_max
    assert _check(name, block, simulator, require_tool) > 1000


def test_stream_backpressure_gaps_and_reset():
    """Random input gaps and output stalls lose nothing; the sync reset restores x^ = 0,
    δ = δmin and an empty bit history."""
    q = inwhale_hw.get_quantizer("cvsd")
    bits = np.random.default_rng(21).integers(0, 2, 400)
    expected = q.decode(bits)
    dut = q.datapath("decoder")
    m = Module()
    m.domains.sync = domain = ClockDomain("sync")
    m.submodules.dut = dut
    sim = Simulator(m)
    sim.add_clock(1e-8, domain="sync")
    rng = np.random.default_rng(4)
    got = []

    async def testbench(ctx):
        taken, stalled = 0, None
        for _ in range(4 * len(bits)):
            ready = bool(rng.random() < 0.6)
            ctx.set(dut.i.valid, bool(rng.random() < 0.7) and taken < len(bits))
            ctx.set(dut.i.payload, int(bits[min(taken, len(bits) - 1)]))
            ctx.set(dut.o.ready, ready)
            if stalled is not None:
                assert ctx.get(dut.o.valid) and ctx.get(dut.o.payload) == stalled
            if ctx.get(dut.o.valid):
                if ready:
                    got.append(ctx.get(dut.o.payload))
                stalled = None if ready else ctx.get(dut.o.payload)
            if ctx.get(dut.i.valid) and ctx.get(dut.i.ready):
                taken += 1
            await ctx.tick()
        ctx.set(domain.rst, 1)
        await ctx.tick()
        ctx.set(domain.rst, 0)
        assert (ctx.get(dut.xhat), ctx.get(dut.delta), ctx.get(dut.run)) == (0, q._raw.step_min, 0)
        assert ctx.get(dut.age) == q.K - q.J + 1 and not ctx.get(dut.o.valid)

    sim.add_testbench(testbench)
    sim.run()
    assert len(got) > len(bits) // 2
    assert got == expected[: len(got)].tolist()


def test_unsupported_and_bad_configurations():
    with pytest.raises(UnsupportedError, match="input_rate=8000"):
        inwhale_hw.get_quantizer("cvsd", input_rate=8000).datapath("encoder")
    q = inwhale_hw.get_quantizer("cvsd")
    with pytest.raises(ParameterError, match="'pipeline'"):
        q.datapath("decoder", pipeline=1)
    with pytest.raises(ParameterError, match="'both'"):
        q.datapath("both")
    with pytest.raises(ParameterError, match="output_bias=2048"):
        hdl_cvsd.CVSDDecoder(q._raw, output_bias=2048)
    with pytest.raises(ParameterError, match="step_min=0"):
        hdl_cvsd.CVSDEncoder(q._raw._replace(step_min=0))
