# amaranth: UnusedElaboratable=no
"""IMA-ADPCM datapaths: rtl(x) == ref(x) in Amaranth's simulator and in Icarus Verilog.

The golden vectors (:mod:`inwhale_hw.plugins.adpcm.hardware`: 1 s of bundled speech, 0.2 s of
the bundled music, a full-scale square wave, every quantizer threshold / every (index, code)
pair, random streams with random state loads) are first checked element by element against
CPython 3.11's ``audioop`` -- codes, predictor and step index after every sample -- and then
every block runs them in both simulators with code, predictor and index compared after every
sample.  Backpressure: random valid and ready gaps, again in both simulators.
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from amaranth.hdl import ClockDomain, Fragment, Module, Shape, signed, unsigned
from amaranth.lib.wiring import Flow
from amaranth.sim import Simulator

import inwhale_hw
from inwhale_hw.cli import cli
from inwhale_hw.errors import InputError, ParameterError
from inwhale_hw.hdl.ima_adpcm import ImaAdpcmDecoder, ImaAdpcmEncoder
from inwhale_hw.plugins.adpcm import hardware as vectors
from inwhale_hw.plugins.adpcm.hardware import datapath as ima_adpcm_datapath
from inwhale_hw.plugins.adpcm.tables import STEP
from inwhale_hw.hdlsim import Vectors, verify, verilog_text
from inwhale_hw.plugins.adpcm.tables import MAX_INDEX

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

SIMULATORS = ("amaranth", "icarus")
#: IMA step-index adjustment per code magnitude (the standard's table, typed independently)
ADJUST = (-1, -1, -1, -1, 2, 4, 6, 8)


@pytest.fixture(scope="module")
def encoder_segments():
    return vectors.encoder_segments()


@pytest.fixture(scope="module")
def decoder_segments():
    return vectors.decoder_segments()


def _pcm(value: int) -> bytes:
    return int(value).to_bytes(2, "little", signed=True)


def _audioop_encoder(inputs):
    """audioop, one sample at a time: the code and the state after every sample."""
    state, codes, predictor, index = None, [], [], []
    for x, load, p, i in zip(*(inputs[k].tolist() for k in vectors.KEYS)):
        if load:
            state = (p, i)
        byte, _ = audioop.lin2adpcm(_pcm(x) + _pcm(0), 2, state)  # first sample -> high nibble
        _, state = audioop.lin2adpcm(_pcm(x), 2, state)  # odd count: no output, state advances
        codes.append(byte[0] >> 4)
        predictor.append(state[0])
        index.append(state[1])
    return np.array(codes), np.array(predictor), np.array(index)


def _audioop_decoder(inputs):
    """audioop, one code at a time: the sample and the state after every code.

    ``adpcm2lin`` decodes whole bytes (two codes), so each code goes in a high nibble; the
    index after it follows from two probes in the low nibble, magnitude 0 (index - 1,
    clamped at 0) and magnitude 4 (index + 2, clamped at 88).
    """
    state, samples, index = (0, 0), [], []
    for code, load, p, i in zip(*(inputs[k].tolist() for k in vectors.KEYS)):
        if load:
            state = (p, i)
        pcm, (_, down) = audioop.adpcm2lin(bytes([code << 4]), 2, state)
        _, (_, up) = audioop.adpcm2lin(bytes([code << 4 | 4]), 2, state)
        sample = int.from_bytes(pcm[:2], "little", signed=True)
        after = down + 1 if down > 0 else up - 2
        state = (sample, after)
        samples.append(sample)
        index.append(after)
    return np.array(samples), np.array(index)


def test_golden_encoder_vectors_match_audioop_after_every_sample(encoder_segments):
    inputs = vectors.concat(encoder_segments)
    golden = vectors.reference("encoder", inputs)
    codes, predictor, index = _audioop_encoder(inputs)
    assert np.array_equal(golden["o"], codes)
    assert np.array_equal(golden["predictor"], predictor)
    assert np.array_equal(golden["index"], index)


def test_golden_decoder_vectors_match_audioop_after_every_sample(decoder_segments):
    inputs = vectors.concat(decoder_segments)
    golden = vectors.reference("decoder", inputs)
    samples, index = _audioop_decoder(inputs)
    assert np.array_equal(golden["o"], samples) and np.array_equal(golden["predictor"], samples)
    assert np.array_equal(golden["index"], index)
    # the same index recursion, from the standard's table typed above
    expected, state = [], 0
    for code, load, i in zip(inputs["i"].tolist(), inputs["load"].tolist(), inputs["load_index"].tolist()):
        state = min(max((i if load else state) + ADJUST[code & 7], 0), MAX_INDEX)
        expected.append(state)
    assert golden["index"].tolist() == expected


def test_vectors_hold_the_required_signals(encoder_segments, decoder_segments):
    speech = vectors.bundled_sample("speech_8k.wav")[:, 0]
    assert np.array_equal(encoder_segments["speech"]["i"], speech[:8000])  # 1 s at 8 kHz
    music = vectors.bundled_sample("music_44k.wav")[:, 0]
    assert encoder_segments["music"]["i"].size >= 0.2 * 44100
    assert np.array_equal(encoder_segments["music"]["i"], music[22050 : 22050 + 8820])
    for segments, block in ((encoder_segments, "encoder"), (decoder_segments, "decoder")):
        square = vectors.reference(block, segments["square"])
        assert square["index"].max() == MAX_INDEX
        assert square["predictor"].min() == -32768 and square["predictor"].max() == 32767
    every = decoder_segments["every_code"]
    assert len({(i, c) for i, c in zip(every["load_index"].tolist(), every["i"].tolist())}) == 89 * 16
    thresholds = encoder_segments["thresholds"]
    assert set(thresholds["load_index"].tolist()) == set(range(MAX_INDEX + 1))
    assert {65535, -65535, 0} <= set((thresholds["i"] - thresholds["load_predictor"]).tolist())


def _check(report, count):
    assert report.ok and report.vectors_checked == count, str(report)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_encoder_matches_golden_model(simulator, encoder_segments, require_tool):
    """Through the hardware-model protocol: datapath, vectors and reference of the plugin."""
    if simulator == "icarus":
        require_tool("iverilog")
    report = verify(inwhale_hw.get_quantizer("ima-adpcm"), "encoder", simulator=simulator)
    _check(report, vectors.concat(encoder_segments)["i"].size)


@pytest.mark.parametrize(
    ("flavor", "simulator"),
    [("standard", "amaranth"), ("standard", "icarus"), ("ffmpeg", "amaranth"), ("ffmpeg", "icarus")],
)
def test_decoder_matches_golden_model(flavor, simulator, decoder_segments, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
    segments = decoder_segments
    if flavor == "ffmpeg" and simulator == "amaranth":
        # the flavors differ only in vpdiff(index, code), which "every_code" covers exhaustively;
        # Icarus runs every segment
        segments = {k: decoder_segments[k] for k in ("square", "every_code", "random")}
    inputs = vectors.concat(segments)
    q = inwhale_hw.get_quantizer("ima-adpcm", flavor=flavor)
    _check(verify(q, "decoder", inputs, simulator=simulator), inputs["i"].size)


def test_plugin_declares_the_blocks():
    q = inwhale_hw.get_quantizer("ima-adpcm", flavor="ffmpeg")
    assert type(q).blocks == ("encoder", "decoder")
    assert {"hdl:encoder", "hdl:decoder"} <= set(type(q).capabilities())
    encoder, decoder = q.datapath("encoder"), q.datapath("decoder")
    assert isinstance(encoder, ImaAdpcmEncoder) and repr(decoder) == "ImaAdpcmDecoder(flavor='ffmpeg')"
    for block in (encoder, decoder):
        Fragment.get(block, None)  # elaborates


def test_cli_verilog_and_verify(tmp_path, require_tool):
    require_tool("iverilog")
    out = tmp_path / "dec.v"
    args = ["verilog", "ima-adpcm", "--block", "decoder", "--module", "ima_adpcm_decoder", "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "module ima_adpcm_decoder(" in text and "input [3:0] i__payload;" in text
    result = CliRunner().invoke(cli, ["verify", "ima", "--block", "encoder", "--simulator", "icarus"])
    count = vectors.default_inputs("encoder")["i"].size
    assert result.exit_code == 0, result.output
    assert f"{count} vectors checked, 0 mismatches" in result.output


def test_a_wrong_model_is_caught(encoder_segments):
    """The checks can fail: the ffmpeg reconstruction disagrees on most speech samples."""
    segment = encoder_segments["speech"]
    inputs = dict(segment, i=vectors.reference("encoder", segment)["o"])
    wrong = Vectors(inputs, vectors.reference("decoder", inputs, "ffmpeg"))
    report = verify(lambda: ImaAdpcmDecoder(STEP), vectors=wrong, simulator="amaranth", keep=3)
    assert not report.ok and report.mismatches > inputs["i"].size // 2


# -- backpressure: random gaps on both sides ---------------------------------------------------

#: elements taken from the start of each of three segments (speech, random, edge cases)
GAP_PART = 400


def _gap_inputs(encoder_segments, decoder_segments, block):
    segments = encoder_segments if block == "encoder" else decoder_segments
    edges = "thresholds" if block == "encoder" else "every_code"
    parts = {name: {k: v[:GAP_PART] for k, v in segments[name].items()} for name in ("speech", "random", edges)}
    return vectors.concat(parts)


def _patterns(cycles: int, valid: float, ready: float, seed: int):
    rng = np.random.default_rng(seed)
    return (rng.random(cycles) < valid).astype(int), (rng.random(cycles) < ready).astype(int)


def _amaranth_with_gaps(dut, inputs, offer, accept):
    """Offer element k while ``offer[cycle]``; take outputs while ``accept[cycle]``.

    Records (payload, predictor, index) at every output transfer and checks the stream rule:
    an output offered and not taken stays offered, unchanged, in the next cycle.
    """
    m = Module()
    m.domains.sync = domain = ClockDomain("sync")
    m.submodules.dut = dut
    sim = Simulator(m)
    sim.add_clock(1e-8, domain="sync")
    columns = [inputs[k].tolist() for k in vectors.KEYS]
    ports = (dut.i.payload, dut.load, dut.load_predictor, dut.load_index)
    n = len(columns[0])
    seen, stalls, ready_cycles = [], [], []

    async def testbench(ctx):
        ctx.set(domain.rst, 1)
        await ctx.tick()
        ctx.set(domain.rst, 0)
        taken, held = 0, None
        for cycle in range(len(offer)):
            valid = bool(offer[cycle]) and taken < n
            ctx.set(dut.i.valid, valid)
            if valid:
                for port, column in zip(ports, columns):
                    ctx.set(port, column[taken])
            ctx.set(dut.o.ready, int(accept[cycle]))
            out = (ctx.get(dut.o.payload), ctx.get(dut.predictor), ctx.get(dut.index))
            o_valid = ctx.get(dut.o.valid)
            if held is not None:
                stalls.append(bool(o_valid) and out == held)
            held = None
            if o_valid and accept[cycle]:
                seen.append(out)
            elif o_valid:
                held = out
            ready_cycles.append(ctx.get(dut.i.ready))
            if valid and ctx.get(dut.i.ready):
                taken += 1
            await ctx.tick()

    sim.add_testbench(testbench)
    sim.run()
    return seen, stalls, ready_cycles


def _icarus_with_gaps(dut, inputs, offer, accept, workdir: Path, iverilog: str):
    """The same experiment as :func:`_amaranth_with_gaps` on the generated Verilog."""
    n, cycles = inputs["i"].size, len(offer)
    (workdir / "dut.v").write_text(verilog_text(dut, "ima_dut"))
    widths = {"i": len(dut.i.payload), "load": 1, "load_predictor": 16, "load_index": 7}
    for key, width in widths.items():
        bits = inputs[key] & ((1 << width) - 1)
        (workdir / f"{key}.hex").write_text("\n".join(format(int(v), "x") for v in bits) + "\n")
    (workdir / "offer.hex").write_text("\n".join(map(str, offer)) + "\n")
    (workdir / "accept.hex").write_text("\n".join(map(str, accept)) + "\n")
    out_width = len(dut.o.payload)
    tb = f"""`timescale 1ns/1ps
module tb;
  reg clk = 0, rst = 1, i_valid = 0, o_ready = 0, load = 0;
  reg [{widths['i'] - 1}:0] payload = 0; reg [15:0] lp = 0; reg [6:0] li = 0;
  reg [{widths['i'] - 1}:0] m_i [0:{n - 1}]; reg m_load [0:{n - 1}];
  reg [15:0] m_lp [0:{n - 1}]; reg [6:0] m_li [0:{n - 1}];
  reg m_offer [0:{cycles - 1}]; reg m_accept [0:{cycles - 1}];
  wire i_ready, o_valid; wire [{out_width - 1}:0] o_payload; wire [15:0] predictor; wire [6:0] index;
  ima_dut dut(.clk(clk), .rst(rst), .i__payload(payload), .i__valid(i_valid), .i__ready(i_ready),
    .o__payload(o_payload), .o__valid(o_valid), .o__ready(o_ready), .load(load),
    .load_predictor(lp), .load_index(li), .predictor(predictor), .index(index));
  integer fd, taken, c;
  initial begin
    $readmemh("i.hex", m_i); $readmemh("load.hex", m_load);
    $readmemh("load_predictor.hex", m_lp); $readmemh("load_index.hex", m_li);
    $readmemh("offer.hex", m_offer); $readmemh("accept.hex", m_accept);
    fd = $fopen("out.txt", "w");
    #1 clk = 1; #1 clk = 0; rst = 0;
    taken = 0;
    for (c = 0; c < {cycles}; c = c + 1) begin
      i_valid = m_offer[c] && taken < {n};
      if (taken < {n}) begin payload = m_i[taken]; load = m_load[taken]; lp = m_lp[taken]; li = m_li[taken]; end
      o_ready = m_accept[c];
      #1;
      if (o_valid && o_ready) $fwrite(fd, "%h %h %h\\n", o_payload, predictor, index);
      if (i_valid && i_ready) taken = taken + 1;
      clk = 1; #1 clk = 0;
    end
    $fclose(fd);
    $finish;
  end
endmodule
"""
    (workdir / "tb.v").write_text(tb)
    subprocess.run([iverilog, "-g2005", "-o", "sim.vvp", "tb.v", "dut.v"], cwd=workdir, check=True)
    subprocess.run(["vvp", "-n", "sim.vvp"], cwd=workdir, check=True, capture_output=True)
    seen = []
    for line in (workdir / "out.txt").read_text().split("\n"):
        if line:
            payload, predictor, index = (int(field, 16) for field in line.split())
            if dut.block == "decoder":
                payload -= (payload >> 15) << 16
            seen.append((payload, predictor - ((predictor >> 15) << 16), index))
    return seen


def _golden_tuples(block, inputs, flavor="standard"):
    golden = vectors.reference(block, inputs, flavor)
    return list(zip(golden["o"].tolist(), golden["predictor"].tolist(), golden["index"].tolist()))


@pytest.mark.parametrize("block", ("encoder", "decoder"))
@pytest.mark.parametrize(("valid", "ready"), [(0.7, 0.6), (0.4, 0.9), (1.0, 0.5)])
def test_random_valid_and_ready_gaps_in_amaranth(block, valid, ready, encoder_segments, decoder_segments):
    inputs = _gap_inputs(encoder_segments, decoder_segments, block)
    offer, accept = _patterns(int(3 * GAP_PART / (valid * ready)) + 300, valid, ready, seed=int(valid * 10))
    dut = ImaAdpcmEncoder(STEP) if block == "encoder" else ImaAdpcmDecoder(STEP)
    seen, stalls, _ = _amaranth_with_gaps(dut, inputs, offer, accept)
    assert seen == _golden_tuples(block, inputs)
    assert stalls and all(stalls)


@pytest.mark.parametrize("block", ("encoder", "decoder"))
def test_random_valid_and_ready_gaps_in_icarus(block, encoder_segments, decoder_segments, require_tool, tmp_path):
    iverilog = require_tool("iverilog")
    require_tool("vvp")
    inputs = _gap_inputs(encoder_segments, decoder_segments, block)
    offer, accept = _patterns(int(3 * GAP_PART / 0.42) + 300, 0.7, 0.6, seed=11)
    dut = ImaAdpcmEncoder(STEP) if block == "encoder" else ImaAdpcmDecoder(STEP, "ffmpeg")
    seen = _icarus_with_gaps(dut, inputs, offer, accept, tmp_path, iverilog)
    assert seen == _golden_tuples(block, inputs, "standard" if block == "encoder" else "ffmpeg")


@pytest.mark.parametrize("block", ("encoder", "decoder"))
def test_one_sample_per_clock_without_gaps(block, encoder_segments, decoder_segments):
    inputs = _gap_inputs(encoder_segments, decoder_segments, block)
    always = np.ones(3 * GAP_PART + 1, dtype=int)
    dut = ImaAdpcmEncoder(STEP) if block == "encoder" else ImaAdpcmDecoder(STEP)
    seen, stalls, ready = _amaranth_with_gaps(dut, inputs, always, always)
    assert seen == _golden_tuples(block, inputs)  # every output within one cycle more
    assert not stalls and all(ready)


def test_reset_returns_to_state_zero():
    """A sync reset mid-stream: state (0, 0), nothing offered, and coding restarts from (0, 0)."""
    dut = ImaAdpcmEncoder(STEP)
    m = Module()
    m.domains.sync = domain = ClockDomain("sync")
    m.submodules.dut = dut
    sim = Simulator(m)
    sim.add_clock(1e-8, domain="sync")
    trace = []

    async def testbench(ctx):
        ctx.set(dut.o.ready, 1)
        ctx.set(dut.i.valid, 1)
        for x in (30000, -20000, 12345):
            ctx.set(dut.i.payload, x)
            await ctx.tick()
        trace.append((ctx.get(dut.predictor), ctx.get(dut.index)))
        ctx.set(dut.i.valid, 0)
        ctx.set(domain.rst, 1)
        await ctx.tick()
        ctx.set(domain.rst, 0)
        trace.append((ctx.get(dut.predictor), ctx.get(dut.index), ctx.get(dut.o.valid)))
        ctx.set(dut.i.payload, 1000)
        ctx.set(dut.i.valid, 1)
        await ctx.tick()
        trace.append((ctx.get(dut.o.payload), ctx.get(dut.predictor), ctx.get(dut.index)))

    sim.add_testbench(testbench)
    sim.run()
    assert trace[0] != (0, 0)
    assert trace[1] == (0, 0, 0)
    byte, _ = audioop.lin2adpcm(_pcm(1000) + _pcm(0), 2, None)
    _, state = audioop.lin2adpcm(_pcm(1000), 2, None)
    assert trace[2] == (byte[0] >> 4, *state)


def test_ports():
    enc, dec = ImaAdpcmEncoder(STEP).signature.members, ImaAdpcmDecoder(STEP).signature.members
    assert enc["i"].signature.members["payload"].shape == signed(16)
    assert enc["o"].signature.members["payload"].shape == unsigned(4)
    assert dec["i"].signature.members["payload"].shape == unsigned(4)
    assert dec["o"].signature.members["payload"].shape == signed(16)
    for members in (enc, dec):
        assert members["i"].flow == Flow.In and members["o"].flow == Flow.Out
        assert members["load"].flow == Flow.In and Shape.cast(members["load"].shape) == unsigned(1)
        assert members["load_predictor"].shape == signed(16) and members["load_index"].shape == unsigned(7)
        assert members["predictor"].flow == Flow.Out and members["predictor"].shape == signed(16)
        assert members["index"].flow == Flow.Out and members["index"].shape == unsigned(7)
    assert ImaAdpcmEncoder.latency == ImaAdpcmDecoder.latency == 1


@pytest.mark.parametrize(
    ("make", "quoted"),
    [
        (lambda: ImaAdpcmDecoder(STEP, flavor="sox"), "'sox'"),
        (lambda: ImaAdpcmEncoder(STEP[:-1]), "steps="),
        (lambda: ima_adpcm_datapath("transcoder"), "'transcoder'"),
        (lambda: ima_adpcm_datapath("encoder", pipeline=2), "'pipeline'"),
        (lambda: ima_adpcm_datapath("decoder", flavor="ms"), "'ms'"),
    ],
)
def test_bad_construction_is_a_parameter_error_quoting_the_value(make, quoted):
    with pytest.raises(ParameterError) as info:
        make()
    assert quoted in str(info.value)


def test_reference_rejects_an_invalid_loaded_state(encoder_segments):
    inputs = {k: v[:10].copy() for k, v in vectors.concat(encoder_segments).items()}
    inputs["load"][4], inputs["load_index"][4] = 1, 89
    with pytest.raises(InputError) as info:
        vectors.reference("encoder", inputs)
    assert "89" in str(info.value) and "element 4" in str(info.value)
