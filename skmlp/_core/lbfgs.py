"""Full-batch L-BFGS: scipy's L-BFGS-B driver over a compiled loss-and-gradient.

scikit-learn drives L-BFGS-B through scipy, so driving the same routine keeps ``max_iter``,
``max_fun`` and ``tol`` (scipy's ``gtol``) meaning exactly what they mean there.
"""

import jax
import numpy as np
import scipy.optimize


def pack(tree):
    """A pytree of arrays as one float64 vector (scipy's working precision)."""
    return np.concatenate([np.asarray(x, dtype=np.float64).ravel()
                           for x in jax.tree_util.tree_leaves(tree)])


def unpack(theta, like):
    """The inverse of ``pack``, shaped and typed like the pytree ``like``."""
    leaves, treedef = jax.tree_util.tree_flatten(like)
    out, start = [], 0
    for leaf in leaves:
        size = int(np.prod(leaf.shape))
        out.append(theta[start:start + size].reshape(leaf.shape).astype(leaf.dtype))
        start += size
    return jax.tree_util.tree_unflatten(treedef, out)


def minimize(value_and_grad, params, *, max_iter, max_fun, tol, extra_options=None):
    """Run L-BFGS-B from ``params``; ``value_and_grad(params) -> (value, grads)`` on device."""

    def fun(theta):
        value, grads = value_and_grad(unpack(theta, params))
        return float(value), pack(grads)

    options = {"maxfun": max_fun, "maxiter": max_iter, "gtol": tol, **(extra_options or {})}
    result = scipy.optimize.minimize(fun, pack(params), method="L-BFGS-B", jac=True,
                                     options=options)
    return unpack(result.x, params), result
