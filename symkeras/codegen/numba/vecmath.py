"""Float32 sigmoid and tanh (and the exp they use) written as arithmetic, so that LLVM vectorizes the loops
calling them.

Numba lowers ``np.tanh`` of a float32 to a call of the C library, one element at a time (10 ns each
here), and a sigmoid to one or two calls of ``expf`` and a branch: an LSTM step over 32 x 128 units spent
most of its time in them.  These are inlined into the kernel and use only multiplies, adds, comparisons
and a bit cast, which LLVM turns into vector instructions: the gates of that step 145 -> 27 us, and a
(128, 10) tanh 10.9 -> 3.8 us.  A lone exp stays the C library's (scalar.py).  Accuracy: within 3 units
in the last place (``tests/codegen/test_vecmath.py``); results below 2**-126 (exp of less than -87.3) are
flushed to zero.

exp(x) = 2**k e**r, with k = round(x / ln 2) and r = x - k ln 2 (ln 2 in two parts so that k ln 2 is exact
to float32 precision, |r| <= ln(2) / 2), e**r from its Taylor series to r**7 (truncation below 1e-8
relative there), and 2**k built from its exponent bits (as 2**(k-1) * 2 for k > 0, which reaches 2**128).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

F = np.float32
ONE, HALF, TWO = F(1.0), F(0.5), F(2.0)
LOG2E = F(1.4426950408889634)
#: ln 2 split so that k * LN2_HIGH is exact for the k that occur (its last 9 bits are zero)
LN2_HIGH, LN2_LOW = F(0.693359375), F(-2.1219444005469057e-4)
EXP_MAX, EXP_MIN = F(88.72283935546875), F(-87.33654022216797)
#: e**r = sum r**n / n!: the coefficients 1/n! for n = 2..7
C2, C3, C4, C5, C6, C7 = (F(1.0 / f) for f in (2.0, 6.0, 24.0, 120.0, 720.0, 5040.0))
#: below this |x|, tanh is its Taylor series (to x**15); above, (1 - e**-2|x|) / (1 + e**-2|x|) has no
#: cancellation to speak of
TANH_SERIES_END = F(0.55)
T3, T5, T7, T9, T11, T13, T15 = (F(c) for c in (-1 / 3, 2 / 15, -17 / 315, 62 / 2835, -1382 / 155925,
                                                  21844 / 6081075, -929569 / 638512875))


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose bits are the low 32 bits of the integer ``bits``."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        value = args[0]
        if bits.bitwidth > 32:
            value = builder.trunc(value, ir.IntType(32))
        return builder.bitcast(value, ir.FloatType())

    return types.float32(bits), codegen


@numba.njit(inline="always", error_model="numpy")
def exp32(x):
    clamped = min(max(x, EXP_MIN), EXP_MAX)
    k = np.floor(clamped * LOG2E + HALF)
    r = clamped - k * LN2_HIGH - k * LN2_LOW
    p = ONE + r * (ONE + r * (C2 + r * (C3 + r * (C4 + r * (C5 + r * (C6 + r * C7))))))
    # 2**k as 2**(k - 1) * 2 when k > 0: 2**128 itself is not a float32, though e**x may be
    up = k > 0
    bits = (np.int32(k) - (1 if up else 0) + 127) << 23
    y = p * _float32_from_bits(bits) * (TWO if up else ONE)
    if x > EXP_MAX:
        y = F(np.inf)
    if x < EXP_MIN:
        y = F(0.0)
    return x if x != x else y


@numba.njit(inline="always", error_model="numpy")
def sigmoid32(x):
    return ONE / (ONE + exp32(-x))


@numba.njit(inline="always", error_model="numpy")
def tanh32(x):
    a = abs(x)
    e = exp32(-TWO * a)
    far = (ONE - e) / (ONE + e)
    far = far if x >= 0 else -far
    s = x * x
    near = x * (ONE + s * (T3 + s * (T5 + s * (T7 + s * (T9 + s * (T11 + s * (T13 + s * T15)))))))
    return near if a < TANH_SERIES_END else far
