"""QFormat construction, limits and properties; Rounding/Overflow names."""

from __future__ import annotations

from fractions import Fraction

import pytest

from inwhale_hw import Param
from inwhale_hw.errors import ParameterError
from inwhale_hw.fixed import MAX_BITS, Overflow, QFormat, Rounding, as_overflow, as_rounding


def test_signed_format_properties_match_ap_fixed():
    fmt = QFormat(4, 12)  # ap_fixed<16, 4>
    assert (fmt.bits, fmt.raw_min, fmt.raw_max) == (16, -32768, 32767)
    assert fmt.resolution == Fraction(1, 4096)
    assert (fmt.min, fmt.max) == (Fraction(-8), Fraction(32767, 4096))
    assert repr(fmt) == "QFormat(int_bits=4, frac_bits=12, signed=True)  # Q4.12, 16 bits"
    assert str(fmt) == "Q4.12"


def test_unsigned_negative_and_oversized_frac_bits():
    u = QFormat(8, 0, signed=False)
    assert (u.raw_min, u.raw_max, u.max) == (0, 255, 255)
    coarse = QFormat(6, -2)  # 4 bits, LSB = 4
    assert (coarse.bits, coarse.resolution, coarse.max, coarse.min) == (4, 4, 28, -32)
    tiny = QFormat(-3, 8)  # 5 bits, |values| < 2**-4
    assert tiny.max == Fraction(15, 256) and tiny.min == Fraction(-16, 256)
    assert QFormat.from_bits(16, 12) == QFormat(4, 12)
    assert QFormat.from_bits(8, 10, signed=False) == QFormat(-2, 10, False)
    assert QFormat.parse("Q4.12") == QFormat(4, 12) and QFormat.parse("uq8.0") == QFormat(8, 0, False)
    assert QFormat(63, 0, False).raw_max == 2**63 - 1 and MAX_BITS == 63


def test_hashable_and_frozen():
    assert len({QFormat(4, 12), QFormat(4, 12), QFormat.from_bits(16, 12), QFormat(4, 12, False)}) == 2
    with pytest.raises(Exception):
        QFormat(4, 12).int_bits = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "args,quoted",
    [((40, 24), "bits=64"), ((0, 0), "bits=0"), ((2, -5), "bits=-3"), ((1.5, 3), "1.5"),
     ((4, 12, "yes"), "'yes'"), ((4, 2000), "2000"), ((True, 3), "True")],
)
def test_bad_formats_quote_the_value(args, quoted):
    with pytest.raises(ParameterError, match=quoted):
        QFormat(*args)


def test_from_bits_and_parse_errors():
    with pytest.raises(ParameterError, match="bits=64"):
        QFormat.from_bits(64, 0)
    with pytest.raises(ParameterError, match="'Q4'"):
        QFormat.parse("Q4")


def test_contains_is_exact():
    fmt = QFormat(4, 2)
    assert fmt.contains(Fraction(-8)) and fmt.contains(7.75) and not fmt.contains(8) and not fmt.contains(0.1)


def test_enum_strings_work_through_param():
    assert as_rounding("rnd_conv") is Rounding.HALF_EVEN
    assert as_rounding("AP_TRN") is Rounding.FLOOR
    assert as_overflow("sat-sym") is Overflow.SAT_SYM
    spec = Param("rounding", Rounding.HALF_EVEN, "rounding mode", Rounding)
    assert spec.validate("RND_CONV", "q") is Rounding.HALF_EVEN
    assert spec.validate("half_away", "q") is Rounding.HALF_AWAY
    assert "STOCHASTIC" in spec.allowed() and "RND_CONV" not in spec.allowed()
    with pytest.raises(ParameterError):
        spec.validate("nearest", "q")
    assert [m.name for m in Rounding][:4] == ["FLOOR", "CEIL", "TOWARD_ZERO", "AWAY_FROM_ZERO"]
    assert len(list(Rounding)) == 11 and len(list(Overflow)) == 5
