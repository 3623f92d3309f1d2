"""NumPy inference over fitted attributes: the forward pass, its activations, and the
mapping between fitted attributes and the weight pytrees the trainer works on.

Pure NumPy and SciPy: a process that loads a fitted model and predicts needs no JAX. The ONNX
export builds its graph from the same folded layers.
"""

from numbers import Real

import numpy as np
from scipy.special import erf, expit
from sklearn.utils.extmath import safe_sparse_dot

from ._core.formulas import SELU_ALPHA, SELU_SCALE, batch_norm_affine


def _leaky_relu(x):
    return np.where(x > 0, x, 0.01 * x)


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def _selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))


def _gelu(x):
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)).astype(x.dtype))


def _softmax(x):
    x -= x.max(axis=1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=1, keepdims=True)
    return x


# NumPy twins of _core.activations (tests keep them equal). They may overwrite their argument,
# as scikit-learn's do: prediction owns its buffers.
NUMPY_ACTIVATIONS = {
    "identity": lambda x: x,
    "logistic": lambda x: expit(x, out=x),
    "tanh": lambda x: np.tanh(x, out=x),
    "relu": lambda x: np.maximum(x, 0, out=x),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "selu": _selu,
    "gelu": _gelu,
    "softplus": lambda x: np.logaddexp(0, x, out=x),
    "silu": lambda x: x * expit(x),
    "softmax": _softmax,
    "exp": lambda x: np.exp(x, out=x),
}


def per_layer(value, n_hidden, name):
    """A scalar or string for every hidden layer, or a sequence with one per layer."""
    if isinstance(value, (str, Real)):
        return (value,) * n_hidden
    value = tuple(value)
    if len(value) != n_hidden:
        raise ValueError(f"{name} has {len(value)} entries but the network has {n_hidden} "
                         f"hidden layers; give one value or one per hidden layer.")
    return value


def layer_activations(est):
    """A fitted MLP's activation per layer: the hidden ones, then the output's."""
    n_hidden = est.n_layers_ - 2
    return (*per_layer(est.activation, n_hidden, "activation"), est.out_activation_)


def folded_layers(est, dtype=None):
    """``(W, b, activation)`` per layer with batch norm folded into (W, b).

    In the coefficients' own dtype, or computed in float64 and cast to ``dtype`` when given.
    Without batch norm the fitted arrays themselves are returned (no copy).
    """
    def arr(a):
        return np.asarray(a) if dtype is None else np.asarray(a, np.float64)

    layers = []
    for i, activation in enumerate(layer_activations(est)):
        W, b = arr(est.coefs_[i]), arr(est.intercepts_[i])
        if i < est.n_layers_ - 2 and est.batch_norm:
            a, c = batch_norm_affine(arr(est.batch_norm_means_[i]), arr(est.batch_norm_vars_[i]),
                                     arr(est.batch_norm_scales_[i]),
                                     arr(est.batch_norm_shifts_[i]))
            W, b = W * a, b * a + c
        if dtype is not None:
            W, b = W.astype(dtype), b.astype(dtype)
        layers.append((W, b, activation))
    return layers


def forward(est, X):
    """A fitted MLP's predictions (after the output activation) for validated ``X``."""
    h = X
    for W, b, activation in folded_layers(est):
        h = safe_sparse_dot(h, W)
        h += b
        h = NUMPY_ACTIVATIONS[activation](h)
    return h


def weight_attributes(params, model_state, dtype):
    """The fitted attributes of a weight pytree: writable NumPy arrays in ``dtype``."""
    def conv(arrays):
        return [np.array(a, dtype=dtype) for a in arrays]

    attrs = {"coefs_": conv(params["coefs"]), "intercepts_": conv(params["intercepts"])}
    if "bn_scale" in params:
        attrs.update(batch_norm_scales_=conv(params["bn_scale"]),
                     batch_norm_shifts_=conv(params["bn_shift"]),
                     batch_norm_means_=conv(model_state["bn_mean"]),
                     batch_norm_vars_=conv(model_state["bn_var"]))
    return attrs


def weight_tree(est, dtype):
    """A fitted MLP's weights as the ``(params, model_state)`` pytrees the core trains."""
    params = {"coefs": [np.asarray(c, dtype) for c in est.coefs_],
              "intercepts": [np.asarray(b, dtype) for b in est.intercepts_]}
    model_state = {}
    if est.batch_norm:
        params["bn_scale"] = [np.asarray(s, dtype) for s in est.batch_norm_scales_]
        params["bn_shift"] = [np.asarray(s, dtype) for s in est.batch_norm_shifts_]
        model_state = {"bn_mean": [np.asarray(m, dtype) for m in est.batch_norm_means_],
                       "bn_var": [np.asarray(v, dtype) for v in est.batch_norm_vars_]}
    return params, model_state
