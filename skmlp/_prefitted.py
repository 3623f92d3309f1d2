"""The registry that hands a fit trained earlier in a model stack to scikit-learn's own call
of ``fit``.

A search trains its candidate x fold fits as stacks first, then registers each fitted model
under a key made of the estimator's class and parameters and a hash of its training data. When
scikit-learn's ``_fit_and_score`` calls ``fit`` with that very estimator and data,
``take_prefitted`` gives it the stacked result instead of training again. Any fit not in the
registry trains as usual. Imports nothing of skmlp's, so ``fit`` can consult it.
"""

import contextlib
import copy
import functools
import hashlib
import pickle
import threading

import joblib
import numpy as np
import scipy.sparse as sp

_registries: list = []
# scikit-learn's callbacks and their contexts, which a search propagates to an estimator just
# before its fit: they stay the estimator's own when a prefitted state is handed over (and are
# never copied: a context references the whole task tree above it).
CALLBACK_ATTRIBUTES = {"_skl_callbacks", "_parent_callback_ctx", "_callback_fit_ctx",
                        "_skl_callbacks_to_teardown"}


def fit_key(est, X, y, sample_weight):
    """Identifies a fit: the estimator's class and parameters, and a summary of its training
    data (see ``_summary``); ``take_prefitted`` confirms a match on the data themselves."""
    key = (type(est).__qualname__,
           sorted((k, repr(v)) for k, v in est.get_params(deep=False).items()),
           [_summary(a) for a in (X, y, sample_weight)])
    if _plain(key):  # strings, bytes and numbers: C pickle's bytes are their identity
        return hashlib.blake2b(pickle.dumps(key, protocol=4), digest_size=16).hexdigest()
    return joblib.hash(key)  # arbitrary objects (lists, frames): joblib's canonical hash


def _plain(value):
    """Whether a value is made of None, booleans, numbers, strings, bytes, tuples and lists
    only (joblib's hash, written in Python, cost a search 1.5 ms a fit for these)."""
    if isinstance(value, (tuple, list)):
        return all(map(_plain, value))
    return value is None or type(value) in (bool, int, float, str, bytes)


