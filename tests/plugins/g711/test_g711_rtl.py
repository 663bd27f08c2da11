# amaranth: UnusedElaboratable=no
"""G.711 datapaths: rtl(x) == ref(x) for every input, in Amaranth's simulator and in Icarus.

Each exhaustive run is compared twice: with the plugin's golden model (through the
verification protocol) and with an independent implementation of the same flavor: the PyPI
``g711`` package (ITU-T G.191 STL, flavor ``itu``), CPython 3.11's ``audioop`` and
libsndfile through ``soundfile`` (RAW ULAW/ALAW).
"""

from __future__ import annotations

import io
import warnings

import g711
import numpy as np
import pytest
import soundfile as sf
from amaranth.hdl import signed, unsigned
from amaranth.lib.wiring import Flow
from amaranth.sim import Simulator

import inwhale_hw
from inwhale_hw.errors import ParameterError
from inwhale_hw.hdl import g711 as hdl_g711
from inwhale_hw.hdlsim import golden_vectors, run_amaranth, run_icarus, verify, verilog_text
from inwhale_hw.hdlsim.verify import compare
from inwhale_hw.plugins.g711 import tables as g711_tables

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

LAWS = ("mulaw", "alaw")
FLAVORS = ("itu", "audioop", "libsndfile")
SIMULATORS = ("amaranth", "icarus")
RUNNERS = {"amaranth": run_amaranth, "icarus": run_icarus}
SUBTYPE = {"mulaw": "ULAW", "alaw": "ALAW"}


def _g711_encode(law, x):
    fn = g711.encode_ulaw if law == "mulaw" else g711.encode_alaw
    return np.frombuffer(fn(x.astype(np.float32) / np.float32(32768)), dtype=np.uint8)


def _audioop_encode(law, x):
    fn = audioop.lin2ulaw if law == "mulaw" else audioop.lin2alaw
    return np.frombuffer(fn(x.astype("<i2").tobytes(), 2), dtype=np.uint8)


def _sndfile_encode(law, x):
    buf = io.BytesIO()
    sf.write(buf, x.astype(np.int16), 8000, format="RAW", subtype=SUBTYPE[law])
    return np.frombuffer(buf.getvalue(), dtype=np.uint8)


REFERENCE_ENCODERS = {"itu": _g711_encode, "audioop": _audioop_encode, "libsndfile": _sndfile_encode}


def _reference_decode(law, codes):
    fn = audioop.ulaw2lin if law == "mulaw" else audioop.alaw2lin
    by_audioop = np.frombuffer(fn(codes.astype(np.uint8).tobytes(), 2), dtype=np.int16)
    fn = g711.decode_ulaw if law == "mulaw" else g711.decode_alaw
    by_stl = (fn(codes.astype(np.uint8).tobytes()) * np.float32(32768)).astype(np.int16)
    assert np.array_equal(by_audioop, by_stl)
    return by_audioop


