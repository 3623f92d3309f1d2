"""scikit-learn's private helpers that skmlp relies on, imported in one place.

scikit-learn has no public equivalent of these (parameter validation, the ``fit`` context,
``partial_fit``'s first-call check, L-BFGS result checking, sample-weight checking, safe
indexing); they have kept their names since scikit-learn 1.3. Should a future release move
one, importing skmlp fails here with a message that names the helper and the fix, instead of
an ``ImportError`` deep inside the estimator module. ``_get_additional_lbfgs_options_dict``
(added in scikit-learn 1.8) is reimplemented rather than imported.
"""

import scipy
import sklearn

MIN_SKLEARN = "1.6"


def _missing(error):
    return ImportError(
        f"skmlp needs a scikit-learn helper that scikit-learn {sklearn.__version__} does not "
        f"provide ({error}). Install a scikit-learn version skmlp supports (>= {MIN_SKLEARN}): "
        f"pip install -U 'scikit-learn>={MIN_SKLEARN}'.")


try:
    from sklearn.base import _fit_context
    from sklearn.utils import _safe_indexing
    from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions
    from sklearn.utils.multiclass import _check_partial_fit_first_call
    from sklearn.utils.optimize import _check_optimize_result
    from sklearn.utils.validation import _check_sample_weight, _num_samples
except ImportError as error:  # pragma: no cover - depends on the installed scikit-learn
    raise _missing(error) from error


def _scipy_version():
    return tuple(int(p) for p in scipy.__version__.split(".")[:2])


def lbfgs_print_options(iprint):
    """scipy's L-BFGS-B options that ask for progress output: ``iprint`` before scipy 1.15;
    from 1.15 on it has no effect (and is deprecated from 1.16), so nothing is passed."""
    return {} if _scipy_version() >= (1, 15) else {"iprint": iprint}


__all__ = ["HasMethods", "Interval", "Options", "StrOptions", "_check_optimize_result",
           "_check_partial_fit_first_call", "_check_sample_weight", "_fit_context", "_num_samples",
           "_safe_indexing", "lbfgs_print_options"]


class DocLinkMixin:
    """Links an estimator's HTML representation (the "?" icon of a notebook's estimator
    diagram) to its page in skmlp's API reference, through scikit-learn's doc-link hooks."""

    _doc_link_module = "skmlp"

    @property
    def _doc_link_template(self):
        from ._version import __version__

        release = "latest" if any(t in __version__ for t in ("dev", "rc", "a", "b")) else (
            ".".join(__version__.split(".")[:2]))
        return (f"https://skmlp.readthedocs.io/en/{release}/generated/"
                "{estimator_module}.{estimator_name}.html")


try:  # scikit-learn's callback framework (scikit-learn >= 1.9)
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn: no set_callbacks, nothing to call

    class CallbackSupportMixin:  # type: ignore[no-redef]
        pass


def callback_context(est, max_subtasks):
    """The root ``sklearn.callback`` context of a fit, or None when the estimator has neither
    callbacks nor a meta-estimator's context to join (the common case costs nothing)."""
    if not hasattr(est, "_init_callback_context"):
        return None
    if not getattr(est, "_skl_callbacks", None) and not hasattr(est, "_parent_callback_ctx"):
        return None
    return est._init_callback_context(max_subtasks=max_subtasks)