def _summary(a):
    """Arrays (dense, or a sparse matrix's three) by dtype, shape and about 1,000 evenly spaced
    entries: a digest of the whole array per fit cost a search 2 ms a fit; anything else whole."""
    if isinstance(a, np.ndarray):
        flat = a.reshape(-1)  # a view when contiguous; a copy (still exact) otherwise
        return (a.dtype.str, a.shape, flat[:: max(1, flat.size // 1024)].tobytes()
                if a.dtype != object else a)
    if sp.issparse(a) and a.format in ("csr", "csc"):
        return (a.format, a.shape, *(_summary(part) for part in (a.data, a.indices, a.indptr)))
    return a


def _same(a, b):
    """Whether two fits' data are equal, entry for entry (NaN equals NaN)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fc" and a.flags.c_contiguous and b.flags.c_contiguous:
            # bit for bit, through unsigned views (NaN then equals NaN): 40x faster than
            # array_equal(equal_nan=True), 1.3 ms for a digits fold's X in each of a search's
            # fits. A -0.0 that was 0.0 misses, and that fit trains as usual.
            bits = np.dtype(f"u{a.dtype.itemsize // (2 if a.dtype.kind == 'c' else 1)}")
            return bool(np.array_equal(a.view(bits), b.view(bits)))
        try:
            return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        except TypeError:  # object arrays
            return joblib.hash(a) == joblib.hash(b)
    if sp.issparse(a) and sp.issparse(b):
        return (a.format == b.format and a.shape == b.shape
                and all(_same(getattr(a, p), getattr(b, p)) for p in ("data", "indices", "indptr")))
    return type(a) is type(b) and joblib.hash(a) == joblib.hash(b)


class Pending:
    """A registry entry's result still being computed elsewhere (a search's refit training on
    a helper thread): ``take()`` waits for it and returns the fitted estimator, or raises what
    the fit raised."""

    def take(self):
        raise NotImplementedError


def register(entries, key, result, data):
    """Keep a stacked fit's ``result`` for the fit of ``data`` (X, y, sample_weight). Fits
    whose data differ only where the key's sample does not look share a key, and each keeps
    its own entry."""
    entries.setdefault(key, []).append((result, data))


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
        found = [i for i, (_, data) in enumerate(entries.get(key, ()))
                 if all(map(_same, data, (X, y, sample_weight)))]
        if found:
            # handed over once (no copy): a second identical fit misses and trains as usual
            result = entries[key].pop(found[0])[0]
            if isinstance(result, Pending):
                result = result.take()
            if isinstance(result, BaseException):
                raise result
            vars(est).update({k: v for k, v in vars(result).items()
                              if k not in CALLBACK_ATTRIBUTES})
            return True
    return False


# A fitted model's score that a search computed before scikit-learn's loop scores it again:
# (X, y, score), kept on the model the loop is handed (see ``known_score``).
KNOWN_SCORE = "_search_known_score"


def remember_score(est, X, y, score):
    """Keep ``est``'s ``score`` on (X, y), computed by a search, for the first ``score`` call of
    the model a registry hands this fit to (see ``known_score``)."""
    vars(est)[KNOWN_SCORE] = (X, y, score)


def known_score(est, X, y, sample_weight):
    """The score ``remember_score`` kept for ``est`` when this call scores the same data bit
    for bit (``_same``) without a sample weight, else None. Kept for one call: the loop scores
    a fit's test rows once, first, and predicting is deterministic, so the score is the one
    ``score`` would compute."""
    known = vars(est).pop(KNOWN_SCORE, None)
    if known is None or sample_weight is not None:
        return None
    known_X, known_y, score = known
    return score if _same(X, known_X) and _same(y, known_y) else None


def _nbytes(a):
    """An array's bytes (a sparse matrix's three arrays), or None for anything else."""
    if isinstance(a, np.ndarray) and a.dtype != object:
        return a.nbytes
    if sp.issparse(a) and a.format in ("csr", "csc"):
        return a.data.nbytes + a.indices.nbytes + a.indptr.nbytes
    return None


def _fit_identity(transformer):
    """What a transformer's fit depends on besides its data: its class and parameters, as a
    key (``joblib.hash``: a parameter's ``repr`` elides the middle of a large array); or None
    where fitting it twice could give two fits (a ``random_state``, its own or a nested
    estimator's, left to a fresh or running generator) or it cannot say."""
    try:
        params = transformer.get_params(deep=True)
        if any((k == "random_state" or k.endswith("__random_state"))
               and (v is None or isinstance(v, (np.random.RandomState, np.random.Generator)))
               for k, v in params.items()):
            return None
        return type(transformer), joblib.hash(sorted(params.items()))
    except Exception:  # noqa: BLE001 - not an estimator that says what it is
        return None


class EarlierSteps:
    """A ``Pipeline``'s ``memory`` for a search: each earlier step is fitted once per fold and
    set of its parameters (before scikit-learn's loop, or in it), and handed to the loop's
    other fits of that fold and to the refit, where scikit-learn's loop would fit it again for
    each (the 9 x 5 digits grid's StandardScaler, 2 ms a fit).

    It has ``joblib.Memory``'s interface (``cache``), in this process's memory, for one search:
    a step fitted on data equal bit for bit (``_same``) to data a step with equal parameters
    was fitted on gets a copy of that fit and of its output. Only where the fit is
    deterministic (``_fit_identity``), without fit parameters, sample weight or a verbose
    Pipeline, on arrays (dense or CSR/CSC) that fit in ``max_bytes`` with all the others; any
    other step is fitted as usual. ``location`` is None, as for ``memory=None``: the Pipeline
    fits its own step objects, not clones. ``clone`` deep-copies a parameter that is not an
    estimator: every clone shares this one cache.
    """

    location = None

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._entries = {}  # _fit_identity -> [(X, y, Xt, fitted)]
        self._bytes = 0
        self._lock = threading.Lock()

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return f"{type(self).__name__}(max_bytes={self.max_bytes})"

    def cache(self, func, ignore=None, **_options):
        @functools.wraps(func)
        def fit_transform_once(transformer, X, y, *args, **kwargs):
            weight = kwargs.get("weight", args[0] if args else None)
            params = kwargs.get("params") or {}
            size = _nbytes(X)
            key = None
            if (weight is None and not any(params.values()) and kwargs.get("message") is None
                    and size is not None and not getattr(transformer, "_skl_callbacks", None)):
                key = _fit_identity(transformer)
            if key is None:
                return func(transformer, X, y, *args, **kwargs)
            with self._lock:
                found = next((e for e in self._entries.get(key, ())
                              if _same(e[0], X) and _same(e[1], y)), None)
            if found is not None:
                return found[2].copy(), copy.copy(found[3])
            Xt, fitted = func(transformer, X, y, *args, **kwargs)
            out_size = _nbytes(Xt)
            with self._lock:
                if out_size is not None and self._bytes + size + out_size <= self.max_bytes:
                    # a copy of the output: a later step may transform its input in place
                    self._entries.setdefault(key, []).append((X, y, Xt.copy(),
                                                              copy.copy(fitted)))
                    self._bytes += size + out_size
            return Xt, fitted

        return fit_transform_once
