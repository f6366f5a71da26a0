"""The op catalogue and the functions that build nodes from it.

Op classes live in one module per area; importing this package registers
them all (``symkeras.graph.basic.OP_TYPES``) for JSON loading.
"""

from symkeras.graph.ops.broadcast import (  # noqa: F401
    BroadcastLike, FullLike, SumToLike, broadcast_like, full_like, ones_like, sum_to_like, zeros_like,
)
from symkeras.graph.ops.elemwise import (  # noqa: F401
    Abs, Add, Binary, Cast, Ceil, Clip, Cos, Elu, Equal, Exp, Expm1, Floor, FloorDiv, Greater,
    GreaterEqual, HardSigmoid, Identity, Less, LessEqual, Log, Log1p, LogicalAnd, LogicalNot,
    LogicalOr, LogicalXor, Maximum, Minimum, Mod, Mul, Neg, NotEqual, Pow, Reciprocal, Relu, Round,
    Selu, Sigmoid, Sign, Sin, Softplus, Softsign, Sqrt, Square, StopGradient, Sub, Tanh, TrueDiv,
    Unary, Where, abs_, add, cast, ceil, clip, cos, elu, equal, exp, expm1, floor, floor_div, greater,
    greater_equal, hard_sigmoid, identity, less, less_equal, log, log1p, logical_and, logical_not,
    logical_or, logical_xor, maximum, minimum, mod, mul, neg, not_equal, operands, power, reciprocal,
    relu, round_, selu, sigmoid, sign, sin, softplus, softsign, sqrt, square, stop_gradient, sub,
    tanh, true_div, where,
)
from symkeras.graph.ops.linalg import Einsum, batch_dot, dot, matmul, tensordot  # noqa: F401
from symkeras.graph.ops.nn import (  # noqa: F401
    Gather, GatherGrad, LogSoftmax, OneHot, Softmax, gather, l2_normalize, log_softmax, one_hot, softmax,
)
from symkeras.graph.ops.random import (  # noqa: F401
    RandomBinomial, RandomNormal, RandomUniform, TruncatedNormal, random_binomial, random_normal,
    random_uniform, truncated_normal,
)
from symkeras.graph.ops.reduce import (  # noqa: F401
    All, Any, Argmax, Argmin, ExclusiveProd, ExclusiveProdGradAtZero, Max, Min, Prod, Sum, argmax,
    argmin, count, logsumexp, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod,
    reduce_std, reduce_sum, reduce_var,
)
from symkeras.graph.ops.shape import (  # noqa: F401
    Concatenate, ExpandDims, Flatten, Pad, RepeatElements, RepeatGrad, Reshape, ReshapeLike, Shape,
    SplitLike, Squeeze, Subtensor, SubtensorGrad, Tile, TileGrad, Transpose, concatenate, expand_dims,
    flatten, pad, repeat_elements, reshape, reshape_like, shape_of, squeeze, stack, subtensor, tile,
    transpose,
)
