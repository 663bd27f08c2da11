"""``inwhale_hw.testing.check_hardware``: a hardware model's block against its own reference."""

import numpy as np
import pytest
from amaranth.hdl import Module, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from inwhale_hw import Golden, HardwareBlocks, get_hardware
from inwhale_hw.testing import check_hardware


class Negate(wiring.Component):
    a: In(signed(8))
    y: Out(signed(9))

    def __init__(self, wrong: bool = False):
        self.wrong = wrong
        super().__init__()

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.y.eq(~self.a if self.wrong else -self.a)
        return m


class NegateBlocks(HardwareBlocks):
    name = "negate"
    summary = "two's complement negation (test fixture)"
    blocks = ("neg",)
    hardware_params = ("wrong",)

    def datapath(self, block, **hw):
        return Negate(**self.check_block(block, hw))

    def vectors(self, block, *, seed=0, **opts):
        self.check_vector_options(opts, ())
        return {"a": np.arange(-128, 128)}

    def reference(self, block, vectors):
        a = np.asarray(vectors["a"])
        return Golden({"y": -a}, {"most_negative": int(np.count_nonzero(a == -128))})


def test_a_correct_block_passes_with_its_coverage():
    report = check_hardware(NegateBlocks(), "neg")
    assert report.ok and report.vectors_checked == 256 and report.coverage == {"most_negative": 1}


def test_a_wrong_block_fails_quoting_a_vector():
    with pytest.raises(AssertionError, match=r"differs from the reference[\s\S]*#0: in\(a=-128\)"):
        check_hardware(NegateBlocks(), "neg", hw={"wrong": True})


def test_undeclared_blocks_and_non_models_fail_clearly():
    with pytest.raises(AssertionError, match="not among the declared blocks"):
        check_hardware(NegateBlocks(), "pos")
    with pytest.raises(AssertionError, match="is not a hardware model"):
        check_hardware(object(), "neg")
    with pytest.raises(AssertionError, match="vector option 'count'"):
        check_hardware(NegateBlocks(), "neg", count=3)


def test_builtin_block_sets_pass():
    report = check_hardware(get_hardware("requant", dtype="int8"), "shift", count=300, seed=1)
    assert report.ok and report.coverage["rail_low"] > 0 and report.coverage["rail_high"] > 0
