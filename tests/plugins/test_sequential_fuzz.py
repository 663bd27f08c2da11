"""Fuzzing the sequential codecs (delta, CVSD, DPCM): only our documented errors, never a crash."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
from hypothesis import given, settings

from inwhale_hw.errors import AudioFormatError, InputError
from inwhale_hw.plugins.cvsd.model import CVSD
from inwhale_hw.plugins.delta.model import DeltaModulation
from inwhale_hw.plugins.dpcm.model import DPCM

CODECS = st.sampled_from([
    (DeltaModulation, {}),
    (DeltaModulation, {"bit_order": "lsb", "step": 3}),
    (CVSD, {}),
    (CVSD, {"input_rate": 8000}),
    (CVSD, {"input_rate": 8000, "bit_order": "lsb"}),
    (DPCM, {}),
    (DPCM, {"bits": 3, "code_format": "offset"}),
    (DPCM, {"coeffs": (1,), "adapt": "none", "bits": 8}),
])
DTYPES = st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint64,
                          np.float32, np.float64, np.bool_])
ARRAYS = hnp.arrays(DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=24))


@settings(max_examples=200, deadline=None)
@given(arr=ARRAYS, codec=CODECS)
def test_decode_and_encode_raise_only_input_errors(arr, codec):
    cls, params = codec
    q = cls(**params)
    for run, out_dtype in ((q.decode, np.int16), (q.encode, np.uint8)):
        try:
            out = run(arr)
        except InputError:
            continue
        assert out.shape == arr.shape and out.dtype == out_dtype


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=40), frames=st.integers(0, 50), channels=st.integers(1, 3), codec=CODECS)
def test_unpack_codes_raises_only_format_errors(data, frames, channels, codec):
    cls, params = codec
    q = cls(**params)
    try:
        codes = q.unpack_codes(data, frames, channels)
    except AudioFormatError:
        return
    assert len(codes) == frames
    assert q.decode(codes).shape == codes.shape
