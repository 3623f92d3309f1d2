"""Parameter pytree initialisation and the forward pass.

A model is described by a static, hashable ``NetSpec`` (what changes code paths) and two
pytrees of arrays: ``params`` (trained) and ``model_state`` (batch-norm running statistics).
Initialisation is host-side NumPy; ``forward`` is pure JAX.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .activations import HIDDEN_ACTIVATIONS
from .formulas import SparseRows, batch_norm_affine


class NetSpec(NamedTuple):
    """Static description of a network: it selects code, never holds a number to tune."""

    activations: tuple  # one hidden activation name per hidden layer
    out_activation: str
    batch_norm: bool = False
    dropout: bool = False  # whether the dropout code path exists; the rates are runtime


def take_rows(X, rows):
    """Rows of dense or sparse input. The row indices are in bounds by construction (a
    permutation of the rows): no index normalisation or clamping is compiled around the
    gather."""
    return jax.tree_util.tree_map(lambda a: a.at[rows].get(mode="promise_in_bounds"), X)


@jax.custom_vjp
def dense(h, W, b):
    """``h @ W + b``, whose weight and bias gradients are one product with a materialised
    transpose of ``h`` and a row of ones: ``[h.T; 1] @ g``.

    Left to itself, XLA's CPU backend computes the weight gradient ``h.T @ g`` as a dot that
    contracts ``h``'s row axis, which it hands to Eigen, and the bias gradient as a separate
    column sum (a slow tree reduction over the rows); the transposed copy
    (``optimization_barrier`` keeps it from being folded back into the dot) takes the fast
    matmul path, 1.5x faster for a 200x64 float64 batch, and the bias gradient comes with it
    for one more row.
    """
    return h @ W + b


def _dense_fwd(h, W, b):
    return h @ W + b, (h, W)


def _dense_bwd(residuals, g):
    h, W = residuals
    ones = jnp.ones(h.shape[:-2] + (1, h.shape[-2]), h.dtype)
    h_t = jax.lax.optimization_barrier(jnp.concatenate([jnp.swapaxes(h, -1, -2), ones], -2))
    grads = h_t @ g
    return g @ jnp.swapaxes(W, -1, -2), grads[..., :-1, :], grads[..., -1, :]


dense.defvjp(_dense_fwd, _dense_bwd)


def input_layer(X, W, b):
    """``X @ W + b`` for dense input; for ``SparseRows`` the sum of each row's non-zeros times
    the matching rows of ``W`` (O(nnz x width), and a scatter-add of the same cost for the
    gradient), plus ``b``."""
    if isinstance(X, SparseRows):
        return jnp.einsum("nk,nkh->nh", X.values, W[X.indices]) + b
    return dense(X, W, b)


def init_layer(random_state, fan_in, fan_out, scheme="auto", sklearn_factor=6.0):
    """One layer's (W, b) as float64 NumPy arrays, drawn from a ``numpy.random.RandomState``.

    ``scheme='auto'`` is scikit-learn's ``_init_coef``, draw for draw: W then b uniform in
    +-sqrt(factor / (fan_in + fan_out)), factor 6 (2 for logistic networks), so a seed gives
    scikit-learn's initial weights. The named schemes initialise b to zero.

    Initialisation runs on the host: compiling JAX's random-number programs for it would cost
    more (0.4-1.4 s on a 2-core CPU) than scikit-learn's whole fit of a small problem.
    """
    shape = (fan_in, fan_out)
    if scheme == "auto":
        bound = np.sqrt(sklearn_factor / (fan_in + fan_out))
        w = random_state.uniform(-bound, bound, shape)
        return w, random_state.uniform(-bound, bound, fan_out)
    if scheme == "glorot_uniform":
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        w = random_state.uniform(-bound, bound, shape)
    elif scheme == "glorot_normal":
        w = random_state.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape)
    elif scheme == "he_uniform":
        bound = np.sqrt(6.0 / fan_in)
        w = random_state.uniform(-bound, bound, shape)
    elif scheme == "he_normal":
        w = random_state.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    elif scheme == "lecun_normal":
        w = random_state.normal(0.0, np.sqrt(1.0 / fan_in), shape)
    else:
        raise ValueError(f"unknown weight_init {scheme!r}")
    return w, np.zeros(fan_out)


def init_params(random_state, layer_units, *, scheme="auto", sklearn_factor=6.0,
                batch_norm=False, dtype=np.float32):
    """Initial ``(params, model_state)`` for layer sizes ``[n_in, *hidden, n_out]``."""
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
        w, b = init_layer(random_state, fan_in, fan_out, scheme, sklearn_factor)
        coefs.append(w.astype(dtype))
        intercepts.append(b.astype(dtype))
    params = {"coefs": coefs, "intercepts": intercepts}
    model_state = {}
    if batch_norm:
        hidden = layer_units[1:-1]
        params["bn_scale"] = [np.ones(h, dtype) for h in hidden]
        params["bn_shift"] = [np.zeros(h, dtype) for h in hidden]
        model_state = {"bn_mean": [np.zeros(h, dtype) for h in hidden],
                       "bn_var": [np.ones(h, dtype) for h in hidden]}
    return params, model_state


def _weighted_moments(h, weight):
    """Mean and (biased) variance over rows weighted by sample weight.

    Padding rows have weight 0 and never leak in; a row of weight k counts as k repeated rows,
    as everywhere else in training.
    """
    w = weight[:, None]
    total = jnp.maximum(jnp.sum(weight), jnp.finfo(h.dtype).tiny)
    mean = jnp.sum(h * w, axis=0) / total
    var = jnp.sum(((h - mean) ** 2) * w, axis=0) / total
    return mean, var


def forward(params, model_state, X, spec, *, train=False, key=None, weight=None, hparams=None):
    """Output-layer pre-activation ("logits") and the updated model state.

    ``train=True`` uses batch statistics (weighted by ``weight``, 0 on padding) and dropout.
    """
    h = X
    n_hidden = len(spec.activations)
    new_state = {k: list(v) for k, v in model_state.items()}
    if train and spec.dropout:
        keys = jax.random.split(key, max(n_hidden, 1))
    for i in range(n_hidden):
        W = params["coefs"][i]
        b = params["intercepts"][i]
        h = input_layer(h, W, b) if i == 0 else dense(h, W, b)
        if spec.batch_norm:
            if train:
                mean, var = _weighted_moments(h, weight)
                mom = hparams["bn_momentum"]
                new_state["bn_mean"][i] = mom * model_state["bn_mean"][i] + (1 - mom) * mean
                new_state["bn_var"][i] = mom * model_state["bn_var"][i] + (1 - mom) * var
            else:
                mean, var = model_state["bn_mean"][i], model_state["bn_var"][i]
            a, c = batch_norm_affine(mean, var, params["bn_scale"][i], params["bn_shift"][i])
            h = h * a + c
        h = HIDDEN_ACTIVATIONS[spec.activations[i]](h)
        if train and spec.dropout:
            rate = hparams["dropout"][i]
            keep = jax.random.bernoulli(keys[i], 1.0 - rate, h.shape)
            h = jnp.where(keep, h / jnp.maximum(1.0 - rate, 1e-12), 0.0).astype(h.dtype)
    W = params["coefs"][-1]
    b = params["intercepts"][-1]
    z = input_layer(h, W, b) if n_hidden == 0 else dense(h, W, b)
    return z, new_state
