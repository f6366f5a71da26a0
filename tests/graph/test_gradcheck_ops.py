"""Finite-difference gradient check (float64) of every differentiable op, and of compositions."""

import numpy as np
import pytest

from symkeras.graph import OP_TYPES, Graph, gradients, ops
from symkeras.graph.basic import constant
from symkeras.testing.gradcheck import GradientMismatch, verify_grad

RNG = np.random.default_rng(1234)


def uniform(*shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def positive(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def away_from_integers(*shape):
    return np.floor(uniform(*shape) * 3) / 3 + RNG.uniform(0.1, 0.2, size=shape)


def distinct(*shape):
    return RNG.permutation(np.arange(int(np.prod(shape)))).reshape(shape) * 0.37 - 1.3


MASK = constant(np.array([[True, False, True, True], [False, True, False, True], [True, True, False, False]]))
C34 = constant(uniform(3, 4))
INDICES = constant(np.array([[0, 2], [2, 1], [0, 0]], dtype="int64"))
POOLED = constant(distinct(2, 5, 6, 2))

# (id, function of float64 placeholders, input points[, dict(eps=, atol=, rtol=)])
CASES = [
    ("neg", lambda x: -x, [uniform(3, 4)]),
    # (one rank: the identity; its gradient is the allreduce of the output gradients)
    ("allreduce", lambda x, y: (lambda r: r[0] * r[1])(ops.allreduce([x, y])), [uniform(3, 4), uniform(3, 4)]),
    ("abs", lambda x: abs(x), [uniform(3, 4)]),
    ("sign", ops.sign, [uniform(3, 4)]),
    ("floor", ops.floor, [away_from_integers(3, 4)]),
    ("ceil", ops.ceil, [away_from_integers(3, 4)]),
    ("round", ops.round_, [away_from_integers(3, 4)]),
    ("exp", ops.exp, [uniform(3, 4)]),
    ("log", ops.log, [positive(3, 4)]),
    ("log1p", ops.log1p, [positive(3, 4)]),
    ("expm1", ops.expm1, [uniform(3, 4)]),
    ("sqrt", ops.sqrt, [positive(3, 4)]),
    ("square", ops.square, [uniform(3, 4)]),
    ("reciprocal", ops.reciprocal, [positive(3, 4)]),
    ("sin", ops.sin, [uniform(3, 4)]),
    ("cos", ops.cos, [uniform(3, 4)]),
    ("tanh", ops.tanh, [uniform(3, 4)]),
    ("sigmoid", ops.sigmoid, [uniform(3, 4, low=-6, high=6)]),
    ("hard_sigmoid", ops.hard_sigmoid, [uniform(3, 4, low=-4, high=4)]),
    ("softplus", ops.softplus, [uniform(3, 4, low=-6, high=6)]),
    ("softsign", ops.softsign, [uniform(3, 4)]),
    ("relu", ops.relu, [uniform(3, 4)]),
    ("relu_leaky_clipped", lambda x: ops.relu(x, alpha=0.3, max_value=1.5), [uniform(3, 4)]),
    ("relu_threshold", lambda x: ops.relu(x, alpha=0.1, threshold=0.5), [uniform(3, 4)]),
    ("elu", lambda x: ops.elu(x, 0.7), [uniform(3, 4)]),
    ("selu", ops.selu, [uniform(3, 4)]),
    ("clip", lambda x: ops.clip(x, -0.5, 1.0), [uniform(3, 4)]),
    ("cast", lambda x: ops.cast(ops.cast(x, "float32"), "float64"), [uniform(3, 4)],
     dict(eps=1e-2, atol=1e-4, rtol=1e-4)),
    ("identity", ops.identity, [uniform(3, 4)]),
    ("add_broadcast", lambda a, b: a + b, [uniform(3, 4), uniform(4)]),
    ("sub_broadcast", lambda a, b: a - b, [uniform(3, 1), uniform(1, 4)]),
    ("mul_broadcast", lambda a, b: a * b, [uniform(2, 3, 4), uniform(3, 1)]),
    ("true_div", lambda a, b: a / b, [uniform(3, 4), positive(3, 4)]),
    ("floor_div", lambda a, b: a // b, [uniform(3, 4) * 3, positive(3, 4)]),
    ("mod", lambda a, b: a % b, [positive(3, 4) * 3, positive(1, 4) + 1.9]),
    ("pow", lambda a, b: a ** b, [positive(3, 4), uniform(3, 4)]),
    ("maximum", ops.maximum, [distinct(3, 4), distinct(3, 4) + 0.05]),
    ("minimum", ops.minimum, [distinct(3, 4), distinct(3, 4) + 0.05]),
    ("where", lambda a, b: ops.where(MASK, a, b), [uniform(3, 4), uniform(4)]),
    ("sum", lambda x: ops.reduce_sum(x, axis=1), [uniform(3, 4)]),
    ("sum_keepdims_multi", lambda x: ops.reduce_sum(x, axis=(0, 2), keepdims=True), [uniform(2, 3, 4)]),
    ("prod", lambda x: ops.reduce_prod(x, axis=0), [uniform(3, 4)]),
    ("prod_with_zero", lambda x: ops.reduce_prod(x * constant(np.array([1.0, 0.0, 1.0, 1.0])), axis=1),
     [uniform(3, 4)]),
    ("max", lambda x: ops.reduce_max(x, axis=1), [distinct(3, 4)]),
    ("min_all", lambda x: ops.reduce_min(x), [distinct(3, 4)]),
    ("mean", lambda x: ops.reduce_mean(x, axis=0), [uniform(3, 4)]),
    ("var", lambda x: ops.reduce_var(x, axis=-1), [uniform(3, 4)]),
    ("std", lambda x: ops.reduce_std(x, axis=0, keepdims=True), [uniform(3, 4)]),
    ("logsumexp", lambda x: ops.logsumexp(x, axis=1), [uniform(3, 4)]),
    ("dot_2d", ops.dot, [uniform(3, 4), uniform(4, 2)]),
    ("dot_3d_2d", ops.dot, [uniform(2, 3, 4), uniform(4, 2)]),
    ("dot_nd_nd", ops.dot, [uniform(2, 3), uniform(2, 3, 2)]),
    ("dot_vec", ops.dot, [uniform(4), uniform(4)]),
    ("matmul_batched", lambda a, b: a @ b, [uniform(2, 3, 4), uniform(2, 4, 2)]),
    ("batch_dot", lambda a, b: ops.batch_dot(a, b, axes=(1, 2)), [uniform(2, 4, 1), uniform(2, 3, 4)]),
    ("batch_dot_2d", lambda a, b: ops.batch_dot(a, b, axes=1), [uniform(3, 4), uniform(3, 4)]),
    ("transpose", lambda x: ops.transpose(x, (2, 0, 1)), [uniform(2, 3, 4)]),
    ("reshape", lambda x: ops.reshape(x, (4, -1)), [uniform(2, 3, 4)]),
    ("flatten", lambda x: ops.flatten(x, 2), [uniform(2, 3, 4)]),
    ("expand_squeeze", lambda x: ops.squeeze(ops.expand_dims(x, 1), 1) * ops.expand_dims(x, 0)[0],
     [uniform(3, 4)]),
    ("concatenate", lambda a, b: ops.concatenate([a, b, a], axis=1), [uniform(2, 3), uniform(2, 2)]),
    ("stack", lambda a, b: ops.stack([a, b], axis=1), [uniform(2, 3), uniform(2, 3)]),
    ("tile", lambda x: ops.tile(x, (2, 3)), [uniform(2, 3)]),
    ("repeat_elements", lambda x: ops.repeat_elements(x, 3, axis=1), [uniform(2, 3)]),
    ("pad", lambda x: ops.pad(x, ((1, 2), (0, 1))), [uniform(2, 3)]),
    ("subtensor", lambda x: x[1:, ::-2, None, 0], [uniform(3, 4, 2)]),
    ("subtensor_ellipsis", lambda x: x[..., -1][:, None] + x[0, ...][None], [uniform(3, 4)]),
    ("gather", lambda x: ops.gather(x, INDICES), [uniform(3, 4)]),
    ("softmax", lambda x: ops.softmax(x, axis=1), [uniform(3, 4)]),
    ("log_softmax", lambda x: ops.log_softmax(x, axis=0), [uniform(3, 4)]),
    ("l2_normalize", lambda x: ops.l2_normalize(x, axis=1), [uniform(3, 4)]),
    # ops that appear in gradient graphs, checked directly
    ("broadcast_like", lambda g: ops.broadcast_like(g, C34), [uniform(1, 4)]),
    ("sum_to_like", lambda g: ops.sum_to_like(g, constant(np.zeros((1, 4)))), [uniform(3, 4)]),
    ("reshape_like", lambda g: ops.reshape_like(g, constant(np.zeros((4, 3)))), [uniform(3, 4)]),
    ("split_like", lambda g: ops.SplitLike(1, 1)(g, constant(np.zeros((3, 1))), constant(np.zeros((3, 3)))),
     [uniform(3, 4)]),
    ("tile_grad", lambda g: ops.TileGrad((2, 1))(g), [uniform(4, 3)]),
    ("repeat_grad", lambda g: ops.RepeatGrad(2, 0)(g), [uniform(4, 3)]),
    ("subtensor_grad", lambda g: ops.SubtensorGrad((("s", 1, None, None),))(g, C34), [uniform(2, 4)]),
    ("gather_grad", lambda g: ops.GatherGrad()(g, INDICES, C34), [uniform(3, 2, 4)]),
    ("exclusive_prod", lambda x: ops.ExclusiveProd((1,))(x), [uniform(3, 4)]),
    # a node with two outputs: each alone (the other's gradient is None) and both together
    ("moments_mean", lambda x: ops.moments(x, axis=0)[0], [uniform(3, 4)]),
    ("moments_variance", lambda x: ops.moments(x, axis=(0, 2), keepdims=True)[1], [uniform(3, 4, 2)]),
    ("moments_both", lambda x: ops.moments(x, axis=1)[0] * ops.moments(x, axis=1)[1], [uniform(3, 4)]),
    ("fused_with_reduction", lambda a, b: ops.Fused(2, [(ops.Mul(), (0, 1)), (ops.Tanh(), (2,)), (ops.Add(), (3, 1))],
                                                    ops.Sum((1,)))(a, b), [uniform(3, 4), uniform(4)]),
    ("composed_mlp", lambda x, w: ops.reduce_mean(ops.softmax(ops.tanh(ops.dot(x, w)))[:, 0]),
     [uniform(5, 3), uniform(3, 4)]),
    # convolutions: strides, dilation, the paddings, groups, 1-3 spatial dims; their gradient ops directly
    ("conv2d_same_strided", lambda x, w: ops.Conv((3, 2), (2, 1), 1, "same")(x, w),
     [uniform(2, 5, 4, 2), uniform(3, 2, 2, 3)]),
    ("conv1d_causal_dilated", lambda x, w: ops.Conv((2,), 1, 2, "causal")(x, w), [uniform(2, 6, 2), uniform(2, 2, 2)]),
    ("conv2d_groups", lambda x, w: ops.Conv((2, 2), 1, 1, "valid", 2)(x, w),
     [uniform(1, 4, 4, 4), uniform(2, 2, 2, 4)]),
    ("conv2d_explicit_pads", lambda x, w: ops.Conv((2, 2), (2, 2), 1, ((1, 0), (0, 2)))(x, w),
     [uniform(1, 4, 3, 2), uniform(2, 2, 2, 2)]),
    ("conv3d_same", lambda x, w: ops.Conv((2, 2, 2), (1, 2, 1), 1, "same")(x, w),
     [uniform(1, 3, 4, 3, 2), uniform(2, 2, 2, 2, 2)]),
    ("conv_input_grad", lambda g, w: ops.ConvInputGrad((3, 3), (2, 2))(g, w, constant(np.zeros((2, 7, 6, 2)))),
     [uniform(2, 3, 2, 3), uniform(3, 3, 2, 3)]),
    ("conv_transpose_same", lambda g, w: ops.ConvInputGrad((3, 3), (2, 2), 1, "same")(g, w),
     [uniform(1, 2, 3, 3), uniform(3, 3, 2, 3)]),
    ("conv_transpose_output_padding", lambda g, w: ops.ConvInputGrad((3,), (2,), 1, "valid", 1, (1,))(g, w),
     [uniform(2, 3, 2), uniform(3, 2, 2)]),
    ("conv_kernel_grad", lambda x, g: ops.ConvKernelGrad((2, 3), (1, 2), 1, "same")(x, g),
     [uniform(2, 4, 5, 2), uniform(2, 4, 3, 3)]),
    # pooling (distinct values: no ties, so the maxima do not move within the finite differences)
    ("max_pool2d_same", lambda x: ops.MaxPool((3, 3), (2, 2), "same")(x), [distinct(2, 5, 6, 2)]),
    ("max_pool1d_valid", lambda x: ops.MaxPool((2,), None, "valid")(x), [distinct(2, 7, 3)]),
    ("max_pool2d_tiled", lambda x: ops.MaxPool((2, 2))(x), [distinct(2, 4, 6, 2)]),
    ("max_pool2d_tiled_same", lambda x: ops.MaxPool((3, 3), None, "same")(x), [distinct(1, 5, 7, 2)]),
    ("max_pool3d", lambda x: ops.MaxPool((2, 2, 2), (1, 2, 1), "same")(x), [distinct(1, 3, 4, 3, 2)]),
    ("avg_pool2d_same", lambda x: ops.AvgPool((3, 3), (2, 2), "same")(x), [uniform(2, 5, 6, 2)]),
    ("avg_pool1d_valid", lambda x: ops.AvgPool((3,), (2,), "valid")(x), [uniform(2, 7, 3)]),
    ("max_pool_grad", lambda g: ops.MaxPoolGrad((3, 3), (2, 2), "same")(POOLED, g), [uniform(2, 3, 3, 2)]),
    ("max_pool_select", lambda v: ops.MaxPoolSelect((3, 3), (2, 2), "same")(POOLED, v), [uniform(2, 5, 6, 2)]),
    ("avg_pool_grad", lambda g: ops.AvgPoolGrad((3, 3), (2, 2), "same")(g, POOLED), [uniform(2, 3, 3, 2)]),
    ("print_tensor", lambda x: ops.print_tensor(x * x, "finite differences: "), [uniform(2, 3)]),
    ("loop", lambda x, h, w: _recurrence(x, h, w), [uniform(3, 2, 2), uniform(2, 2), uniform(2, 2)]),
]


def _recurrence(x, h0, w):
    """A Loop: h_t = tanh(x_t + h_{t-1} w), its stacked states (tests/graph/test_loop.py checks more)."""
    from symkeras.graph.basic import placeholder

    xt, ht = placeholder((None, 2), dtype=x.dtype), placeholder((None, 2), dtype=x.dtype)
    step, captured = ops.capture_step([xt, ht], [ops.tanh(xt + ops.matmul(ht, w))])
    return ops.Loop(step, 1, 1).make_node(x, h0, *captured).outputs[0]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradient_matches_finite_differences(case):
    name, fn, points, *opts = case
    verify_grad(fn, points, **(opts[0] if opts else {}))


def _op_types(fn, points):
    from symkeras.graph.basic import placeholder

    xs = [placeholder(np.shape(p), dtype="float64") for p in points]
    return {type(node.op) for node in Graph(xs, [fn(*xs)]).nodes}


def test_every_differentiable_op_has_a_gradient_check():
    covered = set()
    for _, fn, points, *_ in CASES:
        covered |= _op_types(fn, points)
    from symkeras.graph.ops.reduce import Reduce

    abstract = {ops.Unary, ops.Binary, Reduce}
    # the package's ops (test modules define toy ops of their own, checked there)
    differentiable = {cls for cls in OP_TYPES.values()
                      if cls.differentiable and cls.__module__.startswith("symkeras.")} - abstract
    missing = sorted(c.__name__ for c in differentiable - covered)
    assert missing == []


def test_verify_grad_detects_a_wrong_gradient():
    class WrongSquare(ops.Unary):
        fn = staticmethod(np.square)

        def grad(self, inputs, out, gz):
            return [gz * inputs[0]]  # missing the factor 2

    with pytest.raises(GradientMismatch, match="differs"):
        verify_grad(lambda x: WrongSquare()(x), [uniform(3)])
    from symkeras.graph.basic import OP_TYPES as registry

    registry.pop("WrongSquare")


SECOND_ORDER = [
    ("tanh", lambda x: gradients(ops.reduce_sum(ops.tanh(x) * C34), x)),
    ("sigmoid", lambda x: gradients(ops.reduce_sum(ops.sigmoid(x) * C34), x)),
    ("dot", lambda x: gradients(ops.reduce_sum(ops.square(ops.dot(x, ops.transpose(C34)))), x)),
    ("softmax", lambda x: gradients(ops.reduce_sum(ops.softmax(x) * C34), x)),
    ("log_softmax", lambda x: gradients(ops.reduce_sum(ops.log_softmax(x) * C34), x)),
    ("prod", lambda x: gradients(ops.reduce_sum(ops.reduce_prod(x, axis=1)), x)),
    ("max_and_mean", lambda x: gradients(ops.reduce_max(ops.reduce_mean(ops.square(x), axis=0)), x)),
    ("conv", lambda x: gradients(ops.reduce_sum(ops.tanh(ops.Conv((2,), 1, 1, "same")(
        ops.reshape(x, (3, 4, 1)), constant(uniform(2, 1, 2)))) * constant(uniform(3, 4, 2))), x)),
]


@pytest.mark.parametrize("case", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_second_order_gradients(case):
    name, fn = case
    verify_grad(fn, [uniform(3, 4)])


def _forward_and_gradients(fn, points):
    from symkeras.graph.basic import placeholder
    from symkeras.graph.ops import reduce_sum

    xs = [placeholder(np.shape(p), dtype="float64", name=f"x{i}") for i, p in enumerate(points)]
    out = fn(*xs)
    proj = constant(np.random.default_rng(5).standard_normal(tuple(d or 1 for d in out.shape)), dtype=out.dtype)
    cost = reduce_sum(out * proj)
    return xs, [out] + gradients(cost, xs)


@pytest.mark.parametrize("case", CASES + [(n, f, [uniform(3, 4)]) for n, f in SECOND_ORDER],
                         ids=[c[0] for c in CASES] + [f"second_order_{c[0]}" for c in SECOND_ORDER])
def test_compiled_forward_and_gradient_match_the_reference(case):
    """The Numba backend computes each op and its gradient graph as the reference does."""
    from helpers import assert_same

    from symkeras.codegen.function import Function
    from symkeras.codegen.reference import evaluate

    name, fn, points, *_ = case
    xs, outs = _forward_and_gradients(fn, points)
    feed = {x: np.asarray(p, dtype="float64") for x, p in zip(xs, points)}
    want = evaluate(outs, feed)
    got = Function(xs, outs, backend="numba")([feed[x] for x in xs])
    for i, (g, w, t) in enumerate(zip(got, want, outs)):
        assert_same(g, w, t.dtype, what=f"{name} output {i}")
