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
    """Run L-BFGS-B from ``params``; ``value_and_grad(params) -> (value, grads)`` on device.

    Returns ``(params, value, result)``. When the run ends on non-finite parameters or loss,
    ``params`` and ``value`` are those of the lowest finite evaluation other than the starting
    point, or None when there is none (nothing finite was learned).
    """
    theta0 = pack(params)
    best = {"theta": None, "value": np.inf}

    def fun(theta):
        value, grads = value_and_grad(unpack(theta, params))
        value, grad = float(value), pack(grads)
        if (value < best["value"] and np.isfinite(grad).all()
                and not np.array_equal(theta, theta0)):
            best.update(theta=theta.copy(), value=value)
        return value, grad

    options = {"maxfun": max_fun, "maxiter": max_iter, "gtol": tol, **(extra_options or {})}
    result = scipy.optimize.minimize(fun, theta0, method="L-BFGS-B", jac=True, options=options)
    if np.isfinite(result.fun) and np.isfinite(result.x).all():
        return unpack(result.x, params), float(result.fun), result
    if best["theta"] is None:
        return None, None, result
    return unpack(best["theta"], params), best["value"], result
