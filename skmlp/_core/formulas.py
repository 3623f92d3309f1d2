"""Names and formulas that the JAX core and the NumPy and ONNX inference paths share.

Plain arithmetic over whatever arrays they are given (NumPy or JAX), and no JAX import, so
prediction (and ``import skmlp``) can use them without loading JAX.
"""

from typing import Any, NamedTuple

# The hidden activations and stochastic solvers the core implements (_core.activations and
# _core.optim build their tables from these names).
HIDDEN_ACTIVATION_NAMES = ("identity", "logistic", "tanh", "relu", "leaky_relu", "elu", "selu",
                           "gelu", "softplus", "silu")
STOCHASTIC_SOLVERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")

BN_EPSILON = 1e-5

# SELU's constants (Klambauer et al. 2017), as jax.nn.selu uses them.
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def batch_norm_affine(mean, var, scale, shift):
    """Batch normalization as an affine map ``h -> h * a + c``.

    ``(h - mean) / sqrt(var + eps) * scale + shift = h * a + c`` with
    ``a = scale / sqrt(var + eps)`` and ``c = shift - mean * a``; folding it into the layer
    before gives ``x (W a) + (b a + c)``.
    """
    a = scale / (var + BN_EPSILON) ** 0.5
    return a, shift - mean * a


class SparseRows(NamedTuple):
    """Sparse input rows in a static-shape layout: each row's non-zeros as ``k`` (column,
    value) pairs, padded with (0, 0.0). Taking a minibatch is a row gather of both arrays."""

    indices: Any  # (n_rows, k) int32 column indices
    values: Any  # (n_rows, k) values, 0 on padding
