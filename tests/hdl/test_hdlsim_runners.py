# amaranth: UnusedElaboratable=no
"""The verification runners on small blocks whose answers plain Python arithmetic gives.

Covers what G.711 does not: several inputs, signed outputs, a stream block with a handshake
that stalls its input, sideband inputs and observed state, a block that never answers, the
quantizer hooks ``hdl_vectors``/``hdl_reference`` and the default exhaustive vectors.
"""

from __future__ import annotations

import numpy as np
import pytest
from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw import Golden, Quantizer
from inwhale_hw.errors import InputError, ParameterError, UnsupportedError
from inwhale_hw.hdlsim import Vectors, describe, golden_vectors, run_amaranth, run_icarus, verify

SIMULATORS = ("amaranth", "icarus")
RUNNERS = {"amaranth": run_amaranth, "icarus": run_icarus}


class Difference(wiring.Component):
    """Combinational ``d = a - b`` (a signed 5-bit, b unsigned 3-bit) and ``neg = d < 0``."""

    def __init__(self):
        super().__init__({"a": In(signed(5)), "b": In(unsigned(3)), "d": Out(signed(7)), "neg": Out(1)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.d.eq(self.a - self.b), self.neg.eq(self.d < 0)]
        return m


class Accumulator(wiring.Component):
    """Stream block: running sum mod 256 of signed 8-bit inputs, two cycles per element.

    ``load`` (sideband) replaces the total by ``load_value`` before the element is added;
    ``total`` and ``count`` are the state after each element, observed at each output.
    """

    def __init__(self):
        super().__init__({
            "i": In(stream.Signature(signed(8))),
            "o": Out(stream.Signature(unsigned(8))),
            "load": In(1),
            "load_value": In(8),
            "total": Out(8),
            "count": Out(16),
        })

    def elaborate(self, platform):
        m = Module()
        busy = Signal()
        m.d.comb += [self.i.ready.eq(~busy), self.o.valid.eq(busy), self.o.payload.eq(self.total)]
        with m.If(self.i.valid & self.i.ready):
            base = Mux(self.load, self.load_value, self.total)
            m.d.sync += [self.total.eq(base + self.i.payload), self.count.eq(self.count + 1), busy.eq(1)]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += busy.eq(0)
        return m


class Silent(wiring.Component):
    """Stream block that accepts everything and never produces an output."""

    def __init__(self):
        super().__init__({"i": In(stream.Signature(8)), "o": Out(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.i.ready.eq(1)
        m.d.sync += self.o.payload.eq(self.i.payload)
        return m


def _accumulate(x, load, load_value):
    totals, total = [], 0
    for value, flag, new in zip(x.tolist(), load.tolist(), load_value.tolist()):
        total = ((new if flag else total) + value) % 256
        totals.append(total)
    return np.array(totals)


def _stream_vectors(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, n)
    load = (rng.random(n) < 0.1).astype(np.int64)
    load_value = rng.integers(0, 256, n)
    totals = _accumulate(x, load, load_value)
    inputs = {"i": x, "load": load, "load_value": load_value}
    expected = {"o": totals, "total": totals, "count": np.arange(1, n + 1)}
    return inputs, expected


def _runner(simulator, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
    return RUNNERS[simulator]


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_map_block_with_two_inputs_and_signed_output(simulator, require_tool):
    a, b = (grid.ravel() for grid in np.meshgrid(np.arange(-16, 16), np.arange(8)))
    run = _runner(simulator, require_tool)(Difference(), {"a": a, "b": b})
    assert np.array_equal(run.outputs["d"], a - b)
    assert np.array_equal(run.outputs["neg"], (a - b < 0).astype(int))


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_stream_block_outputs_and_state_after_every_element(simulator, require_tool):
    inputs, expected = _stream_vectors(300, seed=1)
    run = _runner(simulator, require_tool)(Accumulator(), inputs, outputs=300)
    for key in ("o", "total", "count"):
        assert np.array_equal(run.outputs[key], expected[key]), key
    if simulator == "amaranth":
        assert run.cycles >= 2 * 300  # the block takes two cycles per element


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_verify_stream_component_finds_one_corrupted_state(simulator, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
    inputs, expected = _stream_vectors(50, seed=2)
    expected["count"] = expected["count"].copy()
    expected["count"][17] += 1
    report = verify(Accumulator, vectors=Vectors(inputs, expected), simulator=simulator)
    assert report.vectors_checked == 50 and report.mismatches == 1
    (bad,) = report.first_mismatches
    assert bad.index == 17 and bad.expected["count"] == 19 and bad.got["count"] == 18


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_a_block_that_never_answers_counts_every_missing_output(simulator, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
    vectors = Vectors({"i": np.arange(20)}, {"o": np.arange(20)})
    report = verify(Silent(), vectors=vectors, simulator=simulator)
    assert report.mismatches == 20 and not report.ok
    assert report.first_mismatches[0].got == {"o": None}


class RunningSum(Quantizer):
    """A stateful quantizer whose ``encoder`` block is :class:`Accumulator` (protocol hooks)."""

    name = "runningsum"
    summary = "running sum mod 256 (test fixture)"
    blocks = ("encoder",)
    stateful = True

    def encode(self, x):
        return _accumulate(np.asarray(x), np.zeros(len(x), int), np.zeros(len(x), int)).astype(np.uint8)

    def decode(self, codes):
        return np.asarray(codes, dtype=np.int16)

    def datapath(self, block, **hw):
        if hw:
            raise ParameterError(f"runningsum: hardware option {sorted(hw)[0]!r} is not allowed")
        return Accumulator()

    def vectors(self, block, *, seed=0, **opts):
        return _stream_vectors(opts.get("count", 400), seed=3 + seed)[0]

    def reference(self, block, inputs):
        totals = _accumulate(inputs["i"], inputs["load"], inputs["load_value"])
        outputs = {"o": totals, "total": totals, "count": np.arange(1, len(totals) + 1)}
        return Golden(outputs, {"loads": int(np.count_nonzero(inputs["load"]))})


class OldRunningSum(RunningSum):
    """The same model through the deprecated hook names ``hdl_vectors`` / ``hdl_reference``."""

    vectors = Quantizer.vectors
    reference = Quantizer.reference

    def hdl_vectors(self, block):
        return RunningSum.vectors(self, block)

    def hdl_reference(self, block, inputs):
        return RunningSum.reference(self, block, inputs).outputs


class Nibble(Quantizer):
    """A stateless quantizer with a combinational ``decoder`` block: code c -> (c - 8) * 4096."""

    name = "nibble"
    summary = "4-bit offset codes (test fixture)"
    blocks = ("decoder",)

    def encode(self, x):
        return (np.asarray(x) // 4096 + 8).astype(np.uint8)

    def decode(self, codes):
        return ((np.asarray(codes).astype(np.int32) - 8) * 4096).astype(np.int16)

    def datapath(self, block, **hw):
        return NibbleDecoder()


class NibbleDecoder(wiring.Component):
    def __init__(self):
        super().__init__({"code": In(4), "pcm": Out(signed(16))})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.pcm.eq((self.code - 8) << 12)
        return m


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_protocol_hooks_drive_a_stateful_quantizer(simulator, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
    report = verify(RunningSum(), "encoder", simulator=simulator)
    assert report.ok and report.vectors_checked == 400, str(report)
    assert report.coverage["loads"] > 0 and "coverage: loads=" in str(report)


def test_deprecated_hook_names_still_work_with_a_warning():
    with pytest.warns(DeprecationWarning, match=r"hdl_(vectors|reference)\(\) is deprecated") as caught:
        report = verify(OldRunningSum(), "encoder")
    assert {"hdl_vectors", "hdl_reference"} <= {w.message.args[0].split(".")[1].split("(")[0] for w in caught}
    assert report.ok and report.vectors_checked == 400, str(report)


def test_vector_options_reach_the_model_and_change_the_stimulus():
    assert verify(RunningSum(), "encoder", count=50).vectors_checked == 50
    a = golden_vectors(RunningSum(), "encoder", Accumulator(), seed=1)
    b = golden_vectors(RunningSum(), "encoder", Accumulator(), seed=2)
    assert not np.array_equal(a.inputs["i"], b.inputs["i"])
    with pytest.raises(ParameterError, match="'count'"):
        verify(Nibble(), "decoder", count=5)


def test_default_vectors_are_exhaustive_for_small_map_blocks():
    q = Nibble()
    vectors = golden_vectors(q, "decoder", q.datapath("decoder"))
    assert sorted(vectors.inputs["code"].tolist()) == list(range(16))
    assert np.array_equal(vectors.expected["pcm"], (vectors.inputs["code"] - 8) * 4096)
    report = verify(q, "decoder")
    assert report.ok and report.vectors_checked == 16


def test_missing_hooks_and_bad_blocks_are_clear_errors():
    with pytest.raises(UnsupportedError, match=r"define vectors\(block"):
        golden_vectors(Nibble(), "decoder", Accumulator())
    with pytest.raises(ParameterError, match="'encoder'"):
        verify(Nibble(), "encoder")
    with pytest.raises(ParameterError, match="'fast'"):
        verify(RunningSum(), "encoder", hw={"fast": 1})
    with pytest.raises(ParameterError, match="'ghdl'"):
        verify(Nibble(), "decoder", simulator="ghdl")


@pytest.mark.parametrize(
    ("inputs", "quoted"),
    [({"a": [16], "b": [0]}, "16"), ({"a": [0], "b": [-1]}, "-1"), ({"a": [0]}, "missing ['b']"),
     ({"a": [0, 1], "b": [0]}, "different lengths"), ({"a": [0.5], "b": [0]}, "float")],
)
def test_out_of_range_or_malformed_vectors_are_rejected_before_simulation(inputs, quoted):
    with pytest.raises(InputError) as info:
        run_amaranth(Difference(), inputs)
    assert quoted in str(info.value)


def test_describe_classifies_blocks():
    assert describe(Difference()).kind == "map" and not describe(Difference()).clocked
    harness = describe(Accumulator())
    assert harness.kind == "stream" and harness.clocked
    assert list(harness.inputs) == ["i", "load", "load_value"]
    assert list(harness.outputs) == ["o", "total", "count"]
    assert harness.inputs["i"].signed and harness.inputs["i"].width == 8


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_vcd_trace_is_written(simulator, require_tool, tmp_path):
    path = tmp_path / f"{simulator}.vcd"
    _runner(simulator, require_tool)(Difference(), {"a": [3, -4], "b": [1, 7]}, vcd=path)
    text = path.read_text()
    assert "$enddefinitions" in text and " neg " in text
