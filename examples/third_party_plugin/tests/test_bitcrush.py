"""The plugin author's own tests: the inwhale_hw conformance kit plus the codec's math."""

import numpy as np
import pytest

from inwhale_bitcrush import BitCrush
from inwhale_hw.testing import check_hardware, check_quantizer


@pytest.mark.parametrize("bits", [1, 4, 8, 16])
@pytest.mark.parametrize("rounding", ["floor", "half_up"])
def test_conforms(bits, rounding):
    check_quantizer(BitCrush, {"bits": bits, "rounding": rounding})


def test_keeps_top_bits():
    q = BitCrush(bits=8, rounding="floor")
    x = np.array([-32768, -1, 0, 255, 256, 32767], dtype=np.int16)
    assert q.decode(q.encode(x)).tolist() == [(v // 256) * 256 for v in x.tolist()]


@pytest.mark.parametrize("bits, rounding", [(4, "half_up"), (8, "floor"), (16, "half_up")])
def test_encoder_hardware_matches_encode_for_every_sample(bits, rounding):
    report = check_hardware(BitCrush(bits=bits, rounding=rounding), "encoder")
    assert report.vectors_checked == 65536 and report.mismatches == 0


@pytest.mark.parametrize("bits", [1, 8, 12])
def test_decoder_hardware_matches_decode_for_every_code(bits):
    report = check_hardware(BitCrush(bits=bits), "decoder")
    assert report.vectors_checked == 1 << bits and report.mismatches == 0
