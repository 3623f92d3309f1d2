"""optax GradientTransformations built from a static solver name and runtime hyperparameters.

The transformation is rebuilt inside the traced function from ``hparams`` (a pytree of
arrays), which is what ``optax.inject_hyperparams`` achieves, without keeping the numbers in
the optimizer state: a new learning rate or momentum is a new argument value, never a new
compile, and ``jax.vmap`` over ``hparams`` trains several settings at once.
"""

import jax
import jax.numpy as jnp
import optax

STOCHASTIC_SOLVERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")

# Placeholder values used only to build a transformation for ``init`` (its state's
# structure does not depend on the numbers).
_INIT_HPARAMS = {
    "learning_rate": 1e-3, "momentum": 0.9, "beta_1": 0.9, "beta_2": 0.999,
    "epsilon": 1e-8, "weight_decay": 0.0,
}


def sklearn_sgd(learning_rate, momentum, nesterov):
    """scikit-learn's SGD: v <- momentum * v - lr * g; update v (or momentum * v - lr * g)."""
    return optax.chain(
        optax.scale_by_learning_rate(learning_rate),
        optax.trace(decay=momentum, nesterov=nesterov),
    )


def sklearn_adam(learning_rate, b1, b2, eps):
    """scikit-learn's Adam, which differs from ``optax.adam`` in where epsilon sits.

    update = -lr * sqrt(1 - b2**t) / (1 - b1**t) * m / (sqrt(v) + eps); optax divides by
    sqrt(v_hat) + eps instead. Matching it keeps tuned scikit-learn settings (and fits) the same.
    """

    def init(params):
        zeros = optax.tree.zeros_like(params)
        return optax.ScaleByAdamState(count=jnp.zeros([], jnp.int32), mu=zeros,
                                      nu=optax.tree.zeros_like(params))

    def update(grads, state, params=None):
        mu = optax.tree.update_moment(grads, state.mu, b1, 1)
        nu = optax.tree.update_moment_per_elem_norm(grads, state.nu, b2, 2)
        count = optax.safe_increment(state.count)
        t = count.astype(jnp.result_type(learning_rate))
        step = learning_rate * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        updates = jax.tree_util.tree_map(lambda m, v: -step * m / (jnp.sqrt(v) + eps), mu, nu)
        return updates, optax.ScaleByAdamState(count=count, mu=mu, nu=nu)

    return optax.GradientTransformation(init, update)


def make_optimizer(solver, hparams, nesterov=False):
    """The optax transformation for a built-in solver name."""
    lr = hparams["learning_rate"]
    if solver == "sgd":
        return sklearn_sgd(lr, hparams["momentum"], nesterov)
    if solver == "adam":
        return sklearn_adam(lr, hparams["beta_1"], hparams["beta_2"], hparams["epsilon"])
    if solver == "adamw":
        return optax.adamw(lr, b1=hparams["beta_1"], b2=hparams["beta_2"],
                           eps=hparams["epsilon"], weight_decay=hparams["weight_decay"])
    if solver == "rmsprop":
        return optax.rmsprop(lr, eps=hparams["epsilon"], momentum=hparams["momentum"],
                             nesterov=nesterov)
    if solver == "adagrad":
        return optax.adagrad(lr, eps=hparams["epsilon"])
    raise ValueError(f"unknown solver {solver!r}")


def init_opt_state(solver, params, nesterov=False):
    hp = {k: jnp.asarray(v) for k, v in _INIT_HPARAMS.items()}
    return make_optimizer(solver, hp, nesterov).init(params)
