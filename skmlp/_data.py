"""Host-side data preparation: dtype policy, bucketed padding, one device transfer per fit."""

import math

import jax
import numpy as np
import scipy.sparse as sp


def bucket(n):
    """Smallest size >= n of the form m * 2**e with m in {4, 5, 6, 7} (exact below 8).

    Consecutive buckets differ by at most 25%, so sizes a few samples apart (CV folds) share
    a bucket and therefore one compiled program.
    """
    n = int(n)
    if n <= 8:
        return max(n, 1)
    e = math.floor(math.log2(n)) - 2
    for m in (4, 5, 6, 7, 8):
        if m * 2**e >= n:
            return m * 2**e
    raise AssertionError("unreachable")


def n_padded_rows(n_samples, batch_size):
    """Rows after padding: a bucketed number of whole minibatches."""
    return bucket(math.ceil(n_samples / batch_size)) * batch_size


def _dense(X):
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def device_arrays(X, Y, sample_weight, n_rows, dtype):
    """Pad to ``n_rows`` rows (weight 0, mask 0) and put X, Y, w, mask on the device at once."""
    n = X.shape[0]
    pad = n_rows - n
    Xp = np.zeros((n_rows, X.shape[1]), dtype=dtype)
    Xp[:n] = _dense(X)
    Yp = np.zeros((n_rows, Y.shape[1]), dtype=dtype)
    Yp[:n] = Y
    w = np.zeros(n_rows, dtype=dtype)
    w[:n] = 1.0 if sample_weight is None else sample_weight
    mask = np.concatenate([np.ones(n, dtype=dtype), np.zeros(pad, dtype=dtype)])
    return tuple(jax.device_put((Xp, Yp, w, mask)))


def hparams_to_device(hparams, dtype):
    """Hyperparameters on the device as 0-d (or 1-d) arrays of the compute dtype: runtime
    values, never constants baked into a compiled program. One transfer per fit (``device_put``
    compiles nothing, unlike building JAX arrays with ``jnp.asarray``)."""
    return jax.device_put({k: np.asarray(v, dtype=dtype) for k, v in hparams.items()})
