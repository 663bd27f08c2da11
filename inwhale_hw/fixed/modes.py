"""Rounding and overflow modes, named as in APyTypes with the ``ap_fixed`` names as aliases.

Rounding maps an exact rational value ``v`` (in LSB units of the target format) to an integer.
With ``f = floor(v)`` and ``r = v - f`` in ``[0, 1)``:

==================  ==================================================  ================
mode                result                                              ap_fixed alias
==================  ==================================================  ================
FLOOR               ``f`` (toward -inf; "truncation" in two's compl.)   ``TRN``
CEIL                ``ceil(v)``
TOWARD_ZERO         ``trunc(v)``                                        ``TRN_ZERO``
AWAY_FROM_ZERO      ``sign(v) * ceil(|v|)``
HALF_UP             nearest; ties (``r == 1/2``) to +inf                ``RND``
HALF_DOWN           nearest; ties to -inf                               ``RND_MIN_INF``
HALF_TOWARD_ZERO    nearest; ties toward zero                           ``RND_ZERO``
HALF_AWAY           nearest; ties away from zero                        ``RND_INF``
HALF_EVEN           nearest; ties to the even integer (IEEE 754 §4.3.1)  ``RND_CONV``
HALF_ODD            nearest; ties to the odd integer
STOCHASTIC          ``f + 1`` with probability ``r``, else ``f``: unbiased, ``E[q(v)] = v``
==================  ==================================================  ================

(UG1399 "Quantization Modes" names ``AP_TRN``, ``AP_TRN_ZERO``, ``AP_RND``, ``AP_RND_ZERO``,
``AP_RND_INF``, ``AP_RND_MIN_INF``, ``AP_RND_CONV``.)

Overflow acts on the rounded integer ``q`` when it lies outside ``[raw_min, raw_max]``:

==========  ==========================================================================
WRAP        two's complement (or modulo ``2**bits``) wrap-around: keep the low ``bits``
SAT         clamp to ``raw_min`` / ``raw_max``
SAT_SYM     clamp to ``[-raw_max, raw_max]`` (signed; ``raw_min`` itself counts as an
            overflow and becomes ``-raw_max``); same as SAT for unsigned formats
SAT_ZERO    an overflowing value becomes 0
ERROR       raise :class:`~inwhale_hw.errors.FixedPointOverflowError` giving how many
            values overflowed and the flat index of the first
==========  ==========================================================================

Both enums accept their names as strings, case-insensitive, aliases included
(``"half_even"``, ``"RND_CONV"``, ``"sat-sym"``), through :func:`as_rounding` and
:func:`as_overflow`, and therefore also through :class:`inwhale_hw.Param`.
"""

from __future__ import annotations

import enum

from ..errors import ParameterError

__all__ = ["Rounding", "Overflow", "as_rounding", "as_overflow"]


class Rounding(enum.Enum):
    """How a value between two representable neighbours is mapped to one of them."""

    FLOOR = "floor"
    CEIL = "ceil"
    TOWARD_ZERO = "toward_zero"
    AWAY_FROM_ZERO = "away_from_zero"
    HALF_UP = "half_up"
    HALF_DOWN = "half_down"
    HALF_TOWARD_ZERO = "half_toward_zero"
    HALF_AWAY = "half_away"
    HALF_EVEN = "half_even"
    HALF_ODD = "half_odd"
    STOCHASTIC = "stochastic"
    # ap_fixed quantization-mode names (UG1399), as Enum aliases of the members above
    TRN = "floor"
    TRN_ZERO = "toward_zero"
    RND = "half_up"
    RND_ZERO = "half_toward_zero"
    RND_INF = "half_away"
    RND_MIN_INF = "half_down"
    RND_CONV = "half_even"


class Overflow(enum.Enum):
    """What happens to a rounded value outside the target format's range."""

    WRAP = "wrap"
    SAT = "sat"
    SAT_SYM = "sat_sym"
    SAT_ZERO = "sat_zero"
    ERROR = "error"


def _coerce(kind: type[enum.Enum], value: object, what: str) -> enum.Enum:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        key = value.strip().upper().replace("-", "_")
        if key.startswith("AP_"):
            key = key[3:]
        if key in kind.__members__:
            return kind[key]
    allowed = ", ".join(kind.__members__)
    raise ParameterError(f"{what}={value!r} is not allowed; expected one of {allowed}")


def as_rounding(value: Rounding | str) -> Rounding:
    """``value`` as a :class:`Rounding` member (accepts names and ap_fixed aliases as strings)."""
    return _coerce(Rounding, value, "rounding")  # type: ignore[return-value]


def as_overflow(value: Overflow | str) -> Overflow:
    """``value`` as an :class:`Overflow` member (accepts names as strings)."""
    return _coerce(Overflow, value, "overflow")  # type: ignore[return-value]
