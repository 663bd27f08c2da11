"""Drop-in replacement for the standard ``audioop`` module (all of CPython 3.11's API).

``audioop`` was deprecated in Python 3.11 and removed in 3.13 (PEP 594).  Code written for
it -- pydub, VoIP and RTP stacks, speech_recognition, discord bots -- switches with one line::

    from inwhale_hw.compat import audioop

    ulaw = audioop.lin2ulaw(pcm_bytes, 2)
    louder = audioop.mul(pcm_bytes, 2, 1.5)
    converted, state = audioop.ratecv(pcm_bytes, 2, 1, 44100, 8000, None)

or, for a library that imports ``audioop`` itself, ``sys.modules["audioop"] = audioop``
before importing it.  Every function gives CPython 3.11's results bit for bit, and raises
the same exception types, for sample widths 1-4 (checked against the real module by
``tests/compat``, which also runs CPython's own ``test_audioop`` on this module):

* measuring (:mod:`._measure`): ``getsample``, ``max``, ``minmax``, ``avg``, ``rms``,
  ``cross``, ``maxpp``, ``avgpp``, ``findmax``, ``findfit``, ``findfactor``;
* transforming (:mod:`._transform`): ``mul``, ``tomono``, ``tostereo``, ``add``, ``bias``,
  ``reverse``, ``byteswap``, ``lin2lin``;
* rate conversion (:mod:`._ratecv`): ``ratecv`` with its state tuple and weightA/weightB;
* codecs over the registered quantizers (:mod:`._codecs`): ``lin2ulaw``, ``ulaw2lin``,
  ``lin2alaw``, ``alaw2lin``, ``lin2adpcm``, ``adpcm2lin``.

Fragments are bytes-like objects of signed native-order samples.  Bad widths, lengths,
indices and rates raise :class:`error`, an :class:`~inwhale_hw.errors.InputError` (hence
also a ``ValueError``) whose message starts with audioop's and names the value; arguments of
the wrong type raise ``TypeError`` and integers beyond a C int ``OverflowError``, as in
audioop.  All work is vectorized NumPy; the one recursion (``ratecv``'s pre-filter when
``weightB != 0``) runs compiled with numba when installed.
"""

from __future__ import annotations

from ._codecs import adpcm2lin, alaw2lin, lin2adpcm, lin2alaw, lin2ulaw, ulaw2lin
from ._measure import avg, avgpp, cross, findfactor, findfit, findmax, getsample, max, maxpp, minmax, rms
from ._ratecv import ratecv
from ._samples import error
from ._transform import add, bias, byteswap, lin2lin, mul, reverse, tomono, tostereo

__all__ = [
    "error",
    "add",
    "adpcm2lin",
    "alaw2lin",
    "avg",
    "avgpp",
    "bias",
    "byteswap",
    "cross",
    "findfactor",
    "findfit",
    "findmax",
    "getsample",
    "lin2adpcm",
    "lin2alaw",
    "lin2lin",
    "lin2ulaw",
    "max",
    "maxpp",
    "minmax",
    "mul",
    "ratecv",
    "reverse",
    "rms",
    "tomono",
    "tostereo",
    "ulaw2lin",
]
