# amaranth: UnusedElaboratable=no
"""OKI ADPCM decoder datapath: rtl(x) == model(x) in Amaranth's simulator and Icarus Verilog, both
flavors, with random valid/ready stalls; the golden vectors (speech codes with state loads, a
full-scale square wave, every (index, code) pair from the edge states, random codes and loads)
reach both rails and both index limits.  The model itself equals ffmpeg / libsndfile / sox
(test_oki_interop.py)."""

from __future__ import annotations

import numpy as np
import pytest

from inwhale_hw.errors import ParameterError
from inwhale_hw.hdl.oki_adpcm import OkiAdpcmDecoder
from inwhale_hw.hdlsim import verify
from inwhale_hw.plugins.oki import OkiAdpcm
from inwhale_hw.plugins.oki.tables import STEPS


def _check(flavor, simulator):
    report = verify(OkiAdpcm(flavor=flavor), "decoder", simulator=simulator)
    text = str(report)
    assert "0 mismatches" in text and "21488 vectors checked" in text, text
    for counter in ("index_max", "index_min", "rail_high", "rail_low", "loads"):
        value = int(text.split(f"{counter}=")[1].split(",")[0].split()[0])
        assert value > 0, (counter, text)


@pytest.mark.parametrize("flavor", ["standard", "libsndfile"])
def test_icarus(require_tool, flavor):
    require_tool("iverilog")
    _check(flavor, "icarus")


@pytest.mark.slow
@pytest.mark.parametrize("flavor", ["standard", "libsndfile"])
def test_amaranth(flavor):
    _check(flavor, "amaranth")


def test_constructor_quotes_bad_values():
    with pytest.raises(ParameterError, match="flavor='ima'"):
        OkiAdpcmDecoder(STEPS, "ima")
    with pytest.raises(ParameterError, match="49 step sizes"):
        OkiAdpcmDecoder(np.arange(1, 40), "standard")
    with pytest.raises(ParameterError, match="block 'encoder'"):
        OkiAdpcm().vectors("encoder")