def _simulate(simulator, require_tool, factory, inputs):
    if simulator == "icarus":
        require_tool("iverilog")
    return RUNNERS[simulator](factory, inputs)


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("law", LAWS)
def test_encoder_is_exact_on_all_65536_inputs(law, flavor, simulator, require_tool):
    q = inwhale_hw.get_quantizer(law, flavor=flavor)
    dut = q.datapath("encoder")
    vectors = golden_vectors(q, "encoder", dut)
    pcm = vectors.inputs["pcm"]
    assert np.array_equal(np.sort(pcm), np.arange(-32768, 32768))
    run = _simulate(simulator, require_tool, dut, vectors.inputs)
    report = compare(f"{law} {flavor}", vectors, run)
    assert report.vectors_checked == 65536 and report.ok, str(report)
    assert np.array_equal(run.outputs["code"], REFERENCE_ENCODERS[flavor](law, pcm))


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("flavor", FLAVORS)
@pytest.mark.parametrize("law", LAWS)
def test_decoder_is_exact_on_all_256_codes(law, flavor, simulator, require_tool):
    q = inwhale_hw.get_quantizer(law, flavor=flavor)
    dut = q.datapath("decoder")
    vectors = golden_vectors(q, "decoder", dut)
    assert np.array_equal(np.sort(vectors.inputs["code"]), np.arange(256))
    run = _simulate(simulator, require_tool, dut, vectors.inputs)
    report = compare(f"{law} {flavor}", vectors, run)
    assert report.vectors_checked == 256 and report.ok, str(report)
    assert np.array_equal(run.outputs["pcm"], _reference_decode(law, vectors.inputs["code"]))


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_verify_counts_every_differing_vector(simulator, require_tool):
    """ITU hardware against the audioop golden model: exactly the inputs the tools disagree on."""
    if simulator == "icarus":
        require_tool("iverilog")
    pcm = np.arange(-32768, 32768)
    disagree = np.flatnonzero(_g711_encode("mulaw", pcm) != _audioop_encode("mulaw", pcm))
    audioop_q = inwhale_hw.get_quantizer("mulaw", flavor="audioop")
    itu_hardware = inwhale_hw.get_quantizer("mulaw", flavor="itu").datapath("encoder")
    vectors = golden_vectors(audioop_q, "encoder", itu_hardware, {"pcm": pcm})
    report = verify(itu_hardware, vectors=vectors, simulator=simulator, keep=5)
    assert report.vectors_checked == 65536
    assert report.mismatches == disagree.size == 508
    assert [m.index for m in report.first_mismatches] == disagree[:5].tolist()
    assert not report.ok and "508 mismatches" in str(report)


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("block", ("encoder", "decoder"))
def test_verify_on_the_quantizer_defaults(block, simulator, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
    report = verify(inwhale_hw.get_quantizer("alaw", flavor="libsndfile"), block, simulator=simulator)
    assert report.ok and report.vectors_checked == (65536 if block == "encoder" else 256)
    assert report.simulator == simulator and "ALaw(flavor='libsndfile')" in report.design


def _edge_and_random_pcm(seed):
    rng = np.random.default_rng(seed)
    edges = np.array([-32768, -32767, -32124, -31612, -8159, -33, -1, 0, 1, 32, 33, 8158, 32123, 32767])
    return np.concatenate([edges, rng.integers(-32768, 32768, 3000)])


@pytest.mark.parametrize("simulator", SIMULATORS)
@pytest.mark.parametrize("depth", (1, 3))
@pytest.mark.parametrize("law", LAWS)
def test_pipelined_blocks_match(law, depth, simulator, require_tool):
    if simulator == "icarus":
        require_tool("iverilog")
    q = inwhale_hw.get_quantizer(law, flavor="audioop")
    pcm = _edge_and_random_pcm(depth)
    enc = verify(q, "encoder", {"pcm": pcm}, simulator=simulator, hw={"pipeline": depth})
    assert enc.ok and enc.vectors_checked == pcm.size, str(enc)
    dec = verify(q, "decoder", simulator=simulator, hw={"pipeline": depth})
    assert dec.ok and dec.vectors_checked == 2 * 256, str(dec)  # in order, then shuffled


@pytest.mark.parametrize("depth", (0, 1, 2, 3))
def test_pipeline_latency_is_depth_cycles(depth):
    """Drive a new sample every cycle; the code of sample t appears exactly ``depth`` cycles later."""
    pcm = _edge_and_random_pcm(7)[:200].tolist()
    expected = _audioop_encode("mulaw", np.array(pcm)).tolist()
    dut = hdl_g711.MuLawEncoder(flavor="audioop", pipeline=depth)
    assert dut.latency == depth
    seen = []
    sim = Simulator(dut)
    if depth:
        sim.add_clock(1e-6)

    async def testbench(ctx):
        for x in pcm + [0] * depth:
            ctx.set(dut.pcm, x)
            seen.append(ctx.get(dut.code))
            if depth:
                await ctx.tick()

    sim.add_testbench(testbench)
    sim.run()
    assert seen[depth:] == expected
    if depth:
        assert seen[depth - 1 : -1] != expected


@pytest.mark.parametrize("cls", [hdl_g711.MuLawEncoder, hdl_g711.ALawEncoder])
def test_encoder_ports(cls):
    members = cls().signature.members
    assert members["pcm"].flow == Flow.In and members["pcm"].shape == signed(16)
    assert members["code"].flow == Flow.Out and members["code"].shape == unsigned(8)


@pytest.mark.parametrize("cls", [hdl_g711.MuLawDecoder, hdl_g711.ALawDecoder])
def test_decoder_ports(cls):
    members = cls().signature.members
    assert members["code"].flow == Flow.In and members["code"].shape == unsigned(8)
    assert members["pcm"].flow == Flow.Out and members["pcm"].shape == signed(16)


def test_flavors_are_the_plugins_flavors():
    from inwhale_hw.plugins.g711.hardware import HARDWARE_FLAVORS, SOFTWARE_ONLY

    assert hdl_g711.FLAVORS == HARDWARE_FLAVORS
    assert set(g711_tables.FLAVORS) == set(HARDWARE_FLAVORS) | set(SOFTWARE_ONLY)
    for law in LAWS:
        cls = type(inwhale_hw.get_quantizer(law))
        assert cls.blocks == ("encoder", "decoder")
        assert {"hdl:encoder", "hdl:decoder"} <= set(cls.capabilities())


@pytest.mark.parametrize(
    ("make", "quoted"),
    [
        (lambda: hdl_g711.MuLawEncoder(flavor="sox"), "'sox'"),
        (lambda: hdl_g711.ALawDecoder(pipeline=-1), "-1"),
        (lambda: hdl_g711.ALawDecoder(pipeline=True), "True"),
        (lambda: hdl_g711.MuLawDecoder(pipeline=2.5), "2.5"),
        (lambda: inwhale_hw.get_quantizer("mulaw").datapath("transcoder"), "'transcoder'"),
        (lambda: inwhale_hw.get_quantizer("alaw").datapath("encoder", depth=2), "'depth'"),
    ],
)
def test_bad_construction_is_a_parameter_error_quoting_the_value(make, quoted):
    with pytest.raises(ParameterError) as info:
        make()
    assert quoted in str(info.value)


def test_verilog_has_the_signature_ports_and_a_clock_only_when_pipelined():
    comb = verilog_text(hdl_g711.MuLawEncoder(), "g711_enc")
    assert "module g711_enc(code, pcm);" in comb
    assert "input [15:0] pcm;" in comb and "output [7:0] code;" in comb
    piped = verilog_text(hdl_g711.ALawDecoder(pipeline=2), "g711_dec")
    header = piped[piped.index("module g711_dec(") :].split(";", 1)[0]
    assert {"clk", "rst", "code", "pcm"} <= {p.strip() for p in header[header.index("(") + 1 : -1].split(",")}
