"""The Keras 2 backend API: ``import symkeras.backend as K``.

Every function builds graph nodes; nothing is computed until a function
made by ``K.function`` (or ``K.eval``) runs.
"""

from symkeras.backend.config import (  # noqa: F401
    backend, cast_to_floatx, epsilon, floatx, image_data_format, image_dim_ordering,
    normalize_data_format, set_epsilon, set_floatx, set_image_data_format, set_image_dim_ordering,
)
from symkeras.backend.functions import (  # noqa: F401
    function, gradients, moving_average_update, update, update_add, update_sub,
)
from symkeras.backend.math_ops import (  # noqa: F401
    abs, all, any, arange, argmax, argmin, batch_dot, batch_flatten, bias_add, cast, clip,
    concatenate, cos, cumsum, dot, equal, exp, expand_dims, expm1, flatten, gather, greater,
    greater_equal, less, less_equal, log, log1p, logsumexp, max, maximum, mean, min, minimum,
    not_equal, one_hot, permute_dimensions, pow, prod, repeat, repeat_elements, reshape, reverse,
    round, sign, sin, slice, spatial_2d_padding, spatial_3d_padding, sqrt, square, squeeze, stack,
    std, stop_gradient, sum, switch, temporal_padding, tile, transpose, var,
)
from symkeras.backend.nn import (  # noqa: F401
    binary_crossentropy, categorical_crossentropy, dropout, elu, hard_sigmoid, in_test_phase,
    in_train_phase, l2_normalize, log_softmax, random_binomial, random_normal, random_uniform, relu,
    selu, sigmoid, softmax, softplus, softsign, sparse_categorical_crossentropy, tanh,
    truncated_normal,
)
from symkeras.backend.state import (  # noqa: F401
    clear_session, get_uid, learning_phase, reset_uids, set_learning_phase,
)
from symkeras.backend.variables import (  # noqa: F401
    batch_get_value, batch_set_value, constant, count_params, dtype, eval, eye, get_value,
    identity, int_shape, is_placeholder, is_sparse, is_tensor, is_variable, ndim, ones, ones_like,
    placeholder, random_normal_variable, random_uniform_variable, set_value, shape, to_dense,
    variable, zeros, zeros_like,
)
