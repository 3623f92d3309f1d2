"""The registry that hands a fit trained earlier in a model stack to scikit-learn's own call
of ``fit``.

A search trains its candidate x fold fits as stacks first, then registers each fitted model
under a key made of the estimator's class and parameters and a hash of its training data. When
scikit-learn's ``_fit_and_score`` calls ``fit`` with that very estimator and data,
``take_prefitted`` gives it the stacked result instead of training again. Any fit not in the
registry trains as usual. Imports nothing of skmlp's, so ``fit`` can consult it.
"""

import contextlib

import joblib

_registries: list = []
# scikit-learn's callbacks and their contexts, which a search propagates to an estimator just
# before its fit: they stay the estimator's own when a prefitted state is handed over (and are
# never copied: a context references the whole task tree above it).
CALLBACK_ATTRIBUTES = {"_skl_callbacks", "_parent_callback_ctx", "_callback_fit_ctx",
                        "_skl_callbacks_to_teardown"}


def fit_key(est, X, y, sample_weight):
    """Identifies a fit: the estimator's class and parameters, and its training data."""
    params = sorted((k, repr(v)) for k, v in est.get_params(deep=False).items())
    return joblib.hash((type(est).__qualname__, params, X, y, sample_weight))


@contextlib.contextmanager
def registry():
    """A registry of prefitted models, consulted by ``fit`` while the context is open."""
    entries = {}
    _registries.append(entries)
    try:
        yield entries
    finally:
        _registries.remove(entries)


def take_prefitted(est, X, y, sample_weight):
    """If a stack already trained this fit, give ``est`` its fitted state and return True."""
    if not _registries:
        return False
    try:
        key = fit_key(est, X, y, sample_weight)
    except Exception:  # unhashable data or parameters: an ordinary fit
        return False
    for entries in reversed(_registries):
        if key in entries:
            # handed over once (no copy): a second identical fit misses and trains as usual
            result = entries.pop(key)
            if isinstance(result, BaseException):
                raise result
            vars(est).update({k: v for k, v in vars(result).items()
                              if k not in CALLBACK_ATTRIBUTES})
            return True
    return False
