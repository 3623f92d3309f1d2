"""Parameter pytree initialisation and the forward pass.

A model is described by a static, hashable ``NetSpec`` (what changes code paths) and two
pytrees of arrays: ``params`` (trained) and ``model_state`` (batch-norm running statistics).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS

BN_EPSILON = 1e-5


class NetSpec(NamedTuple):
    """Static description of a network: it selects code, never holds a number to tune."""

    activations: tuple  # one hidden activation name per hidden layer
    out_activation: str
    batch_norm: bool = False
    dropout: bool = False  # whether the dropout code path exists; the rates are runtime


def _glorot_bound(fan_in, fan_out, factor):
    return jnp.sqrt(factor / (fan_in + fan_out))


def init_layer(key, fan_in, fan_out, scheme, sklearn_factor, dtype):
    """One layer's (W, b).

    ``scheme='auto'`` is scikit-learn's: W and b uniform in +-sqrt(factor/(fan_in+fan_out))
    with factor 6 (2 for logistic networks). The named schemes initialise b to zero.
    Draws are made in float32 and cast, so a seed gives the same start in every precision.
    """
    kw, kb = jax.random.split(key)
    shape = (fan_in, fan_out)
    f32 = jnp.float32

    def uniform(k, shp, bound):
        return jax.random.uniform(k, shp, f32, -bound, bound)

    if scheme == "auto":
        bound = _glorot_bound(fan_in, fan_out, sklearn_factor)
        return uniform(kw, shape, bound).astype(dtype), uniform(kb, (fan_out,), bound).astype(dtype)
    if scheme == "glorot_uniform":
        w = uniform(kw, shape, _glorot_bound(fan_in, fan_out, 6.0))
    elif scheme == "glorot_normal":
        w = jax.random.normal(kw, shape, f32) * jnp.sqrt(2.0 / (fan_in + fan_out))
    elif scheme == "he_uniform":
        w = uniform(kw, shape, jnp.sqrt(6.0 / fan_in))
    elif scheme == "he_normal":
        w = jax.random.normal(kw, shape, f32) * jnp.sqrt(2.0 / fan_in)
    elif scheme == "lecun_normal":
        w = jax.random.normal(kw, shape, f32) * jnp.sqrt(1.0 / fan_in)
    else:
        raise ValueError(f"unknown weight_init {scheme!r}")
    return w.astype(dtype), jnp.zeros((fan_out,), dtype)


def init_params(key, layer_units, *, scheme="auto", sklearn_factor=6.0, batch_norm=False,
                dtype=jnp.float32):
    """Initial ``(params, model_state)`` for layer sizes ``[n_in, *hidden, n_out]``."""
    keys = jax.random.split(key, len(layer_units) - 1)
    coefs, intercepts = [], []
    for k, fan_in, fan_out in zip(keys, layer_units[:-1], layer_units[1:]):
        w, b = init_layer(k, fan_in, fan_out, scheme, sklearn_factor, dtype)
        coefs.append(w)
        intercepts.append(b)
    params = {"coefs": coefs, "intercepts": intercepts}
    model_state = {}
    if batch_norm:
        hidden = layer_units[1:-1]
        params["bn_scale"] = [jnp.ones((h,), dtype) for h in hidden]
        params["bn_shift"] = [jnp.zeros((h,), dtype) for h in hidden]
        model_state = {
            "bn_mean": [jnp.zeros((h,), dtype) for h in hidden],
            "bn_var": [jnp.ones((h,), dtype) for h in hidden],
        }
    return params, model_state


def _masked_moments(h, mask):
    """Mean and (biased) variance over the rows where mask is 1: padding never leaks in."""
    m = mask[:, None]
    count = jnp.maximum(jnp.sum(mask), 1.0)
    mean = jnp.sum(h * m, axis=0) / count
    var = jnp.sum(((h - mean) ** 2) * m, axis=0) / count
    return mean, var


def forward(params, model_state, X, spec, *, train=False, key=None, mask=None, hparams=None):
    """Output-layer pre-activation ("logits") and the updated model state.

    ``train=True`` uses batch statistics (over rows with ``mask == 1``) and dropout.
    """
    h = X
    n_hidden = len(spec.activations)
    new_state = {k: list(v) for k, v in model_state.items()}
    if train and spec.dropout:
        keys = jax.random.split(key, max(n_hidden, 1))
    for i in range(n_hidden):
        h = h @ params["coefs"][i] + params["intercepts"][i]
        if spec.batch_norm:
            if train:
                mean, var = _masked_moments(h, mask)
                mom = hparams["bn_momentum"]
                new_state["bn_mean"][i] = mom * model_state["bn_mean"][i] + (1 - mom) * mean
                new_state["bn_var"][i] = mom * model_state["bn_var"][i] + (1 - mom) * var
            else:
                mean, var = model_state["bn_mean"][i], model_state["bn_var"][i]
            h = (h - mean) * jax.lax.rsqrt(var + BN_EPSILON)
            h = h * params["bn_scale"][i] + params["bn_shift"][i]
        h = HIDDEN_ACTIVATIONS[spec.activations[i]](h)
        if train and spec.dropout:
            rate = hparams["dropout"][i]
            keep = jax.random.bernoulli(keys[i], 1.0 - rate, h.shape)
            h = jnp.where(keep, h / jnp.maximum(1.0 - rate, 1e-12), 0.0).astype(h.dtype)
    z = h @ params["coefs"][-1] + params["intercepts"][-1]
    return z, new_state


def predict_output(params, model_state, X, spec):
    """Predictions after the output activation (probabilities, regression values)."""
    z, _ = forward(params, model_state, X, spec)
    return OUTPUT_ACTIVATIONS[spec.out_activation](z)
