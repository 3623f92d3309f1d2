"""Pure JAX core of skmlp: functions over pytrees, never aware of scikit-learn.

Everything here is written for one model and stays ``jax.vmap``-able: hyperparameters
are array arguments, randomness is an explicit key, and no function has side effects.
"""
