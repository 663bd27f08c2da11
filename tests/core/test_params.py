"""Declarative parameters: coercion from CLI strings and errors that quote the value."""

from __future__ import annotations

import enum

import pytest

from inwhale_hw import Param, Quantizer
from inwhale_hw.errors import ParameterError


class Mode(enum.Enum):
    FAST = 1
    EXACT = 2


class Demo(Quantizer):
    name = "demo"
    summary = "parameter demo"
    params = (
        Param("bits", 8, "code width", int, min=2, max=16),
        Param("gain", 1.0, "gain", float, min=0.0),
        Param("flavor", "itu", "flavor", str, choices=("itu", "audioop")),
        Param("dither", False, "dither", bool),
        Param("mode", Mode.FAST, "mode", Mode),
        Param("coeffs", (1,), "taps", tuple),
        Param("seed", None, "seed", int, allow_none=True),
    )


def test_defaults_and_attributes():
    q = Demo()
    assert (q.bits, q.gain, q.flavor, q.dither, q.mode, q.coeffs, q.seed) == (8, 1.0, "itu", False, Mode.FAST, (1,), None)
    assert q.params["bits"] == 8
    assert repr(q).startswith("Demo(bits=8, gain=1.0, flavor='itu', dither=False, mode=FAST")


def test_strings_from_the_cli_are_coerced():
    q = Demo(bits="0x0c", gain="2.5", dither="yes", mode="exact", coeffs="1.5,-0.25", seed="7")
    assert (q.bits, q.gain, q.dither, q.mode, q.coeffs, q.seed) == (12, 2.5, True, Mode.EXACT, (1.5, -0.25), 7)


@pytest.mark.parametrize(
    "kwargs, quoted, allowed",
    [
        ({"bits": 17}, "bits=17", "int in [2, 16]"),
        ({"bits": "eight"}, "bits='eight'", "int in [2, 16]"),
        ({"bits": 8.5}, "bits=8.5", "int in [2, 16]"),
        ({"bits": True}, "bits=True", "int in [2, 16]"),
        ({"gain": -1}, "gain=-1", "float >= 0.0"),
        ({"gain": "nan"}, "gain='nan'", "float >= 0.0"),
        ({"flavor": "sox"}, "flavor='sox'", "one of 'itu', 'audioop'"),
        ({"dither": "maybe"}, "dither='maybe'", "bool"),
        ({"mode": "slow"}, "mode='slow'", "one of 'FAST', 'EXACT'"),
    ],
)
def test_bad_values_quote_value_and_allowed(kwargs, quoted, allowed):
    with pytest.raises(ParameterError) as info:
        Demo(**kwargs)
    assert quoted in str(info.value) and allowed in str(info.value)


def test_unknown_and_required():
    with pytest.raises(ParameterError, match="unknown parameter 'bitz'; allowed parameters: bits, gain"):
        Demo(bitz=3)

    class Needs(Quantizer):
        name = "needs"
        summary = "s"
        params = (Param("rate", doc="sample rate", type=int),)

    with pytest.raises(ParameterError, match="parameter 'rate' is required"):
        Needs()


def test_cross_parameter_check_hook():
    class Pair(Quantizer):
        name = "pair"
        summary = "s"
        params = (Param("lo", 0, type=int), Param("hi", 1, type=int))

        def _check_params(self):
            if self.lo >= self.hi:
                raise ParameterError(f"pair: lo={self.lo} must be below hi={self.hi}")

    with pytest.raises(ParameterError, match="lo=3 must be below hi=1"):
        Pair(lo=3)
