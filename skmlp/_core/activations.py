"""Name -> function tables for hidden and output activations."""

import jax
import jax.numpy as jnp

from .formulas import HIDDEN_ACTIVATION_NAMES


def _identity(x):
    return x


def _leaky_relu(x):
    return jax.nn.leaky_relu(x, negative_slope=0.01)


def _gelu(x):
    return jax.nn.gelu(x, approximate=False)


HIDDEN_ACTIVATIONS = {
    "identity": _identity,
    "logistic": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "relu": jax.nn.relu,
    "leaky_relu": _leaky_relu,
    "elu": jax.nn.elu,
    "selu": jax.nn.selu,
    "gelu": _gelu,
    "softplus": jax.nn.softplus,
    "silu": jax.nn.silu,
}

assert tuple(HIDDEN_ACTIVATIONS) == HIDDEN_ACTIVATION_NAMES

# Output activations map the last layer's pre-activation ("logits") to predictions.
OUTPUT_ACTIVATIONS = {
    "identity": _identity,
    "logistic": jax.nn.sigmoid,
    "softmax": jax.nn.softmax,
    "exp": jnp.exp,
    "relu": jax.nn.relu,
    "softplus": jax.nn.softplus,
    "tanh": jnp.tanh,
}
