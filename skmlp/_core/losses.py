"""Per-sample losses computed from the output layer's pre-activation, and penalties.

Classification losses are written on logits (log-softmax, softplus) so that they are
stable and their gradient is exactly ``predicted - true``, as in scikit-learn's backprop.
"""

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy

from .activations import OUTPUT_ACTIVATIONS


def _log_loss(z, y, out_activation, hparams):
    return -jnp.sum(y * jax.nn.log_softmax(z, axis=-1), axis=-1)


def _binary_log_loss(z, y, out_activation, hparams):
    # -[y log(sigmoid z) + (1 - y) log(1 - sigmoid z)] == softplus(z) - y z
    return jnp.sum(jax.nn.softplus(z) - y * z, axis=-1)


def _squared_error(z, y, out_activation, hparams):
    # Summed over outputs: scikit-learn's gradient (delta = p - y) is that of the sum.
    p = OUTPUT_ACTIVATIONS[out_activation](z)
    return 0.5 * jnp.sum((p - y) ** 2, axis=-1)


def _poisson(z, y, out_activation, hparams):
    # scikit-learn's Poisson loss: y log(y/p) - y + p (its "half deviance" with the constant).
    if out_activation == "exp":
        log_p, p = z, jnp.exp(z)
    else:
        p = OUTPUT_ACTIVATIONS[out_activation](z)
        log_p = jnp.log(p)
    return jnp.sum(xlogy(y, y) - y * log_p - y + p, axis=-1)


def _absolute_error(z, y, out_activation, hparams):
    p = OUTPUT_ACTIVATIONS[out_activation](z)
    return jnp.sum(jnp.abs(p - y), axis=-1)


def _huber(z, y, out_activation, hparams):
    p = OUTPUT_ACTIVATIONS[out_activation](z)
    delta = hparams["huber_delta"]
    r = jnp.abs(p - y)
    quadratic = 0.5 * r**2
    linear = delta * (r - 0.5 * delta)
    return jnp.sum(jnp.where(r <= delta, quadratic, linear), axis=-1)


SAMPLE_LOSSES = {
    "log_loss": _log_loss,
    "binary_log_loss": _binary_log_loss,
    "squared_error": _squared_error,
    "poisson": _poisson,
    "absolute_error": _absolute_error,
    "huber": _huber,
}


def sample_losses(loss, out_activation, z, y, hparams):
    """Loss of each sample, shape (n_samples,)."""
    return SAMPLE_LOSSES[loss](z, y, out_activation, hparams)


def penalty(coefs, kind, hparams):
    """Weight penalty on the coefficient matrices (never the intercepts).

    'l2' is scikit-learn's ``0.5 * alpha * sum(W**2)``; 'l1' is ``alpha * sum(|W|)``;
    'elasticnet' mixes them with ``l1_ratio`` as in scikit-learn's SGD estimators.
    """
    alpha = hparams["alpha"]
    sq = sum(jnp.sum(w * w) for w in coefs)
    if kind == "l2":
        return 0.5 * alpha * sq
    ab = sum(jnp.sum(jnp.abs(w)) for w in coefs)
    if kind == "l1":
        return alpha * ab
    r = hparams["l1_ratio"]
    return alpha * (r * ab + 0.5 * (1.0 - r) * sq)
